"""The app under audit: its base URL, how to log in, view and log out, and its session cookie.

Everything here speaks HTTP through :class:`sessionlab.Client`, so the audit works against
any app given only its URL, and every verdict can point at the recorded exchange behind it.
Requests go as a browser would send them: a non-GET request carries ``Origin`` and
``Referer`` (the page its form came from), so CSRF defences that check them (Django over
HTTPS) see an ordinary same-origin form post.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests

from ..client import Client
from ..errors import CannotTest
from ..routes import ATTACKER, VICTIM, Route, Routes, shows_user
from ..transport import DEFAULT_MAX_BODY
from .evidence import Aliases, evidence
from .login import Session, input_names, verified_login

__all__ = [
    "ATTACKER",
    "VICTIM",
    "Aliases",
    "CannotTest",
    "Client",
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
        self.host = urlsplit(self.url).hostname or ""
        self.origin = f"{urlsplit(self.url).scheme}://{urlsplit(self.url).netloc}"
        self.clients: list[Client] = []
        self.last_token: tuple[str, str | None, list[str]] | None = None
        self._session: Session | None = None

    @property
    def victim(self) -> str:
        return self.routes.victim

    @property
    def attacker(self) -> str:
        return self.routes.attacker

    def client(self) -> Client:
        """A new visitor: an empty cookie jar, bounded by the audit's deadline and body size."""
        client = Client(self.url, verify=self.verify, ends_at=self.ends_at, max_body=self.max_body)
        self.clients.append(client)
        return client

    # -- moves -------------------------------------------------------------------------

    def send(
        self, client: Client, route: Route, user: str | None = None, *, token: bool = True
    ) -> requests.Response:
        """Make one request of the route map, fetching its CSRF token first when it has one.

        ``token=False`` fetches the page (as a victim would have it open) but leaves the
        token out: what a forged request from another site looks like.
        """
        user = self.victim if user is None else user
        path, form = route.fill(user, self.routes.password(user))
        headers = dict(route.headers)
        if route.token_from:
            page = client.get(route.token_from, label="form")
            found = self.read_token(client, page)
            if found and token:
                if self.routes.csrf_field:
                    form[self.routes.csrf_field] = found
                if self.routes.csrf_header:
                    headers[self.routes.csrf_header] = found
        method = route.method.upper()
        if method == "GET":
            return client.get(path, params=form or None, headers=headers, label=route.path)
        if self.routes.browser_headers:
            headers.setdefault("Origin", self.origin)
            headers.setdefault("Referer", self.url + (route.token_from or path))
        body: dict[str, Any] = {"json": form} if route.json else {"data": form}
        return client.request(method, path, headers=headers, label=route.path, **body)

    def read_token(self, client: Client, page: requests.Response) -> str | None:
        """The anti-CSRF token, where ``Routes.csrf_from`` says it is."""
        source, _, name = self.routes.csrf_from.partition(":")
        found: str | None
        if source == "cookie":
            found = next((c.value for c in client.cookies if c.name == name), None)
        elif source == "header":
            found = page.headers.get(name)
        else:
            found = self.csrf_token(page.text)
        where = self.routes.csrf_from if source != "input" else f"input {self.routes.csrf_field}"
        self.last_token = (where, found, input_names(page.text))
        return found

    def csrf_token(self, body: str) -> str | None:
        pattern = TOKEN_INPUT.pattern.replace("{field}", re.escape(self.routes.csrf_field))
        match = re.search(pattern, body)
        return (match.group(1) or match.group(2)) if match else None

    def login(self, client: Client, user: str | None = None) -> requests.Response:
        return self.send(client, self.routes.login, user)

    def logged_in_victim(self) -> tuple[Client, str, Aliases]:
        """A new client logged in as the victim, its session cookie, and evidence aliases
        that already name that cookie ``value1``."""
        client = self.client()
        self.login(client)
        cookie = self.cookie(client) or ""
        aliases = Aliases()
        aliases.cookie_value(cookie)
        return client, cookie, aliases

    def logout(self, client: Client) -> requests.Response:
        return self.send(client, self.routes.logout)

    def logged_in(self, client: Client, user: str | None = None) -> bool:
        """Does the view show ``user`` (the victim by default) to this client?"""
        body = self.send(client, self.routes.view).text
        return self.routes.logged_in(body, self.victim if user is None else user)

    def replayed(self, value: str, user: str | None = None) -> tuple[bool, Client]:
        """Does a fresh client holding only this session cookie see the user?"""
        client = self.client()
        self.plant(client, value)
        return self.logged_in(client, user), client

    # -- the session cookie ------------------------------------------------------------

    @property
    def cookie_name(self) -> str:
        return self.routes.cookie or self.issued()[0]

    def issued(self) -> tuple[str, dict[str, Any], Any]:
        """The session cookie a verified login sets: its name, parsed Set-Cookie, exchange.

        Raises :class:`CannotTest` naming the step when logging in does not work.
        """
        if self._session is None:
            self._session = verified_login(self)
        return self._session.name, self._session.cookie, self._session.exchange

    def cookie(self, client: Client) -> str | None:
        """The session cookie's value in this client's jar."""
        for cookie in client.cookies:
            if cookie.name == self.cookie_name:
                return cookie.value
        return None

    def plant(self, client: Client, value: str) -> None:
        """Put a session cookie into a client's jar, as an attacker would in a victim's."""
        client.cookies.set(self.cookie_name, value, domain=self.host, path="/")


def issued_cookie(target: Target) -> tuple[str, dict[str, Any], str]:
    """The session cookie login set, and its Set-Cookie header (value aliased) as evidence."""
    name, parsed, exchange = target.issued()
    header = next(h for h in exchange.set_cookies if h.startswith(f"{name}="))
    attributes = re.sub(r"Expires=[^;]*", "Expires=…", header.partition(";")[2].strip())
    alias = Aliases().cookie_value(parsed["value"])
    proof = f"{exchange.method} {exchange.path} → Set-Cookie: {name}={alias}; {attributes}"
    return name, parsed, proof
