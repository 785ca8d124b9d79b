"""The hardened profile: the seed's login, view and logout, done the way OWASP asks.

``start(profile="hardened")`` serves these routes instead of the seed's:

=================  ===========================================================
``GET /login``     a form with a CSRF token (this starts an anonymous session)
``POST /login``    ``user`` + ``csrf_token``: a new session id, the old one deleted
``GET /user``      the name and a logout form with the token, or "user logged out!"
``POST /logout``   ``csrf_token``: the record deleted, the cookie expired
=================  ===========================================================

The session is configured the safe way by ``LabConfig.hardened()`` (config.py): a
``__Host-`` cookie with Secure, HttpOnly and SameSite=Lax, no Domain, Path ``/``, no Expires
(a browser-session cookie); the data on the server (never in the cookie); idle and absolute
timeouts; a strong signing key. ``requests`` sends Secure cookies only over HTTPS, so the
profile is served over local TLS (see tls.py).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from markupsafe import escape

from .sessions import ServerSession

CSRF_FIELD = "csrf_token"
SEED_SET_BODY = '<p>Session Set: <a href="/user">View Here</a></p>'
LOGGED_OUT_BODY = "user logged out!"


def register_hardened_routes(app: Flask) -> None:
    """Login and logout by POST with a CSRF token; the id regenerated at login."""

    @app.get("/login", endpoint="hardened_login_form")
    def login_form() -> str:
        return (
            f'<form method="post" action="/login">{token_input()}'
            '<input name="user"><button>Log in</button></form>'
        )

    @app.post("/login", endpoint="hardened_login")
    def login() -> str:
        require_csrf_token()
        user = request.form.get("user", "")
        if not user:
            abort(400, "the form needs a user")
        server_session().regenerate()  # the pre-login id stops working: no fixation
        session.clear()
        session["name"] = user
        session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a new token for the new session
        return SEED_SET_BODY

    @app.get("/user", endpoint="hardened_view")
    def show_user() -> str:
        if "name" not in session:
            return LOGGED_OUT_BODY
        return (
            f"{escape(session['name'])}<br />"
            f'<form method="post" action="/logout">{token_input()}'
            "<button>Logout</button></form>"
        )

    @app.post("/logout", endpoint="hardened_logout")
    def logout() -> str:
        require_csrf_token()
        server_session().destroy()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'


def server_session() -> ServerSession:
    """This request's session, which the hardened profile always keeps on the server."""
    assert isinstance(session, ServerSession), "the hardened profile needs server-side sessions"
    return session


def token_input() -> str:
    """The session's CSRF token as a hidden form field (made on first use)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{session[CSRF_FIELD]}">'


def require_csrf_token() -> None:
    """Refuse a state-changing request whose form lacks the session's token."""
    expected = session.get(CSRF_FIELD, "")
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, "CSRF token missing or wrong: submit the form the server sent")
