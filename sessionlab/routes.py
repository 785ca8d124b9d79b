"""How to log in, view and log out of an app: the route map the audit and the clients share.

A plain description with no HTTP in it, so that the server side can say how to reach the
apps it runs (``lab.routes``) and the client side can drive any app it is given.

>>> django = Routes(
...     login=Route("POST", "/accounts/login/",
...                 {"username": "{user}", "password": "{password}"},
...                 token_from="/accounts/login/"),
...     logout=Route("POST", "/accounts/logout/", token_from="/user"),
...     csrf_field="csrfmiddlewaretoken",
...     passwords={"alice": "correct horse", "mallory": "battery staple"},
... )
>>> django.login.fill("alice", django.password("alice"))
('/accounts/login/', {'username': 'alice', 'password': 'correct horse'})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from .errors import ConfigError

VICTIM = "alice"
ATTACKER = "mallory"
TOKEN_SOURCES = ("input", "cookie", "header")


def shows_user(body: str, user: str) -> bool:
    """The default "logged in" test: the view's body names the user.

    >>> shows_user('alice<br /><a href="/logout">Logout</a>', "alice")
    True
    """
    return user in body


@dataclass(frozen=True)
class Route:
    """One request of the route map.

    ``{user}`` in the path or a form value is the user's name, ``{password}`` their
    password (from :attr:`Routes.passwords`). ``token_from``: a page to GET first, where the
    anti-CSRF token is read (see :attr:`Routes.csrf_from`). ``headers`` go with the request;
    ``json=True`` sends the form as a JSON body instead of an urlencoded one.

    >>> Route("POST", "/login", {"user": "{user}"}).fill("alice")
    ('/login', {'user': 'alice'})
    """

    method: str = "GET"
    path: str = "/"
    form: Mapping[str, str] = field(default_factory=dict)
    token_from: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: bool = False

    def fill(self, user: str, password: str = "") -> tuple[str, dict[str, str]]:
        """The path and form for ``user``, placeholders filled."""
        path = self.path.replace("{user}", quote(user, safe=""))
        form = {
            key: value.replace("{user}", user).replace("{password}", password)
            for key, value in self.form.items()
        }
        return path, form

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Routes:
    """How to log in, view and log out of an app; the seed's routes by default.

    ``cookie``: the session cookie's name; None finds it (the cookie login changed that
    the view needs). ``csrf_field``: the form (or JSON) field the token is sent in ("" for
    none); ``csrf_from``: where it is read on the ``token_from`` page: "input" (a form
    ``<input>`` named ``csrf_field``), "cookie:NAME" or "header:NAME"; ``csrf_header``: a
    request header that carries it too (Django accepts ``X-CSRFToken``). ``passwords``: a
    password per user, for ``{password}``. ``users``: the victim and the attacker, two
    accounts the app knows. ``browser_headers``: send ``Origin`` and ``Referer`` with
    every non-GET request, as a browser does (Django over HTTPS refuses a POST without).

    >>> str(Routes().login), str(Routes.hardened().logout)
    ('GET /user/{user}', 'POST /logout')
    """

    login: Route = Route("GET", "/user/{user}")
    view: Route = Route("GET", "/user")
    logout: Route = Route("GET", "/logout")
    cookie: str | None = None
    csrf_field: str = "csrf_token"
    logged_in: Callable[[str, str], bool] = shows_user
    csrf_from: str = "input"
    csrf_header: str | None = None
    passwords: Mapping[str, str] = field(default_factory=dict)
    users: tuple[str, str] = (VICTIM, ATTACKER)
    browser_headers: bool = True

    def __post_init__(self) -> None:
        source = self.csrf_from.partition(":")
        if source[0] not in TOKEN_SOURCES or (source[0] != "input" and not source[2]):
            raise ConfigError(
                f"csrf_from={self.csrf_from!r}: use 'input', 'cookie:NAME' or 'header:NAME'"
            )
        if len(self.users) != 2 or self.users[0] == self.users[1]:
            raise ConfigError("users must name two different accounts: (victim, attacker)")

    @property
    def victim(self) -> str:
        return self.users[0]

    @property
    def attacker(self) -> str:
        return self.users[1]

    def password(self, user: str) -> str:
        """The password to log ``user`` in with ("" when the app asks for none)."""
        return self.passwords.get(user, "")

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
