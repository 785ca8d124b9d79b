"""Session stores: one protocol, several places to keep sessions. No Flask in here.

Each store also owns what only it can know: the per-session locks that reach as far as it
does (``locks(lease)``) and how another process opens the same data (pickling).
"""

from .base import Record, SessionLocks, Store
from .memory import MemoryLocks, MemoryStore
from .redis import RedisStore
from .sqlite import SQLiteStore

# The names start() accepts: "cookie" keeps the session in Flask's cookie, not in a store.
STORE_NAMES = ("cookie", "memory", "sqlite", "redis")

__all__ = [
    "STORE_NAMES",
    "MemoryLocks",
    "MemoryStore",
    "Record",
    "RedisStore",
    "SQLiteStore",
    "SessionLocks",
    "Store",
]
