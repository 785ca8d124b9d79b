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
from typing import Any

from flask import Flask, Response, request, session
from flask.sessions import SessionMixin
from werkzeug.exceptions import InternalServerError

from ..errors import StoreClosedError, StoreUnavailable
from .limits import Limits, session_size
from .stores import Store


def install_guards(app: Flask, limits: Limits, store: Store, events: logging.Logger) -> None:
    """Both guards of a lab app: the request and session bounds, and store outages."""
    install_limits(app, limits)
    install_outage_handling(app, store, events, limits.retry_after)


def install_limits(app: Flask, limits: Limits) -> None:
    """Refuse requests and sessions over the bounds with 413/414/431 and a message."""
    app.config["MAX_CONTENT_LENGTH"] = limits.body_bytes  # Werkzeug answers 413 itself
    app.config["MAX_FORM_MEMORY_SIZE"] = limits.body_bytes

    @app.before_request
    def refuse_oversized_requests() -> Response | None:
        environ = request.environ
        raw_url = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 2
        # Decoded, a byte grows to at most 3 (U+FFFD): only a URL that may be over the
        # limit is decoded and counted exactly (on every request, that cost a tenth of one).
        if 3 * raw_url > limits.url_bytes and (url := full_path_bytes()) > limits.url_bytes:
            return refusal(414, f"the URL has {url} bytes", "url_bytes", limits.url_bytes)
        headers = header_bytes(environ)
        if headers > limits.header_bytes:
            return refusal(
                431, f"the headers have {headers} bytes", "header_bytes", limits.header_bytes
            )
        return None

    @app.after_request
    def refuse_oversized_sessions(response: Response) -> Response:
        current = opened_session()
        if current is None or response.status_code >= 500 or not current.modified:
            return response
        size = session_size(dict(current))
        if size <= limits.session_bytes:
            return response
        current.modified = False  # not saved: the store keeps what it had
        return refusal(
            413, f"the session would hold {size} bytes", "session_bytes", limits.session_bytes
        )


def full_path_bytes() -> int:
    """The request's path and query, as ``request.full_path`` decodes them, in UTF-8 bytes."""
    return len(request.full_path.encode("utf-8", "surrogateescape"))


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
    message = (
        f"{status}: {what}, over this server's limit of {limit} "
        f"(start(limits={{{setting!r}: ...}}) changes it)\n"
    )
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
    """Answer 503 (with Retry-After) for any request the store failed; log the outage once."""
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

    @app.after_request
    def note_recovery(response: Response) -> Response:
        if outage.since is not None:
            outage.probe()
        return response

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
