"""RedisStore: one Redis key per session, expiring by itself, shared by every process.

Like connect-redis, each session is one string key ``<prefix><sid>``, and its expiry is the
key's TTL: Redis deletes expired sessions itself, so nothing ever scans live ones to find the
dead. The value is ``<expires> <json>``: the expiry (epoch seconds) in front of the JSON, so
that reading a session is one GET, the hot path's only round trip. The JSON is
``{"created": ..., "data": ..., "f": <format>}``; values written before the format marker
have no ``"f"`` and read as plain JSON (see base.py). ``touch`` is a script that
swaps that prefix and the TTL in one atomic step and leaves the JSON byte for byte, so a
read-only request cannot undo a concurrent write, and a destroyed session stays destroyed.
Listing uses SCAN, never KEYS, so a big keyspace never blocks the server.

The hot path's commands (GET on every request, SET, DEL) go straight to a connection of
the store's own (see :class:`Connections`): redis-py's ``Redis.get`` spends two thirds of
its CPU on what sits around the round trip (retries, events, metrics). For a Redis on this
machine (a Unix socket), reads are cached until Redis says the key changed, and a write on
one worker is seen by the next request on any other (see redis_cache.py); a Redis reached
over TCP is read on every request.

redis-py is imported when a RedisStore is made, not when sessionlab is imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import time
from collections.abc import Iterator
from typing import Any

from .base import PLAIN, PLAIN_JSON, POLL, Codec, DecodedMemo, Record, lock_timeout
from .redis_cache import ReadCache

DEFAULT_PREFIX = "sess:"
# How every tag of Flask's tagged JSON starts: an object whose one key begins with a space.
# A record without it has nothing to untag, which spares most records a walk in Python.
TAG_MARK = '{" '
BATCH = 1000  # keys per SCAN step and per batched read

# One SCAN step and what it found, as four blobs: the ids, the expiries, the JSON texts (a
# JSON array's inside) and a flag per text, "1" where it holds an object whose first key
# starts with a space: a tag (see TAG_MARK), which only those need reading for. redis-py
# parses every element of a reply in Python, and one element per session made that most of
# the time a 100k listing took; with four per step, Python's part is a few splits, a single
# json.loads, and untagging only the records that have tags.
SCAN_STEP = """
local found = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local keys = found[2]
local ids, expiries, texts, flags = {}, {}, {}, {}
if #keys > 0 then
    local values = redis.call('MGET', unpack(keys))
    local id_start = string.len(ARGV[4]) + 1
    for i, key in ipairs(keys) do
        local value = values[i]
        if value then
            local space = string.find(value, ' ', 1, true)
            ids[#ids + 1] = string.sub(key, id_start)
            expiries[#expiries + 1] = string.sub(value, 1, space - 1)
            texts[#texts + 1] = string.sub(value, space + 1)
            flags[#flags + 1] = string.find(value, ARGV[5], space, true) and '1' or '0'
        end
    end
end
return {
    found[1],
    table.concat(ids, '\\n'),
    table.concat(expiries, ' '),
    table.concat(texts, ','),
    table.concat(flags),
}
"""

# Move a session's expiry (the value's prefix and the key's TTL) without touching its data.
TOUCH = """
local value = redis.call('GET', KEYS[1])
if not value then
    return 0
end
local json = string.sub(value, string.find(value, ' ', 1, true) + 1)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. json, 'PX', ARGV[2])
return 1
"""


class RedisStore:
    """Sessions in Redis, one key each, under ``prefix``.

    ``url`` names a Redis server (``redis://127.0.0.1:6379/0``). ``store="redis"`` in
    ``sl.start()`` starts a private redis-server for it (see redis_server.py).

    >>> from sessionlab.server.redis_server import shared_redis_server
    >>> store = shared_redis_server().store(prefix="doc:")
    >>> store.set(Record("abc", {"name": "alice"}, created=0.0, expires=time.time() + 60))
    >>> store.get("abc").data
    {'name': 'alice'}
    >>> store.clear()
    """

    kind = "redis"

    def __init__(
        self, url: str, *, prefix: str = DEFAULT_PREFIX, codec: Codec = PLAIN, server: Any = None
    ) -> None:
        import redis  # lazily: most sessions never need it
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.codec = codec
        self._decoded = DecodedMemo()
        self.url = url
        self.prefix = prefix
        self.server = server  # the RedisServer this store's data lives in, when the lab runs it
        # One quick retry: it reconnects a pooled connection broken by a Redis restart; more,
        # with backoff, would only make a request wait longer for a Redis that is down.
        self.redis = redis.Redis.from_url(
            url,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
        self.connections = Connections(self.redis.connection_pool)
        self.cache = ReadCache(url, prefix) if url.startswith("unix://") else None
        self._scan_step = self.redis.register_script(SCAN_STEP)
        self._touch = self.redis.register_script(TOUCH)

    def key(self, sid: str) -> str:
        return self.prefix + sid

    def get(self, sid: str) -> Record | None:
        key = self.key(sid)
        if self.cache is None:
            value = self.connections.command("GET", key)
        else:
            value = self.cache.read(key, lambda: self.connections.command("GET", key))
        if not isinstance(value, bytes):  # None: no such key (the client does not decode)
            return None
        codec = self.codec
        data, (created, expires) = self._decoded.decode(
            value, codec, lambda: parts(value, codec), len(value)
        )
        record = Record(sid, data, created, expires)
        return None if record.is_expired() else record

    def set(self, record: Record) -> None:
        value = encode(record, self.codec)
        key = self.key(record.sid)
        if record.expires == float("inf"):
            self.connections.command("SET", key, value)
            self._written(key)
            return
        ttl_ms = int((record.expires - time.time()) * 1000)
        if ttl_ms <= 0:
            self.destroy(record.sid)  # already expired: nothing to keep
        else:
            self.connections.command("SET", key, value, "PX", ttl_ms)
            self._written(key)

    def destroy(self, sid: str) -> None:
        self.connections.command("DEL", self.key(sid))
        self._written(self.key(sid))

    def touch(self, sid: str, expires: float) -> None:
        ttl_ms = max(1, int((expires - time.time()) * 1000))
        self._touch(keys=[self.key(sid)], args=[repr(expires), ttl_ms])
        self._written(self.key(sid))

    def _written(self, key: str | None) -> None:
        """After a write, before the response leaves: a PING, which Redis reads only after
        it has sent the write's invalidations to every worker (redis_cache.py), so the
        next request anywhere finds them; then this process's own copy goes."""
        if self.cache is None:
            return
        self.connections.command("PING")
        if key is None:
            self.cache.forget_all()
        else:
            self.cache.forget(key)

    def all(self) -> list[Record]:
        sids: list[str] = []
        expiries: list[bytes] = []
        texts: list[bytes] = []
        tagged: list[bytes] = []
        cursor, pattern = b"0", glob_escape(self.prefix) + "*"
        while True:
            cursor, ids, expires, json_texts, flags = self._scan_step(
                args=[cursor, pattern, BATCH, self.prefix, TAG_MARK]
            )
            if ids:
                sids += ids.decode().split("\n")
                expiries += expires.split(b" ")
                texts.append(json_texts)
                tagged.append(flags)
            if cursor == b"0":
                break
        stored = json.loads(b"[" + b",".join(texts) + b"]")  # one parse, not one per record
        now = time.time()
        flags = b"".join(tagged)
        records = [
            Record(sid, revive(value, self.codec, flag == 49), value["created"], float(expires))
            for sid, expires, value, flag in zip(sids, expiries, stored, flags, strict=True)
        ]  # 49 is b"1"[0]
        live = (record for record in records if not record.is_expired(now))
        return sorted(live, key=lambda record: record.created)

    def length(self) -> int:
        return sum(len(keys) for keys in self._key_batches())

    def clear(self) -> None:
        for keys in self._key_batches():
            self.redis.unlink(*keys)
        self._written(None)

    def prune(self) -> int:
        """Nothing to do: Redis deletes each session when its TTL runs out."""
        return 0

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.connections.close()
        self.redis.close()

    def locks(self, lease: float = 30.0) -> RedisLocks:
        """Per-session locks in this Redis: every process that reaches it sees them."""
        return RedisLocks(self.redis, f"lock:{self.prefix}", lease)

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process connects to the same server under the same prefix. The codec is
        # not sent: the app in that process gives the store its own.
        return (reopen, (self.url, self.prefix))

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
        return f"RedisStore({redact(self.url)!r}, prefix={self.prefix!r})"


def redact(url: str) -> str:
    """The URL with its password hidden (a handle's repr is shown in notebooks).

    >>> redact("redis://:s3cret@127.0.0.1:6379/0")
    'redis://:***@127.0.0.1:6379/0'
    >>> redact("unix:///tmp/x/redis.sock?db=0&password=s3cret")
    'unix:///tmp/x/redis.sock?db=0&password=***'
    """
    url = re.sub(r"([?&]password=)[^&]*", r"\1***", url)
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)


class Connections:
    """Connections of the store's own, each lent to one thread per command: one command,
    one round trip, none of redis-py's per-call machinery around it.

    Made by the redis-py pool (so with its URL's options: socket, TLS, password,
    database), kept in a queue that threads share. A connection that fails is dropped and
    the command tried once more on a new one, as redis-py retries; the second failure is
    raised, as redis-py's own errors. A process that inherited the store from its parent
    (fork) starts with connections of its own.
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pid = os.getpid()

    def command(self, *args: Any) -> Any:
        from redis.exceptions import ConnectionError, TimeoutError

        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._idle, self._pid = queue.SimpleQueue(), os.getpid()
        for attempt in (1, 2):
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = self.pool.make_connection()
            try:
                connection.send_packed_command(connection.pack_command(*args), False)
                reply = connection.read_response()
            except (ConnectionError, TimeoutError, OSError):
                connection.disconnect()  # dropped: never lent again
                if attempt == 2:
                    raise
                continue
            except BaseException:
                connection.disconnect()  # a reply may still be on its way: not reusable
                raise
            self._idle.put(connection)
            return reply
        raise AssertionError("unreachable")

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().disconnect()
            except queue.Empty:
                return


def reopen(url: str, prefix: str) -> RedisStore:
    return RedisStore(url, prefix=prefix)


def encode(record: Record, codec: Codec = PLAIN) -> str:
    """``<expires> <json>``: the expiry first, so reading a session is one GET.

    >>> encode(Record("abc", {"n": 1}, created=2.0, expires=3.0))
    '3.0 {"created":2.0,"data":{"n":1},"f":0}'
    """
    created, data = json.dumps(record.created), codec.dumps(record.data)
    return f'{record.expires!r} {{"created":{created},"data":{data},"f":{codec.format}}}'


def parts(value: bytes, codec: Codec) -> tuple[dict[str, Any], tuple[float, float]]:
    """A stored value's data, and its creation and expiry times."""
    expires, stored = value.split(b" ", 1)
    envelope: dict[str, Any] = json.loads(stored)
    data = revive(envelope, codec, TAG_MARK.encode() in stored)
    return data, (envelope["created"], float(expires))


def revive(envelope: dict[str, Any], codec: Codec, has_tag_mark: bool) -> Any:
    """The session data of a parsed value, read with the codec that wrote it (which only
    changes anything where the text has a tag's mark)."""
    if has_tag_mark and envelope.get("f", PLAIN_JSON) == codec.format:
        return codec.revive(envelope["data"])
    return envelope["data"]


def glob_escape(text: str) -> str:
    r"""Escape SCAN MATCH's glob characters, so a prefix matches only itself.

    >>> glob_escape("sess:a*b")
    'sess:a\\*b'
    """
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisLocks:
    """A lock per session id in Redis, with redis-py's Lock (a lease with a checked release)."""

    def __init__(self, redis: Any, prefix: str, lease: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease = lease

    def acquire(self, sid: str, timeout: float) -> Any:
        lock = self.redis.lock(
            f"{self.prefix}{sid}", timeout=self.lease, sleep=POLL, blocking_timeout=timeout
        )
        if not lock.acquire():
            raise lock_timeout(timeout)
        return lock

    def release(self, lock: Any) -> None:
        with contextlib.suppress(Exception):  # the lease ran out: the lock is already gone
            lock.release()
