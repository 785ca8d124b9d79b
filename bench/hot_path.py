"""Issue 14's profile harness: one ``GET /user`` with a live session, called on the WSGI app
directly (the environ a server would build, made once), so what is measured is Flask,
the session and the store: no socket, no HTTP parsing, no test client.

    .venv/bin/python bench/hot_path.py                  # CPU µs per request, every target
    .venv/bin/python bench/hot_path.py redis 5000       # one target, one number
    .venv/bin/python bench/hot_path.py redis 5000 --profile   # cProfile's top functions
    PROFILE_SORT=cumulative PROFILE_ROWS=60 .venv/bin/python bench/hot_path.py redis 500 --profile

Targets: ``bare`` (a Flask route without a session: the ceiling), ``routes`` (the lab's app
without a secret key, so with Flask's null session: the lab's routes without the session),
``cookie`` (Flask's own cookie session), ``memory``, ``sqlite``, ``redis`` (sessionlab's
stores; redis on the process's private redis-server). CPU is ``time.process_time`` of
this process: for redis it leaves out the Redis server's own work.

For instruction counts, free of the machine's load (the numbers the issue's decisions
were made on), run one target under callgrind twice, with 0 and with N requests, and
divide the difference by N:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/hot_path.py redis 2000 2>&1 | grep refs
"""

from __future__ import annotations

import gc
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_session_app import bare as bare_app  # bench/: the throughput bench's ceiling

from sessionlab.server.app import create_app

TARGETS = ["bare", "routes", "cookie", "memory", "sqlite", "redis"]
ROUNDS = 3
REQUESTS = 5000
WARM_UP = 300


def environ(path: str, cookie: str | None) -> dict[str, Any]:
    """What granian's WSGI interface hands the app for a plain GET."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env


def call(app: Flask, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen[:] = [status, headers]

    body = b"".join(app(dict(env), start_response))
    return seen[0], seen[1], body


def prepared(target: str) -> Callable[[], bytes]:
    """A function that serves one GET /user on a live session of ``target``."""
    if target == "bare":
        app = bare_app()
        env = environ("/user", None)
        return lambda: call(app, env)[2]
    if target == "routes":
        app = create_app(store="memory", secret="x" * 64, name="bench")
        app.secret_key = None  # Flask's null session: the routes, and no session
        env = environ("/user", None)
        return lambda: call(app, env)[2]
    app = create_app(store=target, secret="x" * 64, name="bench")
    _, headers, _ = call(app, environ("/user/alice", None))
    cookie = next(v for k, v in headers if k == "Set-Cookie").split(";")[0]
    env = environ("/user", cookie)
    assert call(app, env)[2].startswith(b"alice"), "the session did not stick"
    return lambda: call(app, env)[2]


def cpu_per_request(target: str, requests: int, profile: bool = False) -> float:
    """µs of this process's CPU per request, after a warm-up."""
    serve = prepared(target)
    for _ in range(WARM_UP):
        serve()
    # Move what the imports left (pandas and all) out of the collector's reach: otherwise
    # one full collection over it, landing in the measured loop or not, moves the count
    # per request by tens of thousands of instructions from one run to the next.
    gc.collect()
    gc.freeze()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    began = time.process_time()
    for _ in range(requests):
        body = serve()
    spent = time.process_time() - began
    if profile:
        profiler.disable()
        order, rows = (
            os.environ.get("PROFILE_SORT", "tottime"),
            os.environ.get("PROFILE_ROWS", "25"),
        )
        pstats.Stats(profiler).sort_stats(order).print_stats(int(rows))
    assert requests == 0 or body.startswith((b"alice", b"user logged out!")), body
    return spent / max(requests, 1) * 1e6


def main() -> None:
    if len(sys.argv) >= 3:
        profile = "--profile" in sys.argv
        print(f"{cpu_per_request(sys.argv[1], int(sys.argv[2]), profile):.1f}")
        return
    rounds: dict[str, list[float]] = {target: [] for target in TARGETS}
    for _ in range(ROUNDS):  # each round in a new process, targets interleaved
        for target in TARGETS:
            command = [sys.executable, __file__, target, str(REQUESTS)]
            rounds[target].append(float(subprocess.check_output(command, text=True)))
    bare = statistics.median(rounds["bare"])
    print(f"CPU µs per GET /user (direct WSGI call, median of {ROUNDS} rounds)")
    for target, samples in rounds.items():
        median = statistics.median(samples)
        print(f"{target:7} {median:6.1f}  x bare {median / bare:4.2f}  {samples}")


if __name__ == "__main__":
    main()
