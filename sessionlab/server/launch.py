"""start(): a session server on 127.0.0.1, ready when the call returns.

In a daemon thread of this process by default (threads.py), or in ``workers=N`` processes
(workers.py); either way the caller gets the same :class:`LabServer` handle (handle.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from flask import Flask

from ..errors import ConfigError, WeakSecretWarning
from ..routes import Routes
from .app import create_app, lab_state
from .config import CookieOptions, LabConfig, Timeouts, check_port
from .handle import LabServer, register, stop
from .secret_check import check_secret
from .sessions import events_logger_name
from .stores import Store
from .threads import ThreadRunner
from .tls import local_tls


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
    default), "redis" (a private redis-server) or any Store object. ``secret``: a string, or
    a list newest first for rotation; a random 256-bit key by default. ``name`` is the
    cookie's name and the server's identity: starting another server with the same name
    stops this one first. ``profile="hardened"`` serves POST login/logout with CSRF tokens
    and a ``__Host-`` Secure cookie over local TLS (see hardened.py):
    ``lab.client()`` trusts its certificate. ``workers=N`` serves from N worker processes
    (granian) instead of a thread (see workers.py); ``lock=True`` makes the requests of
    one session wait for each other (see locking.py).

    >>> import sessionlab as sl
    >>> lab = sl.start(store="memory", name="doc")
    >>> lab.client().get("/user/alice").status_code
    200
    >>> lab.stop()
    """
    check_port(port)
    if secret is not None:
        for message in check_secret(secret):
            warnings.warn(message, WeakSecretWarning, stacklevel=2)
    config = LabConfig.from_options(
        store=store,
        secret=secret,
        name=name,
        cookie=cookie,
        rolling=rolling,
        idle_timeout=idle_timeout,
        absolute_timeout=absolute_timeout,
        profile=profile,
        **app_options,
    )
    if workers is not None and config.profile != "seed":
        raise ConfigError("the hardened profile runs in a thread: leave workers=None")
    stop(name)
    if workers is not None:
        from .workers import start_workers  # only when worker processes are asked for

        return register(start_workers(config, workers=workers, port=port))
    app = create_app(config)
    try:
        tls = local_tls() if config.profile == "hardened" else None  # Secure needs https
        runner = ThreadRunner(
            app,
            port=port,
            tls=tls.server_context() if tls else None,
            events_from=events_logger_name(config.name),
            limits=config.limits,
        )
    except BaseException:
        if isinstance(store, str):  # the store was made for this server, which never ran
            lab_state(app).store.close()
        raise
    lab = LabServer(
        name,
        runner.start(),
        lab_state(app).store,
        cookie_name=config.name,
        routes=Routes.hardened(config.name) if config.profile == "hardened" else Routes(),
        ca_path=str(tls.ca_path) if tls else None,
        owns_store=isinstance(store, str),  # a store object passed in is the caller's
        insecure_choices=config.insecure_choices,
        app=app,
    )
    return register(lab)


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
