"""Session stores: one protocol, several places to keep sessions. No Flask in here."""

from .base import Record, Store
from .memory import MemoryStore
from .redis import RedisStore
from .sqlite import SQLiteStore

__all__ = ["MemoryStore", "Record", "RedisStore", "SQLiteStore", "Store", "make_store"]


def _redis_store(name: str) -> Store:
    # One private redis-server per process; each server name gets its own key prefix, so a
    # restarted server with the same name finds its sessions again.
    return RedisStore(prefix=f"sess:{name}:")


STORES = {
    "memory": lambda name: MemoryStore(),
    "sqlite": lambda name: SQLiteStore(),
    "redis": _redis_store,
}


def make_store(store: str | Store, *, name: str = "sessionlab") -> Store:
    """A store from its name, or the store object itself.

    ``name`` (the server's cookie name) keeps servers apart in a shared Redis.

    >>> make_store("memory").kind
    'memory'
    """
    if not isinstance(store, str):
        if not isinstance(store, Store):
            raise TypeError(f"store must be a name or implement the Store protocol, not {store!r}")
        return store
    try:
        factory = STORES[store]
    except KeyError:
        names = ", ".join(sorted([*STORES, "cookie"]))
        raise ValueError(f"unknown store {store!r}: choose one of {names}") from None
    return factory(name)
