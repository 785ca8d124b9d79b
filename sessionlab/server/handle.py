"""The handle of a running lab server, whatever runs it, and the registry of running labs.

Every server the lab starts (ours in a thread or in worker processes, Flask-Session, and the
other frameworks) is a :class:`LabServer`: its ``url``, ``name``, ``cookie_name``,
``routes``, ``store``, ``ca_path``, ``events``, ``health()``, ``stop()``, a context manager,
and ``client()`` for a recording client set up for it. What differs is the :class:`Runner`
underneath: a thread in this process, or a child process (processes.py).

The registry is keyed by name: starting a lab under a name already running stops the
earlier one first, so re-running a notebook cell never leaks a server, its thread or port.
Its store goes with it, even one the caller passed in (``start(store=sl.SQLiteStore(path))``
run again makes a new store object), unless the new lab or another running lab uses it; the
module-level :func:`stop` (a notebook's clean-up) closes the stores of the labs it stops on
the same terms. ``lab.stop()`` alone closes only a store the lab made itself.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError
from ..routes import Routes
from .processes import HOST, reachable
from .stores import Store

# Events that say something went wrong (health()'s last_error is the latest of them).
PROBLEMS = ("store outage", "worker ", "the granian server exited", "the gunicorn server exited")

if TYPE_CHECKING:  # imported when first used: worker processes need neither
    from ..browser import Browser
    from ..client import Client


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
        """What the server logged (refused cookies, store outages, respawns), oldest first."""
        ...

    def note(self, message: str) -> None:
        """Record an event of the handle's own (a fault it caused) among the server's."""
        ...

    def restart(self) -> None:
        """Stop serving and serve again, on the same port, with the same app and store."""
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
        host: str | None = None,
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
        # The name in its URL: a name given (attacker.localhost, on 127.0.0.1 whatever the
        # name), else where the runner listens (127.0.0.1 unless start(host=...) said otherwise).
        self.host = host or reachable(getattr(runner, "host", HOST))
        self._home = home  # a path that answers with a page, for a person to open
        self._stopped = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.runner.scheme}://{host}:{self.runner.port}"

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
        """What happened to the server, oldest first, one line each: refused cookies (by
        fingerprint), store outages and recoveries, workers that died and their
        replacements, and the faults this handle caused (``kill_store()``, ...)."""
        return self.runner.events()

    def health(self) -> dict[str, Any]:
        """Is it serving, can it reach its store, how many workers serve, how many were
        replaced, and the last thing that went wrong (or None).

        >>> import sessionlab as sl
        >>> with sl.start(store="memory", name="doc-health") as lab:
        ...     health = lab.health()
        >>> health["running"], health["store"], health["workers"], health["last_error"]
        (True, 'reachable', 0, None)
        """
        return health_of(self)

    # -- faults, for the load notebook and the benchmarks: each bounded in time ----------

    def kill_store(self) -> None:
        """Kill the store's server as a crash would (the lab's private redis-server)."""
        server = self._store_server("kill_store")
        server.kill()
        self.runner.note(f"kill_store: killed the redis-server on port {server.port}")

    def restart_store(self) -> None:
        """Start the store's server again; returns once it answers (within its timeout)."""
        server = self._store_server("restart_store")
        server.restart()
        self.runner.note(f"restart_store: the redis-server on port {server.port} answers")

    def kill_worker(self, pid: int | None = None, timeout: float = 10.0) -> int | None:
        """Kill one worker process (``workers=N``) as a crash would; return the pid of the
        worker the server started in its place, or None if none came within ``timeout``."""
        kill = getattr(self.runner, "kill_worker", None)
        if kill is None:
            raise ConfigError("kill_worker() needs worker processes: start(..., workers=2)")
        victim = pid if pid is not None else (self.pids[0] if self.pids else None)
        replacement: int | None = kill(victim, timeout)
        self.runner.note(f"kill_worker: killed worker {victim}; replaced by {replacement}")
        return replacement

    def restart(self) -> None:
        """Stop and start the server again on the same port, as a deployment does; returns
        once it serves. Sessions survive when the store outlives the server."""
        self.runner.restart()
        self.runner.note(f"restart: serving again on port {self.port}")

    def _store_server(self, action: str) -> Any:
        server = getattr(self.store, "server", None)
        if server is None:
            raise ConfigError(
                f"{action}() needs a store whose server the lab runs: store='redis', or "
                "store=sl.RedisServer(durable=True).store(), not a "
                f"{self.store.kind} store"
            )
        return server

    def client(self, **options: Any) -> Client:
        """A recording client for this server: its URL, CA, cookie name, store watched."""
        from ..client import Client

        options.setdefault("watch", self.store)
        options.setdefault("verify", self.ca_path or True)
        options.setdefault("session_cookie", self.cookie_name)
        return Client(self.url, **options)

    def browser(self, **options: Any) -> Browser:
        """A recording Chromium tab for this server: its URL, CA, cookie name, store watched.

        Named after the server, so running the cell again replaces the tab.
        """
        from ..browser import Browser

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


