"""RedisStore: one Redis key per session, expiring by itself, shared by every process.

Like connect-redis, each session is one string key ``<prefix><sid>`` holding JSON, and its
expiry is the key's TTL: Redis deletes expired sessions itself, so nothing ever scans live
ones to find the dead. ``touch`` moves only the TTL (``PEXPIRE``), never the value, so a
read-only request cannot undo a concurrent write. Listing uses SCAN, never KEYS, so a big
keyspace never blocks the server, and values come back in pipelined batches.

redis-py is imported when a RedisStore is made, not when sessionlab is imported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from .base import Record

DEFAULT_PREFIX = "sess:"
BATCH = 1000  # keys per SCAN step and per batched read

# One SCAN step and the keys it found, as lines "<key> TAB <pttl> TAB <json>", in one reply.
# redis-py parses every element of a reply in Python; SCAN, then GET + PTTL per key, made
# that most of the time a 100k listing took. The JSON never holds a raw newline.
SCAN_STEP = """
local found = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local lines = {}
for _, key in ipairs(found[2]) do
    local value = redis.call('GET', key)
    if value then
        lines[#lines + 1] = key .. '\\t' .. redis.call('PTTL', key) .. '\\t' .. value
    end
end
return {found[1], table.concat(lines, '\\n')}
"""


class RedisStore:
    """Sessions in Redis, one key each, under ``prefix``.

    ``url`` names a Redis server (``redis://127.0.0.1:6379/0``); without one, a private
    redis-server is started on a free port of 127.0.0.1 and reused by later stores.

    >>> store = RedisStore(prefix="doc:")  # doctest: +SKIP
    >>> store.set(Record("abc", {"name": "alice"}, created=0.0, expires=time.time() + 60))
    ... # doctest: +SKIP
    >>> store.get("abc").data  # doctest: +SKIP
    {'name': 'alice'}
    """

    kind = "redis"

    def __init__(self, url: str | None = None, *, prefix: str = DEFAULT_PREFIX) -> None:
        import redis  # lazily: most sessions never need it

        if url is None:
            from ..redis_server import shared_redis_server

            url = shared_redis_server().url
        self.url = url
        self.prefix = prefix
        self.redis = redis.Redis.from_url(url, socket_timeout=10, health_check_interval=30)
        self._scan_step = self.redis.register_script(SCAN_STEP)

    def key(self, sid: str) -> str:
        return self.prefix + sid

    def get(self, sid: str) -> Record | None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.key(sid))
        pipe.pttl(self.key(sid))
        value, ttl_ms = pipe.execute()
        if value is None:
            return None
        record = decode(sid, value, ttl_ms, now := time.time())
        return None if record.is_expired(now) else record

    def set(self, record: Record) -> None:
        value = json.dumps(
            {"created": record.created, "data": record.data},
            separators=(",", ":"),
            sort_keys=True,
        )
        if record.expires == float("inf"):
            self.redis.set(self.key(record.sid), value)
            return
        ttl_ms = int((record.expires - time.time()) * 1000)
        if ttl_ms <= 0:
            self.destroy(record.sid)  # already expired: nothing to keep
        else:
            self.redis.set(self.key(record.sid), value, px=ttl_ms)

    def destroy(self, sid: str) -> None:
        self.redis.delete(self.key(sid))

    def touch(self, sid: str, expires: float) -> None:
        # PEXPIRE on a missing key does nothing: a touch never resurrects a destroyed session.
        self.redis.pexpire(self.key(sid), max(1, int((expires - time.time()) * 1000)))

    def all(self) -> list[Record]:
        rows: list[tuple[str, int]] = []
        values: list[bytes] = []
        cursor, pattern = b"0", glob_escape(self.prefix) + "*"
        while True:
            cursor, lines = self._scan_step(args=[cursor, pattern, BATCH])
            for line in lines.split(b"\n") if lines else []:
                key, ttl_ms, value = line.split(b"\t", 2)
                rows.append((key[len(self.prefix) :].decode(), int(ttl_ms)))
                values.append(value)
            if cursor == b"0":
                break
        now = time.time()
        stored = json.loads(b"[" + b",".join(values) + b"]")  # one parse, not one per record
        records = [
            Record(sid, value["data"], value["created"], expiry(ttl_ms, now))
            for (sid, ttl_ms), value in zip(rows, stored, strict=True)
        ]
        live = (record for record in records if not record.is_expired(now))
        return sorted(live, key=lambda record: record.created)

    def length(self) -> int:
        return sum(len(keys) for keys in self._key_batches())

    def clear(self) -> None:
        for keys in self._key_batches():
            self.redis.unlink(*keys)

    def prune(self) -> int:
        """Nothing to do: Redis deletes each session when its TTL runs out."""
        return 0

    def close(self) -> None:
        self.redis.close()

    def _key_batches(self) -> Iterator[list[str]]:
        """This store's keys, BATCH at a time, by SCAN (which never blocks the server)."""
        batch: list[str] = []
        for key in self.redis.scan_iter(match=glob_escape(self.prefix) + "*", count=BATCH):
            batch.append(key.decode())
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"


def decode(sid: str, value: bytes, ttl_ms: int, now: float) -> Record:
    """A record from its JSON value and the key's remaining TTL.

    PTTL says -1 for a key without expiry and -2 for a key that expired since it was read.
    """
    stored: dict[str, Any] = json.loads(value)
    return Record(sid, stored["data"], stored["created"], expiry(ttl_ms, now))


def expiry(ttl_ms: int, now: float) -> float:
    return float("inf") if ttl_ms == -1 else now + max(ttl_ms, 0) / 1000


def glob_escape(text: str) -> str:
    r"""Escape SCAN MATCH's glob characters, so a prefix matches only itself.

    >>> glob_escape("sess:a*b")
    'sess:a\\*b'
    """
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
