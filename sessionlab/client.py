"""Client: a requests.Session that records every exchange, redirects included.

It knows only URLs, so it works against any web app, not just sessionlab's own server.
Each exchange is recorded (see recording.py) with the Cookie header that was actually sent
and each raw Set-Cookie header that came back, which is what a learner needs to see the
cookie's life. Optionally it watches a store (anything with ``all()``) and snapshots it
after each request, so a timeline can show what the server held at each step.

Every request is bounded (see transport.py): ``deadline`` seconds for the whole request,
body included, and ``max_body`` bytes of body, so a hostile or broken server gets an answer
or a clear error in time, never a hang or a full memory.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3

from .errors import BadReplyError, ConfigError, DeadlineExceeded
from .recording import JarCookie, Recorder
from .transport import DEFAULT_DEADLINE, DEFAULT_MAX_BODY, BoundedAdapter, Deadline, check_bounds

SEED_CYCLE = ("set", "view", "logout", "view again")


def seed_cycle(user: str) -> list[tuple[str, str]]:
    """The tutorial's cycle as (path, label) pairs: set the name, view, log out, view.

    >>> seed_cycle("a b")[0]
    ('/user/a%20b', 'set')
    """
    paths = [f"/user/{quote(user, safe='')}", "/user", "/logout", "/user"]
    return list(zip(paths, SEED_CYCLE, strict=True))


@dataclass
class Client(Recorder):
    """A recording HTTP client for one base URL.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-client") as lab:
    ...     client = sl.Client(lab.url)
    ...     client.cycle("alice")[1].text
    'alice<br /><a href="/logout">Logout</a>'
    """

    timeout: float = 10.0  # seconds for connecting, and for each read of the socket
    verify: bool | str = True  # or the path of a CA bundle, e.g. the hardened lab's ca_path
    deadline: float = DEFAULT_DEADLINE  # seconds for a whole request, body included
    max_body: int = DEFAULT_MAX_BODY  # bytes of one response body
    ends_at: float | None = None  # time.monotonic() past which no request may run (an audit's)
    http: requests.Session = field(default_factory=requests.Session, init=False)

    def __post_init__(self) -> None:
        self.base_url = str(self.base_url).rstrip("/") + "/"
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ConfigError(f"base_url must be an http(s) URL, not {self.base_url!r}")
        check_bounds(self.deadline, self.max_body)
        adapter = BoundedAdapter(self.max_body)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        # requests calls response hooks for every hop of a redirect chain, in order.
        self.http.hooks["response"].append(self._record)
        self.http.verify = self.verify
        self._label = ""
        self._store_before: tuple[Any, ...] | None = None

    # -- requests ----------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, label: str = "", **kwargs: Any
    ) -> requests.Response:
        """Send a request to ``path`` (relative to the base URL) and record it.

        ``label`` names the step in the history; other arguments go to requests. A request
        that runs past ``deadline`` raises :class:`DeadlineExceeded`, a body over
        ``max_body`` :class:`ResponseTooLarge`, and a reply that is not HTTP
        :class:`BadReplyError`.

        >>> import sessionlab as sl
        >>> with sl.start(store="memory", name="doc-request") as lab:
        ...     client = sl.Client(lab.url)
        ...     _ = client.request("GET", "/user/alice", label="log in")
        ...     sl.history_frame(client)[["label", "path", "status"]].values.tolist()
        [['log in', '/user/alice', 200]]
        """
        url = urljoin(self.base_url, path.lstrip("/"))
        seconds = self._seconds_left(method, url)
        kwargs.setdefault("timeout", min(self.timeout, seconds))
        # Per request: REQUESTS_CA_BUNDLE would otherwise override a Session's verify.
        kwargs.setdefault("verify", self.verify)
        self._label = label
        self._store_before = self.snapshot()  # each hop's "before" is the previous hop's after
        try:
            with Deadline(seconds) as deadline:
                try:
                    response = self.http.request(method, url, **kwargs)
                except requests.RequestException as error:
                    if deadline.fired:
                        raise deadline_exceeded(method, url, seconds) from error
                    raise
            if deadline.fired:  # cut short: what came before the cut is not the reply
                raise deadline_exceeded(method, url, seconds)
            return response
        except requests.exceptions.SSLError as error:
            if not url.startswith("https://127.0.0.1"):
                raise
            raise requests.exceptions.SSLError(  # the lab's own CA: say how to trust it
                f"{url}: the certificate is signed by the lab's local CA, which this client "
                "does not trust: pass verify=lab.ca_path (sessionlab audit: --ca PATH)",
                request=error.request,
                response=error.response,
            ) from error
        except requests.ConnectionError as error:
            reason = bad_reply(error, url)
            if reason is None:
                raise
            raise reason from error
        finally:
            self._label = ""

    def _seconds_left(self, method: str, url: str) -> float:
        """This request's deadline: ``deadline``, or less when ``ends_at`` comes sooner."""
        if self.ends_at is None:
            return self.deadline
        left = self.ends_at - time.monotonic()
        if left <= 0:
            raise deadline_exceeded(method, url, 0.0, overall=True)
        return min(self.deadline, left)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """``request("GET", path)``: ``client.get("/user").text``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """``request("POST", path)``: ``client.post("/login", data={"user": "alice"})``."""
        return self.request("POST", path, **kwargs)

    def cycle(self, user: str = "alice") -> list[requests.Response]:
        """The tutorial's cycle: set the name, view it, log out, view again."""
        return [self.get(path, label=label) for path, label in seed_cycle(user)]

    def _record(self, response: requests.Response, **_: Any) -> requests.Response:
        """Response hook: runs before requests stores the response's cookies, so the jar
        as it will be after this hop is computed on a copy."""
        request = response.request
        jar = self.http.cookies.copy()
        requests.cookies.extract_cookies_to_jar(jar, request, response.raw)
        exchange = self.record(
            method=request.method or "GET",
            url=request.url or "",
            status=response.status_code,
            sent_cookie=request.headers.get("Cookie"),
            set_cookies=raw_set_cookies(response),
            body=response.text,
            elapsed_ms=response.elapsed.total_seconds() * 1000,
            redirect=response.is_redirect,
            jar_after=[jar_cookie(cookie) for cookie in jar],
            label=self._label,
            store_before=self._store_before,
        )
        self._store_before = exchange.store_after
        return response

    # -- what happened -----------------------------------------------------------------

    @property
    def cookies(self) -> requests.cookies.RequestsCookieJar:
        """requests' own jar: set or read cookies here as with any requests.Session."""
        return self.http.cookies

    def jar(self) -> list[JarCookie]:
        """The cookies held now, as :class:`JarCookie` rows (what the tables show)."""
        return [jar_cookie(cookie) for cookie in self.http.cookies]

    def forget(self) -> None:
        """Drop recorded exchanges and cookies: a new visitor."""
        super().forget()
        self.http.cookies.clear()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def deadline_exceeded(
    method: str, url: str, seconds: float, *, overall: bool = False
) -> DeadlineExceeded:
    """The error of a request that ran out of time, naming the setting to change."""
    if overall:
        return DeadlineExceeded(f"{method} {url} not sent: the overall deadline has passed")
    return DeadlineExceeded(
        f"{method} {url} did not complete within its deadline={seconds:g} s (the server "
        "answered too slowly or not at all): pass a longer deadline= if it is just slow"
    )


