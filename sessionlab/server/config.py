"""One validated description of a session server: what ``start()`` and the app factory take.

Everything that distinguishes one lab server from another lives in :class:`LabConfig`, made
and checked once (no Flask import here, so a worker process or a test can build one cheaply).
The app keeps it in ``app.extensions["sessionlab"]``; nothing is bolted onto the Flask object.

>>> config = LabConfig.from_options(store="memory", idle_timeout=60)
>>> config.timeouts.idle, len(config.secrets[0])
(60, 64)
"""

from __future__ import annotations

import re
import secrets as _secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import ConfigError
from .limits import Limits
from .secret_check import check_secret
from .stores import STORE_NAMES, Store

SameSite = Literal["Strict", "Lax", "None"] | None
Profile = Literal["seed", "hardened"]
# Insecure routes a notebook can ask for, each shown by the handle when used.
TEACHING = {
    "xss": "the name shown unescaped, as the seed does (XSS)",
    "set-cookie": "/set-cookie sends any Set-Cookie line it is given",
}
HOST_PREFIX = "__Host-"
# RFC 6265 section 4.1.1: a cookie name is an HTTP token (no separators, spaces or controls).
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def new_session_id() -> str:
    """32 random bytes (256 bits) as 43 URL-safe characters.

    >>> len(new_session_id())
    43
    """
    return _secrets.token_urlsafe(32)


