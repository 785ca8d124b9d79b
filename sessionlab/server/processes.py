"""Child processes that serve on a port of 127.0.0.1 and die with this process.

Every server the lab runs outside its own thread (a private redis-server, the granian
master of ``workers=N``, and the other frameworks' servers) is a :class:`ChildServer`: one
way to start it on a free port, wait until it answers, read its log, and stop it.

On Linux a child asks the kernel, between fork and exec, for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), so a killed Jupyter kernel or test run leaves nothing behind. The
kernel's "parent" is the *thread* that forked, not the process: a child started from an
executor thread would be killed as soon as that thread ended. So every child is forked by
one long-lived daemon thread, which lives exactly as long as the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..errors import ConfigError, ExposedServerWarning, PortInUseError, StartError

HOST = "127.0.0.1"  # the default, and all the lab itself ever uses: this machine only
EVENT_PREFIX = "sessionlab-event: "  # how a child's log marks the security events it logs

Started = Future[subprocess.Popen[bytes]]
_requests: queue.SimpleQueue[tuple[list[str], dict[str, Any], Started]] = queue.SimpleQueue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def spawn(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(command, **options)``, for a child that dies with this process.

    >>> child = spawn(["true"])
    >>> child.wait()
    0
    """
    if sys.platform != "linux":  # no parent-death signal to ask for elsewhere
        return subprocess.Popen(command, **options)
    started: Started = Future()
    _requests.put((command, options, started))
    _ensure_spawner()
    return started.result()


def _ensure_spawner() -> None:
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawn_forever, name="sessionlab:spawner")
            _spawner.daemon = True  # it must never end before the process does
            _spawner.start()


def _spawn_forever() -> None:
    while True:
        command, options, started = _requests.get()
        try:
            started.set_result(subprocess.Popen(command, preexec_fn=die_with_parent, **options))
        except BaseException as error:  # the caller re-raises it
            started.set_exception(error)


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent thread dies."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def check_host(host: str) -> str:
    """Refuse what is not an IP address; warn when it is not 127.0.0.1. Returns ``host``.

    A lab server has no login of its own to protect it and, in the lab, a teaching secret
    or sessions anyone may read: it listens on 127.0.0.1 unless told otherwise, and being
    told otherwise deserves a warning (``sessionlab serve --host`` for servers behind a
    load balancer on other machines).

    >>> check_host("127.0.0.1")
    '127.0.0.1'
    >>> check_host("lab.example")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: host must be an IP address to listen on ...
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(
            f"host must be an IP address to listen on (127.0.0.1, the default; 0.0.0.0 for "
            f"every interface), not {host!r}"
        ) from None
    if host != HOST:
        warnings.warn(
            f"listening on {host}, not {HOST}: anyone who can reach this address can use the "
            "server. Put it behind a firewall or a load balancer, serve it over TLS, and "
            "give it a strong secret (SESSIONLAB_SECRET).",
            ExposedServerWarning,
            stacklevel=3,
        )
    return host


def reachable(host: str) -> str:
    """The address to connect to for a server listening on ``host`` (the wildcard
    addresses are reached on loopback).

    >>> reachable("0.0.0.0"), reachable("::"), reachable("127.0.0.1")
    ('127.0.0.1', '::1', '127.0.0.1')
    """
    return {"0.0.0.0": HOST, "::": "::1"}.get(host, host)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_answers(port: int, timeout: float = 0.5, host: str = HOST) -> bool:
    """Does something accept connections on this port of 127.0.0.1 (or of ``host``)?"""
    address = (reachable(host), port)
    with contextlib.suppress(OSError), socket.create_connection(address, timeout=timeout):
        return True
    return False


class ChildServer:
    """A child process serving on ``port`` of 127.0.0.1, its output in a private log file.

    ``start()`` returns once the port answers and ``ready()`` (if given) is true, or raises
    :class:`StartError` (:class:`PortInUseError` when the port was taken) with the end of
    the log. ``stop()`` sends ``stop_signal``, waits, then kills the whole process group.
    ``{port}`` and ``{folder}`` (the child's private folder) in the command and the
    environment's values are filled in.

    >>> server = ChildServer(["python3", "-m", "http.server", "--bind", HOST, "{port}"])
    >>> server.start(); server.running
    True
    >>> server.stop(); server.running
    False
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int = 0,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready: Callable[[], bool] | None = None,
        startup_timeout: float = 30.0,
        stop_signal: int = signal.SIGINT,
        pass_fds: Sequence[int] = (),
        host: str = HOST,
    ) -> None:
        self.port = port or free_port()
        self.host = host  # where the child listens: readiness is checked there
        self._folder = tempfile.TemporaryDirectory(prefix="sessionlab-child-")
        self.folder = Path(self._folder.name)  # private (0700): logs, options, ready files
        self.log_path = self.folder / "server.log"
        self.command = [self._fill(part) for part in command]
        self.env = {key: self._fill(value) for key, value in env.items()} if env else None
        self.cwd = cwd
        self.ready = ready
        self.startup_timeout = startup_timeout
        self.stop_signal = stop_signal
        self.pass_fds = tuple(pass_fds)
        self.process: subprocess.Popen[bytes] | None = None

    def _fill(self, text: str) -> str:
        return text.replace("{port}", str(self.port)).replace("{folder}", str(self.folder))

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = spawn(
                self.command,
                env=self.env,
                cwd=self.cwd,
                pass_fds=self.pass_fds,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: stop() ends its children too
            )
        deadline = time.monotonic() + self.startup_timeout
        while not (
            port_answers(self.port, 0.2, self.host) and (self.ready is None or self.ready())
        ):
            if not self.running or time.monotonic() > deadline:
                raise self._failure()
            time.sleep(0.02)

    def _failure(self) -> StartError | PortInUseError:
        """Why the child did not come up, from its log; the child is stopped."""
        exited = not self.running
        log = self.log_tail()
        self.stop()
        if "in use" in log.lower():
            return PortInUseError(f"port {self.port} is taken:\n{log}")
        what = "exited" if exited else f"did not answer within {self.startup_timeout:g} s"
        return StartError(f"{Path(self.command[0]).name} {what}; the end of its log:\n{log}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def events(self) -> list[str]:
        """The security events the child logged (lines marked with EVENT_PREFIX)."""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").splitlines()
            return [line.split(EVENT_PREFIX, 1)[1] for line in lines if EVENT_PREFIX in line]
        return []

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process and its group; remove its private folder. Safe to call twice."""
        process = self.process
        if process is not None:
            if process.poll() is None:
                # SIGINT by default: a quick shutdown. A lab has no in-flight work worth
                # waiting for, and idle keep-alive connections would hold a graceful stop.
                process.send_signal(self.stop_signal)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            # Children left behind by a killed parent, if any: they share its process group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self._folder.cleanup()


class Startable(Protocol):
    def start(self) -> object: ...


S = TypeVar("S", bound=Startable)


def start_on_free_port(make: Callable[[int], S], *, port: int = 0) -> S:
    """Start ``make(port)``; with ``port=0``, retry on new free ports if another program
    takes the one picked before the child binds it (a race no one can avoid)."""
    for attempt in range(3):
        server = make(port or free_port())
        try:
            server.start()
            return server
        except PortInUseError:
            if port or attempt == 2:
                raise
    raise AssertionError("unreachable")
