"""Server-side sessions for Flask: the cookie carries a signed id, the record lives in a Store.

This is the other half of Flask's own ``SecureCookieSessionInterface`` (which keeps the whole
session in the cookie). The rules, and why:

* Ids are 256 bits from ``secrets`` (ASVS 5.0.0 7.2.3 asks for at least 128).
* The cookie carries ``<id>.<signature>``, signed with itsdangerous under the current secret
  and verified under it and any older ones, so secrets can be rotated.
* An id the server never issued (or no longer has), or a bad signature, is never adopted:
  the event is logged, the stale cookie is cleared, and a fresh id is issued when the
  request writes to the session. This stops ids an attacker invented; it does not stop
  fixation with an id the server issued to the attacker: only a new id at login does
  (``session.regenerate()``, which the hardened profile and ``/login`` call).
* A record is written only when the request modified the session, and Set-Cookie is sent
  only when the cookie changes, so a slow read-only request never overwrites a write.
* Logout (``session.destroy()``, sessionlab's own method, not Flask's) deletes the record
  and expires the cookie with the Path and Domain browsers match a deletion on (and the
  same other attributes, which a ``__Host-`` cookie's deletion needs).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

from ..cookies import SESSIONLAB
from ..errors import SessionLockTimeout
from .config import Timeouts, new_session_id
from .stores import Record, SessionLocks, Store

# Expired records are swept this often, on the request path: a store never grows without
# bound (express-session's MemoryStore does), and each sweep touches only expired records.
PRUNE_EVERY = 60.0
MAX_DUPLICATES = 4  # session cookies of one name looked at in one request


def events_logger_name(cookie_name: str) -> str:
    """Each server logs its security events under its own logger, named by its cookie."""
    return f"sessionlab.server.{cookie_name}"


def fingerprint(token: str) -> str:
    """A short, one-way tag for a token, so logs can name it without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def id_signer(secrets_newest_first: Sequence[str]) -> Signer:
    """The signer for session-id cookies (the sessionlab cookie format, see cookies/)."""
    return SESSIONLAB.signer(secrets_newest_first)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session of one request: a dict that knows its id and whether it changed."""

    def __init__(self, sid: str, data: dict[str, Any] | None = None, *, created: float) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(data or {}, on_update)
        self.sid = sid
        self.created = created
        self.is_new = data is None
        self.modified = False
        self.destroyed = False
        self.expires: float | None = None
        self.regenerated_from: str | None = None
        self.rejected_cookie: str | None = None  # why the request's cookie was refused
        self.lock: Any = None  # this session's lock handle while the request holds it
        self.lock_error: str | None = None  # why the lock could not be had in time

    def destroy(self) -> None:
        """Delete this session on the server and expire its cookie (logout)."""
        self.clear()
        self.destroyed = True

    def regenerate(self) -> None:
        """Move the data to a fresh id and delete the old record (do this at login)."""
        if self.regenerated_from is None and not self.is_new:
            self.regenerated_from = self.sid
        self.sid = new_session_id()
        self.modified = True


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over a :class:`Store`.

    >>> from sessionlab.server.stores import MemoryStore
    >>> app = Flask(__name__)
    >>> app.secret_key = "x" * 64
    >>> app.session_interface = ServerSessionInterface(MemoryStore())
    """

    def __init__(
        self,
        store: Store,
        *,
        timeouts: Timeouts | None = None,
        rolling: bool = False,
        cookie_max_age: int | None = None,
        genid: Callable[[], str] = new_session_id,
        locks: SessionLocks | None = None,
        lock_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.locks = locks
        self.lock_timeout = lock_timeout
        self.next_prune = 0.0
        self.cookie_max_age = cookie_max_age
        self.timeouts = timeouts or Timeouts()
        self.rolling = rolling
        self.genid = genid

    # -- reading -----------------------------------------------------------------------

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        now = time.time()
        cookie = self._chosen_cookie(app, request)
        if not cookie:
            return self._fresh(now)
        try:
            sid = id_signer(self._secrets(app)).unsign(cookie).decode()
        except BadSignature:
            return self._reject(app, now, "bad-signature", cookie, request)
        lock = None
        if self.locks is not None:  # hold the lock from before the read until after the write
            try:
                lock = self.locks.acquire(sid, self.lock_timeout)
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
        session = ServerSession(sid, record.data, created=record.created)
        session.expires = record.expires
        session.lock = lock
        return session

    def _chosen_cookie(self, app: Flask, request: Request) -> str | None:
        """The request's session cookie. A browser sends every cookie of that name it holds
        (one of a narrower path first): the first whose signature verifies and whose record
        exists wins, so an invalid or stale duplicate never gets the live session deleted."""
        values = request.cookies.getlist(self.get_cookie_name(app))
        if len(values) < 2:
            return values[0] if values else None
        signer = id_signer(self._secrets(app))
        for value in values[:MAX_DUPLICATES]:
            try:
                sid = signer.unsign(value).decode()
            except BadSignature:
                continue
            if self.store.get(sid) is not None:
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
        return ServerSession(self.genid(), created=now)

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

    @staticmethod
    def _secrets(app: Flask) -> list[str]:
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
        return [str(app.secret_key), *fallbacks]

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
        name = self.get_cookie_name(app)
        now = time.time()
        if now >= self.next_prune:
            self.next_prune = now + PRUNE_EVERY
            self.store.prune()
        if session.regenerated_from:  # before anything else: the old id must stop working
            self.store.destroy(session.regenerated_from)
        if session.destroyed or (session.modified and not session):
            if not session.is_new:
                self.store.destroy(session.sid)
            if session.destroyed or not session.is_new:
                self._expire_cookie(app, response, name)
            return
        if session.modified:
            created = now if session.is_new or session.regenerated_from else session.created
            self.store.set(Record(session.sid, dict(session), created, self._expiry(created, now)))
            self._set_cookie(app, response, name, session)
        elif session.rejected_cookie:
            self._expire_cookie(app, response, name)
        elif not session.is_new:
            self._extend(app, response, name, session, now)

    def _extend(
        self, app: Flask, response: Response, name: str, session: ServerSession, now: float
    ) -> None:
        """Slide the idle timeout of a session that was only read.

        Only the expiry moves (``touch``), never the data, so a read cannot undo a write.
        It is skipped while less than a tenth of the idle timeout has passed, to keep
        read-mostly traffic from writing on every request.
        """
        expiry = self._expiry(session.created, now)
        if session.expires is None or expiry - session.expires > self.timeouts.idle / 10:
            self.store.touch(session.sid, expiry)
        if self.rolling:
            self._set_cookie(app, response, name, session)

    def _expiry(self, created: float, now: float) -> float:
        return self.timeouts.expiry(created, now)

    def _set_cookie(
        self, app: Flask, response: Response, name: str, session: ServerSession
    ) -> None:
        value = id_signer(self._secrets(app)).sign(session.sid).decode()
        response.set_cookie(
            name,
            value,
            max_age=self.cookie_max_age,
            **self._cookie_attributes(app),
        )
        response.vary.add("Cookie")

    def _expire_cookie(self, app: Flask, response: Response, name: str) -> None:
        """Expire the cookie with the attributes it was set with, or browsers keep it."""
        response.delete_cookie(name, **self._cookie_attributes(app))
        response.vary.add("Cookie")

    def _cookie_attributes(self, app: Flask) -> dict[str, Any]:
        return {
            "path": self.get_cookie_path(app),
            "domain": self.get_cookie_domain(app),
            "secure": self.get_cookie_secure(app),
            "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app),
            "partitioned": self.get_cookie_partitioned(app),
        }
