"""The seed's session server as a Flask app factory.

Three routes, as in the Express tutorial this project grew from, with the same bodies byte
for byte, except that the user name is HTML-escaped (the seed reflects it raw: XSS).

>>> app = create_app(store="memory", secret="x" * 64)
>>> app.test_client().get("/user/alice").get_data(as_text=True)
'<p>Session Set: <a href="/user">View Here</a></p>'
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from flask import Flask, session
from markupsafe import escape

from .hardened import harden, register_hardened_routes
from .locking import install_lock_guards, locks_for
from .sessions import ServerSessionInterface, Timeouts, new_session_id
from .shop import register_shop_routes
from .stores import Store, make_store

SameSite = Literal["Strict", "Lax", "None"] | None


@dataclass(frozen=True)
class CookieOptions:
    """The session cookie's attributes. Safe by default: HttpOnly, SameSite=Lax, no Domain.

    ``max_age=None`` makes a browser-session cookie, as express-session does by default.
    ``secure=True`` needs HTTPS: requests never sends a Secure cookie over plain http.
    """

    httponly: bool = True
    secure: bool = False
    samesite: SameSite = "Lax"
    path: str = "/"
    max_age: int | None = None

    def __post_init__(self) -> None:
        if self.samesite not in ("Strict", "Lax", "None", None):
            raise ValueError(
                f"samesite must be 'Strict', 'Lax', 'None' or None, not {self.samesite!r}"
            )
        if self.samesite == "None" and not self.secure:
            raise ValueError(
                "browsers drop SameSite=None cookies without Secure: pass secure=True"
            )
        if not self.path.startswith("/"):
            raise ValueError(f"cookie path must start with '/', not {self.path!r}")


@dataclass
class AppConfig:
    """Everything that distinguishes one session server from another."""

    store: str | Store = "sqlite"
    secret: str | Sequence[str] = field(default_factory=lambda: _secrets.token_hex(32))
    name: str = "sessionlab"
    cookie: CookieOptions = field(default_factory=CookieOptions)
    rolling: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    genid: Callable[[], str] = new_session_id
    lock: bool = False  # serialise the requests of one session (see locking.py)
    lock_timeout: float = 10.0
    profile: str = "seed"  # or "hardened": POST login/logout with CSRF tokens (hardened.py)


def create_app(**options) -> Flask:
    """A Flask app serving the seed's routes; options are :class:`AppConfig`'s fields."""
    config = AppConfig(**options)
    if config.profile not in ("seed", "hardened"):
        raise ValueError(f"profile must be 'seed' or 'hardened', not {config.profile!r}")
    if config.profile == "hardened":
        config = harden(config)
    refuse_server_options_on_cookie_store(config)
    app = Flask("sessionlab")
    secrets = secrets_newest_first(config.secret)
    app.secret_key = secrets[0]
    app.config.update(
        SECRET_KEY_FALLBACKS=secrets[1:],
        SESSION_COOKIE_NAME=config.name,
        SESSION_COOKIE_HTTPONLY=config.cookie.httponly,
        SESSION_COOKIE_SECURE=config.cookie.secure,
        SESSION_COOKIE_SAMESITE=config.cookie.samesite,
        SESSION_COOKIE_PATH=config.cookie.path,
        SESSION_COOKIE_DOMAIN=None,  # never a Domain: the cookie stays on this host
    )
    if config.store == "cookie":
        app.store = UnlistedStore()
        if config.cookie.max_age is not None:
            app.permanent_session_lifetime = config.cookie.max_age
    else:
        app.store = make_store(config.store, name=config.name)
        app.session_interface = ServerSessionInterface(
            app.store,
            timeouts=config.timeouts,
            rolling=config.rolling,
            cookie_max_age=config.cookie.max_age,
            genid=config.genid,
            locks=locks_for(app.store) if config.lock else None,
            lock_timeout=config.lock_timeout,
        )
        if config.lock:
            install_lock_guards(app)
    if config.profile == "hardened":
        register_hardened_routes(app)
        return app
    register_seed_routes(app, permanent=config.cookie.max_age is not None)
    register_shop_routes(app)
    app.insecure_choices = insecure_choices(config)
    return app


def refuse_server_options_on_cookie_store(config: AppConfig) -> None:
    """Options that only a server-side store can honour must not be silently ignored."""
    if config.store != "cookie":
        return
    ignored = [
        name
        for name, given in [
            ("rolling", config.rolling),
            ("idle_timeout/absolute_timeout", config.timeouts != Timeouts()),
            ("lock", config.lock),
            ("genid", config.genid is not new_session_id),
        ]
        if given
    ]
    if ignored:
        raise ValueError(
            f"store='cookie' keeps the whole session in Flask's cookie, so {', '.join(ignored)} "
            "cannot apply: use a server-side store ('memory', 'sqlite' or 'redis')"
        )


def insecure_choices(config: AppConfig) -> list[str]:
    """What this server does unsafely, in words, so the handle can say so when shown."""
    choices = ["GET login and logout", "no new id at login"]  # the seed's routes
    if config.store == "cookie":
        choices.append("client-side sessions cannot be revoked")
    if not config.cookie.httponly:
        choices.append("cookie readable by page scripts")
    if config.cookie.samesite in (None, "None"):
        choices.append("cookie sent on cross-site requests")
    return choices


def secrets_newest_first(secret: str | Sequence[str]) -> list[str]:
    """The signing secrets as a list, newest first; refuses empty ones.

    >>> secrets_newest_first("k")
    ['k']
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise ValueError("secret must be a non-empty string or a list of them, newest first")
    return secrets


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
    if hasattr(session, "destroy"):
        session.destroy()
    else:
        session.clear()


class UnlistedStore:
    """Stands in for a store the lab cannot list: the frames then show an empty server.

    >>> UnlistedStore().all()
    []
    """

    def __init__(
        self,
        kind: str = "cookie",
        why: str = "the server keeps nothing: the session is in the cookie",
    ) -> None:
        self.kind = kind
        self.why = why

    def get(self, sid: str) -> None:
        return None

    def all(self) -> list:
        return []

    def length(self) -> int:
        return 0

    def clear(self) -> None:
        pass

    def prune(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"UnlistedStore({self.kind!r}: {self.why})"
