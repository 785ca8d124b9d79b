"""Opening a server's store from its name, and a stand-in for servers the lab cannot list."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .redis_server import shared_redis_server
from .stores import STORE_NAMES, MemoryStore, Record, SQLiteStore, Store


def open_store(
    store: str | Store, *, name: str = "sessionlab", max_records: int | None = None
) -> Store:
    """A store from its name ("memory", "sqlite", "redis"), or the store object itself.

    "redis" starts this process's private redis-server on first use; ``name`` (the server's
    cookie name) is the key prefix, so servers sharing it stay apart and a restarted server
    with the same name finds its sessions again. ``max_records`` bounds a memory store
    (``Limits.sessions``); SQLite and Redis are bounded by their disk and memory settings.

    >>> open_store("memory").kind
    'memory'
    """
    if not isinstance(store, str):
        return store
    if store == "memory":
        return MemoryStore(max_records=max_records)
    if store == "sqlite":
        return SQLiteStore()
    if store == "redis":
        return shared_redis_server().store(prefix=f"sess:{name}:")
    if store == "cookie":  # the session is in the cookie: nothing on the server to list
        return UnlistedStore()
    raise ConfigError(f"unknown store {store!r}: choose one of {', '.join(sorted(STORE_NAMES))}")


class UnlistedStore:
    """Stands in for a store the lab cannot list: the tables then show an empty server.

    >>> UnlistedStore().all()
    []
    """

    def __init__(
        self,
        kind: str = "cookie",
        why: str = "the server keeps nothing: the session is in the cookie",
    ) -> None:
        self.kind = kind
        self.why = why

    def get(self, sid: str) -> Record | None:
        return None

    def set(self, record: Record) -> None:
        raise TypeError(f"{self!r} cannot keep records")

    def destroy(self, sid: str) -> None:
        pass

    def touch(self, sid: str, expires: float) -> None:
        pass

    def all(self) -> list[Record]:
        return []

    def length(self) -> int:
        return 0

    def clear(self) -> None:
        pass

    def prune(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnlistedStore, (self.kind, self.why))

    def __repr__(self) -> str:
        return f"UnlistedStore({self.kind!r}: {self.why})"
