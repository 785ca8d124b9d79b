"""ReadCache: the sessions a process read from Redis, kept until Redis says they changed.

Redis's client-side caching (``CLIENT TRACKING ... BCAST PREFIX``, RESP3): one connection per
process, the listener, asks Redis to send it the name of every key under the store's prefix
that changes (written, deleted, expired, evicted; all of them on a flush). A read first takes
whatever Redis has sent (after a peek at the socket, :func:`has_input`), then answers from the
cache, or reads Redis and keeps the value. So the hot path's read costs no round trip while
nothing changes.

Why a read never returns what a write on another worker already replaced:

* Redis remembers a changed key while it runs the write; before its next pass over the
  clients' output it queues the key's invalidation to every listener
  (``trackingBroadcastInvalidationMessages`` comes before ``handleClientsWithPendingWrites``
  in ``beforeSleep``, Redis 6.0 to 7.x), so it is sent in the same pass as the write's reply.
* A worker that writes waits for that pass to end: after the write's reply it sends a PING,
  which Redis reads only in a later pass (:meth:`RedisStore._written`). Once the PING's reply
  is back, every listener's socket holds the invalidation.
* A Unix socket delivers a write into the reader's buffer before the write returns, so any
  request that starts after the writer's response sees the invalidation on its poll. Over TCP
  a network may deliver it late, so the cache is used only for a Redis reached by a Unix
  socket, that is on this machine; every read of a TCP Redis goes to Redis.
* Unless that listener was backed up: Redis sends to a client that still has output
  queued only when its socket has room again (and at most 64 KB per pass), so the PING
  proves nothing for it. A backed-up listener has a socket full of invalidations (a few
  hundred at least) to take first; so each time ``SYNC_AFTER`` invalidations have come in,
  the listener sends a PING of its own and reads up to its reply: Redis answers in order,
  so every invalidation queued before it, held back or not, is taken by then.
* A read racing a write keeps its value only if no invalidation for the key came in while it
  was on its way (a placeholder marks it, as Redis's documentation advises).
* A listener that fails (Redis restarted or killed) empties the cache, which serves nothing
  until a new listener is connected: sessions that a restart lost are not served from memory.

>>> from sessionlab.server.redis_server import shared_redis_server
>>> store = shared_redis_server().store(prefix="cache-doc:")
>>> store.cache is not None  # the private Redis is reached by its Unix socket
True
>>> store.close()
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

# Entries per process: about 10,000 sessions of a few hundred bytes, a few MB at most.
CACHE_LIMIT = 10_000
# Invalidations after which the listener catches up for certain with a PING of its own:
# far fewer than a full socket holds (about 300 when each carries one key; see the module).
SYNC_AFTER = 32


def _libc_recv() -> Any:
    """libc's ``recv``, called with the GIL held (ctypes.PyDLL), or None where unavailable."""
    try:
        recv = ctypes.PyDLL(None, use_errno=True).recv
    except (OSError, AttributeError):
        return None
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    recv.restype = ctypes.c_ssize_t
    return recv


_RECV = _libc_recv()
_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT
_ONE_BYTE = ctypes.create_string_buffer(1)


def has_input(sock: socket.socket) -> bool:
    """Whether the socket holds anything to read (or is closed): a peek at one byte that
    keeps the GIL. Python's poll, select and recv all let go of the GIL, even when they
    wait for nothing, and on a worker whose threads queue for it, taking it back cost more
    than the rest of a cached read (README, Benchmarks).

    >>> left, right = socket.socketpair()
    >>> has_input(left), right.send(b"x"), has_input(left)
    (False, 1, True)
    """
    if _RECV is None:
        return True  # then redis-py's own poll decides
    if _RECV(sock.fileno(), _ONE_BYTE, 1, _PEEK) >= 0:
        return True  # a byte, or 0 at the end of the stream: the parser must look
    return ctypes.get_errno() not in (errno.EAGAIN, errno.EWOULDBLOCK)


