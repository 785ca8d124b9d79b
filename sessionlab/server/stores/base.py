"""The Store protocol: where server-side sessions live.

The verbs are express-session's (``get``, ``set``, ``destroy``, ``touch``, ``all``,
``length``, ``clear``) so that what a learner reads here maps one to one onto the Node
ecosystem. Stores know nothing about Flask or HTTP: they keep records keyed by session id,
and write their data as JSON text through a :class:`Codec`. The session interface hands
sessionlab's stores Flask's tagged JSON (server/codec.py), so tuples, bytes, datetimes, UUIDs
and Markup survive; a store made on its own writes plain JSON. Each record is stored with
the format that wrote it, so records written before a codec changed read back exactly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ...errors import SessionLockTimeout

POLL = 0.002  # seconds between attempts at a lock held elsewhere


@dataclass(frozen=True)
class Record:
    """One server-side session: its id, its data and when it was created and expires.

    Times are seconds since the epoch (``time.time()``).

    >>> Record("abc", {"name": "alice"}, created=0.0, expires=60.0).is_expired(now=61.0)
    True
    """

    sid: str
    data: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    expires: float = float("inf")

    def is_expired(self, now: float | None = None) -> bool:
        return self.expires <= (time.time() if now is None else now)


@runtime_checkable
class Store(Protocol):
    """What the session interface needs from a place that keeps sessions."""

    kind: str

    def get(self, sid: str) -> Record | None:
        """The live record for ``sid``, or None when unknown or expired."""

    def set(self, record: Record) -> None:
        """Create or replace a record."""

    def destroy(self, sid: str) -> None:
        """Delete a record; deleting an unknown id is not an error."""

    def touch(self, sid: str, expires: float) -> None:
        """Move a record's expiry without rewriting its data."""

    def all(self) -> list[Record]:
        """Every live record, oldest first."""

    def length(self) -> int:
        """How many live records there are."""

    def clear(self) -> None:
        """Delete every record."""

    def prune(self) -> int:
        """Delete expired records; return how many went."""

    def close(self) -> None:
        """Release files and connections."""


class SessionLocks(Protocol):
    """Per-session locks (``lock=True``): each store offers the kind that reaches as far as
    the store does, from its ``locks(lease)`` method."""

    def acquire(self, sid: str, timeout: float) -> Any:
        """Block until ``sid`` is ours (return a handle) or raise SessionLockTimeout."""

    def release(self, handle: Any) -> None:
        """Let the next request of this session in."""


def lock_timeout(timeout: float) -> SessionLockTimeout:
    """The error a request gets when its session stayed locked too long."""
    return SessionLockTimeout(
        f"this session stayed locked by another of its requests for more than {timeout:g} s: "
        "make requests shorter, or allow a longer wait (sl.start's lock_timeout=, "
        "SESSIONLAB_LOCK_TIMEOUT in a Flask app)"
    )


# The format marker stored beside each record's data.
PLAIN_JSON = 0  # plain JSON: every record written before sessionlab used tagged JSON
TAGGED_JSON = 1  # Flask's tagged JSON (flask.json.tag)


class Codec(Protocol):
    """How a store writes session data as JSON text and reads it back.

    ``format`` is stored with each record, so that a store can tell which codec wrote it.
    """

    format: int

    def dumps(self, data: dict[str, Any]) -> str:
        """Session data as compact JSON text."""

    def loads(self, text: str | bytes) -> dict[str, Any]:
        """Session data from JSON text this codec wrote."""

    def revive(self, parsed: Any) -> Any:
        """Session data from JSON this codec wrote, already parsed by ``json.loads``."""


class JSONCodec:
    """Plain JSON: what a store writes when nobody gave it a codec.

    >>> PLAIN.loads(PLAIN.dumps({"b": [1, 2], "a": "x"}))
    {'a': 'x', 'b': [1, 2]}
    """

    format = PLAIN_JSON

    def dumps(self, data: dict[str, Any]) -> str:
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    def loads(self, text: str | bytes) -> dict[str, Any]:
        return json.loads(text)

    def revive(self, parsed: Any) -> Any:
        return parsed


PLAIN = JSONCodec()


def reader(codec: Codec, format: int) -> Callable[[str | bytes], dict[str, Any]]:
    """How to read a record stored in ``format``: with the codec that wrote it, or as plain
    JSON (a record older than the codec, or one a store without that codec lists).

    >>> reader(PLAIN, TAGGED_JSON) == PLAIN.loads
    True
    """
    return codec.loads if format == codec.format else PLAIN.loads


# Values a shallow copy of a session's dict cannot share with the original: immutable.
IMMUTABLE_VALUES = frozenset({str, int, float, bool, type(None)})
# Decoded sessions a store remembers, then forgets them all: at most this many, and at most
# this many bytes of their stored text (a few MB in all, with the decoded copies).
MEMO_LIMIT = 10_000
MEMO_BYTES = 1_000_000


class DecodedMemo:
    """Session data by the stored text it was decoded from, so that a session read again
    unchanged costs a dict copy instead of a JSON parse (more than half of a cached Redis
    read, by py-spy on bench/hot_path.py).

    Only data whose values are all immutable (str, numbers, bool, None) is remembered, so
    each reader's copy shares nothing it could change. The text is the key: a record that
    changed has other text, so what is remembered is never stale. ``extra`` is what else was
    decoded with the data (Redis keeps the creation time in the same text).

    >>> memo = DecodedMemo()
    >>> first, _ = memo.decode("t", PLAIN, lambda: ({"name": "alice"}, None))
    >>> again, _ = memo.decode("t", PLAIN, lambda: 1 / 0)  # not decoded again
    >>> again == first and again is not first
    True
    """

    def __init__(self, limit: int = MEMO_LIMIT, byte_limit: int = MEMO_BYTES) -> None:
        self.limit = limit
        self.byte_limit = byte_limit
        self._known: dict[Hashable, tuple[Codec, dict[str, Any], Any]] = {}
        self._bytes = 0  # of the texts remembered: rewritten records leave theirs behind

    def decode(
        self,
        text: Hashable,
        codec: Codec,
        decode: Callable[[], tuple[dict[str, Any], Any]],
        size: int = 0,
    ) -> tuple[dict[str, Any], Any]:
        """``decode()``'s data and extra for ``text`` (``size`` bytes long), read by
        ``codec``: remembered or new."""
        known = self._known.get(text)
        if known is not None and known[0] is codec:
            return dict(known[1]), known[2]
        data, extra = decode()
        if all(type(value) in IMMUTABLE_VALUES for value in data.values()):
            if len(self._known) >= self.limit or self._bytes + size > self.byte_limit:
                self._known.clear()
                self._bytes = 0
            self._known[text] = (codec, data, extra)
            self._bytes += size
            data = dict(data)
        return data, extra

    def loads(self, text: str, format: int, codec: Codec) -> dict[str, Any]:
        """The data of a record stored as ``text`` in ``format`` (read as :func:`reader` says)."""
        data, _ = self.decode(
            (text, format), codec, lambda: (reader(codec, format)(text), None), len(text)
        )
        return data
