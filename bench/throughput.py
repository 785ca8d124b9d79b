"""Hot-path throughput against fair peers, and sessions behind a load balancer.

    apt-get install wrk redis-server haproxy nodejs npm   # once (Debian): the real tools
    .venv/bin/pip install -e ".[bench]"                  # Flask-Session 0.8, Flask-SQLAlchemy
    (cd bench/express_cluster && npm ci)                 # the Express peers (builds sqlite3)
    .venv/bin/python bench/throughput.py                 # or: ./dev.sh bench
    .venv/bin/python bench/throughput.py redis bare      # only targets naming these words
    BENCH_ALL=1 .venv/bin/python bench/throughput.py     # also gunicorn and thread servers
    BENCH_THREADS=1 .venv/bin/python bench/throughput.py # threads per worker (4), every target

Hot path: wrk, 16 connections, GET /user with a valid session cookie, BENCH_SECONDS (2)
per run, BENCH_ROUNDS (5) rounds over every target, interleaved; each row shows its median.
Every row says how many processes serve it and where its sessions live, and is compared
only with rows that have the same process count and store kind: Express in a node cluster
of 2 processes on connect-redis (or connect-sqlite3) beside sessionlab on 2 granian
workers, the seed's single Express process (MemoryStore) beside sessionlab on 1 worker
with its memory store. Redis is one private redis-server reached by every target through
the same Unix socket. Cycle: the median of 30 runs of the seed's cycle from one client.
Then 2 independent sessionlab servers behind HAProxy (round-robin, no sticky sessions) on
that Redis, 16 clients x 200 cycles, and the same on memory stores, which lose sessions.

Every server runs on this machine beside wrk: compare ratios, measured in the same run.
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
from dataclasses import dataclass
from pathlib import Path

import requests

from sessionlab.server.balancer import BalancedServers, haproxy_binary, run_cycles
from sessionlab.server.processes import ChildServer, free_port
from sessionlab.server.redis_server import shared_redis_server
from sessionlab.server.workers import start_workers

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "bench" / "express_cluster"  # the seed's app in a node cluster, shared store
DURATION = float(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
EVERYTHING = os.environ.get("BENCH_ALL") == "1"
CONNECTIONS = 16
THREADS = int(os.environ.get("BENCH_THREADS", "4"))  # per worker process, for every target
SECRET = secrets.token_hex(32)


@dataclass
class Target:
    label: str
    server: str
    processes: int
    store: str  # the kind of store; "none" for routes without sessions
    running: contextlib.AbstractContextManager[tuple[str, str | None]]

    @property
    def key(self) -> str:
        return f"{self.label} | {self.server} | {self.processes} | {self.store}"


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: on Debian, apt-get install wrk")
    wanted = sys.argv[1:]
    chosen = [t for t in targets() if not wanted or any(w in t.key for w in wanted)]
    load_before = os.getloadavg()
    with contextlib.ExitStack() as servers:
        live = []
        for target in chosen:  # all up at once, so rounds can interleave them
            url, cookie_name = servers.enter_context(target.running)
            live.append((target, url, login(url, cookie_name), cycle_ms(url, cookie_name)))
        # Rounds, each target once per round: a slow spell on this shared machine then
        # lowers one sample of every target instead of every sample of one target.
        rates: dict[str, list[float]] = {target.key: [] for target, *_ in live}
        for round_number in range(1, ROUNDS + 1):
            print(f"round {round_number} of {ROUNDS}", flush=True)
            for target, url, cookie, _ in live:
                rates[target.key].append(wrk(url + "/user", cookie))
        gets = {
            t.label: redis_gets_per_read(url, cookie)
            for t, url, cookie, _ in live
            if t.store == "redis"
        }
    load_after = os.getloadavg()
    rows = [(t, statistics.median(rates[t.key]), cycle) for t, _, _, cycle in live]
    report(rows)
    print("\nRedis GETs per GET /user on an unchanged session (100 requests):")
    for label, per_read in gets.items():
        print(f"- {label}: {per_read:.2f}")
    print_targets(rows)
    if not wanted or any(w in "balancer haproxy" for w in wanted):
        balanced()
    print(f"\nload average (1, 5, 15 min) before: {fmt(load_before)}; after: {fmt(load_after)}")


def fmt(load: tuple[float, ...]) -> str:
    return ", ".join(f"{value:.1f}" for value in load)


def targets() -> Iterator[Target]:
    granian = f"granian ({THREADS} threads per worker)"
    node_ok = shutil.which("node") is not None
    yield Target("sessionlab redis", granian, 2, "redis", workers("redis", 2))
    yield Target("sessionlab sqlite", granian, 2, "sqlite", workers("sqlite", 2))
    yield Target("sessionlab memory", granian, 1, "memory", workers("memory", 1))
    yield Target("sessionlab cookie (Flask's)", granian, 2, "cookie", workers("cookie", 2))
    if not node_ok:
        print("skipping the Node targets: on Debian, apt-get install nodejs npm")
    else:
        cluster = "node cluster"
        yield Target("Express + connect-redis", cluster, 2, "redis", express_cluster("redis"))
        yield Target("Express + connect-sqlite3", cluster, 2, "sqlite", express_cluster("sqlite"))
        yield Target("seed: Express + MemoryStore", "node", 1, "memory", seed_express())
    if importlib.util.find_spec("flask_sqlalchemy") is None:
        print('skipping Flask-Session: .venv/bin/pip install -e ".[bench]"')
    else:
        yield Target("Flask-Session 0.8", granian, 2, "redis", python_server("redis", 2))
        yield Target(
            "Flask-Session 0.8 (SQLAlchemy)", granian, 2, "sqlite", python_server("sqlite", 2)
        )
    yield Target("bare Flask route, no session", granian, 2, "none", python_server("bare", 2))
    yield Target("bare Flask route, no session", granian, 1, "none", python_server("bare", 1))
    if node_ok:
        yield Target("bare Node http, no session", "node cluster", 2, "none", bare_node(2))
    if EVERYTHING:
        gunicorn = f"gunicorn gthread ({THREADS} threads)"
        for kind in ["sqlite", "redis"]:
            yield Target(f"sessionlab {kind}", gunicorn, 2, kind, workers(kind, 2, "gunicorn"))
        yield Target("bare Flask route, no session", gunicorn, 2, "none", gunicorn_bare())
        yield Target("sessionlab sqlite", "Werkzeug thread", 1, "sqlite", thread_server())


@contextlib.contextmanager
def workers(kind: str, count: int, server: str = "granian") -> Iterator[tuple[str, str | None]]:
    name = f"bench-{kind}-{count}-{server}"
    options = {"store": kind, "name": name, "secret": SECRET}
    with start_workers(options, workers=count, server=server, threads=THREADS) as lab:
        yield lab.url, lab.name


@contextlib.contextmanager
def thread_server() -> Iterator[tuple[str, str | None]]:
    import sessionlab as sl

    with sl.start(store="sqlite", name="bench-thread", secret=SECRET) as lab:
        yield lab.url, lab.name


@contextlib.contextmanager
def python_server(
    kind: str, count: int, server: str = "granian"
) -> Iterator[tuple[str, str | None]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        env = {
            **os.environ,
            "BENCH_SECRET": SECRET,
            "BENCH_BACKEND": kind,
            "BENCH_SQLITE": f"{folder}/flask_session.sqlite3",
            "BENCH_REDIS": shared_redis_server().socket_url,
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
                "--workers", str(count), "--blocking-threads", str(THREADS),
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                f"flask_session_app:{factory}",
            ]  # fmt: skip
        else:
            command = [
                sys.executable, "-m", "gunicorn", "-w", str(count), "-k", "gthread",
                "--threads", str(THREADS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                f"flask_session_app:{factory}()",
            ]  # fmt: skip
        child = ChildServer(command, port=port, env=env, cwd=Path(__file__).parent)
        child.start()
        try:
            time.sleep(1.0)  # the other workers
            yield f"http://127.0.0.1:{port}", "bench" if kind != "bare" else None
        finally:
            child.stop()


def gunicorn_bare() -> contextlib.AbstractContextManager[tuple[str, str | None]]:
    return python_server("bare", 2, "gunicorn")


def npm_ci(folder: Path) -> None:
    if not (folder / "node_modules").exists():
        print(f"npm ci in {folder.relative_to(ROOT)} (the first time builds sqlite3: minutes)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True)


@contextlib.contextmanager
def express_cluster(store: str) -> Iterator[tuple[str, str | None]]:
    npm_ci(CLUSTER)
    with tempfile.TemporaryDirectory(prefix="bench-express-") as folder:
        env = {
            **os.environ,
            "WORKERS": "2",
            "SECRET": SECRET,
            "STORE": store,
            "REDIS_SOCKET": str(shared_redis_server().socket_path),
            "REDIS_PASSWORD": shared_redis_server().password,
            "SQLITE_PATH": f"{folder}/sessions.sqlite3",
        }
        with node(["node", "server.js"], CLUSTER, env) as url:
            yield url, "connect.sid"


@contextlib.contextmanager
def seed_express() -> Iterator[tuple[str, str | None]]:
    """The seed's single Node process on express-session's MemoryStore, configured as the
    cluster (resave and saveUninitialized false), so only the process count and store differ."""
    npm_ci(CLUSTER)
    env = {**os.environ, "WORKERS": "1", "SECRET": SECRET, "STORE": "memory"}
    with node(["node", "server.js"], CLUSTER, env) as url:
        yield url, "connect.sid"


@contextlib.contextmanager
def bare_node(count: int) -> Iterator[tuple[str, str | None]]:
    env = {**os.environ, "WORKERS": str(count)}
    with node(["node", "bare.js"], CLUSTER, env) as url:
        yield url, None


@contextlib.contextmanager
def node(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """A node server that prints "listening on PORT" when ready (PORT given, or its own)."""
    env = {**env, "PORT": env.get("PORT", str(free_port()))}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on"):
            raise RuntimeError(f"{' '.join(command)} in {cwd} did not start: {line!r}")
        yield f"http://127.0.0.1:{line.split()[-1]}"
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
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert found is not None, output
    return float(found.group(1))


def redis_gets_per_read(url: str, cookie: str, reads: int = 100) -> float:
    """How many GETs the shared Redis saw per read of the same session (caching shows)."""
    import redis

    server = redis.Redis.from_url(shared_redis_server().socket_url)

    def gets() -> int:
        return int(server.info("commandstats").get("cmdstat_get", {"calls": 0})["calls"])

    before = gets()
    with requests.Session() as client:
        for _ in range(reads):
            client.get(f"{url}/user", headers={"Cookie": cookie}, timeout=10)
    return (gets() - before) / reads


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


Row = tuple[Target, float, float]


def rate_of(rows: list[Row], label: str, processes: int, server: str = "") -> float:
    """The rate of the row with this label and process count (nan when not run)."""
    return next(
        (
            r
            for t, r, _ in rows
            if t.label == label and t.processes == processes and server in t.server
        ),
        float("nan"),
    )


def peer_of(rows: list[Row], target: Target) -> float:
    """The Express row with the same process count and the same kind of store."""
    if target.label.startswith(("Express", "seed", "bare")):
        return float("nan")
    return next(
        (
            rate
            for t, rate, _ in rows
            if t.label.startswith(("Express", "seed"))
            and (t.processes, t.store) == (target.processes, target.store)
        ),
        float("nan"),
    )


def ceiling_of(rows: list[Row], target: Target) -> float:
    """The bare Flask route on the same server with the same process count."""
    return next(
        (
            rate
            for t, rate, _ in rows
            if t.label.startswith("bare Flask")
            and (t.processes, t.server) == (target.processes, target.server)
        ),
        float("nan"),
    )


def report(rows: list[Row]) -> None:
    print(
        f"\nGET /user with a valid session: wrk, {CONNECTIONS} connections, median of "
        f"{ROUNDS} interleaved runs of {DURATION:g} s; cycle: median of 30 from one client"
    )
    print(
        "| target | server | processes | store | req/s | × Express, same processes and "
        "store | × bare Flask, same server | cycle ms |"
    )
    print("|---|---|--:|---|--:|--:|--:|--:|")
    for target, rate, cycle in rows:
        peer, ceiling = peer_of(rows, target), ceiling_of(rows, target)
        cells = [
            f"{rate / peer:.2f}" if peer == peer else "",
            f"{rate / ceiling:.2f}" if ceiling == ceiling and target.store != "none" else "",
            f"{cycle:.1f}" if cycle == cycle else "",
        ]
        print(
            f"| {target.label} | {target.server} | {target.processes} | {target.store} "
            f"| {rate:,.0f} | {' | '.join(cells)} |"
        )


def print_targets(rows: list[Row]) -> None:
    redis = rate_of(rows, "sessionlab redis", 2, "granian")
    sqlite = rate_of(rows, "sessionlab sqlite", 2, "granian")
    peer = rate_of(rows, "Express + connect-redis", 2)
    sql_peer = rate_of(rows, "Express + connect-sqlite3", 2)
    bare = rate_of(rows, "bare Flask route, no session", 2, "granian")
    print("\nTargets (ratios of rates measured in this run):")
    print(
        f"- Redis, 2 workers / Express cluster of 2 on connect-redis: {redis / peer:.2f} (>= 1.2)"
    )
    print(f"- SQLite, 2 workers / the same peer: {sqlite / peer:.2f} (>= 1.2)")
    print(
        f"- SQLite, 2 workers / Express cluster of 2 on connect-sqlite3: {sqlite / sql_peer:.2f}"
    )
    for kind, rate in (("Redis", redis), ("SQLite", sqlite)):
        print(
            f"- session overhead, {kind}: {1 - rate / bare:.0%} of a bare Flask route's "
            "throughput on the same server (<= 35%)"
        )


def balanced() -> None:
    """2 independent servers behind HAProxy: 0 lost or crossed on Redis; memory loses."""
    if haproxy_binary() is None:
        print("\nskipping the load balancer: on Debian, apt-get install haproxy")
        return
    print("\nBehind HAProxy (round-robin, no sticky sessions), 2 sessionlab servers, "
          "1 granian worker each, 16 clients x 200 cycles:")  # fmt: skip
    redis = shared_redis_server()
    for store, label in (
        (redis.url, "one shared Redis over TCP (every read goes to Redis)"),
        (redis.socket_url, "one shared Redis by its Unix socket (each worker caches its reads)"),
        ("memory", "memory"),
    ):
        with BalancedServers(store, secret=SECRET, count=2, name="bench-balanced") as farm:
            result = run_cycles(farm.url, clients=16, cycles=200, seconds=300)
        print(f"- {label}: {result.summary()}")


if __name__ == "__main__":
    main()
