"""Server-side sessions for Flask: the cookie carries a signed id, the record lives in a Store.

This is the other half of Flask's own ``SecureCookieSessionInterface`` (which keeps the whole
session in the cookie), and keeps Flask's contract: the same tagged JSON for the data, a
``Vary: Cookie`` whenever the session was used, ``session.permanent`` with
``PERMANENT_SESSION_LIFETIME`` and ``SESSION_REFRESH_EACH_REQUEST``, a null session when there
is no secret key, ``SECRET_KEY_FALLBACKS``. The rules, and why:

* Ids are 256 bits from ``secrets`` (ASVS 4.0.3 3.2.2 asks for at least 64, ASVS 5.0.0
  7.2.3 for at least 128).
* The cookie carries ``<id>.<signature>``, signed with itsdangerous under ``SECRET_KEY`` and
  verified under it and ``SECRET_KEY_FALLBACKS``, so keys can be rotated.
* An id the server never issued (or no longer has), or a bad signature, is never adopted:
  the event is logged (by fingerprint, never in clear) and a fresh id is issued when the
  request writes to the session. A cookie naming an unknown id is cleared: nothing can bring
  its session back. A cookie whose signature fails is cleared only with
  ``SESSIONLAB_CLEAR_REFUSED_COOKIES`` (``sl.start()`` sets it): Flask leaves it, so that
  putting a removed key back restores its sessions. This stops ids an attacker invented; it
  does not stop fixation with an id the server issued to the attacker: only a new id at login
  does (``session.regenerate()``, which the hardened profile and ``/login`` call).
* A record is written only when the request modified the session, so a slow read-only
  request never overwrites a write; a read only moves the expiry, and only once it has moved
  by a tenth of the shortest limit.
* Set-Cookie is sent only when the cookie changes: a new, regenerated or re-signed id, a
  permanent session's new expiry (on a write, or on a refresh with
  ``SESSION_REFRESH_EACH_REQUEST``), a change of ``session.permanent``; or on every response
  with ``SESSIONLAB_ROLLING``. A write to a live browser-session cookie sends none (as in
  express-session; Flask would send the same cookie again).
* Logout (``session.destroy()``, sessionlab's own method, not Flask's) deletes the record
  and expires the cookie with the name, Path and Domain browsers match a deletion on, and
  with Secure when the cookie had it (a ``__Host-`` or ``__Secure-`` deletion without it is
  refused); HttpOnly and SameSite play no part in the match.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import NullSession, SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ..errors import SessionLockTimeout
from .codec import TaggedCodec
from .config import new_session_id
from .cookie_header import request_cookies, vary_on_cookie
from .id_cookies import SignedIds
from .limits import refusal_text, session_size
from .settings import SessionSettings
from .stores import Record, SessionLocks, Store

MAX_DUPLICATES = 4  # session cookies of one name looked at in one request


def events_logger_name(cookie_name: str) -> str:
    """Each server logs its security events under its own logger, named by its cookie."""
    return f"sessionlab.server.{cookie_name}"


def fingerprint(token: str) -> str:
    """A short, one-way tag for a token, so logs can name it without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def mark_modified(session: ServerSession) -> None:
    session.modified = True


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session of one request: a dict that knows its id and whether it changed."""

    # What most requests leave as it is, kept on the class (set per session only when it
    # changes: a session is made on every request).
    modified = False
    destroyed = False
    regenerated_from: str | None = None
    rejected_cookie: str | None = None  # why the request's cookie was refused
    lock: Any = None  # this session's lock handle while the request holds it
    lock_error: str | None = None  # why the lock could not be had in time

    def __init__(
        self,
        sid: str,
        data: dict[str, Any] | None = None,
        *,
        created: float,
        expires: float | None = None,
        cookie: str | None = None,
        permanent: bool = False,
        genid: Callable[[], str] = new_session_id,
    ) -> None:
        super().__init__(data or {}, mark_modified)
        self.sid = sid
        self.created = created
        self.expires = expires
        self.cookie = cookie  # the cookie value that named this session; None when new
        self.is_new = data is None
        self.default_permanent = permanent  # SESSIONLAB_PERMANENT
        self.genid = genid
        self.was_permanent = bool(data.get("_permanent", permanent)) if data else permanent

    @property
    def permanent(self) -> bool:
        """Flask's flag (the ``_permanent`` key); new sessions take ``SESSIONLAB_PERMANENT``."""
        return bool(self.get("_permanent", self.default_permanent))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    def destroy(self) -> None:
        """Delete this session on the server and expire its cookie (logout)."""
        self.clear()
        self.destroyed = True

    def regenerate(self) -> None:
        """Move the data to a fresh id and delete the old record (do this at login)."""
        if self.regenerated_from is None and not self.is_new:
            self.regenerated_from = self.sid
        self.sid = self.genid()
        self.modified = True


