"""The audit's first move: log in once, prove it worked, and find the session cookie.

A route map can be wrong in many ways (a path, a method, a password, the CSRF field, the
cookie's name, a header Django wants over HTTPS), and each looks the same from the login
response alone. So the login is *verified*: the view must show the user afterwards. When it
does not, one :class:`CannotTest` names the step that failed, its status, and what was
expected. The session cookie is the one login changed that the view cannot do without, not
the first or the last Set-Cookie (Django sets ``csrftoken`` around ``sessionid``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from ..client import Client
from ..cookies import parse_set_cookie
from ..errors import CannotTest
from ..recording import Exchange
from ..routes import Route, Routes

INPUT_NAMES = re.compile(r"<input[^>]*?name=[\"']([^\"']+)")
STATUS_HINTS = {
    400: "the app refused the request's fields: check the form (and json=) of the route",
    401: "the credentials were refused: check Routes.passwords",
    403: "forbidden: a missing or wrong CSRF token, or (over HTTPS) no Origin/Referer header",
    404: "not found: check the route's path",
    405: "method not allowed: check the route's method",
}


class Target(Protocol):
    """What the login needs of the audit's target (target.py)."""

    routes: Routes
    host: str
    last_token: tuple[str, str | None, list[str]] | None

    @property
    def victim(self) -> str: ...

    def client(self) -> Client: ...

    def send(
        self, client: Client, route: Route, user: str | None = None, *, token: bool = True
    ) -> requests.Response: ...

    def logged_in(self, client: Client, user: str | None = None) -> bool: ...


@dataclass(frozen=True)
class Session:
    """The verified login: the session cookie's name, its Set-Cookie, the exchange."""

    name: str
    cookie: dict[str, Any]
    exchange: Exchange


def verified_login(target: Target) -> Session:
    """Log the victim in once and check every step; the session cookie it made."""
    routes = target.routes
    user = target.victim
    stranger = target.client()
    if target.logged_in(stranger, user):
        raise CannotTest(
            f"the view ({routes.view}) shows {user!r} to a visitor who never logged in: "
            "check Routes.view and Routes.logged_in"
        )
    client = target.client()
    before_token = len(client.exchanges)
    target.send(client, routes.login, user)
    exchanges = client.exchanges[before_token:]
    page = [e for e in exchanges if e.label == "form"]
    login = [e for e in exchanges if e.label != "form"]
    if page and page[0].status >= 400:
        raise CannotTest(_step(1, page[0], f"the page with the login form ({routes.login})"))
    jar_before = _jar(page[-1]) if page else {}
    jar_after = _jar(login[-1]) if login else {}
    step = 2 if page else 1
    if not login:
        raise CannotTest(f"step {step}: the login request ({routes.login}) was not sent")
    final = login[-1]
    if final.status >= 400:
        raise CannotTest(_step(step, final, f"the login ({routes.login})", _token_note(target)))
    view = target.client()
    changed = [name for name, value in jar_after.items() if jar_before.get(name) != value]
    for name, value in jar_after.items():
        view.cookies.set(name, value, domain=target.host, path="/")
    if not target.logged_in(view, user):
        shown = view.exchanges[-1]
        cause = (
            "wrong credentials? the login page came back"
            if final.status == 200 and "<form" in final.body
            else f"login answered {final.status}"
        )
        raise CannotTest(
            f"step {step + 1}: after logging in, the view ({routes.view}) answered "
            f"{shown.status} {_excerpt(shown.body)} without {user!r} ({cause}; cookies set: "
            f"{', '.join(changed) or 'none'}){_token_note(target)}"
        )
    name = _session_cookie(target, routes.cookie, changed, jar_after, user)
    for exchange in reversed(exchanges):
        for header in exchange.set_cookies:
            parsed = parse_set_cookie(header)
            if parsed["name"] == name and parsed["effect"] == "set":
                return Session(name, parsed, exchange)
    raise CannotTest(f"the session cookie {name!r} was not set by the login ({routes.login})")


def _session_cookie(
    target: Target, wanted: str | None, changed: list[str], jar: dict[str, str], user: str
) -> str:
    """The cookie login changed that the view needs: the named one, or found by removal."""
    if wanted is not None:
        if wanted not in jar:
            raise CannotTest(
                f"the login set cookies {', '.join(sorted(jar)) or '(none)'} but not "
                f"{wanted!r}: check Routes.cookie"
            )
        return wanted
    candidates = changed or list(jar)
    if not candidates:
        raise CannotTest(f"the login ({target.routes.login}) set no cookie")
    if len(candidates) == 1:
        return candidates[0]
    for name in candidates:  # without the session cookie, the view forgets the user
        probe = target.client()
        for other, value in jar.items():
            if other != name:
                probe.cookies.set(other, value, domain=target.host, path="/")
        if not target.logged_in(probe, user):
            return name
    return candidates[0]


def _jar(exchange: Exchange) -> dict[str, str]:
    return {cookie.name: cookie.value for cookie in exchange.jar_after}


def _step(number: int, exchange: Exchange, what: str, note: str = "") -> str:
    hint = STATUS_HINTS.get(exchange.status, "expected a success or a redirect")
    return (
        f"step {number}: {exchange.method} {exchange.path}, {what}, answered "
        f"{exchange.status} {_excerpt(exchange.body)}: {hint}{note}"
    )


def _token_note(target: Target) -> str:
    """What the audit knows about the CSRF token, for the failing step's message."""
    if target.last_token is None:
        return ""
    source, token, inputs = target.last_token
    if token:
        return ""
    seen = f" (inputs on the page: {', '.join(inputs)})" if inputs else ""
    return f"; no CSRF token found as {source}{seen}: check csrf_field / csrf_from"


def _excerpt(body: str, chars: int = 80) -> str:
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    return repr(text[:chars] + ("…" if len(text) > chars else ""))


def input_names(body: str) -> list[str]:
    """The names of a page's form inputs, for messages.

    >>> input_names('<input type="hidden" name="csrfmiddlewaretoken" value="x">')
    ['csrfmiddlewaretoken']
    """
    return INPUT_NAMES.findall(body)
