"""A private redis-server for a notebook or a test: free 127.0.0.1 port, its own password.

The server is a child process that dies with its parent: ``stop()`` and an atexit hook end
it, and on Linux the kernel sends it SIGTERM if the parent (a Jupyter kernel, a test run)
dies without running atexit (see processes.py).

* **A password.** Any local user can connect to 127.0.0.1; without a password they could
  read and rewrite every session. Each server gets 256 random bits (``requirepass``), passed
  in a 0600 config file that is deleted once the server has read it (a command line is
  visible to every user in ``ps``); the URL carries it (``redis://:<password>@...``).
* **Volatile or durable.** By default nothing is written to disk (no RDB snapshot, no AOF):
  a killed server comes back empty. ``durable=True`` keeps an append-only file in the
  server's private folder, fsynced before every write is acknowledged (``appendfsync
  always``): a killed and restarted server comes back with every acknowledged write.
* **Faults.** ``kill()`` ends it as a crash would (SIGKILL); ``restart()`` starts it again
  on the same port with the same password and folder, so its clients reconnect by
  themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from ..errors import ServiceMissingError
from .processes import HOST, ChildServer, start_on_free_port, write_private
from .stores import RedisStore

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
    """A redis-server child process on a free port of 127.0.0.1, with its own password.

    >>> server = RedisServer()
    >>> server.url.startswith("redis://:") and f"@127.0.0.1:{server.port}/0" in server.url
    True
    >>> server.stop()
    """

    def __init__(self, startup_timeout: float = 10.0, *, durable: bool = False) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RedisNotInstalledError(INSTALL_HINT)
        self.binary = binary
        self.durable = durable
        self.startup_timeout = startup_timeout
        self.password = secrets.token_urlsafe(32)
        self._folder = tempfile.TemporaryDirectory(prefix="sessionlab-redis-")
        self.folder = Path(self._folder.name)  # private (0700): its data, kept across restarts
        self._child = start_on_free_port(self._make)
        self.port = self._child.port
        self.url = f"redis://:{self.password}@{HOST}:{self.port}/0"
        # The same server through a Unix socket in the server's private (0700) folder: only
        # this user can reach it, and a round trip costs less than over TCP (the lab's own
        # stores use it; bench/hot_path.py measured a GET at 23 µs of CPU against 30). The
        # folder outlives restarts, so the path does too.
        self.socket_path = self.folder / "redis.sock"
        self.socket_url = f"unix://{self.socket_path}?db=0&password={self.password}"
        atexit.register(self.stop)

    def _make(self, port: int) -> ChildServer:
        return RedisChild(self, port)

    @property
    def running(self) -> bool:
        return self._child.running

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def store(self, prefix: str = "sess:") -> RedisStore:
        """A session store in this server, under ``prefix``; ``lab.kill_store()`` can reach it."""
        return RedisStore(self.socket_url, prefix=prefix, server=self)

    def kill(self) -> None:
        """End the server as a crash would: SIGKILL, no time to save anything."""
        process = self._child.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Start the server again on its port, with its password and folder (and, when
        durable, its data); returns once it answers."""
        self.kill()
        self._child.stop()
        self._child = self._make(self.port)
        self._child.start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s); remove its files. Safe to call
        twice."""
        self._child.stop()
        self._folder.cleanup()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        kind = "durable" if self.durable else "volatile"
        return f"<RedisServer {kind} {state} at 127.0.0.1:{self.port}>"


class RedisChild(ChildServer):
    """One run of a RedisServer's process: its config file deleted as soon as it answers."""

    def __init__(self, server: RedisServer, port: int) -> None:
        self.config_path = server.folder / f"redis-{port}.conf"
        command = [
            server.binary,
            str(self.config_path),
            *redis_arguments(port, server.folder if server.durable else None),
            *["--unixsocket", str(server.folder / "redis.sock"), "--unixsocketperm", "700"],
        ]
        super().__init__(
            command,
            port=port,
            startup_timeout=server.startup_timeout,
            stop_signal=signal.SIGTERM,
            ready=lambda: pings(port, server.password),
        )
        self.password = server.password

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.config_path.unlink()
        write_private(self.config_path, f"requirepass {self.password}\n".encode())
        try:
            super().start()
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.config_path.unlink()  # read at start: the password leaves the disk


def pings(port: int, password: str) -> bool:
    """Does the server answer (its data loaded) to this password?"""
    import redis

    client = redis.Redis(host=HOST, port=port, password=password, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def shared_redis_server() -> RedisServer:
    """The private redis-server of this process, started on first use and then reused."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            if _shared is not None:
                _shared.stop()  # it died: its folder goes too
            _shared = RedisServer()
        return _shared


def redis_arguments(port: int, durable_in: Path | None = None) -> list[str]:
    """Command-line configuration: loopback only, no log file; an append-only file fsynced
    on every write in ``durable_in``, or no persistence at all."""
    persistence = (
        ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(durable_in)]
        if durable_in is not None
        else ["--appendonly", "no", "--dir", "{folder}"]  # the child's folder: nothing written
    )
    return [
        "--port", str(port),
        "--bind", HOST,
        "--save", "",
        *persistence,
        "--daemonize", "no",
        "--logfile", "",
        "--loglevel", "warning",
    ]  # fmt: skip