class NullServerSession(NullSession):
    """What a request gets when the app has no secret key: Flask's null session, whose
    writes raise Flask's error, and whose ``destroy`` and ``regenerate`` raise it too."""

    def destroy(self) -> None:
        self.clear()  # raises, as every write to Flask's null session does

    def regenerate(self) -> None:
        self.clear()


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over a :class:`Store`.

    The store is given Flask's tagged JSON (``self.serializer``, Flask's object: register
    your own tags on it) unless it has no ``codec`` of its own to set.

    >>> from sessionlab.server.stores import MemoryStore
    >>> app = Flask(__name__)
    >>> app.secret_key = "x" * 64
    >>> app.session_interface = ServerSessionInterface(MemoryStore())
    >>> app.test_client().get("/").headers.get("Vary") is None  # the session was not used
    True
    """

    null_session_class = NullServerSession
    # What a 413 for an oversized session names as the setting to change.
    max_bytes_setting = "SESSIONLAB_MAX_BYTES"

    def __init__(
        self,
        store: Store,
        settings: SessionSettings | None = None,
        *,
        locks: SessionLocks | None = None,
    ) -> None:
        self.settings = settings or SessionSettings()
        self.codec = TaggedCodec()
        self.serializer = self.codec.serializer  # Flask's name for it
        if hasattr(store, "codec"):
            store.codec = self.codec
        self.store = store
        self.locks = locks
        self.next_prune = 0.0
        self.ids = SignedIds()

    @staticmethod
    def clock() -> float:
        """What "now" is; a test may give an interface a clock of its own instead of sleeping."""
        return time.time()

    # -- reading -----------------------------------------------------------------------

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        if not app.secret_key:
            return None  # Flask then makes the null session, which refuses writes
        now = self.clock()
        cookie = self._chosen_cookie(app, request)
        if not cookie:
            return self._fresh(now)
        sid = self.ids.verified(app, cookie)
        if sid is None:
            return self._reject(app, now, "bad-signature", cookie, request)
        lock = None
        if self.locks is not None:  # hold the lock from before the read until after the write
            try:
                lock = self.locks.acquire(sid, self.settings.lock_timeout)
            except SessionLockTimeout as error:
                session = self._fresh(now)
                session.lock_error = str(error)
                return session
        try:
            record = self.store.get(sid)
        except BaseException:
            self._release(lock)  # a failing store must not leave the session locked
            raise
        if record is None:
            self._release(lock)
            return self._reject(app, now, "unknown-id", sid, request)
        session = ServerSession(
            sid,
            record.data,
            created=record.created,
            expires=record.expires,
            cookie=cookie,
            permanent=self.settings.permanent,
            genid=self.settings.genid,
        )
        if lock is not None:
            session.lock = lock
        return session

    def _chosen_cookie(self, app: Flask, request: Request) -> str | None:
        """The request's session cookie. A browser sends every cookie of that name it holds
        (one of a narrower path first): the first whose signature verifies and whose record
        exists wins, so an invalid or stale duplicate never gets the live session deleted."""
        values = request_cookies(request, self.get_cookie_name(app))
        if len(values) < 2:
            return values[0] if values else None
        for value in values[:MAX_DUPLICATES]:
            sid = self.ids.verified(app, value)
            if sid is not None and self.store.get(sid) is not None:
                return value
        return values[0]

    def release_lock(self, session: SessionMixin) -> None:
        """Let the next request of this session in (after the write, or on an error)."""
        lock = getattr(session, "lock", None)
        if lock is not None:
            session.lock = None  # type: ignore[attr-defined]  # a ServerSession
            self._release(lock)

    def _release(self, lock: Any) -> None:
        if lock is not None and self.locks is not None:
            self.locks.release(lock)

    def _fresh(self, now: float) -> ServerSession:
        settings = self.settings
        return ServerSession(
            settings.genid(), created=now, permanent=settings.permanent, genid=settings.genid
        )

    def _reject(
        self, app: Flask, now: float, reason: str, token: str, request: Request
    ) -> ServerSession:
        """Refuse a cookie: log it (by fingerprint, never in clear) and start afresh."""
        logging.getLogger(events_logger_name(self.get_cookie_name(app))).warning(
            "rejected session cookie: %s (token %s) on %s %s",
            reason,
            fingerprint(token),
            request.method,
            request.path,
        )
        session = self._fresh(now)
        session.rejected_cookie = reason
        return session

    # -- writing -----------------------------------------------------------------------

    def save_session(  # type: ignore[override]  # Flask passes None when open_session raised
        self, app: Flask, session: ServerSession | None, response: Response
    ) -> None:
        if session is None:  # open_session raised: Flask still finishes the response
            return
        if session.lock_error:
            return  # the request was refused (503): it changed nothing
        try:
            self._save(app, session, response)
        finally:
            self.release_lock(session)

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        if self._refused_as_oversized(session, response):
            return  # nothing written, nothing destroyed, the cookie as it was
        now = self.clock()
        if now >= self.next_prune:
            self.next_prune = now + self.settings.prune_interval
            self.store.prune()
        if session.accessed:  # the response depends on the cookie: shared caches must know
            vary_on_cookie(response)
        if session.regenerated_from:  # before anything else: the old id must stop working
            self.store.destroy(session.regenerated_from)
        if session.destroyed or (session.modified and not session):
            if not session.is_new:
                self.store.destroy(session.sid)
            if session.destroyed or not session.is_new:
                self._expire_cookie(app, response)
            return
        if session.is_new and not session.modified:  # nothing to keep
            if session.rejected_cookie == "unknown-id" or (
                session.rejected_cookie and self.settings.clear_refused_cookies
            ):
                self._expire_cookie(app, response)
            return
        lifetime = app.permanent_session_lifetime.total_seconds()
        timeouts = self.settings.timeouts
        rolling = self.settings.rolling
        if session.modified:
            created = now if session.is_new or session.regenerated_from else session.created
            expires = timeouts.expiry(created, now, lifetime)
            self.store.set(Record(session.sid, dict(session), created, expires))
            send = rolling or session.permanent or session.permanent != session.was_permanent
        else:  # only read: move the expiry, never the data, so a read cannot undo a write
            created = session.created
            expires = timeouts.expiry(created, now, lifetime)
            step = (timeouts.sliding(lifetime) or 0.0) / 10  # see Timeouts.sliding
            moved = session.expires is None or expires - session.expires > step
            if moved or rolling:
                self.store.touch(session.sid, expires)
            refresh = moved and session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
            send = rolling or refresh
        if not (send or session.modified):
            return
        value = self.ids.signer(app).sign(session.sid).decode()  # re-signed if a key was rotated
        if send or value != session.cookie:
            self._set_cookie(app, response, session, value, created, now, lifetime)

    def _refused_as_oversized(self, session: ServerSession, response: Response) -> bool:
        """``SESSIONLAB_MAX_BYTES``: a session grown over it changes nothing in the store (not
        even a ``regenerate()``'s deletion of the old id), and the response becomes a 413
        that says so (a server error stays what it is). Checked here rather than in an
        ``after_request`` hook, which Flask would run on every request."""
        limit = self.settings.max_bytes
        if limit is None or not session.modified:
            return False
        size = session_size(dict(session))
        if size <= limit:
            return False
        if response.status_code < 500:
            response.headers.clear()  # the view's answer is refused, its headers with it
            response.status_code = 413
            response.content_type = "text/plain; charset=utf-8"
            what = f"the session would hold {size} bytes"
            response.set_data(refusal_text(413, what, limit, self.max_bytes_setting))
        return True

    def _set_cookie(
        self,
        app: Flask,
        response: Response,
        session: ServerSession,
        value: str,
        created: float,
        now: float,
        lifetime: float,
    ) -> None:
        """A browser-session cookie, or for a permanent session one that expires with the
        record's lifetime (never after the absolute timeout; the idle one moves with use)."""
        expires = max_age = None
        if session.permanent:
            absolute = self.settings.timeouts.absolute
            until = min(now + lifetime, created + absolute if absolute else float("inf"))
            expires = datetime.fromtimestamp(until, UTC)
            max_age = max(0, int(until - now))
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=expires,
            max_age=max_age,
            **self._cookie_attributes(app),
        )
        vary_on_cookie(response)

    def _expire_cookie(self, app: Flask, response: Response) -> None:
        """Expire the cookie. Browsers match a deletion on name, domain and path only (RFC 6265
        section 5.3; tests/test_browser_facts.py); the other attributes are repeated so that a
        ``__Host-``/``__Secure-`` name's rules, which the deletion must meet too, hold."""
        response.delete_cookie(self.get_cookie_name(app), **self._cookie_attributes(app))
        vary_on_cookie(response)

    def _cookie_attributes(self, app: Flask) -> dict[str, Any]:
        return {
            "path": self.get_cookie_path(app),
            "domain": self.get_cookie_domain(app),
            "secure": self.get_cookie_secure(app),
            "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app),
            "partitioned": self.get_cookie_partitioned(app),
        }