def bad_reply(error: requests.ConnectionError, url: str) -> BadReplyError | None:
    """A BadReplyError when the server was reached but did not answer with HTTP, else None
    (the connection itself failed: nothing listens there)."""
    cause = error.args[0] if error.args else None
    if not isinstance(cause, urllib3.exceptions.ProtocolError):
        return None
    detail = cause.args[1] if len(cause.args) > 1 else cause
    if isinstance(detail, http.client.RemoteDisconnected):
        return BadReplyError(f"{url}: the server closed the connection without a reply")
    return BadReplyError(f"{url}: something answered, but not HTTP ({detail!r})")


def jar_cookie(cookie: Cookie) -> JarCookie:
    """A cookie of requests' (http.cookiejar's) jar as a :class:`JarCookie`."""
    rest = {key.lower(): value for key, value in getattr(cookie, "_rest", {}).items()}
    return JarCookie(
        name=cookie.name,
        value=cookie.value or "",
        domain=cookie.domain,
        path=cookie.path,
        expires=None if cookie.expires is None else float(cookie.expires),
        secure=bool(cookie.secure),
        httponly="httponly" in rest,
        samesite=str(rest.get("samesite") or ""),
    )


def raw_set_cookies(response: requests.Response) -> list[str]:
    """Each Set-Cookie header as received; requests folds them into one string otherwise."""
    headers = getattr(response.raw, "headers", None)
    if headers is not None and hasattr(headers, "getlist"):
        return list(headers.getlist("Set-Cookie"))
    folded = response.headers.get("Set-Cookie")
    return [folded] if folded else []
