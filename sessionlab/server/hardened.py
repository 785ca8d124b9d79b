"""The hardened profile: the seed's login, view and logout, done the way OWASP asks.

``start(profile="hardened")`` serves these routes instead of the seed's:

=================  ===========================================================
``GET /login``     a form with a CSRF token (this starts an anonymous session)
``POST /login``    ``user`` + ``csrf_token``: a new session id, the old one deleted
``GET /user``      the name and a logout form with the token, or "user logged out!"
``POST /logout``   ``csrf_token``: the record deleted, the cookie expired
=================  ===========================================================

and configures the session the safe way: a ``__Host-`` cookie with Secure, HttpOnly and
SameSite=Lax, no Domain, Path ``/``, no Expires (gone when the browser closes); the data on
the server (never in the cookie); idle and absolute timeouts; a strong signing key. Secure
cookies need HTTPS, so the profile is served over local TLS (see tls.py).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from typing import Any

from flask import Flask, abort, request, session
from markupsafe import escape

from .secret_check import check_secret

HOST_PREFIX = "__Host-"
CSRF_FIELD = "csrf_token"
SEED_SET_BODY = '<p>Session Set: <a href="/user">View Here</a></p>'
LOGGED_OUT_BODY = "user logged out!"


def harden(config: Any) -> Any:
    """The app configuration with the hardened profile's cookie and key rules applied.

    Refuses what the profile cannot make safe (a client-side cookie store, a weak secret,
    cookie options weaker than its own) with a message naming the fix, rather than quietly
    serving something other than what was asked for.
    """
    from .app import CookieOptions  # app.py imports this module

    if config.store == "cookie":
        raise ValueError(
            "the hardened profile keeps sessions on the server: "
            "use store='memory', 'sqlite' or 'redis', not 'cookie'"
        )
    problems = check_secret(config.secret)
    if problems:
        raise ValueError(f"the hardened profile needs a strong secret: {problems[0]}")
    refuse_weaker_cookie(config.cookie)
    name = config.name if config.name.startswith(HOST_PREFIX) else HOST_PREFIX + config.name
    # __Host- requires Secure, Path=/ and no Domain; no max_age: no persistent cookie.
    cookie = CookieOptions(httponly=True, secure=True, samesite=config.cookie.samesite, path="/")
    return replace(config, name=name, cookie=cookie)


def refuse_weaker_cookie(cookie: Any) -> None:
    """Cookie options the profile would have to override are refused, naming the fix.

    >>> from sessionlab.server.app import CookieOptions
    >>> refuse_weaker_cookie(CookieOptions(max_age=3600))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: the hardened profile ... leave max_age=None ...
    """
    problems = []
    if cookie.max_age is not None:
        problems.append("leave max_age=None (a browser-session cookie; timeouts end it)")
    if cookie.samesite not in ("Lax", "Strict"):
        problems.append(f"use samesite='Lax' or 'Strict', not {cookie.samesite!r}")
    if not cookie.httponly:
        problems.append("leave httponly=True (no page script may read the id)")
    if cookie.path != "/":
        problems.append("leave path='/' (a __Host- cookie must have Path=/)")
    if problems:
        raise ValueError(
            "the hardened profile would not honour that cookie: " + "; ".join(problems)
        )


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
        session.regenerate()  # the pre-login id stops working: no fixation
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
        session.destroy()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'


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
