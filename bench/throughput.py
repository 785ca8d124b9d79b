"""Hot-path throughput and full-cycle latency: sessionlab's stores and server modes beside
the seed's Express app, Flask's cookie session, Flask-Session 0.8 and a bare Flask route.

    apt-get install wrk redis-server nodejs npm   # once (Debian); the bench uses the real tools
    .venv/bin/pip install -e ".[bench]"           # Flask-Session 0.8 and Flask-SQLAlchemy
    .venv/bin/python bench/throughput.py          # or: ./dev.sh bench
    .venv/bin/python bench/throughput.py redis seed bare   # only targets naming these words

Hot path: wrk, 16 connections, GET /user with a valid session cookie, BENCH_SECONDS (2) per
run, BENCH_ROUNDS (3) rounds over every target; the table shows each target's median.
Cycle: the median of 30 runs of the seed's cycle (set, view, logout, view) from one client.
Every server runs on this machine beside wrk, which shares its cores: compare the ratios,
which are measured in the same run, more than the absolute numbers.
"""

from __future__ import annotations

import contextlib
import importlib.util
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
from sessionlab.server.processes import ChildServer, free_port
from sessionlab.server.redis_server import shared_redis_server
from sessionlab.server.workers import start_workers

ROOT = Path(__file__).resolve().parent.parent
EXPRESS = ROOT / "tests" / "express"  # the seed's app on Express 5 + express-session
DURATION = float(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = 16
THREADS = 4  # threads per worker process (as sessionlab's workers.py), for every target
SECRET = secrets.token_hex(32)
BARE_NODE = (
    "const s = require('http').createServer((q, r) => r.end('user logged out!'));"
    "s.listen(0, '127.0.0.1', () => console.log('listening on ' + s.address().port));"
)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: on Debian, apt-get install wrk")
    wanted = sys.argv[1:]
    chosen = [t for t in targets() if not wanted or any(w in f"{t[0]} {t[1]}" for w in wanted)]
    with contextlib.ExitStack() as running_servers:
        live = []
        for label, mode, target in chosen:  # all up at once, so rounds can interleave them
            url, cookie_name = running_servers.enter_context(target)
            cycle = cycle_ms(url, cookie_name)
            live.append((label, mode, url, login(url, cookie_name), cycle))
        # Rounds, each target once per round: a slow spell on this shared machine then
        # lowers one sample of every target instead of every sample of one target.
        rates: dict[str, list[float]] = {label + mode: [] for label, mode, *_ in live}
        for round_number in range(1, ROUNDS + 1):
            print(f"round {round_number} of {ROUNDS}", flush=True)
            for label, mode, url, cookie, _ in live:
                rates[label + mode].append(wrk(url + "/user", cookie))
    rows = [
        (label, mode, statistics.median(rates[label + mode]), cycle)
        for label, mode, _, _, cycle in live
    ]
    report(rows)


def targets() -> Iterator[tuple[str, str, contextlib.AbstractContextManager]]:
    granian, gunicorn = f"granian -w2 ({THREADS} thr)", f"gunicorn -w2 gthread ({THREADS} thr)"
    for kind in ["memory", "sqlite", "redis", "cookie"]:
        yield f"sessionlab {kind}", "thread (Werkzeug)", thread_server(kind)
    for kind in ["sqlite", "redis", "cookie"]:
        yield f"sessionlab {kind}", granian, workers(kind, "granian")
    for kind in ["sqlite", "redis"]:  # the other server, for the record
        yield f"sessionlab {kind}", gunicorn, workers(kind, "gunicorn")
    if shutil.which("node") is None:
        print("skipping the Node targets: on Debian, apt-get install nodejs npm")
    else:
        yield "seed: Express + express-session", "node (1 process)", node_server(None)
    if importlib.util.find_spec("flask_sqlalchemy") is None:
        print('skipping Flask-Session: .venv/bin/pip install -e ".[bench]"')
    for backend in ["sqlite", "redis"] if importlib.util.find_spec("flask_sqlalchemy") else []:
        label = "Flask-Session 0.8, " + ("SQLAlchemy+SQLite" if backend == "sqlite" else "Redis")
        yield label, granian, python_server(backend, "granian")
        yield label, gunicorn, python_server(backend, "gunicorn")
    yield "bare Flask route (ceiling)", granian, python_server("bare", "granian")
    yield "bare Flask route (ceiling)", gunicorn, python_server("bare", "gunicorn")
    if shutil.which("node") is not None:
        yield "bare Node http server", "node (1 process)", node_server(BARE_NODE)


@contextlib.contextmanager
def thread_server(kind: str):
    with sl.start(store=kind, name=f"bench-{kind}", secret=SECRET) as lab:
        yield lab.url, lab.name


@contextlib.contextmanager
def workers(kind: str, server: str):
    options = {"store": kind, "name": f"bench-{kind}-{server}", "secret": SECRET}
    with start_workers(options, workers=2, server=server, threads=THREADS) as lab:
        yield lab.url, lab.name


@contextlib.contextmanager
def python_server(kind: str, server: str):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        env = {
            **os.environ,
            "BENCH_SECRET": SECRET,
            "BENCH_BACKEND": kind,
            "BENCH_SQLITE": f"{folder}/flask_session.sqlite3",
            "BENCH_REDIS": shared_redis_server().url,
        }
        factory = "bare" if kind == "bare" else "flask_session"
        if kind == "sqlite":  # create the table once, before two workers race to create it
            subprocess.run(
                [sys.executable, "-c", "import flask_session_app as a; a.flask_session()"],
                cwd=Path(__file__).parent, env=env, check=True,
            )  # fmt: skip
        if server == "granian":
            command = [
                sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
                "--workers", "2", "--blocking-threads", str(THREADS), "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", f"flask_session_app:{factory}",
            ]  # fmt: skip
        else:
            command = [
                sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads",
                str(THREADS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                f"flask_session_app:{factory}()",
            ]  # fmt: skip
        child = ChildServer(command, port=port, env=env, cwd=Path(__file__).parent)
        child.start()
        try:
            time.sleep(0.5)  # the second worker
            yield f"http://127.0.0.1:{port}", "bench" if kind != "bare" else None
        finally:
            child.stop()


@contextlib.contextmanager
def node_server(script: str | None):
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
    nan = float("nan")  # a ratio whose baseline was left out of this run
    seed = next((rate for label, _, rate, _ in rows if label.startswith("seed")), nan)
    ceiling = max(
        (rate for label, _, rate, _ in rows if label.startswith("bare Flask")), default=nan
    )
    print(
        f"\nGET /user with a valid session: wrk, {CONNECTIONS} connections, median of {ROUNDS} "
        f"runs of {DURATION:g} s; cycle: median of 30 set/view/logout/view from one client"
    )
    print("| target | server | req/s | x seed (Express) | x bare Flask (best) | cycle ms |")
    print("|---|---|--:|--:|--:|--:|")
    for label, mode, rate, cycle in rows:
        cycle_text = "" if cycle != cycle else f"{cycle:.1f}"
        print(
            f"| {label} | {mode} | {rate:,.0f} | {rate / seed:.2f} | {rate / ceiling:.2f} "
            f"| {cycle_text} |"
        )


if __name__ == "__main__":
    main()
