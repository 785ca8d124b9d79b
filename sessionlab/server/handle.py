"""The handle of a running lab server, whatever runs it, and the registry of running labs.

Every server the lab starts (ours in a thread or in worker processes, Flask-Session, and the
other frameworks) is a :class:`LabServer`: its ``url``, ``name``, ``cookie_name``,
``routes``, ``store``, ``ca_path``, ``events``, ``health()``, ``stop()``, a context manager,
and ``client()`` for a recording client set up for it. What differs is the :class:`Runner`
underneath: a thread in this process, or a child process (processes.py).

The registry is keyed by name: starting a lab under a name already running stops the
earlier one first, so re-running a notebook cell never leaks a server, its thread or port.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from ..browser import Browser
from ..client import Client
from ..routes import Routes
from .stores import Store


class Runner(Protocol):
    """What runs a lab's server: a thread here, or processes elsewhere."""

    scheme: str
    port: int
    access_log: deque[str]

    @property
    def running(self) -> bool: ...

    @property
    def pids(self) -> list[int]:
        """The processes that serve requests (empty when a thread of this one does)."""
        ...

    def events(self) -> list[str]:
        """The security events the server logged (refused cookies), oldest first."""
        ...

    def stop(self) -> None: ...


class LabServer:
    """A running session server: ``url``, ``store``, ``events``, ``health()``, ``stop()``.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-handle") as lab:
    ...     lab.url.startswith("http://127.0.0.1:"), lab.cookie_name, str(lab.routes.login)
    (True, 'doc-handle', 'GET /user/{user}')
    """

    def __init__(
        self,
        name: str,
        runner: Runner,
        store: Store,
        *,
        cookie_name: str,
        routes: Routes | None = None,
        ca_path: str | None = None,
        owns_store: bool = True,
        insecure_choices: Sequence[str] = (),
        kind: str = "sessionlab",
        app: Any = None,
        host: str = "127.0.0.1",
        home: str = "/",
    ) -> None:
        self.name = name
        self.runner = runner
        self.store = store
        self.cookie_name = cookie_name
        self.routes = routes or Routes()
        self.ca_path = ca_path  # over https: the CA to trust, Client(verify=lab.ca_path)
        self.owns_store = owns_store  # a store passed to start() is the caller's to close
        self.insecure_choices = list(insecure_choices)
        self.kind = kind  # what serves: "sessionlab", "flask-session", ...
        self.app = app  # the Flask app, when it runs in this process
        self.host = host  # the name in its URL; it listens on 127.0.0.1 whatever the name
        self._home = home  # a path that answers with a page, for a person to open
        self._stopped = False

    @property
    def url(self) -> str:
        return f"{self.runner.scheme}://{self.host}:{self.runner.port}"

    @property
    def home(self) -> str:
        """A URL of this server that opens a page in a browser: the lab's own servers list
        their routes at ``/``; apps that have no ``/`` (the seed's Express app) give their
        view route. The handle's description shows it, so a click on it never opens a 404.

        >>> import sessionlab as sl
        >>> with sl.start(store="memory", name="doc-home") as lab:
        ...     lab.home == lab.url + "/"
        True
        """
        return self.url + self._home

    @property
    def port(self) -> int:
        return self.runner.port

    @property
    def running(self) -> bool:
        return self.runner.running

    @property
    def pids(self) -> list[int]:
        """The worker processes (``workers=N``); empty for a server in a thread."""
        return self.runner.pids

    @property
    def access_log(self) -> deque[str]:
        return self.runner.access_log

    @property
    def events(self) -> list[str]:
        """Security events the server logged (a refused cookie names its fingerprint)."""
        return self.runner.events()

    def health(self) -> dict[str, Any]:
        """Is it serving, can it reach its store, which processes serve.

        >>> import sessionlab as sl
        >>> with sl.start(store="memory", name="doc-health") as lab:
        ...     lab.health()["store"]
        'reachable'
        """
        try:
            self.store.length()
            store = "reachable"
        except Exception as error:  # any failure is what the caller wants to read
            store = f"unreachable: {type(error).__name__}: {error}"
        return {"running": self.running, "store": store, "pids": self.pids}

    def client(self, **options: Any) -> Client:
        """A recording client for this server: its URL, CA, cookie name, store watched."""
        options.setdefault("watch", self.store)
        options.setdefault("verify", self.ca_path or True)
        options.setdefault("session_cookie", self.cookie_name)
        return Client(self.url, **options)

    def browser(self, **options: Any) -> Browser:
        """A recording Chromium tab for this server: its URL, CA, cookie name, store watched.

        Named after the server, so running the cell again replaces the tab.
        """
        options.setdefault("watch", self.store)
        options.setdefault("verify", self.ca_path or True)
        options.setdefault("session_cookie", self.cookie_name)
        options.setdefault("name", self.name)
        return Browser(self.url, **options)

    def stop(self) -> None:
        """Stop the server, close the store it made, leave the registry. Safe to call twice.

        >>> import sessionlab as sl
        >>> lab = sl.start(store="memory", name="doc-stop")
        >>> lab.stop(); lab.stop(); lab.running
        False
        """
        if self._stopped:
            return
        self._stopped = True
        self.runner.stop()
        if self.owns_store:
            self.store.close()
        unregister(self)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        workers = f" workers={len(self.pids)}" if self.pids else ""
        insecure = self.insecure_choices
        teaching = f"; insecure, for teaching: {', '.join(insecure)}" if insecure else ""
        what = f"store={self.store.kind}{workers}" if self.kind == "sessionlab" else self.kind
        where = self.url if self._home == "/" else self.home  # either way, a page that exists
        return f"<LabServer {self.name!r} {what} {state} at {where}{teaching}>"


_running: dict[str, LabServer] = {}
_registry_lock = threading.Lock()


def register(lab: LabServer) -> LabServer:
    """Put a started lab in the registry (its name's earlier lab was stopped before)."""
    with _registry_lock:
        _running[lab.name] = lab
    return lab


def unregister(lab: LabServer) -> None:
    with _registry_lock:
        if _running.get(lab.name) is lab:
            del _running[lab.name]


def stop(name: str | None = None) -> None:
    """Stop the server called ``name``, or every running server.

    >>> import sessionlab as sl
    >>> _ = sl.start(store="memory", name="doc-stop-all")
    >>> sl.stop("doc-stop-all"); "doc-stop-all" in sl.running()
    False
    """
    with _registry_lock:
        labs = [_running[name]] if name in _running else [] if name else list(_running.values())
    for lab in labs:
        lab.stop()


def running() -> dict[str, LabServer]:
    """The servers this process is running, by name.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-running") as lab:
    ...     sl.running()["doc-running"] is lab
    True
    """
    with _registry_lock:
        return dict(_running)


def _stop_all_in_this_process() -> None:
    if os.getpid() == _OWNER:  # a forked child must not stop its parent's servers
        stop()


_OWNER = os.getpid()
atexit.register(_stop_all_in_this_process)
