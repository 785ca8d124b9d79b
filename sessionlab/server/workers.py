"""start(..., workers=N): the same app under gunicorn, in N worker processes.

Deployments run several processes so that one slow request or one busy core does not hold
up the rest. Each process builds its own app, so everything that makes the app must cross a
process boundary: the options are pickled, and a store object is re-opened from what names
it (memory: a new, empty dict per worker; SQLite: the file's path; Redis: url and prefix).
A memory store therefore cannot be shared: each worker keeps its own sessions, and a request
that lands on another worker finds none. That combination warns.

The parent process binds the socket (so the port is known and free before gunicorn starts)
and hands it over as ``fd://``. Each worker reports on a pipe when it is ready; ``start``
returns once all N have. The gunicorn master dies with the parent (``stop()``, atexit, and
on Linux a parent-death signal), and takes its workers with it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

from .redis_server import die_with_parent
from .stores import MemoryStore, RedisStore, SQLiteStore, Store

HOST = "127.0.0.1"
OPTIONS_VARIABLE = "SESSIONLAB_WORKER_OPTIONS"
WORKER_HEADER = "X-Sessionlab-Worker"  # which process answered: see the requests spread
WORKER_CLASS = "gthread"  # chosen by measurement: bench/throughput.py
THREADS = 4


class StoreNotSharedWarning(UserWarning):
    """Worker processes cannot share this store: sessions will be lost at random."""


class WorkerServer:
    """A session server running in gunicorn worker processes: ``url``, ``store``, ``stop()``.

    ``store`` is this process's view of the store the workers share; with a memory store
    it sees nothing, because each worker keeps its own.
    """

    def __init__(self, name: str, store: Store, port: int, workers: int) -> None:
        self.name = name
        self.app = None  # the apps live in the worker processes
        self.store = store
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.workers = workers
        self.pids: list[int] = []
        self.access_log: deque[str] = deque(maxlen=1)  # gunicorn's access log is off
        self.events: list[str] = []
        self._process: subprocess.Popen | None = None
        self._logdir = tempfile.TemporaryDirectory(prefix="sessionlab-gunicorn-")
        self.log_path = Path(self._logdir.name) / "gunicorn.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop gunicorn and its workers, close the store. Safe to call twice."""
        if self._process is not None and self._process.poll() is None:
            # SIGINT is gunicorn's quick shutdown: a lab has no in-flight work worth waiting
            # for, and idle keep-alive connections would hold a graceful stop for seconds.
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        # Workers left behind by a killed master, if any: they share its process group.
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self.store.close()
        self._logdir.cleanup()
        from . import launch  # the registry lives there; imported late to avoid a cycle

        with launch._registry_lock:
            if launch._running.get(self.name) is self:
                del launch._running[self.name]

    def __enter__(self) -> WorkerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<WorkerServer {self.name!r} store={self.store.kind} workers={self.workers} "
            f"{state} at {self.url}>"
        )


