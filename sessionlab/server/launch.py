"""start(): a session server on 127.0.0.1 in a daemon thread, ready when the call returns.

Modelled on pytest-httpserver: Werkzeug's server bound to port 0 (the kernel picks a free
port), served from a daemon thread, shut down and joined on ``stop()`` and at exit. A
registry keyed by server name makes re-running a notebook cell replace the earlier server
instead of leaking it, its thread and its port.
"""

from __future__ import annotations

import atexit
import logging
import secrets as _secrets
import socket
import threading
import warnings
from collections import deque
from collections.abc import Sequence
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import CookieOptions, create_app, secrets_newest_first
from .secret_check import check_secret
from .sessions import Timeouts, events_logger_name
from .stores import Store
from .tls import local_tls

HOST = "127.0.0.1"  # never another interface: the lab only ever talks to this machine

_running: dict[str, LabServer] = {}
_registry_lock = threading.Lock()


class LabServer:
    """A running session server: its ``url``, its ``store``, its logs, and ``stop()``.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory") as lab:
    ...     lab.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self, name: str, app: Flask, server: BaseWSGIServer, *, owns_store: bool = True
    ) -> None:
        self.name = name
        self.owns_store = owns_store  # a store passed to start() is the caller's to close
        self.app = app
        self.store: Store = app.store
        scheme = "https" if getattr(server, "ssl_context", None) else "http"
        self.url = f"{scheme}://{HOST}:{server.port}"
        self.ca_path: str | None = None  # over https: the CA to trust, Client(verify=ca_path)
        self.cookie_name: str = app.config.get("SESSION_COOKIE_NAME", name)
        self.port = server.port
        self.access_log: deque[str] = server.access_log
        self.events: list[str] = []
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() is noticed
            name=f"sessionlab:{name}",
            daemon=True,
        )
        self._events_handler = _ListHandler(self.events)

    def _run(self) -> None:
        logging.getLogger(events_logger_name(self.cookie_name)).addHandler(self._events_handler)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Shut the server down, join its thread, close the store it made. Safe to call twice.

        >>> import sessionlab as sl
        >>> lab = sl.start(store="memory", name="doc-stop")
        >>> lab.stop(); lab.stop(); lab.running
        False
        """
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        logging.getLogger(events_logger_name(self.cookie_name)).removeHandler(self._events_handler)
        if self.owns_store:
            self.store.close()
        with _registry_lock:
            if _running.get(self.name) is self:
                del _running[self.name]

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        insecure = getattr(self.app, "insecure_choices", [])
        teaching = f"; insecure, for teaching: {', '.join(insecure)}" if insecure else ""
        return f"<LabServer {self.name!r} store={self.store.kind} {state} at {self.url}{teaching}>"


