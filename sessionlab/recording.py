"""What a recording client saw: each exchange as it crossed the wire, and the cookie jar.

Every client of the lab (``Client`` on requests, ``Browser`` on Chromium) is a
:class:`Recorder`: it appends one :class:`Exchange` per request and response, redirects and
subresources included, with the Cookie header actually sent, each raw Set-Cookie received,
and the jar as it stood afterwards. The tables and pictures read recorders, never a client,
so every table works on every client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit


class Watchable(Protocol):
    """Anything whose records can be snapshot after each exchange (a Store)."""

    def all(self) -> list[Any]: ...


@dataclass(frozen=True)
class JarCookie:
    """One cookie as a client holds it, with the columns browser devtools show.

    ``expires`` is seconds since the epoch, or None for a cookie that ends with the browser
    session. ``samesite`` is "" when the Set-Cookie named none.

    >>> JarCookie("sid", "abc", "127.0.0.1", httponly=True).size
    6
    """

    name: str
    value: str
    domain: str = ""
    path: str = "/"
    expires: float | None = None
    secure: bool = False
    httponly: bool = False
    samesite: str = ""

    @property
    def size(self) -> int:
        """Bytes of name and value, as devtools count them (the 4096-byte limit)."""
        return len(self.name) + len(self.value)


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as they crossed the wire.

    ``status`` is 0 for a request that got no response. ``refused`` and ``withheld`` are
    what only a browser reports: a Set-Cookie it did not store and a cookie it did not send,
    each with the browser's reasons.
    """

    step: int
    method: str
    url: str
    status: int
    sent_cookie: str | None
    set_cookies: tuple[str, ...]
    body: str
    elapsed_ms: float
    redirect: bool = False
    jar_after: tuple[JarCookie, ...] = ()
    store_after: tuple[Any, ...] | None = None
    # the watched store just before the request: what changed is before -> after, not what
    # other clients did since this client's previous step (None: not taken, use that step's)
    store_before: tuple[Any, ...] | None = None
    label: str = ""
    kind: str = ""  # what asked for it, in a browser: document, image, fetch, script, ...
    refused: tuple[str, ...] = ()  # Set-Cookie lines the browser did not store, and why
    withheld: tuple[str, ...] = ()  # cookies the browser held but did not send, and why

    @property
    def path(self) -> str:
        """The path and query of the URL, as a request line shows it."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Recorder:
    """The recording half of a client: exchanges in order, a watched store, hooks.

    Subclasses send requests and call :meth:`record` once per exchange; ``on_exchange``
    hooks are called with each new exchange (a live widget redraws on them).

    >>> recorder = Recorder("http://127.0.0.1:1")
    >>> seen = []
    >>> recorder.on_exchange.append(seen.append)
    >>> _ = recorder.record(method="GET", url="http://127.0.0.1:1/user", status=200)
    >>> [exchange.path for exchange in seen]
    ['/user']
    """

    base_url: str
    watch: Watchable | None = None
    session_cookie: str | None = None  # the session cookie's name, when known
    exchanges: list[Exchange] = field(default_factory=list, init=False)
    on_exchange: list[Callable[[Exchange], Any]] = field(default_factory=list, init=False)

    def snapshot(self) -> tuple[Any, ...] | None:
        """The watched store's records now, or None when no store is watched."""
        return tuple(self.watch.all()) if self.watch is not None else None

    def record(
        self,
        *,
        method: str,
        url: str,
        status: int,
        sent_cookie: str | None = None,
        set_cookies: Iterable[str] = (),
        body: str = "",
        elapsed_ms: float = 0.0,
        redirect: bool = False,
        jar_after: Iterable[JarCookie] = (),
        label: str = "",
        kind: str = "",
        refused: Iterable[str] = (),
        withheld: Iterable[str] = (),
        store_before: tuple[Any, ...] | None = None,
    ) -> Exchange:
        """Append one exchange, with a snapshot of the watched store, and tell the hooks."""
        exchange = Exchange(
            step=len(self.exchanges) + 1,
            method=method,
            url=url,
            status=status,
            sent_cookie=sent_cookie,
            set_cookies=tuple(set_cookies),
            body=body,
            elapsed_ms=elapsed_ms,
            redirect=redirect,
            jar_after=tuple(jar_after),
            store_after=self.snapshot(),
            store_before=store_before,
            label=label,
            kind=kind,
            refused=tuple(refused),
            withheld=tuple(withheld),
        )
        self.exchanges.append(exchange)
        for hook in self.on_exchange:
            hook(exchange)
        return exchange

    def jar(self) -> list[JarCookie]:
        """The cookies this client holds now (the last exchange's jar, by default)."""
        return list(self.exchanges[-1].jar_after) if self.exchanges else []

    def forget(self) -> None:
        """Drop the recorded exchanges: the next step is numbered 1 again."""
        self.exchanges.clear()
