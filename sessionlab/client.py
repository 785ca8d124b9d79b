"""Client: a requests.Session that records every exchange, redirects included.

It knows only URLs, so it works against any web app, not just sessionlab's own server.
Each exchange is recorded with the Cookie header that was actually sent and each raw
Set-Cookie header that came back, which is what a learner needs to see the cookie's life.
Optionally it watches a store (anything with ``all()``) and snapshots it after each request,
so a timeline can show what the server held at each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

import pandas as pd
import requests


class Watchable(Protocol):
    def all(self) -> list[Any]: ...


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as they crossed the wire."""

    step: int
    method: str
    url: str
    status: int
    sent_cookie: str | None
    set_cookies: tuple[str, ...]
    body: str
    elapsed_ms: float
    redirect: bool = False
    jar_after: tuple[Any, ...] = ()
    store_after: tuple[Any, ...] | None = None
    label: str = ""

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Client:
    """A recording HTTP client for one base URL.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-client") as lab:
    ...     client = sl.Client(lab.url)
    ...     client.cycle("alice")[1].text
    'alice<br /><a href="/logout">Logout</a>'
    """

    base_url: str
    watch: Watchable | None = None
    timeout: float = 10.0
    verify: bool | str = True  # or the path of a CA bundle, e.g. the hardened lab's ca_path
    exchanges: list[Exchange] = field(default_factory=list, init=False)
    http: requests.Session = field(default_factory=requests.Session, init=False)

    def __post_init__(self) -> None:
        self.base_url = str(self.base_url).rstrip("/") + "/"
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, not {self.base_url!r}")
        # requests calls response hooks for every hop of a redirect chain, in order.
        self.http.hooks["response"].append(self._record)
        self.http.verify = self.verify
        self._label = ""

    # -- requests ----------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, label: str = "", **kwargs: Any
    ) -> requests.Response:
        """Send a request to ``path`` (relative to the base URL) and record it.

        ``label`` names the step in the history; other arguments go to requests.

        >>> import sessionlab as sl
        >>> with sl.start(store="memory", name="doc-request") as lab:
        ...     client = sl.Client(lab.url)
        ...     _ = client.request("GET", "/user/alice", label="log in")
        ...     client.history[["label", "path", "status"]].values.tolist()
        [['log in', '/user/alice', 200]]
        """
        url = urljoin(self.base_url, path.lstrip("/"))
        kwargs.setdefault("timeout", self.timeout)
        # Per request: REQUESTS_CA_BUNDLE would otherwise override a Session's verify.
        kwargs.setdefault("verify", self.verify)
        self._label = label
        try:
            return self.http.request(method, url, **kwargs)
        except requests.exceptions.SSLError as error:
            if not url.startswith("https://127.0.0.1"):
                raise
            raise requests.exceptions.SSLError(  # the lab's own CA: say how to trust it
                f"{url}: the certificate is signed by the lab's local CA, which this client "
                "does not trust: pass verify=lab.ca_path (sessionlab audit: --ca PATH)",
                request=error.request,
                response=error.response,
            ) from error
        finally:
            self._label = ""

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """``request("GET", path)``: ``client.get("/user").text``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """``request("POST", path)``: ``client.post("/login", data={"user": "alice"})``."""
        return self.request("POST", path, **kwargs)

    def cycle(self, user: str = "alice") -> list[requests.Response]:
        """The tutorial's cycle: set the name, view it, log out, view again."""
        steps = [
            (f"/user/{quote(user, safe='')}", "set"),
            ("/user", "view"),
            ("/logout", "logout"),
            ("/user", "view again"),
        ]
        return [self.get(path, label=label) for path, label in steps]

    def _record(self, response: requests.Response, **_: Any) -> requests.Response:
        """Response hook: runs before requests stores the response's cookies, so the jar
        as it will be after this hop is computed on a copy."""
        request = response.request
        jar = self.http.cookies.copy()
        requests.cookies.extract_cookies_to_jar(jar, request, response.raw)
        self.exchanges.append(
            Exchange(
                step=len(self.exchanges) + 1,
                method=request.method or "GET",
                url=request.url or "",
                status=response.status_code,
                sent_cookie=request.headers.get("Cookie"),
                set_cookies=tuple(raw_set_cookies(response)),
                body=response.text,
                elapsed_ms=response.elapsed.total_seconds() * 1000,
                redirect=response.is_redirect,
                jar_after=tuple(jar),
                store_after=tuple(self.watch.all()) if self.watch is not None else None,
                label=self._label,
            )
        )
        return response

    # -- what happened -----------------------------------------------------------------

    @property
    def cookies(self) -> requests.cookies.RequestsCookieJar:
        return self.http.cookies

    @property
    def history(self) -> pd.DataFrame:
        """One row per exchange: what was sent, what came back."""
        from .frames import history_frame

        return history_frame(self)

    def forget(self) -> None:
        """Drop recorded exchanges and cookies: a new visitor."""
        self.exchanges.clear()
        self.http.cookies.clear()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_set_cookies(response: requests.Response) -> list[str]:
    """Each Set-Cookie header as received; requests folds them into one string otherwise."""
    headers = getattr(response.raw, "headers", None)
    if headers is not None and hasattr(headers, "getlist"):
        return list(headers.getlist("Set-Cookie"))
    folded = response.headers.get("Set-Cookie")
    return [folded] if folded else []