def start(
    store: str | Store = "sqlite",
    *,
    secret: str | Sequence[str] | None = None,
    name: str = "sessionlab",
    cookie: CookieOptions | dict[str, Any] | None = None,
    rolling: bool = False,
    idle_timeout: float = Timeouts.idle,
    absolute_timeout: float = Timeouts.absolute,
    port: int = 0,
    workers: int | None = None,
    profile: str = "seed",
    **app_options: Any,
) -> LabServer:
    """Start a session server on 127.0.0.1 and return it once it accepts requests.

    ``store``: "cookie" (Flask's signed client-side cookie), "memory", "sqlite" (the
    default) or any Store object. ``secret``: a string, or a list newest first for rotation;
    a random 256-bit key by default. ``name`` is the cookie's name and the server's identity:
    starting another server with the same name stops this one first.
    ``profile="hardened"`` serves POST login/logout with CSRF tokens and a ``__Host-``
    Secure cookie over local TLS (see hardened.py): ``sl.Client(lab.url, verify=lab.ca_path)``.
    ``workers=N`` serves from N worker processes (granian) instead of a thread (see workers.py);
    ``lock=True`` makes the requests of one session wait for each other (see locking.py).

    >>> import sessionlab as sl
    >>> lab = sl.start(store="memory", name="doc")
    >>> sl.Client(lab.url).get("/user/alice").status_code
    200
    >>> lab.stop()
    """
    if secret is not None:
        secret = secrets_newest_first(secret)
        for message in check_secret(secret):
            warnings.warn(message, WeakSecretWarning, stacklevel=2)
    if isinstance(cookie, dict):
        cookie = CookieOptions(**cookie)
    options = {"secret": secret} if secret is not None else {}
    if workers is not None and profile != "seed":
        raise ValueError("the hardened profile runs in a thread: leave workers=None")
    owns_store = isinstance(store, str)  # a store object passed in is the caller's to close
    stop(name)
    if workers is not None:
        return _start_workers(
            workers,
            port,
            store=store,
            name=name,
            cookie=cookie or CookieOptions(),
            rolling=rolling,
            timeouts=Timeouts(idle=idle_timeout, absolute=absolute_timeout),
            secret=secret or _secrets.token_hex(32),  # one secret for every worker
            **app_options,
        )
    listening = _listen(port)
    try:
        app = create_app(
            store=store,
            name=name,
            cookie=cookie or CookieOptions(),
            rolling=rolling,
            timeouts=Timeouts(idle=idle_timeout, absolute=absolute_timeout),
            profile=profile,
            **options,
            **app_options,
        )
        try:
            tls = local_tls() if profile == "hardened" else None  # Secure cookies need https
            return serve(name, app, listening, tls=tls, owns_store=owns_store)
        except BaseException:
            if owns_store:  # the store was made for this server, which never ran
                app.store.close()
            raise
    finally:
        listening.close()  # Werkzeug holds its own duplicate of the socket


def serve(
    name: str, app: Flask, listening: socket.socket, *, tls: Any = None, owns_store: bool = True
) -> LabServer:
    """Serve ``app`` (it needs ``app.store``) on a listening socket from a daemon thread,
    registered under ``name`` so that ``stop()`` and the exit handler stop it too."""
    server = make_server(
        HOST,
        listening.getsockname()[1],
        app,
        threaded=True,
        request_handler=_QuietHandler,
        ssl_context=tls.server_context() if tls else None,
        fd=listening.fileno(),
    )
    server.access_log = deque(maxlen=10_000)
    lab = LabServer(name, app, server, owns_store=owns_store)
    lab.ca_path = str(tls.ca_path) if tls else None
    with _registry_lock:
        _running[name] = lab
    lab._run()  # the socket is already listening: requests queue until the thread accepts
    return lab


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1; a busy port gets a message naming the fix.

    Bound here rather than by Werkzeug, which prints and exits on a busy port. SO_REUSEADDR
    lets a server restart on the port it just left while old connections linger (TIME_WAIT).
    """
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((HOST, port))
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise OSError(
            f"cannot listen on {HOST}:{port} ({error.strerror}): "
            "pass port=0 to let the system pick a free port"
        ) from error
    return listening


def _start_workers(workers: int, port: int, **options: Any) -> LabServer:
    from .workers import start_workers  # only when worker processes are asked for

    lab = start_workers(options, workers=workers, port=port)
    with _registry_lock:
        _running[options["name"]] = lab
    return lab


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


atexit.register(stop)


class WeakSecretWarning(UserWarning):
    """The signing secret can be guessed: anyone who guesses it can forge sessions."""


class _QuietHandler(WSGIRequestHandler):
    """Keeps Werkzeug's access log on the server handle instead of printing it."""

    def log(self, type: str, message: str, *args: Any) -> None:
        line = f"{self.address_string()} {message % args}"
        self.server.access_log.append(line)


class _ListHandler(logging.Handler):
    """Collects the server's security events (rejected cookies) into a list."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


__all__ = ["LabServer", "WeakSecretWarning", "running", "start", "stop"]
