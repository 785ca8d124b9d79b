"""Concurrent session cycles against one URL, counting what went wrong: the load run that
shows whether sessions survive several servers (or several workers) behind one address.

Each client logs in under a name of its own (``GET /user/<name>``), reads it back
(``GET /user``), logs out and reads again, ``cycles`` times. A read that finds no session
is **lost**, one that finds another client's name is **crossed**, a read after logout that
still finds the name is **stale**. Every loop is bounded twice: by ``cycles`` and by
``seconds``, after which the clients stop wherever they are. The target must be on this
machine (127.0.0.1, localhost or ::1): a load run never leaves it.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-load") as lab:
...     result = run_cycles(lab.url, clients=2, cycles=3)
>>> result.cycles, result.lost, result.crossed, result.stale, result.errors
(6, 0, 0, 0, 0)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from .errors import ConfigError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Headers that say which server or worker answered (HAProxy's, as the lab configures it,
# and sessionlab's workers'), in the order they are looked for.
SERVED_BY = ("X-Served-By", "X-Sessionlab-Worker")
LOGGED_OUT = "user logged out!"


@dataclass
class LoadResult:
    """What a load run saw: counts per outcome, and which servers answered how often."""

    clients: int
    cycles: int = 0  # completed set/view/logout/view cycles
    requests: int = 0
    lost: int = 0  # a read found no session
    crossed: int = 0  # a read found another client's session
    stale: int = 0  # a read after logout still found the session
    errors: int = 0  # a request failed or answered with a status other than 200
    seconds: float = 0.0
    served_by: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """No session lost, crossed or stale, no error, and every cycle completed."""
        return not (self.lost or self.crossed or self.stale or self.errors)

    def summary(self) -> str:
        spread = ", ".join(f"{name}: {count}" for name, count in sorted(self.served_by.items()))
        return (
            f"{self.clients} clients, {self.cycles} cycles, {self.requests} requests in "
            f"{self.seconds:.1f} s: {self.lost} lost, {self.crossed} crossed, "
            f"{self.stale} stale, {self.errors} errors; served by {spread or 'one server'}"
        )


def run_cycles(
    url: str, *, clients: int = 16, cycles: int = 200, seconds: float = 120.0
) -> LoadResult:
    """``clients`` concurrent clients, each running up to ``cycles`` cycles of the seed's
    routes against ``url``, all stopping after ``seconds`` at the latest."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ConfigError(f"a load run only targets this machine (127.0.0.1), not {host!r}")
    if clients < 1 or cycles < 0 or seconds <= 0:
        raise ConfigError("clients must be at least 1, cycles at least 0, seconds above 0")
    result = LoadResult(clients)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        running = [
            pool.submit(_client, url, number, cycles, deadline, result, lock)
            for number in range(clients)
        ]
        for client in running:
            client.result()  # a bug in a client is raised here, not lost
    result.seconds = time.perf_counter() - began
    return result


def _client(
    url: str, number: int, cycles: int, deadline: float, result: LoadResult, lock: threading.Lock
) -> None:
    tally: Counter[str] = Counter()
    served: Counter[str] = Counter()
    with requests.Session() as session:

        def get(path: str) -> str | None:
            tally["requests"] += 1
            try:
                response = session.get(url + path, timeout=10)
            except requests.RequestException:
                tally["errors"] += 1
                return None
            served[
                next((response.headers[h] for h in SERVED_BY if h in response.headers), "")
            ] += 1
            if response.status_code != 200:
                tally["errors"] += 1
                return None
            return response.text

        for cycle in range(cycles):
            if time.monotonic() > deadline:
                break
            name = f"c{number}x{cycle}x{secrets.token_hex(4)}"
            get(f"/user/{name}")
            seen = get("/user")
            if seen is not None and not seen.startswith(f"{name}<br />"):
                tally["lost" if seen == LOGGED_OUT else "crossed"] += 1
            get("/logout")
            seen = get("/user")
            if seen is not None and seen != LOGGED_OUT:
                tally["stale"] += 1
            tally["cycles"] += 1
    with lock:
        for key, count in tally.items():
            setattr(result, key, getattr(result, key) + count)
        served.pop("", None)
        result.served_by.update(served)
