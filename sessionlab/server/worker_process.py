"""Inside the server process of ``start(workers=N)``: granian's (or gunicorn's) main, and
each worker's app. The parent's side is workers.py.

``python -m sessionlab.server.worker_process granian WORKERS THREADS PORT`` (or ``gunicorn
FD WORKERS THREADS``) reads the lab's pickled config from the 0600 file the parent wrote,
and deletes the file at once: it holds the secret. Workers are forked from this process, so
they, and the workers granian respawns later, find the config in memory. Then it serves:

* granian **respawns a worker that dies** (``respawn_failed_workers``), at once; it gives up
  only on a crash loop (the same worker dying again within 5.5 s), and then exits;
* each worker holds at most ``Limits.connections`` connections (granian's backpressure):
  idle connections cannot starve the others, as 2,000 of them did at granian's default of
  512 per worker;
* a **worker dies with this process** (a parent-death signal, checked once at start), so
  no orphan goes on serving on the port after the server is gone.

Each worker drops a file named by its pid into the ready folder once its app is built; a
worker that finds the others' files already there is a replacement, and logs which worker
it replaced as an event (``lab.events``).

Clients keep their connections open, and those of a dead worker reconnect at once, while
its replacement is still starting: all of them land on the survivors, and the replacement
would serve nobody for as long as they stay. So a worker closes the connection of every
``KEEPALIVE_REQUESTS``-th answer (``Connection: close``, as nginx's ``keepalive_requests``
does): connections keep being dealt out again, each to the worker that accepts it first,
the least busy one.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from .app import create_app
from .config import LabConfig
from .events import EventLine
from .processes import HOST
from .sessions import events_logger_name

OPTIONS_VARIABLE = "SESSIONLAB_WORKER_OPTIONS_FILE"  # a path: the options are secret
READY_VARIABLE = "SESSIONLAB_READY_DIR"
MAIN_VARIABLE = "SESSIONLAB_SERVER_PID"  # the process the workers must die with
WORKER_HEADER = "X-Sessionlab-Worker"  # which process answered: see the requests spread
# Every this many answers, a worker closes the connection (about 1% more connections made).
KEEPALIVE_REQUESTS = 100
# Seconds granian gives a worker to finish on stop before killing it: its least. A lab's
# clients keep connections open, so a stop waits this long for nothing.
WORKERS_KILL_TIMEOUT = 1

_options: bytes | None = None  # the pickled config, read once by the server process


def load_options(*, forget_file: bool = False) -> LabConfig:
    """The lab's config: from this process's memory, or (first use) from its file, which
    ``forget_file`` deletes (when every worker will be forked from this process)."""
    global _options
    if _options is None:
        path = Path(os.environ[OPTIONS_VARIABLE])
        _options = path.read_bytes()
        if forget_file:
            with contextlib.suppress(OSError):
                path.unlink()  # the secret does not stay on disk
    config: LabConfig = pickle.loads(_options)
    return config


def worker_app() -> Flask:
    """The Flask app of one worker, built from the config the parent sent."""
    die_with_server()
    config = load_options()
    app = create_app(config)
    events = logging.getLogger(events_logger_name(config.name))
    to_log = logging.StreamHandler(sys.stderr)  # the server's log, read by lab.events
    to_log.setFormatter(EventLine())
    events.addHandler(to_log)
    events.propagate = False  # once, in the log: not again through the root logger
    app.wsgi_app = WorkerHeaders(app.wsgi_app, os.getpid())  # type: ignore[method-assign]
    announce(Path(os.environ[READY_VARIABLE]), os.getpid(), events)
    return app


class WorkerHeaders:
    """WSGI middleware: every answer says which worker gave it, refusals included, and every
    ``KEEPALIVE_REQUESTS``-th asks the client to reconnect (see the module's docstring).
    Not a Flask hook, which would also cost a coroutine check on every request.

    >>> from flask import Response
    >>> from werkzeug.test import Client
    >>> Client(WorkerHeaders(Response("hi"), 1234)).get("/").headers[WORKER_HEADER]
    '1234'
    """

    def __init__(self, wsgi_app: Any, pid: int) -> None:
        self.wsgi_app = wsgi_app
        self.pid = str(pid)
        self.answers = itertools.count(1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((WORKER_HEADER, self.pid))
            if next(self.answers) % KEEPALIVE_REQUESTS == 0:
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, respond)


def die_with_server() -> None:
    """Ask Linux to kill this worker when the server process dies; exit if it already has."""
    main = int(os.environ.get(MAIN_VARIABLE, "0"))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if main and os.getppid() != main:  # orphaned before the request took effect
        os._exit(1)


def announce(ready: Path, pid: int, events: logging.Logger) -> None:
    """Mark this worker ready; if it replaces a dead one, say which (an event)."""
    pids = [int(p.name) for p in ready.iterdir() if p.name.isdigit()]
    gone = [dead for dead in pids if not alive(dead)]
    (ready / str(pid)).touch()
    for dead in gone:
        (ready / str(dead)).rename(ready / f"{dead}.exited")
        events.warning("worker %s exited; worker %s took its place (respawned)", dead, pid)


def alive(pid: int) -> bool:
    """Is the process running (not gone, not a zombie waiting to be reaped)?"""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def raise_file_limit(wanted: int) -> None:
    """Let this process (and its workers) hold ``wanted`` connections, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve_with_granian(workers: int, threads: int, port: int, host: str = HOST) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    # Workers forked from here find the config in memory; spawned ones read the file.
    forked = multiprocessing.get_start_method() == "fork"
    limits = load_options(forget_file=forked).limits
    raise_file_limit(limits.connections * workers + 256)
    Granian(
        "sessionlab.server.worker_process:worker_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        factory=True,
        workers=workers,
        blocking_threads=threads,
        backlog=2048,
        backpressure=limits.connections,
        http1_settings=HTTP1Settings(header_read_timeout=int(limits.idle * 1000)),
        respawn_failed_workers=True,
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
        log_level=LogLevels.warning,
    ).serve()


def serve_with_gunicorn(listen_fd: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    load_options(forget_file=True)  # gunicorn forks its workers from here

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


def main(argv: list[str]) -> None:
    os.environ[MAIN_VARIABLE] = str(os.getpid())
    server, *numbers = argv
    if server == "granian":  # workers threads port [host]
        workers, threads, port = map(int, numbers[:3])
        serve_with_granian(workers, threads, port, *numbers[3:])
    else:
        serve_with_gunicorn(*map(int, numbers))


if __name__ == "__main__":
    # Through the imported module, not this __main__ copy: granian loads worker_app from
    # there, and must find the config this process read.
    from sessionlab.server.worker_process import main as imported_main

    imported_main(sys.argv[1:])