class ReadCache:
    """Values of keys under ``prefix``, per process, invalidated by Redis (see the module)."""

    def __init__(self, url: str, prefix: str, limit: int = CACHE_LIMIT) -> None:
        self.url = url
        self.prefix = prefix
        self.limit = limit
        self.enabled = True  # False for good once Redis refuses tracking (before 6.0)
        self._values: dict[str, object] = {}  # a value (bytes), or a read's placeholder
        self._lock = threading.Lock()
        _CACHES.add(self)  # a fork gives the child a fresh lock: see _after_fork
        self._listener: Any = None
        self._socket: Any = None  # the listener's socket, polled by has_input
        self._pid = os.getpid()
        self._taken = 0  # invalidations taken since the listener last caught up for certain

    def read(self, key: str, fetch: Callable[[], Any]) -> Any:
        """The key's value: from the cache when Redis has not said it changed, else
        ``fetch()`` (a GET), kept unless an invalidation raced it."""
        with self._lock:
            if not self._catch_up():
                return fetch()
            value = self._values.get(key)
            if isinstance(value, bytes):
                return value
            placeholder = self._values[key] = object()
        try:
            value = fetch()
        except BaseException:
            with self._lock:
                self._drop(key, placeholder)
            raise
        with self._lock:
            self._catch_up()  # an invalidation that came while the GET was out drops it
            if self._values.get(key) is placeholder:
                if isinstance(value, bytes):
                    self._values[key] = value
                    self._evict()
                else:
                    del self._values[key]  # no such session: not remembered
        return value

    def forget(self, key: str) -> None:
        """Drop a key this process wrote (its own invalidation also comes, later)."""
        with self._lock:
            self._values.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._values.clear()

    def close(self) -> None:
        with self._lock:
            self._disconnect()

    def __len__(self) -> int:
        return sum(1 for value in list(self._values.values()) if isinstance(value, bytes))

    # -- the listener ------------------------------------------------------------------

    def _catch_up(self) -> bool:
        """Apply what Redis sent; False when there is no working listener (then the cache,
        emptied, must not be used)."""
        if self._pid != os.getpid():  # forked: the parent's listener and values are not ours
            self._values, self._listener, self._pid = {}, None, os.getpid()
        if not self.enabled:
            return False
        try:
            if self._listener is None:
                self._listener = self._listen()
                self._drain()
            elif self._listener._sock is not self._socket:  # redis-py reconnected it
                raise ConnectionError("the listener's connection was replaced")
            elif has_input(self._socket):
                self._drain()
            if self._taken >= SYNC_AFTER:
                self._sync()
        except Exception as error:
            self._disconnect()
            if "unknown command" in str(error).lower():  # HELLO or TRACKING: before Redis 6
                self.enabled = False
            return False
        return True

    def _sync(self) -> None:
        """Take every invalidation Redis queued for the listener, held back or not: they
        come before the reply to a PING sent now."""
        self._listener.send_command("PING")
        while self._listener.read_response() not in (b"PONG", "PONG"):  # pushes go to _apply
            pass
        self._taken = 0
        self._drain()

    def _drain(self) -> None:
        """Apply every push that came in, up to what the parser holds: when this returns,
        what is not yet taken is all in the socket, where :func:`has_input` sees it."""
        while self._listener.can_read(timeout=0):  # each push goes to _apply
            self._listener.read_response(push_request=True)

    def _listen(self) -> Any:
        import redis

        pool = redis.Redis.from_url(self.url, protocol=3, socket_timeout=5).connection_pool
        listener: Any = pool.make_connection()
        listener.connect()
        listener._parser.set_invalidation_push_handler(self._apply)  # redis-py has no public way
        listener.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix)
        if listener.read_response() not in (b"OK", "OK"):
            raise ConnectionError("Redis did not turn tracking on")
        self._values.clear()  # nothing read before this moment is known to be current
        self._taken = 0
        self._socket = listener._sock
        return listener

    def _apply(self, push: Any) -> None:
        if not (isinstance(push, list) and push and push[0] in (b"invalidate", "invalidate")):
            return
        keys = push[1] if len(push) > 1 else None
        if keys is None:  # a flush: every key went
            self._values.clear()
            return
        for key in keys:
            self._values.pop(key.decode() if isinstance(key, bytes) else key, None)
            self._taken += 1

    def _forked(self) -> None:
        """In a forked child: nothing of the parent's. Its lock may have been held by another
        thread of the parent at the fork, which the child does not have: taken, it would
        never be given back."""
        self._lock = threading.Lock()
        self._values, self._listener, self._socket = {}, None, None
        self._pid = os.getpid()
        self._taken = 0

    def _disconnect(self) -> None:
        self._values.clear()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                listener.disconnect()

    def _drop(self, key: str, placeholder: object) -> None:
        if self._values.get(key) is placeholder:
            del self._values[key]

    def _evict(self) -> None:
        while len(self._values) > self.limit:  # the oldest first (dicts keep insertion order)
            del self._values[next(iter(self._values))]


_CACHES: weakref.WeakSet[ReadCache] = weakref.WeakSet()


def _after_fork() -> None:
    for cache in list(_CACHES):
        cache._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
