"""Issue 2's targets: start() latency and full-cycle latency, per store.

    .venv/bin/python bench/foundation.py

Prints medians beside a baseline measured in the same run: a bare Werkzeug server started
the same way (for start) and a bare Flask route with no session (for the cycle's 4 requests).
"""

from __future__ import annotations

import statistics
import threading
import time

import requests
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

import sessionlab as sl

STARTS = 30
CYCLES = 200
STORES = ["cookie", "memory", "sqlite"]


class SilentHandler(WSGIRequestHandler):
    """No access log, like the lab's servers, so the baseline pays for no printing."""

    def log(self, *args: object) -> None:
        pass


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_start(store: str) -> list[float]:
    samples = []
    for _ in range(STARTS):
        began = time.perf_counter()
        lab = sl.start(store=store, name="bench-start")
        samples.append(time.perf_counter() - began)
        lab.stop()
    return samples


def time_bare_start() -> list[float]:
    app = Flask("bare")
    samples = []
    for _ in range(STARTS):
        began = time.perf_counter()
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=SilentHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        samples.append(time.perf_counter() - began)
        server.shutdown()
        server.server_close()
    return samples


def time_cycles(url: str, paths: list[str]) -> list[float]:
    session = requests.Session()
    samples = []
    for _ in range(CYCLES):
        began = time.perf_counter()
        for path in paths:
            session.get(url + path, timeout=5)
        samples.append(time.perf_counter() - began)
    return samples


def bare_cycle() -> list[float]:
    app = Flask("bare")
    app.get("/<path:anything>")(lambda anything: "ok")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=SilentHandler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        return time_cycles(f"http://127.0.0.1:{server.server_port}", ["/a", "/b", "/c", "/d"])
    finally:
        server.shutdown()


def main() -> None:
    seed_cycle = ["/user/alice", "/user", "/logout", "/user"]
    bare_start, bare = median_ms(time_bare_start()), median_ms(bare_cycle())
    print(
        f"start(): median of {STARTS}; cycle: median of {CYCLES} cycles of 4 requests, "
        "one reused client\n"
    )
    print(f"{'server':<22}{'start ms':>10}{'x bare':>8}{'cycle ms':>10}{'x bare':>8}")
    print(f"{'bare Werkzeug/Flask':<22}{bare_start:>10.2f}{1:>8.2f}{bare:>10.2f}{1:>8.2f}")
    for store in STORES:
        started = median_ms(time_start(store))
        with sl.start(store=store, name="bench-cycle") as lab:
            cycle = median_ms(time_cycles(lab.url, seed_cycle))
        print(
            f"{'sessionlab ' + store:<22}{started:>10.2f}{started / bare_start:>8.2f}"
            f"{cycle:>10.2f}{cycle / bare:>8.2f}"
        )
    print("\ntargets: start() < 100 ms, cycle < 20 ms")


if __name__ == "__main__":
    main()
