"""Past one machine: independent sessionlab servers behind HAProxy, sharing one store.

Each server is its own ``sessionlab serve`` process (as it would be on its own host: no
Python state shared, only the store's URL, the secret and the cookie name), on its own
port; HAProxy balances requests between them round-robin, with no sticky sessions, so
consecutive requests of one client land on different servers. Sessions then survive only
in a store every server reaches (Redis, or SQLite on one machine); on memory stores each
server knows only its own, and sessions are lost, which is the lesson.

Everything listens on 127.0.0.1 here. On real hosts, the same commands run with
``--host`` and the balancer's ``server`` lines name the hosts (see the README).

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
import shutil
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import ServiceMissingError
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
