"""Opening a store from its name (the lab's) or its URL (the Flask extension's), and a
stand-in for servers the lab cannot list."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from .redis_server import shared_redis_server
from .stores import STORE_NAMES, MemoryStore, Record, RedisStore, SQLiteStore, Store


def open_store(store: str | Store, *, name: str = "sessionlab") -> Store:
    """A store from its name ("memory", "sqlite", "redis"), or the store object itself.

    "redis" starts this process's private redis-server on first use; ``name`` (the server's
    cookie name) is the key prefix, so servers sharing it stay apart and a restarted server
    with the same name finds its sessions again.

    >>> open_store("memory").kind
    'memory'
    """
    if not isinstance(store, str):
        return store
    if store == "memory":
        return MemoryStore()
    if store == "sqlite":
        return SQLiteStore()
    if store == "redis":
        return RedisStore(shared_redis_server().socket_url, prefix=f"sess:{name}:")
    if store == "cookie":  # the session is in the cookie: nothing on the server to list
        return UnlistedStore()
    raise ConfigError(f"unknown store {store!r}: choose one of {', '.join(sorted(STORE_NAMES))}")


URL_FORMS = "memory://, sqlite:///relative/path, sqlite:////absolute/path, redis://host:port/db"


def store_from_url(url: str, *, instance_path: str | Path, prefix: str) -> Store:
    """A store from a URL, in SQLAlchemy's spelling for SQLite and redis-py's for Redis.

    ``sqlite:///name.db`` is relative to the app's instance folder (made if missing, as
    Flask-SQLAlchemy makes it), ``sqlite:////abs/name.db`` absolute, ``sqlite://`` a
    temporary file; ``redis://``, ``rediss://`` and ``unix://`` URLs go to
    ``redis.Redis.from_url``, with ``prefix`` in front of every key.

    >>> store_from_url("memory://", instance_path=".", prefix="s:").kind
    'memory'
    >>> store_from_url("postgres://db/s", instance_path=".", prefix="s:")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: SESSIONLAB_STORE='postgres://db/s' is not a store URL ...
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme = ""
    if scheme == "memory" and not rest:
        return MemoryStore()
    if scheme == "sqlite":
        if not rest:
            return SQLiteStore()
        if rest.startswith("/") and len(rest) > 1:
            path = Path(rest[1:])  # sqlite:///x -> "x" (relative), sqlite:////x -> "/x"
            if not path.is_absolute():
                path = Path(instance_path) / path
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise ConfigError(
                    f"SESSIONLAB_STORE={url!r}: the folder {path.parent} does not exist"
                )
            return SQLiteStore(path)
    if scheme in ("redis", "rediss", "unix"):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  # raises ValueError on a port that is not a number
            if scheme != "unix" and parts.path.strip("/") and not parts.path[1:].isdigit():
                raise ValueError(f"the database {parts.path[1:]!r} is not a number")
            return RedisStore(url, prefix=prefix)
        except ValueError as error:  # redis-py's own messages say what is wrong, too
            raise ConfigError(
                f"SESSIONLAB_STORE={url!r}: {error} (the form is redis://host:port/db)"
            ) from error
    raise ConfigError(
        f"SESSIONLAB_STORE={url!r} is not a store URL sessionlab knows: use {URL_FORMS}, "
        "or pass a Store object"
    )


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
