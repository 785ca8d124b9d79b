"""MemoryStore: a dict in this process, like express-session's MemoryStore.

Unlike express-session's, it removes expired records without waiting for them to be read:
an expiry-ordered heap lets ``prune`` pop only what has expired, never scanning live ones.
Each write pushes an entry, so entries of rewritten or deleted records go stale; once stale
ones outnumber the records, the heap is rebuilt from the records (amortised O(1) a write), so
it never holds more than about twice as many entries as there are sessions. ``max_records``
bounds the records: a new session beyond it is refused (StoreUnavailable, a 503).
Records live and die with the process, and are not shared between worker processes.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

from ...errors import StoreUnavailable
from .base import PLAIN, Codec, DecodedMemo, Record, lock_timeout, reader

SLACK = 32  # heap entries allowed beyond twice the records before a rebuild


class MemoryStore:
    """Sessions in a dict guarded by a lock.

    >>> store = MemoryStore()
    >>> store.set(Record("abc", {"name": "alice"}, created=0.0, expires=time.time() + 60))
    >>> store.get("abc").data
    {'name': 'alice'}
    """

    kind = "memory"

    def __init__(self, codec: Codec = PLAIN, max_records: int | None = None) -> None:
        self.codec = codec
        self._decoded = DecodedMemo()
        self.max_records = max_records
        # sid -> (json, its format, created, expires)
        self._records: dict[str, tuple[str, int, float, float]] = {}
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def get(self, sid: str) -> Record | None:
        with self._lock:
            row = self._records.get(sid)
        if row is None:
            return None
        text, format, created, expires = row
        data = self._decoded.loads(text, format, self.codec)
        record = Record(sid, data, created, expires)
        if record.is_expired():
            self.destroy(sid)
            return None
        return record

    def set(self, record: Record) -> None:
        # Stored as JSON, as a real store would, so callers never share mutable data.
        row = (self.codec.dumps(record.data), self.codec.format, record.created, record.expires)
        if self.max_records is not None and record.sid not in self._records:
            self._make_room()
        with self._lock:
            self._records[record.sid] = row
            self._push(record.expires, record.sid)

    def _push(self, expires: float, sid: str) -> None:
        """Add a heap entry (the lock held); rebuild the heap when stale entries pile up."""
        heapq.heappush(self._expiries, (expires, sid))
        if len(self._expiries) > 2 * len(self._records) + SLACK:
            self._expiries = [(row[3], key) for key, row in self._records.items()]
            heapq.heapify(self._expiries)

    def _make_room(self) -> None:
        """Refuse a new record when the store is full, after pruning what has expired."""
        if len(self._records) < (self.max_records or 0):
            return
        self.prune()
        if len(self._records) >= (self.max_records or 0):
            raise StoreUnavailable(
                f"the memory store holds its limit of {self.max_records} sessions "
                "(limits={'sessions': ...}); old ones leave as they expire"
            )

    def destroy(self, sid: str) -> None:
        with self._lock:
            self._records.pop(sid, None)

    def touch(self, sid: str, expires: float) -> None:
        with self._lock:
            row = self._records.get(sid)
            if row is not None:
                self._records[sid] = (row[0], row[1], row[2], expires)
                self._push(expires, sid)

    def all(self) -> list[Record]:
        now = time.time()
        with self._lock:
            rows = list(self._records.items())
        records = [Record(sid, reader(self.codec, f)(j), c, e) for sid, (j, f, c, e) in rows]
        return sorted((r for r in records if not r.is_expired(now)), key=lambda r: r.created)

    def length(self) -> int:
        return len(self.all())

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._expiries.clear()

    def prune(self) -> int:
        """Pop expired entries off the heap; stale heap entries (touched records) are skipped."""
        now, removed = time.time(), 0
        with self._lock:
            while self._expiries and self._expiries[0][0] <= now:
                expires, sid = heapq.heappop(self._expiries)
                row = self._records.get(sid)
                if row is not None and row[3] == expires:
                    del self._records[sid]
                    removed += 1
        return removed

    def close(self) -> None:
        self.clear()

    def locks(self, lease: float = 30.0) -> MemoryLocks:
        """Per-session locks for this process (the store is one process anyway)."""
        return MemoryLocks()

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process gets a new, empty store: a dict cannot be shared (see workers.py).
        # The codec is not sent: the app in that process gives the store its own.
        return (MemoryStore, (PLAIN, self.max_records))

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._records)} records)"


class MemoryLocks:
    """A lock per session id, for one process.

    >>> locks = MemoryLocks()
    >>> handle = locks.acquire("abc", timeout=1)
    >>> locks.acquire("abc", timeout=0.01)
    Traceback (most recent call last):
    ...
    sessionlab.errors.SessionLockTimeout: this session stayed locked ...
    >>> locks.release(handle)
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[threading.Lock, int]] = {}  # sid -> (lock, waiters)
        self._guard = threading.Lock()

    def acquire(self, sid: str, timeout: float) -> str:
        with self._guard:
            lock, users = self._locks.get(sid, (threading.Lock(), 0))
            self._locks[sid] = (lock, users + 1)
        if lock.acquire(timeout=timeout):
            return sid
        self._forget(sid)
        raise lock_timeout(timeout)

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
