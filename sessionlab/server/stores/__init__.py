"""Session stores: one protocol, several places to keep sessions. No Flask in here."""

from .base import Record, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["MemoryStore", "Record", "SQLiteStore", "Store", "make_store"]

STORES = {"memory": MemoryStore, "sqlite": SQLiteStore}


def make_store(store: str | Store) -> Store:
    """A store from its name, or the store object itself.

    >>> make_store("memory").kind
    'memory'
    """
    if not isinstance(store, str):
        if not isinstance(store, Store):
            raise TypeError(f"store must be a name or implement the Store protocol, not {store!r}")
        return store
    try:
        return STORES[store]()
    except KeyError:
        names = ", ".join(sorted([*STORES, "cookie"]))
        raise ValueError(f"unknown store {store!r}: choose one of {names}") from None