def check_port(port: int) -> None:
    """Refuse a port no server can listen on, naming the choices.

    >>> check_port(-1)
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: port must be 0 (any free port) or 1 to 65535, not -1
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be 0 (any free port) or 1 to 65535, not {port!r}")


def new_secret() -> str:
    """A random 256-bit signing secret: the default when none is given."""
    return _secrets.token_hex(32)


@dataclass(frozen=True)
class CookieOptions:
    """The session cookie's attributes. Safe by default: HttpOnly, SameSite=Lax, no Domain.

    ``max_age=None`` makes a browser-session cookie, as express-session does by default.
    ``secure=True``: ``requests`` then sends the cookie only over HTTPS, so a requests client
    of an http lab is logged out; Chromium counts http://127.0.0.1 and localhost as secure and
    sends it there too (any other http site would need HTTPS).

    >>> CookieOptions(samesite="None")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: browsers drop SameSite=None cookies without Secure: ...
    """

    httponly: bool = True
    secure: bool = False
    samesite: SameSite = "Lax"
    path: str = "/"
    max_age: int | None = None

    def __post_init__(self) -> None:
        if self.samesite not in ("Strict", "Lax", "None", None):
            raise ConfigError(
                f"samesite must be 'Strict', 'Lax', 'None' or None, not {self.samesite!r}"
            )
        if self.samesite == "None" and not self.secure:
            raise ConfigError(
                "browsers drop SameSite=None cookies without Secure: pass secure=True"
            )
        if not self.path.startswith("/"):
            raise ConfigError(f"cookie path must start with '/', not {self.path!r}")


@dataclass(frozen=True)
class Timeouts:
    """How long a session may live on the server, in seconds; None for no limit.

    ``idle``: since the last request that used it; ``absolute``: since it was created.
    Flask's ``PERMANENT_SESSION_LIFETIME`` joins them as ``lifetime`` (since the last use):
    the shortest limit wins.

    >>> Timeouts(idle=60, absolute=100).expiry(created=0, now=50)
    100
    >>> Timeouts(idle=None, absolute=None).expiry(created=0, now=50, lifetime=30)
    80
    """

    idle: float | None = 30 * 60
    absolute: float | None = 8 * 60 * 60

    def __post_init__(self) -> None:
        for name, value in (("idle_timeout", self.idle), ("absolute_timeout", self.absolute)):
            if value is not None and not value > 0:  # `not >` also refuses NaN
                raise ConfigError(
                    f"{name} must be a number of seconds above 0 (or None), not {value!r}"
                )

    def expiry(self, created: float, now: float, lifetime: float | None = None) -> float:
        """When a session used at ``now`` expires: the earliest of its limits."""
        sliding = self.sliding(lifetime)
        expires = float("inf") if sliding is None else now + sliding
        if self.absolute is not None and created + self.absolute < expires:
            return created + self.absolute
        return expires

    def sliding(self, lifetime: float | None = None) -> float | None:
        """The shortest limit that moves with use (idle, or the lifetime), if any.

        A read writes the expiry only once it has moved by a tenth of this, so that
        read-mostly traffic does not write on every request.

        >>> Timeouts(idle=600).sliding(lifetime=86400)
        600
        """
        if self.idle is None or (lifetime is not None and lifetime < self.idle):
            return lifetime
        return self.idle


@dataclass(frozen=True)
class LabConfig:
    """Everything that distinguishes one session server from another, validated.

    ``secrets`` are newest first: the first signs, all verify (rotation).
    """

    store: str | Store = "sqlite"
    secrets: tuple[str, ...] = field(default_factory=lambda: (new_secret(),))
    name: str = "sessionlab"
    cookie: CookieOptions = field(default_factory=CookieOptions)
    rolling: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    genid: Callable[[], str] = new_session_id
    lock: bool = False  # serialise the requests of one session (see locking.py)
    lock_timeout: float = 10.0
    profile: Profile = "seed"
    limits: Limits = field(default_factory=Limits)  # every bound on what clients can make it hold
    teaching: tuple[str, ...] = ()  # insecure teaching routes, from TEACHING

    def __post_init__(self) -> None:
        if self.profile not in ("seed", "hardened"):
            raise ConfigError(f"profile must be 'seed' or 'hardened', not {self.profile!r}")
        if isinstance(self.store, str) and self.store not in STORE_NAMES:
            names = ", ".join(sorted(STORE_NAMES))
            raise ConfigError(f"unknown store {self.store!r}: choose one of {names}")
        if not isinstance(self.store, (str, Store)):
            raise ConfigError(
                f"store must be a name or implement the Store protocol, not {self.store!r}"
            )
        if not COOKIE_NAME.fullmatch(self.name):
            raise ConfigError(
                f"cookie name {self.name!r} is not an HTTP token: use letters, digits and "
                "!#$%&'*+-.^_`|~ only (no spaces, quotes, commas, semicolons or '=')"
            )
        if not self.lock_timeout > 0:
            raise ConfigError(f"lock_timeout must be above 0 seconds, not {self.lock_timeout!r}")
        refuse_server_options_on_cookie_store(self)
        unknown = [name for name in self.teaching if name not in TEACHING]
        if unknown or isinstance(self.teaching, str):
            raise ConfigError(
                f"teaching takes a list of {', '.join(sorted(TEACHING))}, not {self.teaching!r}"
            )

    @classmethod
    def from_options(
        cls,
        *,
        secret: str | Sequence[str] | None = None,
        cookie: CookieOptions | dict[str, Any] | None = None,
        idle_timeout: float | None = Timeouts.idle,
        absolute_timeout: float | None = Timeouts.absolute,
        timeouts: Timeouts | None = None,
        limits: Limits | dict[str, Any] | None = None,
        **options: Any,
    ) -> LabConfig:
        """A config from ``start()``'s keyword arguments, hardened if the profile says so.

        ``timeouts`` stands for ``idle_timeout`` and ``absolute_timeout`` together;
        ``limits`` is a :class:`Limits` or a dict of the bounds to change.
        """
        if isinstance(cookie, dict):
            cookie = CookieOptions(**cookie)
        if "teaching" in options and not isinstance(options["teaching"], str):
            options["teaching"] = tuple(options["teaching"])
        config = cls(
            secrets=secrets_newest_first(secret) if secret is not None else (new_secret(),),
            cookie=cookie or CookieOptions(),
            timeouts=timeouts or Timeouts(idle=idle_timeout, absolute=absolute_timeout),
            limits=Limits.of(limits),
            **options,
        )
        return config.hardened() if config.profile == "hardened" else config

    @property
    def secret(self) -> str:
        """The secret that signs (the newest)."""
        return self.secrets[0]

    @property
    def server_side(self) -> bool:
        """Is the session kept on the server (the cookie carries only a signed id)?"""
        return self.store != "cookie"

    def hardened(self) -> LabConfig:
        """This config with the hardened profile's cookie and key rules applied.

        Refuses what the profile cannot make safe (a client-side cookie store, a weak
        secret, cookie options weaker than its own) with a message naming the fix, rather
        than quietly serving something other than what was asked for.
        """
        if not self.server_side:
            raise ConfigError(
                "the hardened profile keeps sessions on the server: "
                "use store='memory', 'sqlite' or 'redis', not 'cookie'"
            )
        problems = check_secret(self.secrets)
        if problems:
            raise ConfigError(f"the hardened profile needs a strong secret: {problems[0]}")
        refuse_weaker_cookie(self.cookie)
        if self.teaching:
            raise ConfigError("the hardened profile serves no insecure teaching routes")
        name = self.name if self.name.startswith(HOST_PREFIX) else HOST_PREFIX + self.name
        # __Host- requires Secure, Path=/ and no Domain; no max_age: no persistent cookie.
        cookie = CookieOptions(httponly=True, secure=True, samesite=self.cookie.samesite)
        return replace(self, name=name, cookie=cookie, profile="hardened")

    @property
    def insecure_choices(self) -> list[str]:
        """What this server does unsafely, in words, so the handle can say so when shown."""
        if self.profile == "hardened":
            return []
        choices = ["GET login and logout", "no new id at login"]  # the seed's routes
        if not self.server_side:
            choices.append("client-side sessions cannot be revoked")
        if not self.cookie.httponly:
            choices.append("cookie readable by page scripts")
        if self.cookie.samesite == "None":
            choices.append("cookie sent on cross-site requests")
        elif self.cookie.samesite is None:  # Chromium: Lax, plus top-level POSTs for 2 minutes
            choices.append("no SameSite: each browser's default decides")
        return choices + [TEACHING[name] for name in self.teaching]


def refuse_server_options_on_cookie_store(config: LabConfig) -> None:
    """Options that only a server-side store can honour must not be silently ignored."""
    if config.server_side:
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
        raise ConfigError(
            f"store='cookie' keeps the whole session in Flask's cookie, so {', '.join(ignored)} "
            "cannot apply: use a server-side store ('memory', 'sqlite' or 'redis')"
        )


def refuse_weaker_cookie(cookie: CookieOptions) -> None:
    """Cookie options the hardened profile would have to override are refused, naming the fix.

    >>> refuse_weaker_cookie(CookieOptions(max_age=3600))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: the hardened profile ... leave max_age=None ...
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
        raise ConfigError(
            "the hardened profile would not honour that cookie: " + "; ".join(problems)
        )


def secrets_newest_first(secret: str | Sequence[str]) -> tuple[str, ...]:
    """The signing secrets as a tuple, newest first; refuses empty ones.

    >>> secrets_newest_first("k")
    ('k',)
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise ConfigError("secret must be a non-empty string or a list of them, newest first")
    return tuple(secrets)
