"""The seed's session server as a Flask app factory.

Three routes, as in the Express tutorial this project grew from, with the same bodies byte
for byte, except that the user name is HTML-escaped (the seed reflects it raw: XSS).

>>> app = create_app(store="memory", secret="x" * 64)
>>> app.test_client().get("/user/alice").get_data(as_text=True)
'<p>Session Set: <a href="/user">View Here</a></p>'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, session
from markupsafe import escape

from .config import LabConfig
from .guards import install_guards
from .hardened import register_hardened_routes
from .locking import install_lock_guards, locks_for
from .sessions import ServerSession, ServerSessionInterface, events_logger_name
from .shop import register_shop_routes
from .storage import open_store
from .stores import Store

EXTENSION = "sessionlab"  # the key of this app's state in app.extensions


@dataclass
class LabState:
    """What a lab app knows about itself, kept in ``app.extensions["sessionlab"]``."""

    config: LabConfig
    store: Store


def lab_state(app: Flask) -> LabState:
    """The lab's state of an app made by :func:`create_app`.

    >>> lab_state(create_app(store="memory")).store.kind
    'memory'
    """
    state = app.extensions.get(EXTENSION)
    if not isinstance(state, LabState):
        raise LookupError(f"{app.name!r} was not made by sessionlab's create_app")
    return state


def create_app(config: LabConfig | None = None, **options: Any) -> Flask:
    """A Flask app serving the seed's routes (or the hardened profile's).

    Takes a :class:`LabConfig`, or ``start()``'s keyword arguments to make one. The store
    is opened here; the caller closes it (``lab_state(app).store.close()``).
    """
    config = config or LabConfig.from_options(**options)
    app = Flask("sessionlab")
    app.secret_key = config.secret
    app.config.update(
        SECRET_KEY_FALLBACKS=list(config.secrets[1:]),
        SESSION_COOKIE_NAME=config.name,
        SESSION_COOKIE_HTTPONLY=config.cookie.httponly,
        SESSION_COOKIE_SECURE=config.cookie.secure,
        SESSION_COOKIE_SAMESITE=config.cookie.samesite,
        SESSION_COOKIE_PATH=config.cookie.path,
        SESSION_COOKIE_DOMAIN=None,  # never a Domain: the cookie stays on this host
    )
    store = open_store(config.store, name=config.name, max_records=config.limits.sessions)
    app.extensions[EXTENSION] = LabState(config, store)
    install_guards(app, config.limits, store, logging.getLogger(events_logger_name(config.name)))
    if config.server_side:
        app.session_interface = ServerSessionInterface(
            store,
            timeouts=config.timeouts,
            rolling=config.rolling,
            cookie_max_age=config.cookie.max_age,
            genid=config.genid,
            locks=locks_for(store) if config.lock else None,
            lock_timeout=config.lock_timeout,
        )
        if config.lock:
            install_lock_guards(app)
    elif config.cookie.max_age is not None:
        app.permanent_session_lifetime = config.cookie.max_age
    if config.profile == "hardened":
        register_hardened_routes(app)
    else:
        register_seed_routes(app, permanent=config.cookie.max_age is not None)
        register_shop_routes(app)
    return app


def register_seed_routes(app: Flask, permanent: bool = False) -> None:
    """The tutorial's three routes: set a name, show it, log out."""

    # <path:> because Express decodes %2F inside :user, while Werkzeug decodes it before routing.
    @app.get("/user/<path:user>")
    def set_user(user: str) -> str:
        session["name"] = user
        if permanent:  # Flask's cookie session: a persistent cookie needs permanent=True
            session.permanent = True
        return '<p>Session Set: <a href="/user">View Here</a></p>'

    @app.get("/user")
    def show_user() -> str:
        if "name" in session:
            return f'{escape(session["name"])}<br /><a href="/logout">Logout</a>'
        return "user logged out!"

    @app.get("/logout")
    def logout() -> str:
        destroy_session()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'


def destroy_session() -> None:
    """Log out: delete the server-side record, or empty the client-side cookie."""
    if isinstance(session, ServerSession):
        session.destroy()
    else:
        session.clear()
