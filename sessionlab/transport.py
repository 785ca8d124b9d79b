"""How the lab's clients talk HTTP to a server they may not trust: every request bounded.

requests bounds each socket operation (``timeout``), not a request: a server that sends one
byte every second answers every read in time and never finishes, and a server that streams
an endless body fills the client's memory. So every request of :class:`sessionlab.Client`
goes through a :class:`BoundedAdapter`:

* an overall **deadline** per request (connecting, sending, the headers and the whole body):
  a watchdog shuts the request's socket down when it runs out, whatever the socket is
  waiting for, and the client raises :class:`DeadlineExceeded`;
* a **body-size limit** (``max_body``): a declared length over it is refused before a byte
  of the body is read, and an undeclared body is read only up to it
  (:class:`ResponseTooLarge`).

Redirect hops are read the same way, before requests follows them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import ConfigError, ResponseTooLarge

DEFAULT_DEADLINE = 30.0  # seconds for one request, body included
DEFAULT_MAX_BODY = 10 * 1024 * 1024  # bytes of one response body (10 MiB)
CHUNK = 64 * 1024


def check_bounds(deadline: float, max_body: int) -> None:
    """Refuse bounds that cannot work, naming the setting.

    >>> check_bounds(0, 1)
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: deadline must be a number of seconds above 0, not 0
    """
    if not deadline > 0:  # `not >` also refuses NaN
        raise ConfigError(f"deadline must be a number of seconds above 0, not {deadline!r}")
    if not (isinstance(max_body, int) and max_body > 0):
        raise ConfigError(f"max_body must be a number of bytes above 0, not {max_body!r}")


class Deadline:
    """The deadline of one request: when it passes, the sockets it watches are shut down.

    >>> with Deadline(0.05) as deadline:
    ...     time.sleep(0.2)
    >>> deadline.fired
    True
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(self.ends - time.monotonic(), 0.0)

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _shut(connection)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _watchdog.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.done = True
            self._connections.clear()
        _current.deadline = None


def _shut(connection: HTTPConnection) -> None:
    """Wake whatever the connection's socket is blocked in: it fails at once."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that fires deadlines in order (not a timer thread per request)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._wake:
            heapq.heappush(self._heap, (deadline.ends, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sessionlab:deadlines", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                ends, _, deadline = self._heap[0]
                delay = ends - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
            deadline.fire()


_watchdog = _Watchdog()
_current = threading.local()  # the deadline of the request this thread is sending


def _watch(connection: HTTPConnection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class _WatchedHTTPConnection(HTTPConnection):
    """A connection that puts itself under the current request's deadline when it connects
    and when it sends (a kept-alive connection serves several requests)."""

    def connect(self) -> None:
        _watch(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The same over TLS (the handshake happens in ``connect``, under the deadline too)."""


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}


class BoundedAdapter(HTTPAdapter):
    """requests' adapter with watched connections and bodies read up to ``max_body``."""

    def __init__(self, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.max_body = max_body
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager

    def send(  # type: ignore[override]  # the same arguments, passed on as they came
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        # The body is read here, bounded, never by requests (stream=True to it).
        response = super().send(request, stream=True, **kwargs)
        response._content = read_body(response, self.max_body)
        return response


def read_body(response: requests.Response, max_body: int) -> bytes:
    """The whole body, or :class:`ResponseTooLarge` as soon as it is known to exceed
    ``max_body`` (from its Content-Length, or while reading); the connection is then closed."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_body:
        response.close()
        raise too_large(response, f"declares a {int(declared)}-byte body")
    return b"".join(_chunks(response, max_body))


def _chunks(response: requests.Response, max_body: int) -> Iterator[bytes]:
    size = 0
    for chunk in response.iter_content(CHUNK):  # requests' own errors, decoding included
        size += len(chunk)
        if size > max_body:
            response.close()
            raise too_large(response, f"sent more than {max_body} bytes of body")
        yield chunk


def too_large(response: requests.Response, what: str) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"{response.request.method} {response.url} {what}, over the client's "
        f"max_body={response_limit(response)}: pass a larger max_body= if you expect it"
    )


def response_limit(response: requests.Response) -> int:
    adapter = getattr(response.connection, "max_body", None)
    return int(adapter) if adapter is not None else DEFAULT_MAX_BODY
