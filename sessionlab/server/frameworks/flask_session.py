"""Flask-Session 0.8 with its defaults: an app sessionlab did not write, to audit beside its own.

The app is what a developer following Flask-Session's quickstart would write: the seed's
three routes, ``Session(app)``, and nothing else configured but a backend. 0.8's default
``SESSION_TYPE`` ("null") refuses to start, so the in-memory cachelib backend stands in for a
server; every other setting (unsigned id, permanent 31-day cookie, no SameSite) is the
library's default. It is served like the lab's own servers: 127.0.0.1, a free port, a
daemon thread, in the same registry, so ``sl.stop()`` and the exit handler stop it.
"""

from __future__ import annotations

from flask import Flask

from ...errors import ServiceMissingError
from ..app import register_index_route, register_seed_routes
from ..handle import LabServer
from ..serve import serve_app
from ..storage import UnlistedStore

# What Flask-Session's defaults and the seed's routes leave unsafe, shown by the handle.
FLASK_SESSION_INSECURE = [
    "GET login and logout",
    "no new id at login",
    "31-day cookie without SameSite",
]


def start_flask_session_app(name: str = "flask-session") -> LabServer:
    """The seed's routes on Flask-Session 0.8 with its defaults; ``name`` is the cookie's.

    Starting another server with the same name stops the earlier one, as ``sl.start`` does.

    >>> import sessionlab as sl
    >>> with sl.start_flask_session_app(name="doc-fs") as app:
    ...     app.client().get("/user/alice").headers["Set-Cookie"].startswith("doc-fs=")
    True
    """
    try:
        from cachelib import SimpleCache
        from flask_session import Session
    except ImportError as error:
        raise ServiceMissingError(
            "this target needs Flask-Session 0.8: pip install 'Flask-Session==0.8.0'"
        ) from error
    app = Flask("flask-session-target")
    app.config.update(
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_COOKIE_NAME=name,
    )
    Session(app)
    register_seed_routes(app)  # its logout falls back to session.clear(): Flask-Session's way
    register_index_route(app)
    return serve_app(
        app,
        name=name,
        store=UnlistedStore("flask-session", "Flask-Session 0.8 has no API that lists sessions"),
        cookie_name=name,
        kind="flask-session",
        insecure_choices=FLASK_SESSION_INSECURE,
    )
