"""SQLiteStore: sessions in a SQLite file, shared by every thread and process that opens it.

One table (sid, data as JSON, the format that wrote it, created, expires) with an index on
expires, in WAL mode so readers never wait for a writer. A file made before the format
column existed gets it on open, its old rows marked plain JSON (see base.py). Expired rows
are invisible to ``get`` and removed by ``prune`` with one indexed DELETE that never touches
a live row.
"""

from __future__ import annotations

import os
import queue
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import ConfigError, StoreClosedError
from .base import PLAIN, PLAIN_JSON, POLL, Codec, DecodedMemo, Record, lock_timeout, reader

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    sid     TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    format  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
"""
# Files made before the format column: their rows are plain JSON, the column's default.
ADD_FORMAT = f"ALTER TABLE sessions ADD COLUMN format INTEGER NOT NULL DEFAULT {PLAIN_JSON}"


class ConnectionPool:
    """SQLite connections shared by threads: each statement borrows one and gives it back.

    Werkzeug serves every connection in a new thread, so a connection per thread would leave
    one open file per request behind. The pool holds as many as ran at once, no more. A
    connection whose statement failed is closed, not returned: the next one is opened afresh.

    >>> import tempfile
    >>> pool = ConnectionPool(Path(tempfile.mkdtemp()) / "doc.sqlite3")
    >>> pool.fetchone("SELECT 1 + 1")
    (2,)
    >>> pool.close()
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if str(path) == ":memory:" or str(path).startswith("file::memory:"):
            raise ConfigError("in-memory SQLite is one database per connection: give a file path")
        self.path = path
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        db = self._borrow()
        try:
            yield db
        except sqlite3.Error:
            self._discard(db)
            raise
        except BaseException:
            self._give_back(db)  # the caller's failure, not the connection's
            raise
        self._give_back(db)

    def _borrow(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosedError(f"the SQLite store at {self.path} is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

    def _give_back(self, db: sqlite3.Connection) -> None:
        if self._closed:
            db.close()  # closed while lent out: do not hand it out again
        else:
            self._idle.put(db)

    def _discard(self, db: sqlite3.Connection) -> None:
        """Close a connection that met a failure: it may keep it (one opened on a read-only
        file stays read-only after the file is writable again), so it is never lent again."""
        with self._lock:
            if db in self._opened:
                self._opened.remove(db)
        db.close()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._opened.append(db)
        return db

    # run and fetchone are the hot path's: borrowed without a generator-based context.

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Execute a statement; return how many rows it changed."""
        db = self._borrow()
        try:
            changed: int = db.execute(sql, params).rowcount
        except sqlite3.Error:
            self._discard(db)
            raise
        self._give_back(db)
        return changed

    def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        db = self._borrow()
        try:
            row: tuple[Any, ...] | None = db.execute(sql, params).fetchone()
        except sqlite3.Error:
            self._discard(db)
            raise
        self._give_back(db)
        return row

    def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as db:
            return db.execute(sql, params).fetchall()

    def script(self, sql: str) -> None:
        with self.connection() as db:
            db.executescript(sql)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()


class SQLiteStore:
    """Sessions in a SQLite database file.

    Without a path, the file lives in a private temporary folder removed by ``close()``.

    >>> store = SQLiteStore()
    >>> store.set(Record("abc", {"name": "alice"}, created=0.0, expires=time.time() + 60))
    >>> store.get("abc").data
    {'name': 'alice'}
    >>> store.close()
    """

    kind = "sqlite"

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, codec: Codec = PLAIN
    ) -> None:
        self.codec = codec
        self._decoded = DecodedMemo()
        self._tempdir = None
        if path is None:  # a private folder of our own, removed with the file by close()
            self._tempdir = tempfile.TemporaryDirectory(prefix="sessionlab-")
            path = Path(self._tempdir.name) / "sessions.sqlite3"
        self.path = Path(path)
        self.pool = ConnectionPool(self.path)
        self.pool.script(SCHEMA)
        self._add_format_column()

    def _add_format_column(self) -> None:
        columns = {row[1] for row in self.pool.fetchall("PRAGMA table_info(sessions)")}
        if "format" in columns:
            return
        try:
            self.pool.run(ADD_FORMAT)
        except sqlite3.OperationalError as error:  # another process added it first
            if "duplicate column" not in str(error):
                raise

    def get(self, sid: str) -> Record | None:
        row = self.pool.fetchone(
            "SELECT data, format, created, expires FROM sessions WHERE sid = ? AND expires > ?",
            (sid, time.time()),
        )
        if row is None:
            return None
        text, format, created, expires = row
        data = self._decoded.loads(text, format, self.codec)
        return Record(sid, data, created, expires)

    def set(self, record: Record) -> None:
        self.pool.run(
            "INSERT OR REPLACE INTO sessions (sid, data, format, created, expires) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                record.sid,
                self.codec.dumps(record.data),
                self.codec.format,
                record.created,
                record.expires,
            ),
        )

    def destroy(self, sid: str) -> None:
        self.pool.run("DELETE FROM sessions WHERE sid = ?", (sid,))

    def touch(self, sid: str, expires: float) -> None:
        self.pool.run("UPDATE sessions SET expires = ? WHERE sid = ?", (expires, sid))

    def all(self) -> list[Record]:
        rows = self.pool.fetchall(
            "SELECT sid, data, format, created, expires FROM sessions "
            "WHERE expires > ? ORDER BY created",
            (time.time(),),
        )
        return [
            Record(sid, reader(self.codec, format)(data), created, expires)
            for sid, data, format, created, expires in rows
        ]

    def length(self) -> int:
        query = "SELECT COUNT(*) FROM sessions WHERE expires > ?"
        (count,) = self.pool.fetchall(query, (time.time(),))[0]
        return int(count)

    def clear(self) -> None:
        self.pool.run("DELETE FROM sessions")

    def prune(self) -> int:
        return self.pool.run("DELETE FROM sessions WHERE expires <= ?", (time.time(),))

    def close(self) -> None:
        self.pool.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def locks(self, lease: float = 30.0) -> SQLiteLocks:
        """Per-session locks as rows of this file: every process that opens it sees them."""
        return SQLiteLocks(self.pool, lease)

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process opens the same file; it never owns (or removes) a temporary one.
        # The codec is not sent: the app in that process gives the store its own.
        return (SQLiteStore, (str(self.path),))

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


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
                raise lock_timeout(timeout)
            time.sleep(POLL)

    def release(self, handle: tuple[str, str]) -> None:
        self.pool.run("DELETE FROM session_locks WHERE sid = ? AND owner = ?", handle)
