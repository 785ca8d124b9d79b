"""Past one machine: independent sessionlab servers behind HAProxy, sharing one store.

Each server is its own ``sessionlab serve`` process (as it would be on its own host: no
Python state shared, only the store's URL, the secret and the cookie name), on its own
port; HAProxy balances requests between them round-robin, with no sticky sessions, so
consecutive requests of one client land on different servers. Sessions then survive only
in a store every server reaches (Redis, or SQLite on one machine); on memory stores each
server knows only its own, and sessions are lost, which is the lesson.

Everything listens on 127.0.0.1 here. On real hosts, the same commands run with
``--host`` and the balancer's ``server`` lines name the hosts (see the README).

:func:`run_cycles` is the load run that checks them: concurrent clients, each logging in
under a name of its own (``GET /user/<name>``), reading it back, logging out and reading
again. A read that finds no session is **lost**, one that finds another client's name is
**crossed**, a read after logout that still finds the name is **stale**. Every loop is
bounded twice, by ``cycles`` and by ``seconds``; the target must be on this machine.

>>> print(haproxy_config(8000, [8001, 8002]))  # doctest: +ELLIPSIS
global
    maxconn 512
...
backend sessionlab
    balance roundrobin
    http-response set-header X-Served-By %[srv_name]
    server s1 127.0.0.1:8001
    server s2 127.0.0.1:8002
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import ConfigError, ServiceMissingError
from .processes import HOST, ChildServer, start_on_free_port

HAPROXY_HINT = (
    "haproxy is not installed: on Debian, apt-get install haproxy "
    "(the test of several servers behind a load balancer needs it)"
)


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (path for path in ("/usr/sbin/haproxy",) if os.access(path, os.X_OK)), None
    )


def haproxy_config(port: int, backends: Sequence[int], host: str = HOST) -> str:
    """HAProxy's configuration: listen on ``host:port``, round-robin over the backends,
    each request on its own (no stickiness), and say which server answered."""
    servers = "\n".join(
        f"    server s{number} {host}:{backend}" for number, backend in enumerate(backends, 1)
    )
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend lab
    bind {host}:{port}
    default_backend sessionlab

backend sessionlab
    balance roundrobin
    http-response set-header X-Served-By %[srv_name]
{servers}"""


class HAProxy:
    """HAProxy in front of ``backends`` (ports of 127.0.0.1), on a free port."""

    def __init__(self, backends: Sequence[int], *, startup_timeout: float = 15.0) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise ServiceMissingError(HAPROXY_HINT)

        def make(port: int) -> ChildServer:
            child = ChildServer(
                [binary, "-f", "{folder}/haproxy.cfg", "-db"],
                port=port,
                startup_timeout=startup_timeout,
                stop_signal=signal.SIGTERM,
            )
            (child.folder / "haproxy.cfg").write_text(haproxy_config(port, backends) + "\n")
            return child

        self._child = start_on_free_port(make)
        self.port = self._child.port
        self.url = f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self._child.stop()


class ServeProcess:
    """One ``sessionlab serve`` process: a server as it would run on its own host."""

    def __init__(
        self,
        store: str,
        *,
        secret: str,
        name: str = "sessionlab",
        workers: int | None = 1,
        startup_timeout: float = 30.0,
    ) -> None:
        command = [sys.executable, "-m", "sessionlab.cli", "serve", "--store", store]
        command += ["--name", name, "--port", "{port}"]
        if workers is not None:
            command += ["--workers", str(workers)]
        # The secret goes in the environment of this child only, never on its command line.
        env = {**os.environ, "SESSIONLAB_SECRET": secret}

        def make(port: int) -> ChildServer:
            child = ChildServer(
                command, port=port, env=env, startup_timeout=startup_timeout
            )  # SIGINT: serve's Ctrl-C, which stops its workers
            child.ready = lambda: "Ctrl-C to stop" in child.log_tail()
            return child

        self._child = start_on_free_port(make)
        self.port = self._child.port

    @property
    def running(self) -> bool:
        return self._child.running

    def log_tail(self) -> str:
        return self._child.log_tail()

    def stop(self) -> None:
        self._child.stop()


def start_servers(count: int, store: str, **options: Any) -> list[ServeProcess]:
    """``count`` servers, started side by side (each takes a few seconds to import)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        starting = [pool.submit(ServeProcess, store, **options) for _ in range(count)]
    started = [future.result() for future in starting if future.exception() is None]
    failed = [future.exception() for future in starting if future.exception() is not None]
    if failed:
        for server in started:
            server.stop()
        raise failed[0]  # type: ignore[misc]
    return started


class BalancedServers:
    """``count`` independent servers on one store URL, behind HAProxy; ``url`` is the
    balancer's. A context manager; ``stop()`` ends every process it started.

    ``secret`` must be the same for all (each verifies the others' cookies), and so must
    the cookie ``name`` (it is also the Redis key prefix).
    """

    def __init__(
        self, store: str, *, secret: str, count: int = 2, name: str = "sessionlab", **serve: Any
    ) -> None:
        self.servers: list[ServeProcess] = []
        self.balancer: HAProxy | None = None
        try:
            self.servers = start_servers(count, store, secret=secret, name=name, **serve)
            self.balancer = HAProxy([server.port for server in self.servers])
        except BaseException:
            self.stop()
            raise
        self.url = self.balancer.url

    def stop(self) -> None:
        if self.balancer is not None:
            self.balancer.stop()
        for server in self.servers:
            server.stop()

    def __enter__(self) -> BalancedServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the load run --------------------------------------------------------------------

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
    routes against ``url``, all stopping after ``seconds`` at the latest.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-load") as lab:
    ...     result = run_cycles(lab.url, clients=2, cycles=3)
    >>> result.cycles, result.lost, result.crossed, result.stale, result.errors
    (6, 0, 0, 0, 0)
    """
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
