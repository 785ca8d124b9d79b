"""Per-session locks: requests of one session run one after the other (``lock=True``).

Without a lock, two requests of one session that both read, change and write the session
race: the later write replaces the earlier one, and an item added to a cart is lost. PHP's
file sessions lock for the whole request; this is the same idea, opt-in, and per session, so
different sessions never wait for each other. Each store offers the lock that reaches as far
as the store does (its ``locks()`` method):

* memory: a ``threading.Lock`` per id (the store is one process anyway);
* SQLite: a row in a ``session_locks`` table of the same file, so every process sees it;
* Redis: redis-py's lock (``SET NX PX`` plus a checked release), so every process sees it.

Every lock is a lease: a holder that dies without releasing stops blocking after
``lease`` seconds. A request that cannot get its lock within ``timeout`` gets HTTP 503 and
a message that says what to change.
"""

from __future__ import annotations

from flask import Flask, abort, session

from .guards import opened_session
from .sessions import ServerSessionInterface
from .stores import MemoryLocks, SessionLocks, Store


def locks_for(store: Store, lease: float = 30.0) -> SessionLocks:
    """The lock that reaches every process the store reaches.

    A store of your own without a ``locks()`` method gets locks for this process only.

    >>> from sessionlab.server.stores import MemoryStore
    >>> type(locks_for(MemoryStore())).__name__
    'MemoryLocks'
    """
    make = getattr(store, "locks", None)
    return make(lease) if make is not None else MemoryLocks()


def install_lock_guards(app: Flask) -> None:
    """Answer 503 when a request could not get its session's lock; always release it."""

    @app.before_request
    def refuse_when_lock_timed_out() -> None:
        message = getattr(session, "lock_error", None)
        if message:
            abort(503, description=message)

    @app.teardown_request
    def release_session_lock(_error: BaseException | None) -> None:
        interface = app.session_interface
        current = opened_session()  # None when the store failed before it could open
        if isinstance(interface, ServerSessionInterface) and current is not None:
            interface.release_lock(current)
