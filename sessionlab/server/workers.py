"""start(..., workers=N): the same app in N worker processes, under granian or gunicorn.

Deployments run several processes so that one slow request or one busy core does not hold
up the rest. Each process builds its own app from the lab's :class:`LabConfig`, which is
pickled into a 0600 file in the child's private 0700 folder, removed on ``stop()``; never
into the environment, which any process of the same user can read in
``/proc/<pid>/environ`` and which every child inherits. Stores pickle as what names them
(SQLite: the file's path; Redis: url and prefix; memory: a new, empty dict per worker). A
memory store therefore cannot be shared: each worker keeps its own sessions, and a request
that lands on another worker finds none. That combination warns.

The server is granian (a Rust HTTP server) by measurement: on this project's 2-core bench
it serves the same Flask app about twice as fast as gunicorn's gthread workers
(bench/throughput.py); ``server="gunicorn"`` (the ``[bench]`` extra) is there to compare.
Each worker drops a file named by its pid into a folder once its app is built; ``start``
returns when all N have and the port answers. The server's main process dies with the
parent (``stop()``, atexit, and on Linux a parent-death signal), and takes its workers with
it. Security events the workers log go to the server's log, where ``lab.events`` reads them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import socket
import sys
import warnings
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask, Response

from ..errors import ConfigError, PortInUseError, ServiceMissingError, StoreNotSharedWarning
from .app import create_app
from .config import LabConfig
from .handle import LabServer
from .processes import EVENT_PREFIX, HOST, ChildServer, start_on_free_port
from .sessions import events_logger_name
from .storage import open_store
from .stores import MemoryStore

OPTIONS_VARIABLE = "SESSIONLAB_WORKER_OPTIONS_FILE"  # a path: the options are secret
READY_VARIABLE = "SESSIONLAB_READY_DIR"
WORKER_HEADER = "X-Sessionlab-Worker"  # which process answered: see the requests spread
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
    check_workers(config, workers, server)
    owns_store = isinstance(config.store, str)  # a store object passed in is the caller's
    store = open_store(config.store, name=config.name)
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
    the workers that reported ready."""

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
        self.access_log: deque[str] = deque(maxlen=1)  # the workers keep no access log
        self._options = options
        self._listener = bind(port, host) if server == "gunicorn" else None  # takes a socket
        if self._listener is not None:
            port = self._listener.getsockname()[1]
            command = [
                sys.executable, "-m", "sessionlab.server.workers",
                str(self._listener.fileno()), str(workers), str(threads),
            ]  # fmt: skip
        else:
            command = [
                sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
                "--workers", str(workers), "--blocking-threads", str(threads),
                "--host", host, "--port", "{port}", "--log-level", "warning",
                "--workers-kill-timeout", "2", "sessionlab.server.workers:worker_app",
            ]  # fmt: skip
        self.child = ChildServer(
            command,
            port=port,
            env={
                **os.environ,
                OPTIONS_VARIABLE: "{folder}/options.pickle",
                READY_VARIABLE: "{folder}/ready",
            },
            ready=self.all_ready,
            startup_timeout=timeout,
            pass_fds=(self._listener.fileno(),) if self._listener is not None else (),
            host=host,
        )
        self.port = self.child.port

    def start(self) -> WorkerRunner:
        self.ready_dir.mkdir()
        write_private(self.options_path, self._options)
        try:
            self.child.start()
        finally:
            if self._listener is not None:
                self._listener.close()  # the server has it now; ours would hold the port
        return self

    @property
    def ready_dir(self) -> Path:
        return self.child.folder / "ready"

    @property
    def options_path(self) -> Path:
        """The pickled config (it holds the secret): 0600, removed by ``stop()``."""
        return self.child.folder / "options.pickle"

    @property
    def running(self) -> bool:
        return self.child.running

    @property
    def pids(self) -> list[int]:
        if not self.ready_dir.exists():
            return []
        return sorted(int(path.name) for path in self.ready_dir.iterdir())

    def all_ready(self) -> bool:
        return len(self.pids) >= self.workers

    def events(self) -> list[str]:
        return self.child.events()

    def stop(self) -> None:
        self.child.stop()


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only this user can read (0600 from the start)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


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


# -- inside the server process -----------------------------------------------------------


def worker_app() -> Flask:
    """The Flask app of one worker, built from the config the parent sent."""
    config: LabConfig = pickle.loads(Path(os.environ[OPTIONS_VARIABLE]).read_bytes())
    app = create_app(config)
    events = logging.getLogger(events_logger_name(config.name))
    to_log = logging.StreamHandler(sys.stderr)  # the server's log, read by lab.events
    to_log.setFormatter(logging.Formatter(EVENT_PREFIX + "%(message)s"))
    events.addHandler(to_log)
    events.propagate = False  # once, in the log: not again through the root logger
    pid = str(os.getpid())

    @app.after_request
    def say_which_worker(response: Response) -> Response:
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
