"""Per-session locks: requests of one session run one after the other (``lock=True``).

Without a lock, two requests of one session that both read, change and write the session
race: the later write replaces the earlier one, and an item added to a cart is lost. PHP's
file sessions lock for the whole request; this is the same idea, opt-in, and per session, so
different sessions never wait for each other. Each store gets the lock that reaches as far
as the store does:

* memory: a ``threading.Lock`` per id (the store is one process anyway);
* SQLite: a row in a ``session_locks`` table of the same file, so every process sees it;
* Redis: redis-py's lock (``SET NX PX`` plus a checked release), so every process sees it.

Every lock is a lease: a holder that dies without releasing stops blocking after
``lease`` seconds. A request that cannot get its lock within ``timeout`` gets HTTP 503 and
a message that says what to change.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any, Protocol

from flask import Flask, abort, session

from .stores import Store
from .stores.sqlite import ConnectionPool

POLL = 0.002  # seconds between attempts at a lock held elsewhere


class SessionLockTimeout(TimeoutError):
    """A request waited longer than the lock timeout for another request of its session."""


class SessionLocks(Protocol):
    def acquire(self, sid: str, timeout: float) -> Any:
        """Block until ``sid`` is ours (return a handle) or raise SessionLockTimeout."""

    def release(self, handle: Any) -> None:
        """Let the next request of this session in."""


def timeout_message(timeout: float) -> str:
    return (
        f"this session stayed locked by another of its requests for more than {timeout:g} s: "
        "make requests shorter, or start the server with a longer lock_timeout="
    )


class MemoryLocks:
    """A lock per session id, for one process.

    >>> locks = MemoryLocks()
    >>> handle = locks.acquire("abc", timeout=1)
    >>> locks.acquire("abc", timeout=0.01)
    Traceback (most recent call last):
    ...
    sessionlab.server.locking.SessionLockTimeout: this session stayed locked ...
    >>> locks.release(handle)
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[threading.Lock, int]] = {}  # sid -> (lock, waiters)
        self._guard = threading.Lock()

    def acquire(self, sid: str, timeout: float) -> str:
        with self._guard:
            lock, users = self._locks.get(sid, (None, 0))
            lock = lock or threading.Lock()
            self._locks[sid] = (lock, users + 1)
        if lock.acquire(timeout=timeout):
            return sid
        self._forget(sid)
        raise SessionLockTimeout(timeout_message(timeout))

    def release(self, sid: str) -> None:
        self._locks[sid][0].release()
        self._forget(sid)

    def _forget(self, sid: str) -> None:
        """Drop the lock object when nobody uses it, so the dict does not grow forever."""
        with self._guard:
            lock, users = self._locks[sid]
            if users == 1:
                del self._locks[sid]
            else:
                self._locks[sid] = (lock, users - 1)


class SQLiteLocks:
    """A lock per session id as a row in the store's own SQLite file."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS session_locks (sid TEXT PRIMARY KEY, owner TEXT, until REAL)"
    )

    def __init__(self, pool: ConnectionPool, lease: float) -> None:
        self.pool = pool  # the store's own connections
        self.lease = lease
        self.pool.run(self.SCHEMA)

    def acquire(self, sid: str, timeout: float) -> tuple[str, str]:
        owner, deadline = secrets.token_hex(8), time.monotonic() + timeout
        while True:
            now = time.time()
            # Take the row if it is free or its lease ran out (the holder died).
            taken = self.pool.run(
                "INSERT INTO session_locks (sid, owner, until) VALUES (?, ?, ?) "
                "ON CONFLICT (sid) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE session_locks.until < ?",
                (sid, owner, now + self.lease, now),
            )
            if taken:
                return sid, owner
            if time.monotonic() > deadline:
                raise SessionLockTimeout(timeout_message(timeout))
            time.sleep(POLL)

    def release(self, handle: tuple[str, str]) -> None:
        self.pool.run("DELETE FROM session_locks WHERE sid = ? AND owner = ?", handle)


class RedisLocks:
    """A lock per session id in Redis, with redis-py's Lock (a lease with a checked release)."""

    def __init__(self, redis: Any, prefix: str, lease: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease = lease

    def acquire(self, sid: str, timeout: float) -> Any:
        lock = self.redis.lock(
            f"{self.prefix}{sid}", timeout=self.lease, sleep=POLL, blocking_timeout=timeout
        )
        if not lock.acquire():
            raise SessionLockTimeout(timeout_message(timeout))
        return lock

    def release(self, lock: Any) -> None:
        with contextlib.suppress(Exception):  # the lease ran out: the lock is already gone
            lock.release()


def locks_for(store: Store, lease: float = 30.0) -> SessionLocks:
    """The lock that reaches every process the store reaches."""
    if store.kind == "sqlite":
        return SQLiteLocks(store.pool, lease)
    if store.kind == "redis":
        return RedisLocks(store.redis, f"lock:{store.prefix}", lease)
    return MemoryLocks()


def install_lock_guards(app: Flask) -> None:
    """Answer 503 when a request could not get its session's lock; always release it."""

    @app.before_request
    def refuse_when_lock_timed_out() -> None:
        if getattr(session, "lock_error", None):
            abort(503, description=session.lock_error)

    @app.teardown_request
    def release_session_lock(_error: BaseException | None) -> None:
        release = getattr(app.session_interface, "release_lock", None)
        if release is not None:
            release(session)
