"""start(..., workers=N): the same app in N worker processes, under granian or gunicorn.

Deployments run several processes so that one slow request or one busy core does not hold
up the rest. Each process builds its own app, so everything that makes the app must cross a
process boundary. The options (the signing secret among them) are pickled into a 0600 file
in a private 0700 folder, removed on ``stop()``; never into the environment, which any process
of the same user can read in ``/proc/<pid>/environ`` and which every child inherits. A store
object is re-opened from what names it (memory: a new, empty dict per worker; SQLite: the
file's path; Redis: url and prefix). A memory store therefore cannot be shared: each worker
keeps its own sessions, and a request that lands on another worker finds none. That
combination warns.

The server is granian (a Rust HTTP server) by measurement: on this project's 2-core bench
it serves the same Flask app about twice as fast as gunicorn's gthread workers, which is
what lets SQLite and Redis sessions keep up with the seed's Express app (bench/throughput.py).
``server="gunicorn"`` is there to compare. Each worker drops a file named by its pid into a
folder once its app is built; ``start`` returns when all N have and the port answers. The
server's main process dies with the parent (``stop()``, atexit, and on Linux a parent-death
signal), and takes its workers with it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
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

from .children import spawn
from .redis_server import free_port
from .stores import MemoryStore, RedisStore, SQLiteStore, Store

HOST = "127.0.0.1"
OPTIONS_VARIABLE = "SESSIONLAB_WORKER_OPTIONS_FILE"  # a path: the options are secret
WORKER_HEADER = "X-Sessionlab-Worker"  # which process answered: see the requests spread
READY_VARIABLE = "SESSIONLAB_READY_DIR"
SERVERS = ("granian", "gunicorn")
# Threads per worker that run the app (granian's blocking threads, gunicorn's gthread
# threads): a few, so one request waiting on the store or a lock does not stall the worker.
THREADS = 4


class StoreNotSharedWarning(UserWarning):
    """Worker processes cannot share this store: sessions will be lost at random."""


class WorkerServer:
    """A session server running in worker processes: ``url``, ``store``, ``pids``, ``stop()``.

    ``store`` is this process's view of the store the workers share; with a memory store
    it sees nothing, because each worker keeps its own.
    """

    def __init__(
        self,
        name: str,
        store: Store,
        port: int,
        workers: int,
        *,
        owns_store: bool = True,
        insecure_choices: list[str] | None = None,
    ) -> None:
        self.name = name
        self.app = None  # the apps live in the worker processes
        self.store = store
        self.owns_store = owns_store  # a store passed to start() is the caller's to close
        self.insecure_choices = insecure_choices or []
        self.set_port(port)
        self.workers = workers
        self.pids: list[int] = []
        self.access_log: deque[str] = deque(maxlen=1)  # the workers keep no access log
        self.events: list[str] = []
        self._process: subprocess.Popen | None = None
        self._stopped = False
        self._logdir = tempfile.TemporaryDirectory(prefix="sessionlab-workers-")
        self.log_path = Path(self._logdir.name) / "server.log"
        self.ready_dir = Path(self._logdir.name) / "ready"
        self.ready_dir.mkdir()
        # Holds the secret, 0600 in a 0700 folder: removed by stop() or at interpreter exit;
        # only a killed kernel leaves it behind, readable by its own user alone.
        self.options_path = Path(self._logdir.name) / "options.pickle"

    def set_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, close_store: bool | None = None) -> None:
        """Stop the server and its workers; close the store if the lab made it (or if
        ``close_store``). Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._process is not None and self._process.poll() is None:
            # SIGINT: a quick shutdown. A lab has no in-flight work worth waiting for, and
            # idle keep-alive connections would hold a graceful stop for seconds.
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
        if self.owns_store if close_store is None else close_store:
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
        insecure = self.insecure_choices
        teaching = f"; insecure, for teaching: {', '.join(insecure)}" if insecure else ""
        return (
            f"<WorkerServer {self.name!r} store={self.store.kind} workers={self.workers} "
            f"{state} at {self.url}{teaching}>"
        )


