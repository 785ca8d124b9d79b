"""A private redis-server for a notebook or a test: free 127.0.0.1 port, no persistence.

The server is a child process that dies with its parent: ``stop()`` and an atexit hook end
it, and on Linux the kernel sends it SIGTERM if the parent (a Jupyter kernel, a test run)
dies without running atexit (see children.py). Nothing is written to disk: RDB snapshots
and the AOF are off, so a private server never leaves a ``dump.rdb`` behind.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from .children import spawn

HOST = "127.0.0.1"

INSTALL_HINT = (
    "redis-server is not installed. Install it with your system's package manager "
    "(Debian/Ubuntu: `sudo apt-get install redis-server`; conda: "
    "`conda install -c conda-forge redis-server`; macOS: `brew install redis`), "
    "or pass store=sessionlab.RedisStore(url='redis://host:port/0') for a server you run."
)

_shared: RedisServer | None = None
_shared_lock = threading.Lock()


class RedisNotInstalledError(RuntimeError):
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
        self._workdir = tempfile.TemporaryDirectory(prefix="sessionlab-redis-")
        # Picking a free port and then binding it is racy; retry if another process wins.
        for _attempt in range(5):
            self.port = free_port()
            self._process = spawn(
                [binary, *redis_arguments(self.port, self._workdir.name)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if wait_for_port(self.port, self._process, startup_timeout):
                break
            self._process.kill()
            self._process.wait()
        else:
            raise RuntimeError(f"redis-server did not start (tried 5 ports; see {binary})")
        self.url = f"redis://{HOST}:{self.port}/0"
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._workdir.cleanup()

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


def redis_arguments(port: int, workdir: str) -> list[str]:
    """Command-line configuration: loopback only, persistence off, no log file."""
    return [
        "--port", str(port),
        "--bind", HOST,
        "--save", "",
        "--appendonly", "no",
        "--dir", workdir,
        "--daemonize", "no",
        "--logfile", "",
        "--loglevel", "warning",
    ]  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> bool:
    """Wait until something accepts on ``port``; False if ``process`` exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return True
        time.sleep(0.02)
    return False
