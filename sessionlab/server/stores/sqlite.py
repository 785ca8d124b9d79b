"""SQLiteStore: sessions in a SQLite file, shared by every thread and process that opens it.

One table (sid, data as JSON, created, expires) with an index on expires, in WAL mode so
readers never wait for a writer. Expired rows are invisible to ``get`` and removed by
``prune`` with one indexed DELETE that never touches a live row.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from .base import Record, dumps, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    sid     TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
"""


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

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._tempdir = None if path else tempfile.TemporaryDirectory(prefix="sessionlab-")
        self.path = Path(path) if path else Path(self._tempdir.name) / "sessions.sqlite3"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._db.executescript(SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        """One connection per thread: sqlite3 connections must not cross threads."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def get(self, sid: str) -> Record | None:
        row = self._db.execute(
            "SELECT data, created, expires FROM sessions WHERE sid = ? AND expires > ?",
            (sid, time.time()),
        ).fetchone()
        return Record(sid, loads(row[0]), row[1], row[2]) if row else None

    def set(self, record: Record) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO sessions (sid, data, created, expires) VALUES (?, ?, ?, ?)",
            (record.sid, dumps(record.data), record.created, record.expires),
        )

    def destroy(self, sid: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))

    def touch(self, sid: str, expires: float) -> None:
        self._db.execute("UPDATE sessions SET expires = ? WHERE sid = ?", (expires, sid))

    def all(self) -> list[Record]:
        rows = self._db.execute(
            "SELECT sid, data, created, expires FROM sessions WHERE expires > ? ORDER BY created",
            (time.time(),),
        )
        return [Record(sid, loads(data), created, expires) for sid, data, created, expires in rows]

    def length(self) -> int:
        query = "SELECT COUNT(*) FROM sessions WHERE expires > ?"
        return self._db.execute(query, (time.time(),)).fetchone()[0]

    def clear(self) -> None:
        self._db.execute("DELETE FROM sessions")

    def prune(self) -> int:
        return self._db.execute("DELETE FROM sessions WHERE expires <= ?", (time.time(),)).rowcount

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()
        self._local = threading.local()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
