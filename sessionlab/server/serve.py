"""Serving apps the lab did not make, behind the same handle and in the same registry.

``serve_app`` runs a Flask app (Flask-Session's, say) in a thread; ``serve_child`` runs any
other framework's server as a child process on a free port of 127.0.0.1
(:class:`~sessionlab.server.processes.ChildServer`). Both register the lab under its name,
so ``sl.stop()``, re-running a cell and the exit handler stop it like any other.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from flask import Flask

from ..errors import ConfigError
from ..routes import Routes
from .handle import LabServer, register, stop
from .processes import ChildServer, start_on_free_port
from .sessions import events_logger_name
from .stores import Store
from .threads import ThreadRunner


def serve_app(
    app: Flask,
    *,
    name: str,
    store: Store,
    cookie_name: str,
    kind: str,
    insecure_choices: Sequence[str] = (),
    routes: Routes | None = None,
) -> LabServer:
    """Serve an app the lab did not make (Flask-Session, say) from a thread, registered
    under ``name`` like any lab, so that ``sl.stop()`` and the exit handler stop it too."""
    stop(name)
    runner = ThreadRunner(app, events_from=events_logger_name(cookie_name))
    lab = LabServer(
        name,
        runner.start(),
        store,
        cookie_name=cookie_name,
        routes=routes,
        insecure_choices=insecure_choices,
        kind=kind,
        app=app,
    )
    return register(lab)


class ChildRunner:
    """A :class:`ChildServer` seen as a lab's runner (what ``LabServer`` reads)."""

    def __init__(self, child: ChildServer, scheme: str = "http") -> None:
        self.child = child
        self.scheme = scheme
        self.port = child.port
        self.access_log: deque[str] = deque(maxlen=1)  # the framework keeps its own

    @property
    def running(self) -> bool:
        return self.child.running

    @property
    def pids(self) -> list[int]:
        return [self.child.pid] if self.child.pid is not None else []

    def events(self) -> list[str]:
        return self.child.events()

    def log(self) -> str:
        """The end of the framework's own log (its output and errors)."""
        return self.child.log_tail()

    def note(self, message: str) -> None:
        self.child.note(message)

    def restart(self) -> None:
        raise ConfigError(
            "restart() restarts sessionlab's own servers; stop a framework's server and "
            "start it again with sl.start(server=...)"
        )

    def stop(self) -> None:
        self.child.stop()


def serve_child(
    command: Sequence[str],
    *,
    name: str,
    kind: str,
    cookie_name: str,
    routes: Routes,
    store: Callable[[str, Path], Store],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    scheme: str = "http",
    ca_path: str | None = None,
    ready: Callable[[str], bool] | None = None,
    insecure_choices: Sequence[str] = (),
    port: int = 0,
    private_files: dict[str, str] | None = None,
) -> LabServer:
    """Start a framework's server as a child on a free port; ``{port}`` and ``{folder}``
    (its private folder) are filled in the command and environment. ``store`` makes the
    view of its records from the server's URL; ``ready(url)`` says when it serves."""
    stop(name)
    environment = {**os.environ, **(env or {})}

    def make(free: int) -> ChildServer:
        url = f"{scheme}://127.0.0.1:{free}"
        child = ChildServer(
            command,
            port=free,
            env=environment,
            cwd=cwd,
            ready=(lambda: ready(url)) if ready else None,
            stop_signal=15,  # SIGTERM: node, php -S and granian all stop on it
        )
        for file_name, text in (private_files or {}).items():
            path = child.folder / file_name
            path.touch(mode=0o600)
            path.write_text(text)
        return child

    child = start_on_free_port(make, port=port)
    runner = ChildRunner(child, scheme)
    lab = LabServer(
        name,
        runner,
        store(f"{scheme}://127.0.0.1:{child.port}", child.folder),
        cookie_name=cookie_name,
        routes=routes,
        ca_path=ca_path,
        insecure_choices=insecure_choices,
        kind=kind,
        home=(routes or Routes()).view.path,  # these apps have no page at "/"
    )
    return register(lab)


__all__ = ["ChildRunner", "serve_app", "serve_child"]
