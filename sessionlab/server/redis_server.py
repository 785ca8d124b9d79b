"""A private redis-server for a notebook or a test: free 127.0.0.1 port, no persistence.

The server is a child process that dies with its parent: ``stop()`` and an atexit hook end
it, and on Linux the kernel sends it SIGTERM if the parent (a Jupyter kernel, a test run)
dies without running atexit (see processes.py). Nothing is written to disk: RDB snapshots
and the AOF are off, so a private server never leaves a ``dump.rdb`` behind.
"""

from __future__ import annotations

import atexit
import shutil
import signal
import threading

from ..errors import ServiceMissingError
from .processes import HOST, ChildServer, start_on_free_port

INSTALL_HINT = (
    "redis-server is not installed. Install it with your system's package manager "
    "(Debian/Ubuntu: `sudo apt-get install redis-server`; conda: "
    "`conda install -c conda-forge redis-server`; macOS: `brew install redis`), "
    "or pass store=sessionlab.RedisStore(url='redis://host:port/0') for a server you run."
)

_shared: RedisServer | None = None
_shared_lock = threading.Lock()


class RedisNotInstalledError(ServiceMissingError):
    """There is no ``redis-server`` binary on this machine."""


def redis_server_binary() -> str | None:
    """The path of ``redis-server``, or None when it is not installed."""
    return shutil.which("redis-server")


class RedisServer:
    """A redis-server child process on a free port of 127.0.0.1.

    >>> server = RedisServer()
    >>> server.url.startswith("redis://127.0.0.1:")
    True
    >>> server.stop()
    """

    def __init__(self, startup_timeout: float = 10.0) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RedisNotInstalledError(INSTALL_HINT)

        def make(port: int) -> ChildServer:
            command = [binary, *redis_arguments(port)]
            return ChildServer(
                command, port=port, startup_timeout=startup_timeout, stop_signal=signal.SIGTERM
            )

        self._child = start_on_free_port(make)
        self.port = self._child.port
        self.url = f"redis://{HOST}:{self.port}/0"
        # The same server through a Unix socket in the child's private (0700) folder: only
        # this user can reach it, and a round trip costs less than over TCP (the lab's own
        # stores use it; bench/hot_path.py measured a GET at 23 µs of CPU against 30).
        self.socket_path = self._child.folder / "redis.sock"
        self.socket_url = f"unix://{self.socket_path}?db=0"
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self._child.running

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        self._child.stop()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer {state} at {self.url}>"


def shared_redis_server() -> RedisServer:
    """The private redis-server of this process, started on first use and then reused."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = RedisServer()
        return _shared


def redis_arguments(port: int) -> list[str]:
    """Command-line configuration: loopback only, persistence off, no log file."""
    return [
        "--port", str(port),
        "--bind", HOST,
        "--save", "",
        "--appendonly", "no",
        "--dir", "{folder}",  # the child's private folder; nothing is written: no persistence
        "--daemonize", "no",
        "--logfile", "",
        "--loglevel", "warning",
        "--unixsocket", "{folder}/redis.sock",
        "--unixsocketperm", "700",
    ]  # fmt: skip
