"""How to log in, view and log out of an app: the route map the audit and the clients share.

A plain description with no HTTP in it, so that the server side can say how to reach the
apps it runs (``lab.routes``) and the client side can drive any app it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from .errors import ConfigError

VICTIM = "alice"
ATTACKER = "mallory"


def shows_user(body: str, user: str) -> bool:
    """The default "logged in" test: the view's body names the user.

    >>> shows_user('alice<br /><a href="/logout">Logout</a>', "alice")
    True
    """
    return user in body


@dataclass(frozen=True)
class Route:
    """One request of the route map. ``{user}`` in the path or a form value is the user name.

    ``token_from``: a page to GET first, whose form carries the CSRF token to send back.

    >>> Route("POST", "/login", {"user": "{user}"}).fill("alice")
    ('/login', {'user': 'alice'})
    """

    method: str = "GET"
    path: str = "/"
    form: Mapping[str, str] = field(default_factory=dict)
    token_from: str | None = None

    def fill(self, user: str) -> tuple[str, dict[str, str]]:
        path = self.path.replace("{user}", quote(user, safe=""))
        return path, {key: value.replace("{user}", user) for key, value in self.form.items()}

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Routes:
    """How to log in, view and log out of an app; the seed's routes by default.

    >>> str(Routes().login), str(Routes.hardened().logout)
    ('GET /user/{user}', 'POST /logout')
    """

    login: Route = Route("GET", "/user/{user}")
    view: Route = Route("GET", "/user")
    logout: Route = Route("GET", "/logout")
    cookie: str | None = None  # the session cookie's name; None: the one login sets
    csrf_field: str = "csrf_token"
    logged_in: Callable[[str, str], bool] = shows_user

    @classmethod
    def hardened(cls, cookie: str | None = None) -> Routes:
        """sessionlab's hardened profile: POST login and logout, each with a CSRF token."""
        return cls(
            login=Route("POST", "/login", {"user": "{user}"}, token_from="/login"),
            logout=Route("POST", "/logout", token_from="/user"),
            cookie=cookie,
        )

    @classmethod
    def named(cls, routes: Routes | str | None) -> Routes:
        """Routes from a name ("seed", "hardened") or as given.

        >>> Routes.named("hardened") == Routes.hardened()
        True
        """
        if routes is None or routes == "seed":
            return cls()
        if routes == "hardened":
            return cls.hardened()
        if isinstance(routes, Routes):
            return routes
        raise ConfigError(f"routes must be 'seed', 'hardened' or a Routes object, not {routes!r}")
