"""start(): a session server on 127.0.0.1, ready when the call returns.

In a daemon thread of this process by default (threads.py), or in ``workers=N`` processes
(workers.py); either way the caller gets the same :class:`LabServer` handle (handle.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, WeakSecretWarning
from ..routes import Routes
from .app import create_app, lab_state
from .config import CookieOptions, LabConfig, Timeouts, check_port
from .handle import LabServer, register, stop
from .processes import HOST, check_host
from .secret_check import check_secret
from .sessions import events_logger_name
from .stores import Store
from .threads import ThreadRunner
from .tls import local_tls


def start(
    store: str | Store = "sqlite",
    *,
    secret: str | Sequence[str] | None = None,
    name: str | None = None,
    cookie: CookieOptions | dict[str, Any] | None = None,
    rolling: bool = False,
    idle_timeout: float | None = Timeouts.idle,
    absolute_timeout: float | None = Timeouts.absolute,
    port: int = 0,
    workers: int | None = None,
    profile: str = "seed",
    server: str = "flask",
    host: str = HOST,
    **app_options: Any,
) -> LabServer:
    """Start a session server on 127.0.0.1 and return it once it accepts requests.

    ``server``: "flask" (sessionlab's own, the default) or a real implementation to run
    beside it, each behind the same handle: "express" (the seed's own app; ``mode=
    "faithful"`` or ``"recommended"``, ``https=``), "flask-session", "django"
    (``backend="db"`` or ``"signed_cookies"``, ``mode="default"`` or ``"hardened"``),
    "php" (``mode="default"`` or ``"hardened"``, ``ini={...}``) and "starlette". ``name``
    is then the server's identity only (the framework names its cookie); a missing runtime
    (node, php, Django, Starlette) raises :class:`ServiceMissingError` with the install
    command. The options below are for ``server="flask"``.

    ``store``: "cookie" (Flask's signed client-side cookie), "memory", "sqlite" (the
    default), "redis" (a private redis-server) or any Store object. ``secret``: a string, or
    a list newest first for rotation; a random 256-bit key by default. ``name`` is the
    cookie's name and the server's identity: starting another server with the same name
    stops this one first. ``profile="hardened"`` serves POST login/logout with CSRF tokens
    and a ``__Host-`` Secure cookie over local TLS (see hardened.py):
    ``lab.client()`` trusts its certificate. ``workers=N`` serves from N worker processes
    (granian) instead of a thread (see workers.py); ``lock=True`` makes the requests of
    one session wait for each other (see locking.py). ``host`` is where it listens:
    127.0.0.1, unless you say otherwise, which warns (:class:`ExposedServerWarning`).

    >>> import sessionlab as sl
    >>> lab = sl.start(store="memory", name="doc")
    >>> lab.client().get("/user/alice").status_code
    200
    >>> lab.stop()
    """
    check_port(port)
    if server != "flask":
        from .frameworks import start_framework  # only the framework asked for is loaded

        options = dict(app_options, name=name or server, secret=secret, port=port)
        # The defaults are sessionlab's: a framework keeps its own unless asked for others.
        for option, value, default in [
            ("idle_timeout", idle_timeout, Timeouts.idle),
            ("absolute_timeout", absolute_timeout, Timeouts.absolute),
        ]:
            if value != default:
                options[option] = value
        if server == "express" and profile == "hardened":
            options.setdefault("mode", "recommended")
        elif server in ("django", "php") and profile == "hardened":
            options.setdefault("mode", "hardened")
        if isinstance(secret, list | tuple) and server != "express":
            raise ConfigError(f"server={server!r} takes one secret string, not a list")
        if (
            store != "sqlite"
            or cookie is not None
            or workers is not None
            or rolling
            or host != HOST
        ):
            raise ConfigError(
                f"store, cookie, workers, rolling and host are sessionlab's options; "
                f"server={server!r} keeps its own defaults (see its mode= and backend=)"
            )
        return start_framework(server, **options)
    name = name or "sessionlab"
    check_host(host)
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
    stop(name, keep=store)  # re-running a cell: the earlier server and its store go
    if workers is not None:
        from .workers import start_workers  # only when worker processes are asked for

        return register(start_workers(config, workers=workers, port=port, host=host))
    app = create_app(config)
    try:
        tls = local_tls() if config.profile == "hardened" else None  # requests: Secure needs https
        runner = ThreadRunner(
            app,
            port=port,
            tls=tls.server_context() if tls else None,
            events_from=events_logger_name(config.name),
            host=host,
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
