"""Apps sessionlab did not write, to audit beside its own: Flask-Session 0.8 with its defaults.

The app is what a developer following Flask-Session's quickstart would write: the seed's
three routes, ``Session(app)``, and nothing else configured but a backend. 0.8's default
``SESSION_TYPE`` ("null") refuses to start, so the in-memory cachelib backend stands in for a
server; every other setting (unsigned id, permanent 31-day cookie, no SameSite) is the
library's default. It runs like the lab's servers: 127.0.0.1, a free port, a daemon thread.
"""

from __future__ import annotations

import threading

from flask import Flask, session
from markupsafe import escape
from werkzeug.serving import WSGIRequestHandler, make_server

HOST = "127.0.0.1"


class ThirdPartyApp:
    """A running third-party app: its ``url`` and ``stop()``; usable as a context manager.

    >>> with start_flask_session_app(name="doc-fs") as app:
    ...     app.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, name: str, app: Flask) -> None:
        self.name = name
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self._server = make_server(HOST, 0, app, threaded=True, request_handler=_Quiet)
        self.url = f"http://{HOST}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sessionlab-target:{name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Shut the server down and join its thread. Safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> ThirdPartyApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ThirdPartyApp {self.name!r} at {self.url}>"


_running: dict[str, ThirdPartyApp] = {}


def start_flask_session_app(name: str = "flask-session") -> ThirdPartyApp:
    """The seed's routes on Flask-Session 0.8 with its defaults; ``name`` is the cookie's.

    Starting another with the same name stops the earlier one, as ``sl.start`` does.
    """
    try:
        from cachelib import SimpleCache
        from flask_session import Session
    except ImportError as error:
        raise ImportError(
            "this target needs Flask-Session 0.8: pip install 'Flask-Session==0.8.0'"
        ) from error
    if name in _running:
        _running.pop(name).stop()
    app = Flask("flask-session-target")
    app.config.update(
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_COOKIE_NAME=name,
    )
    Session(app)
    _seed_routes(app)
    _running[name] = ThirdPartyApp(name, app)
    return _running[name]


def _seed_routes(app: Flask) -> None:
    """The Express tutorial's routes, written the plain Flask way."""

    @app.get("/user/<user>")
    def set_user(user: str) -> str:
        session["name"] = user
        return '<p>Session Set: <a href="/user">View Here</a></p>'

    @app.get("/user")
    def show_user() -> str:
        if "name" in session:
            return f'{escape(session["name"])}<br /><a href="/logout">Logout</a>'
        return "user logged out!"

    @app.get("/logout")
    def logout() -> str:
        session.clear()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'


class _Quiet(WSGIRequestHandler):
    """No access log lines in notebook cells."""

    def log(self, type: str, message: str, *args: object) -> None:
        pass
