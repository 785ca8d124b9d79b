"""The app under audit: its base URL, how to log in, view and log out, and its session cookie.

Everything here speaks HTTP through :class:`sessionlab.Client`, so the audit works against
any app given only its URL, and every verdict can point at the recorded exchange behind it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from ..client import Client
from ..cookies import parse_set_cookie
from ..errors import CannotTest
from ..recording import Exchange
from ..routes import ATTACKER, VICTIM, Route, Routes, shows_user
from ..tables import Aliases
from ..transport import DEFAULT_MAX_BODY

__all__ = [
    "ATTACKER",
    "VICTIM",
    "Aliases",
    "CannotTest",
    "Route",
    "Routes",
    "Target",
    "evidence",
    "issued_cookie",
    "shows_user",
]

TOKEN_INPUT = re.compile(
    r"<input[^>]*?name=[\"']{field}[\"'][^>]*?value=[\"']([^\"']+)"
    r"|<input[^>]*?value=[\"']([^\"']+)[\"'][^>]*?name=[\"']{field}[\"']"
)


class Target:
    """The app under audit, with the moves every check is built from."""

    def __init__(
        self,
        url: str,
        routes: Routes | str | None = None,
        verify: bool | str = True,
        *,
        ends_at: float | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.url = url.rstrip("/")
        self.routes = Routes.named(routes)
        self.verify = verify
        self.ends_at = ends_at  # time.monotonic() when the audit's overall deadline passes
        self.max_body = max_body
        self.clients: list[Client] = []
        self._issued: tuple[str, dict[str, Any], Exchange] | None = None

    def client(self) -> Client:
        """A new visitor: an empty cookie jar, bounded by the audit's deadline and body size."""
        client = Client(self.url, verify=self.verify, ends_at=self.ends_at, max_body=self.max_body)
        self.clients.append(client)
        return client

    # -- moves -------------------------------------------------------------------------

    def send(
        self, client: Client, route: Route, user: str = VICTIM, *, token: bool = True
    ) -> requests.Response:
        """Make one request of the route map, fetching its CSRF token first when it has one."""
        path, form = route.fill(user)
        if route.token_from and token:
            page = client.get(route.token_from, label="form")
            found = self.csrf_token(page.text)
            if found:
                form[self.routes.csrf_field] = found
        if route.method.upper() == "GET":
            return client.get(path, params=form or None, label=route.path)
        return client.request(route.method.upper(), path, data=form, label=route.path)

    def csrf_token(self, body: str) -> str | None:
        pattern = TOKEN_INPUT.pattern.replace("{field}", re.escape(self.routes.csrf_field))
        match = re.search(pattern, body)
        return (match.group(1) or match.group(2)) if match else None

    def login(self, client: Client, user: str = VICTIM) -> requests.Response:
        return self.send(client, self.routes.login, user)

    def logged_in_victim(self) -> tuple[Client, str, Aliases]:
        """A new client logged in as the victim, its session cookie, and evidence aliases
        that already name that cookie ``value1``."""
        client = self.client()
        self.login(client, VICTIM)
        cookie = self.cookie(client) or ""
        aliases = Aliases()
        aliases.cookie_value(cookie)
        return client, cookie, aliases

    def logout(self, client: Client) -> requests.Response:
        return self.send(client, self.routes.logout)

    def logged_in(self, client: Client, user: str = VICTIM) -> bool:
        """Does the view show ``user`` to this client?"""
        body = self.send(client, self.routes.view).text
        return self.routes.logged_in(body, user)

    # -- the session cookie ------------------------------------------------------------

    @property
    def cookie_name(self) -> str:
        return self.routes.cookie or self.issued()[0]

    def issued(self) -> tuple[str, dict[str, Any], Exchange]:
        """The session cookie a login sets: its name, its parsed Set-Cookie, the exchange."""
        if self._issued is None:
            client = self.client()
            self.login(client)
            for exchange in reversed(client.exchanges):
                for header in exchange.set_cookies:
                    parsed = parse_set_cookie(header)
                    wanted = self.routes.cookie in (None, parsed["name"])
                    if wanted and parsed["effect"] == "set" and parsed["value"]:
                        self._issued = (parsed["name"], parsed, exchange)
                        return self._issued
            raise CannotTest(f"logging in ({self.routes.login}) set no session cookie")
        return self._issued

    def cookie(self, client: Client) -> str | None:
        """The session cookie's value in this client's jar."""
        for cookie in client.cookies:
            if cookie.name == self.cookie_name:
                return cookie.value
        return None

    def plant(self, client: Client, value: str) -> None:
        """Put a session cookie into a client's jar, as an attacker would in a victim's."""
        host = urlsplit(self.url).hostname or ""
        client.cookies.set(self.cookie_name, value, domain=host, path="/")


def issued_cookie(target: Target) -> tuple[str, dict[str, Any], str]:
    """The session cookie login set, and its Set-Cookie header (value aliased) as evidence."""
    name, parsed, exchange = target.issued()
    header = next(h for h in exchange.set_cookies if h.startswith(f"{name}="))
    attributes = re.sub(r"Expires=[^;]*", "Expires=…", header.partition(";")[2].strip())
    alias = Aliases().cookie_value(parsed["value"])
    proof = f"{exchange.method} {exchange.path} → Set-Cookie: {name}={alias}; {attributes}"
    return name, parsed, proof


def evidence(
    exchanges: Iterable[Exchange], cookie_name: str, aliases: Aliases, body_chars: int = 24
) -> str:
    """The exchanges that showed a verdict, one short line each, cookie values aliased.

    Aliases are the timelines' (``value1``, ``value2``, ... in order of appearance), so the
    same random value reads the same wherever it appears, on every run.
    """
    return " | ".join(_line(e, cookie_name, aliases, body_chars) for e in exchanges)


def _line(exchange: Exchange, cookie_name: str, aliases: Aliases, body_chars: int) -> str:
    sent = _sent_value(exchange.sent_cookie, cookie_name)
    parts = [f"{exchange.method} {urlsplit(exchange.url).path}"]
    parts.append(f"[cookie {aliases.cookie_value(sent)}]" if sent else "[no cookie]")
    reply = [str(exchange.status)]
    for header in exchange.set_cookies:
        parsed = parse_set_cookie(header)
        if parsed["name"] == cookie_name:
            reply.append(
                "clears it"
                if parsed["effect"] == "delete"
                else f"sets {aliases.cookie_value(parsed['value'])}"
            )
    body = " ".join(exchange.body.split())
    if body:
        reply.append(repr(body[:body_chars] + ("…" if len(body) > body_chars else "")))
    return f"{' '.join(parts)} → {' '.join(reply)}"


def _sent_value(header: str | None, name: str) -> str | None:
    for pair in (header or "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value
    return None
