"""Apps sessionlab did not write, to audit beside its own: Flask-Session 0.8 with its defaults.

The app is what a developer following Flask-Session's quickstart would write: the seed's
three routes, ``Session(app)``, and nothing else configured but a backend. 0.8's default
``SESSION_TYPE`` ("null") refuses to start, so the in-memory cachelib backend stands in for a
server; every other setting (unsigned id, permanent 31-day cookie, no SameSite) is the
library's default. It is served like the lab's own servers (launch.py): 127.0.0.1, a free
port, a daemon thread, in the same registry, so ``sl.stop()`` and the exit handler stop it.
"""

from __future__ import annotations

from flask import Flask

from .app import UnlistedStore, register_seed_routes
from .launch import LabServer, _listen, serve, stop

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
    ...     sl.Client(app.url).get("/user/alice").headers["Set-Cookie"].startswith("doc-fs=")
    True
    """
    try:
        from cachelib import SimpleCache
        from flask_session import Session
    except ImportError as error:
        raise ImportError(
            "this target needs Flask-Session 0.8: pip install 'Flask-Session==0.8.0'"
        ) from error
    stop(name)
    app = Flask("flask-session-target")
    app.config.update(
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_COOKIE_NAME=name,
    )
    Session(app)
    register_seed_routes(app)  # its logout falls back to session.clear(): Flask-Session's way
    app.store = UnlistedStore("flask-session", "Flask-Session 0.8 has no API that lists sessions")
    app.insecure_choices = FLASK_SESSION_INSECURE
    listening = _listen(0)
    try:
        return serve(name, app, listening)
    finally:
        listening.close()  # Werkzeug holds its own duplicate of the socket