def start_workers(
    options: dict[str, Any],
    *,
    workers: int,
    port: int = 0,
    worker_class: str = WORKER_CLASS,
    threads: int = THREADS,
    startup_timeout: float = 30.0,
) -> WorkerServer:
    """Run ``create_app(**options)`` in ``workers`` gunicorn processes; return when all are up.

    ``options['store']`` may be a name or a store object; the workers re-open it.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    store = options["store"]
    if (store == "memory" or isinstance(store, MemoryStore)) and workers > 1:
        warnings.warn(
            f"store='memory' with workers={workers}: each worker process keeps its own "
            "sessions, so a request that lands on another worker finds none and sessions "
            "are lost at random. Use store='sqlite' or store='redis' to share them.",
            StoreNotSharedWarning,
            stacklevel=4,  # the caller of sl.start
        )
    from .app import ClientSideStore
    from .stores import make_store

    if store == "cookie":  # Flask's own session: nothing on the server to share
        store = ClientSideStore()
    else:
        store = make_store(store, name=options.get("name", "sessionlab"))
    worker_options = {**options, "store": reopenable(store)}
    encoded = encode_options(worker_options, store)
    listener = bind(port)
    server = WorkerServer(
        options.get("name", "sessionlab"), store, listener.getsockname()[1], workers
    )
    ready_read, ready_write = os.pipe()
    command = [
        sys.executable, "-m", "sessionlab.server.workers",
        str(listener.fileno()), str(ready_write), str(workers), worker_class, str(threads),
    ]  # fmt: skip
    with open(server.log_path, "wb") as log:
        server._process = subprocess.Popen(
            command,
            env={**os.environ, OPTIONS_VARIABLE: encoded},
            pass_fds=(listener.fileno(), ready_write),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    os.close(ready_write)
    listener.close()  # gunicorn has it now; our copy would keep the port open after stop
    try:
        server.pids = wait_for_workers(ready_read, workers, server, startup_timeout)
    except Exception:
        server.stop()
        raise
    finally:
        os.close(ready_read)
    return server


def reopenable(store: Store) -> Any:
    """What a worker process needs to open the same store (a memory store cannot be shared)."""
    if isinstance(store, MemoryStore):
        return "memory"
    if store.kind == "cookie":
        return "cookie"
    if isinstance(store, SQLiteStore):
        return ("sqlite", str(store.path))
    if isinstance(store, RedisStore):
        return ("redis", store.url, store.prefix)
    return store  # another Store: it must pickle, and its copies must share their data


def reopen(spec: Any) -> Any:
    if isinstance(spec, tuple) and spec[0] == "sqlite":
        return SQLiteStore(spec[1])
    if isinstance(spec, tuple) and spec[0] == "redis":
        return RedisStore(spec[1], prefix=spec[2])
    return spec


def encode_options(options: dict[str, Any], store: Store) -> str:
    try:
        return base64.b64encode(pickle.dumps(options)).decode()
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        store.close()
        raise TypeError(
            f"workers=N needs options that can be sent to another process ({error}): "
            "pass module-level functions (not lambdas) and picklable store objects"
        ) from error


def bind(port: int) -> socket.socket:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as error:
        listener.close()
        raise OSError(
            f"cannot listen on {HOST}:{port} ({error.strerror}): "
            "pass port=0 to let the system pick a free port"
        ) from error
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def wait_for_workers(ready: int, workers: int, server: WorkerServer, timeout: float) -> list[int]:
    """Read one pid per ready worker from the pipe; fail with gunicorn's log if it dies."""
    pids: list[int] = []
    buffer, deadline = b"", time.monotonic() + timeout
    while len(pids) < workers:
        left = deadline - time.monotonic()
        if left <= 0 or not server.running:
            log = server.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn workers did not start; its log says:\n{log}")
        if select.select([ready], [], [], min(left, 0.2))[0]:
            buffer += os.read(ready, 4096)
            *lines, buffer = buffer.split(b"\n")
            pids += [int(line) for line in lines if line]
    return pids


# -- inside the gunicorn process ---------------------------------------------------------


def worker_app() -> Any:
    """The Flask app of one worker, built from the options the parent sent."""
    from .app import create_app

    options = pickle.loads(base64.b64decode(os.environ[OPTIONS_VARIABLE]))
    app = create_app(**{**options, "store": reopen(options["store"])})
    pid = str(os.getpid())

    @app.after_request
    def say_which_worker(response):
        response.headers[WORKER_HEADER] = pid
        return response

    return app


def serve(listen_fd: int, ready_fd: int, workers: int, worker_class: str, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    def post_worker_init(worker) -> None:
        os.write(ready_fd, f"{os.getpid()}\n".encode())

    class LabApplication(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": [f"fd://{listen_fd}"],
                "workers": workers,
                "worker_class": worker_class,
                "threads": threads,
                "graceful_timeout": 2,
                "timeout": 30,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "post_worker_init": post_worker_init,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return worker_app()

    LabApplication().run()


if __name__ == "__main__":
    serve(*map(int, sys.argv[1:4]), sys.argv[4], int(sys.argv[5]))
