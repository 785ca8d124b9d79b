"""Issue 11's target: CPU time per in-process ``GET /user`` with a live session, per store.

    .venv/bin/python bench/session_cpu.py            # this tree: medians of 3 rounds
    .venv/bin/python bench/session_cpu.py STORE N    # one round, for an outside loop

The second form prints one number (µs of CPU per request, ``time.process_time``), so that
two trees can be compared in one session, interleaved, each on ``PYTHONPATH`` in turn:

    for round in 1 2 3; do for tree in OLD NEW; do for store in memory sqlite; do
      echo $round $tree $store \
        $(PYTHONPATH=$tree .venv/bin/python bench/session_cpu.py $store 5000)
    done; done; done

Flask's test client runs the whole request in this process, without sockets: what it
measures is the session's share of a request, which HTTP benchmarks drown in network noise.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from sessionlab.server.app import create_app

ROUNDS = 3
REQUESTS = 5000
STORES = ["memory", "sqlite"]


def cpu_per_request(store: str, requests: int) -> float:
    """µs of CPU per GET /user on a session that exists, after a warm-up."""
    app = create_app(store=store, secret="x" * 64, name="bench")
    client = app.test_client()
    client.get("/user/alice")
    for _ in range(300):
        client.get("/user")
    began = time.process_time()
    for _ in range(requests):
        response = client.get("/user")
    spent = time.process_time() - began
    assert response.text.startswith("alice"), response.text
    return spent / requests * 1e6


def main() -> None:
    if len(sys.argv) == 3:
        print(f"{cpu_per_request(sys.argv[1], int(sys.argv[2])):.1f}")
        return
    rounds: dict[str, list[float]] = {store: [] for store in STORES}
    for _ in range(ROUNDS):  # each round in a new process: no warm caches carried over
        for store in STORES:
            command = [sys.executable, __file__, store, str(REQUESTS)]
            rounds[store].append(float(subprocess.check_output(command, text=True)))
    for store, samples in rounds.items():
        print(f"{store:7} {statistics.median(samples):6.1f} µs CPU per GET /user  {samples}")


if __name__ == "__main__":
    main()