def start_workers(
    options: dict[str, Any],
    *,
    workers: int,
    port: int = 0,
    server: str = "granian",
    threads: int = THREADS,
    startup_timeout: float = 30.0,
) -> WorkerServer:
    """Run ``create_app(**options)`` in ``workers`` processes; return when all are up.

    ``options['store']`` may be a name or a store object; the workers re-open it.
    ``server``: "granian" (the default, by measurement) or "gunicorn" (gthread workers).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if server not in SERVERS:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
    store = options["store"]
    if (store == "memory" or isinstance(store, MemoryStore)) and workers > 1:
        warnings.warn(
            f"store='memory' with workers={workers}: each worker process keeps its own "
            "sessions, so a request that lands on another worker finds none and sessions "
            "are lost at random. Use store='sqlite' or store='redis' to share them.",
            StoreNotSharedWarning,
            stacklevel=4,  # the caller of sl.start
        )
    from .app import AppConfig, UnlistedStore, insecure_choices
    from .stores import make_store

    owns_store = isinstance(store, str)  # a store object passed in is the caller's to close
    insecure = insecure_choices(AppConfig(**options))
    if store == "cookie":  # Flask's own session: nothing on the server to share
        store = UnlistedStore()
    else:
        store = make_store(store, name=options.get("name", "sessionlab"))
    encoded = encode_options({**options, "store": reopenable(store)}, store, owns_store)
    name = options.get("name", "sessionlab")
    for attempt in range(3):  # a port picked for granian can be taken before it binds it
        lab = WorkerServer(
            name, store, 0, workers, owns_store=owns_store, insecure_choices=insecure
        )
        try:
            write_private(lab.options_path, encoded)
            launch(lab, server, port, threads)
            lab.pids = wait_for_workers(lab, startup_timeout)
            return lab
        except PortTakenError:
            lab.stop(close_store=False)
            if port or attempt == 2:
                if owns_store:
                    store.close()
                raise
        except BaseException:
            lab.stop()
            raise
    raise AssertionError("unreachable")


class PortTakenError(OSError):
    """The server could not bind its port."""


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only this user can read (0600 from the start)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def launch(lab: WorkerServer, server: str, port: int, threads: int) -> None:
    """Start the server process for ``lab``, its output going to ``lab.log_path``."""
    env = {
        **os.environ,
        OPTIONS_VARIABLE: str(lab.options_path),
        READY_VARIABLE: str(lab.ready_dir),
    }
    pass_fds: tuple[int, ...] = ()
    listener = None
    if server == "gunicorn":  # gunicorn takes a bound socket: the port is ours already
        listener = bind(port)
        lab.set_port(listener.getsockname()[1])
        pass_fds = (listener.fileno(),)
        command = [
            sys.executable, "-m", "sessionlab.server.workers",
            str(listener.fileno()), str(lab.workers), str(threads),
        ]  # fmt: skip
    else:
        lab.set_port(port or free_port())
        command = [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
            "--workers", str(lab.workers), "--blocking-threads", str(threads),
            "--host", HOST, "--port", str(lab.port), "--log-level", "warning",
            "--workers-kill-timeout", "2", "sessionlab.server.workers:worker_app",
        ]  # fmt: skip
    with open(lab.log_path, "wb") as log:
        lab._process = spawn(
            command,
            env=env,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    if listener is not None:
        listener.close()  # the server has it now; our copy would keep the port open


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


def encode_options(options: dict[str, Any], store: Store, owns_store: bool = True) -> bytes:
    try:
        return pickle.dumps(options)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        if owns_store:
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


def wait_for_workers(lab: WorkerServer, timeout: float) -> list[int]:
    """Wait for a ready file from each worker and for the port to answer; return the pids."""
    deadline = time.monotonic() + timeout
    while True:
        pids = sorted(int(path.name) for path in lab.ready_dir.iterdir())
        if len(pids) >= lab.workers and port_answers(lab.port):
            return pids
        if time.monotonic() > deadline or not lab.running:
            log = lab.log_path.read_text(errors="replace")[-3000:]
            if "in use" in log.lower():
                raise PortTakenError(f"port {lab.port} is taken:\n{log}")
            raise RuntimeError(f"the worker processes did not start; the server's log:\n{log}")
        time.sleep(0.02)


def port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
        return True
    return False


# -- inside the gunicorn process ---------------------------------------------------------


def worker_app() -> Any:
    """The Flask app of one worker, built from the options the parent sent."""
    from .app import create_app

    options = pickle.loads(Path(os.environ[OPTIONS_VARIABLE]).read_bytes())
    app = create_app(**{**options, "store": reopen(options["store"])})
    pid = str(os.getpid())

    @app.after_request
    def say_which_worker(response):
        response.headers[WORKER_HEADER] = pid
        return response

    (Path(os.environ[READY_VARIABLE]) / pid).touch()  # this worker is ready
    return app


def serve_with_gunicorn(listen_fd: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class LabApplication(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": [f"fd://{listen_fd}"],
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "graceful_timeout": 2,
                "timeout": 30,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return worker_app()

    LabApplication().run()


if __name__ == "__main__":
    serve_with_gunicorn(*map(int, sys.argv[1:4]))
