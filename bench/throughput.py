"""Hot-path throughput and full-cycle latency: sessionlab's stores and server modes beside
the seed's Express app, Flask's cookie session, Flask-Session 0.8 and a bare Flask route.

    apt-get install wrk redis-server nodejs npm   # once (Debian); the bench uses the real tools
    .venv/bin/python bench/throughput.py          # or: ./dev.sh bench

Hot path: wrk, 16 connections, GET /user with a valid session cookie, BENCH_SECONDS (4) each.
Cycle: the median of 30 runs of the seed's cycle (set, view, logout, view) from one client.
Every server runs on this machine beside wrk, which shares its cores: compare the ratios,
which are measured in the same run, more than the absolute numbers.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

import sessionlab as sl
from sessionlab.server.app import CookieOptions
from sessionlab.server.redis_server import free_port, shared_redis_server, wait_for_port
from sessionlab.server.sessions import Timeouts
from sessionlab.server.workers import start_workers

ROOT = Path(__file__).resolve().parent.parent
EXPRESS = ROOT / "tests" / "express"  # the seed's app on Express 5 + express-session
DURATION = float(os.environ.get("BENCH_SECONDS", "4"))
CONNECTIONS = 16
THREADS = 16  # gunicorn gthread threads per worker, the same for every gunicorn target
SECRET = secrets.token_hex(32)
BARE_NODE = (
    "const s = require('http').createServer((q, r) => r.end('user logged out!'));"
    "s.listen(0, '127.0.0.1', () => console.log('listening on ' + s.address().port));"
)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: on Debian, apt-get install wrk")
    rows = []
    for label, mode, target in targets():
        with target as (url, cookie_name):
            cookie = login(url, cookie_name)
            rate = wrk(url + "/user", cookie)
            cycle = cycle_ms(url, cookie_name)
        rows.append((label, mode, rate, cycle))
        print(f"  {label:<34} {mode:<22} {rate:>8,.0f} req/s  cycle {cycle:5.1f} ms", flush=True)
    report(rows)


def targets() -> Iterator[tuple[str, str, contextlib.AbstractContextManager]]:
    for kind in ["memory", "sqlite", "redis", "cookie"]:
        yield f"sessionlab {kind}", "thread (Werkzeug)", thread_server(kind)
    for kind in ["sqlite", "redis", "cookie"]:
        yield f"sessionlab {kind}", "gunicorn -w2 gthread", workers(kind, "gthread", THREADS)
    for kind in ["sqlite", "redis"]:
        yield f"sessionlab {kind}", "gunicorn -w2 sync", workers(kind, "sync", 1)
    yield "seed: Express + express-session", "node (1 process)", node_server(None)
    yield "Flask-Session 0.8, SQLAlchemy+SQLite", "gunicorn -w2 gthread", gunicorn_app("sqlite")
    yield "Flask-Session 0.8, Redis", "gunicorn -w2 gthread", gunicorn_app("redis")
    yield "bare Flask route (ceiling)", "gunicorn -w2 gthread", gunicorn_app("bare")
    yield "bare Node http server", "node (1 process)", node_server(BARE_NODE)


@contextlib.contextmanager
def thread_server(kind: str):
    with sl.start(store=kind, name="bench", secret=SECRET) as lab:
        yield lab.url, "bench"


@contextlib.contextmanager
def workers(kind: str, worker_class: str, threads: int):
    options = {
        "store": kind,
        "name": "bench",
        "secret": SECRET,
        "cookie": CookieOptions(),
        "timeouts": Timeouts(),
    }
    server = start_workers(options, workers=2, worker_class=worker_class, threads=threads)
    with server:
        yield server.url, "bench"


@contextlib.contextmanager
def gunicorn_app(kind: str):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        env = {
            **os.environ,
            "BENCH_SECRET": SECRET,
            "BENCH_BACKEND": kind,
            "BENCH_SQLITE": f"{folder}/flask_session.sqlite3",
            "BENCH_REDIS": shared_redis_server().url,
        }
        factory = "bare()" if kind == "bare" else "flask_session()"
        if kind == "sqlite":  # create the table once, before two workers race to create it
            subprocess.run(
                [sys.executable, "-c", "import flask_session_app as a; a.flask_session()"],
                cwd=Path(__file__).parent, env=env, check=True,
            )  # fmt: skip
        command = [
            sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads",
            str(THREADS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            f"flask_session_app:{factory}",
        ]  # fmt: skip
        with running(command, cwd=Path(__file__).parent, env=env) as process:
            if not wait_for_port(port, process, 20):
                raise RuntimeError(f"gunicorn did not start: {' '.join(command)}")
            time.sleep(0.5)  # the second worker
            yield f"http://127.0.0.1:{port}", "bench" if kind != "bare" else None


@contextlib.contextmanager
def node_server(script: str | None):
    if shutil.which("node") is None:
        sys.exit("node is not installed: on Debian, apt-get install nodejs npm")
    if script is None and not (EXPRESS / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXPRESS, check=True)
    command = ["node", "-e", script] if script else ["node", "server.js"]
    env = {**os.environ, "SECRET": SECRET}
    with running(command, cwd=EXPRESS, env=env, stdout=subprocess.PIPE) as process:
        port = int(process.stdout.readline().split()[-1])
        yield f"http://127.0.0.1:{port}", None if script else "connect.sid"


@contextlib.contextmanager
def running(command: list[str], **options):
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, text=True, **options)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login(url: str, cookie_name: str | None) -> str:
    """A valid session cookie for the hot path (or none, for targets without sessions)."""
    if cookie_name is None:
        return ""
    with requests.Session() as client:
        client.get(f"{url}/user/alice", timeout=10)
        if not client.get(f"{url}/user", timeout=10).text.startswith("alice"):
            raise RuntimeError(f"{url}: the session did not stick")
        return f"{cookie_name}={client.cookies[cookie_name]}"


def wrk(url: str, cookie: str) -> float:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION:g}s", url]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors against {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def cycle_ms(url: str, cookie_name: str | None, runs: int = 30) -> float:
    """Median time of the seed's four-request cycle, each run from a fresh client."""
    if cookie_name is None:
        return float("nan")
    samples = []
    for _ in range(runs):
        with requests.Session() as client:
            began = time.perf_counter()
            for path in ("/user/alice", "/user", "/logout", "/user"):
                client.get(url + path, timeout=10)
            samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def report(rows: list[tuple[str, str, float, float]]) -> None:
    seed = next(rate for label, _, rate, _ in rows if label.startswith("seed"))
    ceiling = next(rate for label, _, rate, _ in rows if label.startswith("bare Flask"))
    print(f"\nGET /user with a valid session, wrk {CONNECTIONS} connections, {DURATION:g} s each")
    print("| target | server | req/s | x seed (Express) | x bare Flask | cycle ms |")
    print("|---|---|--:|--:|--:|--:|")
    for label, mode, rate, cycle in rows:
        cycle_text = "" if cycle != cycle else f"{cycle:.1f}"
        print(
            f"| {label} | {mode} | {rate:,.0f} | {rate / seed:.2f} | {rate / ceiling:.2f} "
            f"| {cycle_text} |"
        )


if __name__ == "__main__":
    main()