def health_of(lab: LabServer) -> dict[str, Any]:
    """What ``lab.health()`` reports; the store is asked from this process."""
    try:
        lab.store.length()
        store = "reachable"
        error = None
    except Exception as failure:  # any failure is what the caller wants to read
        error = f"{type(failure).__name__}: {' '.join(str(failure).split())}"
        store = f"unreachable: {error}"
    problems = [event for event in lab.events if event.startswith(PROBLEMS)]
    pids = lab.pids
    return {
        "running": lab.running,
        "store": store,
        "workers": len(pids),
        "pids": pids,
        "respawns": getattr(lab.runner, "respawns", 0),
        "last_error": problems[-1] if problems else (f"store: {error}" if error else None),
    }


_running: dict[str, LabServer] = {}
_registry_lock = threading.Lock()


def register(lab: LabServer) -> LabServer:
    """Put a started lab in the registry (its name's earlier lab was stopped before)."""
    with _registry_lock:
        _running[lab.name] = lab
    clean_up_on_sigterm()
    return lab


def unregister(lab: LabServer) -> None:
    with _registry_lock:
        if _running.get(lab.name) is lab:
            del _running[lab.name]


def stop(name: str | None = None, *, keep: object = None) -> None:
    """Stop the server called ``name``, or every running server, and close their stores.

    A store passed to ``start()`` is closed too, unless it is ``keep`` (the store of the lab
    about to replace this one) or a lab that keeps running uses it.

    >>> import sessionlab as sl
    >>> store = sl.SQLiteStore()
    >>> _ = sl.start(store=store, name="doc-stop-all")
    >>> sl.stop("doc-stop-all"); "doc-stop-all" in sl.running()
    False
    >>> store.length()  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    sessionlab.errors.StoreClosedError: the SQLite store is closed
    """
    with _registry_lock:
        labs = [_running[name]] if name in _running else [] if name else list(_running.values())
    for lab in labs:
        lab.stop()
    with _registry_lock:
        still_used = [other.store for other in _running.values()]
    for lab in labs:
        store = lab.store
        if lab.owns_store or store is keep or any(store is used for used in still_used):
            continue
        store.close()


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


def clean_up_on_sigterm() -> None:
    """Let SIGTERM (a kernel shut down, a cancelled job) run the exit handlers first.

    By default SIGTERM kills Python without running ``atexit``, leaving a lab's session
    database, certificates and worker folders on disk. Only when SIGTERM still has its
    default action (an application's own handler is never replaced), and only from the main
    thread (the only one Python lets set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(signum: int, frame: object) -> None:
    """Run the exit handlers (in a thread, bounded: the signal may have interrupted one of
    them), then die of the signal as if nothing had caught it."""
    cleaner = threading.Thread(target=atexit._run_exitfuncs, name="sessionlab:sigterm")
    cleaner.daemon = True
    cleaner.start()
    cleaner.join(timeout=10)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


_OWNER = os.getpid()
atexit.register(_stop_all_in_this_process)
