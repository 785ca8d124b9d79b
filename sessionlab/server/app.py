"""The seed's session server as a Flask app factory.

Three routes, as in the Express tutorial this project grew from, with the same bodies byte
for byte, except that the user name is HTML-escaped (the seed reflects it raw: XSS).

>>> app = create_app(store="memory", secret="x" * 64)
>>> app.test_client().get("/user/alice").get_data(as_text=True)
'<p>Session Set: <a href="/user">View Here</a></p>'
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, request, session
from markupsafe import Markup, escape

from .config import LabConfig
from .extension import EXTENSION, ServerSessions, SessionState, session_state
from .guards import install_guards
from .hardened import register_hardened_routes
from .sessions import ServerSession, events_logger_name
from .shop import register_shop_routes
from .storage import open_store


def lab_state(app: Flask) -> SessionState:
    """The state of an app made by :func:`create_app`: its store, and the lab's config.

    >>> lab_state(create_app(store="memory")).store.kind
    'memory'
    """
    state = app.extensions.get(EXTENSION)
    if not isinstance(state, SessionState) or state.config is None:
        raise LookupError(f"{app.name!r} was not made by sessionlab's create_app")
    return state


def create_app(config: LabConfig | None = None, **options: Any) -> Flask:
    """A Flask app serving the seed's routes (or the hardened profile's).

    Takes a :class:`LabConfig`, or ``start()``'s keyword arguments to make one. Server-side
    sessions come from the Flask extension any app can use (extension.py), configured by
    the keys :func:`flask_config` makes. The store is opened here; the caller closes it
    (``lab_state(app).store.close()``).
    """
    config = config or LabConfig.from_options(**options)
    app = Flask("sessionlab")
    app.config.update(flask_config(config))
    store = open_store(config.store, name=config.name, max_records=config.limits.sessions)
    if config.server_side:
        ServerSessions(app, store=store)
        session_state(app).config = config
    else:  # Flask's own cookie session, as Flask ships it
        app.extensions[EXTENSION] = SessionState(store, app.session_interface, config=config)
    install_guards(app, config.limits, store, logging.getLogger(events_logger_name(config.name)))
    if config.profile == "hardened":
        register_hardened_routes(app)
    else:
        register_seed_routes(
            app, permanent=config.cookie.max_age is not None, escaped="xss" not in config.teaching
        )
        register_shop_routes(app)
        if "set-cookie" in config.teaching:
            register_set_cookie_route(app)
    register_index_route(app)
    return app


def flask_config(config: LabConfig) -> dict[str, Any]:
    """``start()``'s options as ``app.config`` keys: Flask's own and the extension's.

    >>> keys = flask_config(LabConfig.from_options(store="memory", idle_timeout=60))
    >>> keys["SESSIONLAB_IDLE_TIMEOUT"], keys["SESSIONLAB_CLEAR_REFUSED_COOKIES"]
    (60, True)
    """
    keys: dict[str, Any] = {
        "SECRET_KEY": config.secret,
        "SECRET_KEY_FALLBACKS": list(config.secrets[1:]),
        "SESSION_COOKIE_NAME": config.name,
        "SESSION_COOKIE_HTTPONLY": config.cookie.httponly,
        "SESSION_COOKIE_SECURE": config.cookie.secure,
        "SESSION_COOKIE_SAMESITE": config.cookie.samesite,
        "SESSION_COOKIE_PATH": config.cookie.path,
        "SESSION_COOKIE_DOMAIN": None,  # never a Domain: the cookie stays on this host
    }
    if config.cookie.max_age is not None:  # a persistent cookie: Flask's permanent session
        keys["PERMANENT_SESSION_LIFETIME"] = config.cookie.max_age
    if config.server_side:
        keys.update(
            SESSIONLAB_PERMANENT=config.cookie.max_age is not None,
            SESSIONLAB_IDLE_TIMEOUT=config.timeouts.idle,
            SESSIONLAB_ABSOLUTE_TIMEOUT=config.timeouts.absolute,
            SESSIONLAB_ROLLING=config.rolling,
            # express-session's rule: the cookie is re-sent on reads only when rolling
            SESSION_REFRESH_EACH_REQUEST=False,
            SESSIONLAB_LOCK=config.lock,
            SESSIONLAB_LOCK_TIMEOUT=config.lock_timeout,
            SESSIONLAB_GENID=config.genid,
            # the lab teaches clearing a refused cookie (the audit checks it); Flask keeps it
            SESSIONLAB_CLEAR_REFUSED_COOKIES=True,
            SESSIONLAB_MAX_BYTES=config.limits.session_bytes,
        )
    return keys


def register_seed_routes(app: Flask, permanent: bool = False, escaped: bool = True) -> None:
    """The tutorial's three routes: set a name, show it, log out.

    ``escaped=False`` shows the name raw, as the seed does: any HTML in it runs in the page
    (``start(teaching=["xss"])``, for the notebook that shows what HttpOnly is for).
    """

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
            name = escape(session["name"]) if escaped else session["name"]
            return f'{name}<br /><a href="/logout">Logout</a>'
        return "user logged out!"

    @app.get("/logout")
    def logout() -> str:
        destroy_session()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'


# What each route of the lab's apps does, for the index page; a route not named here is listed
# by its path alone.
ROUTE_HELP = {
    "set_user": "set the name in the session (the seed's login)",
    "show_user": "show the name, or say logged out",
    "logout": "destroy the session (the seed's logout)",
    "hardened_login_form": "a login form with a CSRF token",
    "hardened_login": "log in: a new session id",
    "hardened_view": "show the name and a logout form",
    "hardened_logout": "log out (needs the form's CSRF token)",
    "shop_cart_add": "add an item to the cart",
    "shop_cart": "show the cart",
    "shop_private": "a page for logged-in users only",
    "shop_login": "log in, then go back where you were",
    "set_cookie": "send back the Set-Cookie lines given as ?c=... (teaching)",
}
EXAMPLES = {"user": "alice", "item": "apple"}


def register_index_route(app: Flask) -> None:
    """``GET /``: the routes this app answers, as links, so that the server's URL opens a page.

    The seed has no ``/``; this page reads nothing from the session, so it sets no cookie and
    stores nothing.

    >>> app = create_app(store="memory")
    >>> page = app.test_client().get("/")
    >>> '<a href="/user/alice">/user/alice</a>' in page.text, page.headers.get("Set-Cookie")
    (True, None)
    """

    @app.get("/", endpoint="sessionlab_index")
    def index() -> str:
        rows = []
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if rule.endpoint in ("static", "sessionlab_index"):
                continue
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})  # type: ignore[operator]
            path = re.sub(
                r"<(?:\w+:)?(\w+)>", lambda m: EXAMPLES.get(m[1], "{" + m[1] + "}"), rule.rule
            )
            shown = escape(path)
            if "GET" in methods and "{" not in path:
                shown = Markup(f'<a href="{shown}">{shown}</a>')
            what = ROUTE_HELP.get(rule.endpoint, "")
            rows.append(
                f"<tr><td>{' '.join(methods)}</td><td>{shown}</td><td>{escape(what)}</td></tr>"
            )
        return (
            f"<h1>sessionlab server: {escape(app.config['SESSION_COOKIE_NAME'])}</h1>"
            "<table><tr><th>method</th><th>path</th><th>what it does</th></tr>"
            + "".join(rows)
            + "</table>"
        )


def register_set_cookie_route(app: Flask) -> None:
    """``/set-cookie?c=LINE&c=LINE``: each ``c`` sent back verbatim as one Set-Cookie header,
    to watch what a browser does with it (``start(teaching=["set-cookie"])``). Insecure: a
    page that can make the victim visit it can plant or delete any cookie of this host.

    >>> app = create_app(store="memory", teaching=["set-cookie"])
    >>> app.test_client().get("/set-cookie?c=a%3D1%3B%20Path%3D/").headers["Set-Cookie"]
    'a=1; Path=/'
    """

    @app.get("/set-cookie")
    @app.get("/<path:directory>/set-cookie")  # a Set-Cookie without Path gets this directory
    def set_cookie(directory: str = "") -> Response:
        lines = request.args.getlist("c")
        response = Response(f"{len(lines)} Set-Cookie header(s) sent", mimetype="text/plain")
        for line in lines:
            response.headers.add("Set-Cookie", line)
        return response


def destroy_session() -> None:
    """Log out: delete the server-side record, or empty the client-side cookie."""
    if isinstance(session, ServerSession):
        session.destroy()
    else:
        session.clear()
