"""start(..., workers=N): the same app in N worker processes, under granian or gunicorn.

Deployments run several processes so that one slow request or one busy core does not hold
up the rest. Each process builds its own app from the lab's :class:`LabConfig`, which is
pickled into a 0600 file in the child's private 0700 folder, read and deleted by the server
process as it starts (worker_process.py); never put into the environment, which any process
of the same user can read in ``/proc/<pid>/environ`` and which every child inherits. Stores
pickle as what names them (SQLite: the file's path; Redis: url and prefix; memory: a new,
empty dict per worker). A
memory store therefore cannot be shared: each worker keeps its own sessions, and a request
that lands on another worker finds none. That combination warns.

The server is granian (a Rust HTTP server) by measurement: on this project's 2-core bench
it serves the same Flask app about twice as fast as gunicorn's gthread workers
(bench/throughput.py); ``server="gunicorn"`` (the ``[bench]`` extra) is there to compare.
Each worker drops a file named by its pid into a folder once its app is built; ``start``
returns when all N have and the port answers. A worker that dies is replaced by granian at
once, and ``lab.pids`` lists the live ones. The server's main process dies with the parent
(``stop()``, atexit, and on Linux a parent-death signal), and its workers die with it.
Security events, and which worker replaced which, go to the server's log, where
``lab.events`` reads them.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import signal
import socket
import sys
import time
import warnings
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import (
    ConfigError,
    PortInUseError,
    ServiceMissingError,
    StartError,
    StoreNotSharedWarning,
)
from .config import LabConfig, check_port
from .handle import LabServer
from .processes import HOST, ChildServer, start_on_free_port, write_private
from .storage import open_store
from .stores import MemoryStore
from .worker_process import OPTIONS_VARIABLE, READY_VARIABLE, WORKER_HEADER, alive

__all__ = ["WORKER_HEADER", "StoreNotSharedWarning", "WorkerRunner", "start_workers"]

SERVERS = ("granian", "gunicorn")
# Threads per worker that run the app (granian's blocking threads, gunicorn's gthread
# threads): a few, so one request waiting on the store or a lock does not stall the worker.
THREADS = 4


def start_workers(
    config: LabConfig | dict[str, Any],
    *,
    workers: int,
    port: int = 0,
    server: str = "granian",
    threads: int = THREADS,
    startup_timeout: float = 30.0,
    host: str = HOST,
) -> LabServer:
    """Run the app of ``config`` in ``workers`` processes; return when all are up.

    ``config`` may also be ``start()``'s keyword arguments. ``server``: "granian" (the
    default, by measurement) or "gunicorn" (gthread workers, from the ``[bench]`` extra).
    ``host``: where to listen (127.0.0.1; anything else is the caller's explicit choice,
    checked and warned about by ``start()``).
    """
    if isinstance(config, dict):
        config = LabConfig.from_options(**config)
    check_port(port)
    check_workers(config, workers, server)
    owns_store = isinstance(config.store, str)  # a store object passed in is the caller's
    store = open_store(config.store, name=config.name, max_records=config.limits.sessions)
    try:
        # The workers open the same store (stores pickle as what names them).
        options = encode(replace(config, store=store) if config.server_side else config)
        runner = start_on_free_port(
            lambda free: WorkerRunner(
                options, workers, free, server, threads, startup_timeout, host
            ),
            port=port,
        )
    except BaseException:
        if owns_store:
            store.close()
        raise
    return LabServer(
        config.name,
        runner,
        store,
        cookie_name=config.name,
        owns_store=owns_store,
        insecure_choices=config.insecure_choices,
    )


def check_workers(config: LabConfig, workers: int, server: str) -> None:
    """Refuse what cannot work; warn about a store the workers cannot share."""
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    if server not in SERVERS:
        raise ConfigError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
    if server == "gunicorn" and importlib.util.find_spec("gunicorn") is None:
        raise ServiceMissingError(
            "server='gunicorn' needs gunicorn: pip install 'sessionlab[bench]'"
        )
    if (config.store == "memory" or isinstance(config.store, MemoryStore)) and workers > 1:
        warnings.warn(
            f"store='memory' with workers={workers}: each worker process keeps its own "
            "sessions, so a request that lands on another worker finds none and sessions "
            "are lost at random. Use store='sqlite' or store='redis' to share them.",
            StoreNotSharedWarning,
            stacklevel=4,  # the caller of sl.start
        )


def encode(config: LabConfig) -> bytes:
    try:
        return pickle.dumps(config)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"workers=N needs options that can be sent to another process ({error}): "
            "pass module-level functions (not lambdas) and picklable store objects"
        ) from error


class WorkerRunner:
    """The worker processes of one lab: the server's :class:`ChildServer`, and the pids of
    the workers that reported ready (the live ones: granian replaces a worker that dies)."""

    scheme = "http"

    def __init__(
        self,
        options: bytes,
        workers: int,
        port: int,
        server: str,
        threads: int,
        timeout: float,
        host: str = HOST,
    ) -> None:
        self.workers = workers
        self.host = host
        self.server = server
        self.threads = threads
        self.timeout = timeout
        self.access_log: deque[str] = deque(maxlen=1)  # the workers keep no access log
        self._options = options
        self._stopped = False
        self._listener = bind(port, host) if server == "gunicorn" else None  # takes a socket
        if self._listener is not None:
            port = self._listener.getsockname()[1]
        self.child = self._make_child(port)
        self.port = self.child.port

    def _make_child(self, port: int) -> ChildServer:
        main = [sys.executable, "-m", "sessionlab.server.worker_process"]
        numbers = [str(self.workers), str(self.threads)]
        if self._listener is not None:
            command = [*main, "gunicorn", str(self._listener.fileno()), *numbers]
        else:
            command = [*main, "granian", *numbers, "{port}", self.host]
        return ChildServer(
            command,
            port=port,
            env={
                **os.environ,
                OPTIONS_VARIABLE: "{folder}/options.pickle",
                READY_VARIABLE: "{folder}/ready",
            },
            ready=self.all_ready,
            startup_timeout=self.timeout,
            pass_fds=(self._listener.fileno(),) if self._listener is not None else (),
            host=self.host,
        )

    def start(self) -> WorkerRunner:
        self.ready_dir.mkdir()
        write_private(self.options_path, self._options)
        try:
            self.child.start()
        finally:
            if self._listener is not None:
                self._listener.close()  # the server has it now; ours would hold the port
                self._listener = None
        self._stopped = False
        return self

    @property
    def ready_dir(self) -> Path:
        return self.child.folder / "ready"

    @property
    def options_path(self) -> Path:
        """The pickled config (it holds the secret): 0600, read and deleted by the server."""
        return self.child.folder / "options.pickle"

    @property
    def running(self) -> bool:
        return self.child.running

    @property
    def pids(self) -> list[int]:
        """The workers serving now (a worker that died is replaced, and leaves this list)."""
        if not self.running or not self.ready_dir.exists():
            return []
        found = (int(p.name) for p in self.ready_dir.iterdir() if p.name.isdigit())
        return sorted(pid for pid in found if alive(pid))

    @property
    def respawns(self) -> int:
        """How many workers died and were replaced since the server started."""
        if not self.ready_dir.exists():
            return 0
        return sum(1 for p in self.ready_dir.iterdir() if p.name.endswith(".exited"))

    def all_ready(self) -> bool:
        return len(self.pids) >= self.workers

    def events(self) -> list[str]:
        events = self.child.events()
        if not self._stopped and not self.running and self.child.process is not None:
            status = self.child.process.returncode
            events.append(f"the {self.server} server exited (status {status}): it is down")
        return events

    def note(self, message: str) -> None:
        """Add an event of the handle's own (a fault it caused) to the server's log."""
        self.child.note(message)

    @staticmethod
    def _await_gone(pid: int, deadline: float) -> None:
        """Wait until the process has left /proc: its threads may still be exiting after its
        main thread is a zombie, and until they are gone its connections are open, so a
        client's next request on one would meet a reset instead of reconnecting."""
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.01)

    def kill_worker(self, pid: int | None = None, timeout: float = 10.0) -> int | None:
        """Kill one worker (SIGKILL, as a crash would); return the pid that replaced it,
        or None if none did within ``timeout`` seconds."""
        before = self.pids
        if not before:
            raise StartError("no worker is running to kill")
        victim = pid if pid is not None else before[0]
        if victim not in before:
            raise ConfigError(f"{victim} is not one of this server's workers: {before}")
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running:
            new = set(self.pids) - set(before)
            if new:
                self._await_event(f"worker {victim} exited", deadline)
                self._await_gone(victim, deadline)
                return new.pop()
            time.sleep(0.02)
        return None

    def _await_event(self, text: str, deadline: float) -> None:
        """Wait (until ``deadline``) for the server's log to tell what already happened, so
        that events read after this call list it, and list it before what comes next."""
        while time.monotonic() < deadline and not any(text in e for e in self.events()):
            time.sleep(0.02)

    def restart(self) -> None:
        """Stop the server and start it again on the same port with the same options."""
        self.stop()
        if self.server == "gunicorn":
            self._listener = bind(self.port, self.host)
        self.child = self._make_child(self.port)
        self.start()

    def stop(self) -> None:
        self._stopped = True
        self.child.stop()


def bind(port: int, host: str = HOST) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise PortInUseError(
            f"cannot listen on {host}:{port} ({error.strerror}): "
            "pass port=0 to let the system pick a free port"
        ) from error
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener
