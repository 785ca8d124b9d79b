"""Flask hooks that refuse what a lab server will not hold, and answer for a failing store.

* Requests over a bound of :class:`Limits` get 413, 414 or 431 with a one-line message naming
  the setting; a session over ``session_bytes`` is not saved.
* When the session store fails (Redis killed, a SQLite file made read-only, a memory store
  full) every request that needs it gets ``503 Service Unavailable`` with a ``Retry-After``
  header and a one-line message naming the cause, and nothing is acknowledged that was not
  stored: a write the store refused is never answered with 200. The outage is logged once, as
  an event on the handle (``lab.events``), and so is the moment the store answers again.

Flask turns an exception raised while opening or saving the session into a 500 and logs its
traceback; so the 500 whose original exception is a store error is answered here, and those
tracebacks are kept out of the log (the event says it in one line).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from flask import Flask, Request, Response, session
from flask.sessions import SessionMixin
from werkzeug.exceptions import InternalServerError

from ..errors import StoreClosedError, StoreUnavailable
from .limits import Limits, knob, refusal_text, session_size
from .sessions import ServerSessionInterface
from .stores import Store


def install_guards(app: Flask, limits: Limits, store: Store, events: logging.Logger) -> None:
    """Both guards of a lab app: the request and session bounds, and store outages. Call it
    once the app has its session interface.

    Flask checks every hook for a coroutine on every request: the request bounds and the
    outage probe run around the app (:class:`WsgiGuards`), and a server-side session's size
    is checked by its interface (``SESSIONLAB_MAX_BYTES``), so that no hook is left to a
    lab app on server-side sessions; Flask's cookie session gets one ``after_request``.
    """
    app.config["MAX_CONTENT_LENGTH"] = limits.body_bytes  # Werkzeug answers 413 itself
    app.config["MAX_FORM_MEMORY_SIZE"] = limits.body_bytes
    outage = install_outage_handling(app, store, events, limits.retry_after)
    app.wsgi_app = WsgiGuards(app.wsgi_app, limits, outage)  # type: ignore[method-assign]
    if isinstance(app.session_interface, ServerSessionInterface):
        app.session_interface.max_bytes_setting = knob("session_bytes")
        return

    @app.after_request
    def refuse_oversized_cookie_session(response: Response) -> Response:
        return refuse_oversized_session(response, limits)


class WsgiGuards:
    """WSGI middleware: a URL or headers over the limits get 414 or 431 before Flask starts;
    after each request during a store outage, the store is asked whether it is back.

    >>> from werkzeug.test import Client
    >>> app = WsgiGuards(Response("hi"), Limits(header_bytes=100))
    >>> Client(app).get("/", headers={"X-Big": "b" * 200}).status
    '431 REQUEST HEADER FIELDS TOO LARGE'
    """

    def __init__(self, wsgi_app: Any, limits: Limits, outage: Outage | None = None) -> None:
        self.wsgi_app = wsgi_app
        self.limits = limits
        self.outage = outage
        self.header_bytes = HeaderCounter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        refused = self.refusal(environ)
        if refused is not None:
            return refused(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            if self.outage is not None and self.outage.since is not None:
                self.outage.probe()

    def refusal(self, environ: dict[str, Any]) -> Response | None:
        limits = self.limits
        raw_url = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 2
        # Decoded, a byte grows to at most 3 (U+FFFD): only a URL that may be over the
        # limit is decoded and counted exactly (on every request, that cost a tenth of one).
        if 3 * raw_url > limits.url_bytes and (url := full_path_bytes(environ)) > limits.url_bytes:
            return refusal(414, f"the URL has {url} bytes", "url_bytes", limits.url_bytes)
        headers = self.header_bytes(environ)
        if headers > limits.header_bytes:
            return refusal(
                431, f"the headers have {headers} bytes", "header_bytes", limits.header_bytes
            )
        return None


def refuse_oversized_session(response: Response, limits: Limits) -> Response:
    """413 instead of the response when the modified session is over ``session_bytes``;
    the session is then not saved, so the store keeps what it had."""
    current = opened_session()
    if current is None or not current.modified:
        return response
    size = session_size(dict(current))
    if size <= limits.session_bytes:
        return response
    current.modified = False
    if response.status_code >= 500:  # a server error stays what it is, and saves nothing
        return response
    return refusal(
        413, f"the session would hold {size} bytes", "session_bytes", limits.session_bytes
    )


def full_path_bytes(environ: dict[str, Any]) -> int:
    """The request's path and query, as ``request.full_path`` decodes them, in UTF-8 bytes."""
    return len(Request(environ).full_path.encode("utf-8", "surrogateescape"))


def header_bytes(environ: dict[str, Any]) -> int:
    """The bytes of ``name: value\r\n`` over every header, as ``request.headers`` lists
    them, counted from the environ (a header ``X_Y`` arrives as ``HTTP_X_Y``: same length).

    >>> header_bytes({"HTTP_HOST": "a", "CONTENT_TYPE": "", "CONTENT_LENGTH": "10"})
    29
    """
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                total += len(key) - 5 + len(value) + 4
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            total += len(key) + len(value) + 4
    return total


CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")  # headers WSGI names without HTTP_


class HeaderCounter:
    """:func:`header_bytes`, with the Python loop run once per set of header names.

    A client sends the same names request after request: for each set seen, what the names
    add is summed once, and a request costs a few calls in C (the loop cost three times
    more, on every request of the hot path). At most ``limit`` sets are kept, then all are
    forgotten, so a client that invents names costs memory only for a while.

    >>> count = HeaderCounter()
    >>> environ = {"HTTP_HOST": "a", "CONTENT_TYPE": "", "CONTENT_LENGTH": "10"}
    >>> count(environ), count(environ) == header_bytes(environ)
    (29, True)
    """

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._sets: dict[tuple[str, ...], tuple[int, Callable[[Any], Any], tuple[str, ...]]] = {}

    def __call__(self, environ: dict[str, Any]) -> int:
        names = tuple(environ)
        known = self._sets.get(names)
        if known is None:
            known = self._learn(names)
        fixed, values_of, content = known
        total = fixed + sum(map(len, values_of(environ)))
        for key in content:  # counted only when not empty, as request.headers lists them
            if not environ[key]:
                total -= len(key) + 4
        return total

    def _learn(self, names: tuple[str, ...]) -> tuple[int, Callable[[Any], Any], tuple[str, ...]]:
        headers = [
            key
            for key in names
            if key.startswith("HTTP_") and key[5:] not in CONTENT_KEYS  # WSGI's own win
        ]
        content = tuple(key for key in names if key in CONTENT_KEYS)
        keys = [*headers, *content]
        fixed = sum(len(key) - 1 for key in headers) + sum(len(key) + 4 for key in content)
        values_of = itemgetter(*keys) if len(keys) > 1 else lambda e: [e[k] for k in keys]
        if len(self._sets) >= self.limit:
            self._sets.clear()
        self._sets[names] = (fixed, values_of, content)
        return fixed, values_of, content


def opened_session() -> SessionMixin | None:
    """This request's session, or None when it could not be opened (the store failed).

    Flask's ``session`` proxy asserts that the session was opened; the hooks that run for
    the 503 of a failed store must not trip over that.
    """
    try:
        current: SessionMixin = session._get_current_object()  # type: ignore[attr-defined]
    except AssertionError:
        return None
    return current


def refusal(status: int, what: str, setting: str, limit: int) -> Response:
    """A short plain-text refusal naming the bound and how to change it."""
    message = refusal_text(status, what, limit, knob(setting))
    return Response(message, status, content_type="text/plain; charset=utf-8")


def store_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the store, not the request, failed.

    redis-py's are included once it is imported (a Redis store imports it).
    """
    errors: list[type[Exception]] = [StoreUnavailable, StoreClosedError, sqlite3.Error]
    if "redis" in sys.modules:
        errors.append(sys.modules["redis"].exceptions.RedisError)
    return tuple(errors)


def describe(error: BaseException) -> str:
    """The cause in one line: the error's type and message.

    >>> describe(sqlite3.OperationalError("attempt to write a readonly database"))
    'OperationalError: attempt to write a readonly database'
    """
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text[:200]}"


class Outage:
    """Whether the store is failing as this app sees it, and since when.

    The end of an outage is found by asking the store (``probe``), at most every
    ``PROBE_EVERY`` seconds, after a request: a request that did not need the store (no
    session cookie, say) proves nothing.
    """

    PROBE_EVERY = 0.1
    PROBE_ID = "sessionlab-health-probe"

    def __init__(self, store: Store, events: logging.Logger) -> None:
        self.store = store
        self.events = events
        self.since: float | None = None
        self._probed = 0.0
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first, self.since = self.since is None, self.since or time.monotonic()
        if first:
            self.events.warning(
                "store outage: the %s store failed: %s", self.store.kind, describe(error)
            )

    def probe(self) -> None:
        """During an outage, ask the store whether it answers again; log it when it does."""
        now = time.monotonic()
        with self._lock:
            if self.since is None or now - self._probed < self.PROBE_EVERY:
                return
            self._probed = now
        try:
            self.store.get(self.PROBE_ID)
        except Exception:  # still down: the requests that need it say why
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            self.events.warning(
                "store back: the %s store answers again after %.1f s",
                self.store.kind,
                time.monotonic() - since,
            )


def install_outage_handling(
    app: Flask, store: Store, events: logging.Logger, retry_after: int = 1
) -> Outage:
    """Answer 503 (with Retry-After) for any request the store failed; log the outage once.
    The caller probes ``outage`` after each request (:class:`WsgiGuards`), so that its end
    is logged too."""
    outage = Outage(store, events)

    def unavailable(error: BaseException) -> Response:
        outage.failed(error)
        message = (
            f"503: the session store ({store.kind}) is unavailable: "
            f"{describe(error).rstrip('.')}. Nothing was saved; retry in {retry_after} s.\n"
        )
        response = Response(message, 503, content_type="text/plain; charset=utf-8")
        response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(InternalServerError)
    def store_or_server_error(error: InternalServerError) -> Response | InternalServerError:
        original = error.original_exception
        if original is not None and isinstance(original, store_errors()):
            return unavailable(original)
        return error

    for error_class in store_errors():
        app.register_error_handler(error_class, unavailable)

    # The logger Flask logs tracebacks to; not app.logger, whose first use would attach
    # Flask's stderr handler (and print every event of this server in a notebook's cells).
    quiet_store_tracebacks(logging.getLogger(app.name))
    return outage


class _StoreTracebacks(logging.Filter):
    """Drops the traceback Flask logs for a store error: the outage event says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and isinstance(error, store_errors()))


def quiet_store_tracebacks(logger: logging.Logger) -> None:
    if not any(isinstance(f, _StoreTracebacks) for f in logger.filters):
        logger.addFilter(_StoreTracebacks())
