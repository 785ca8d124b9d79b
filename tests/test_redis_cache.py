"""The read cache of a Redis on this machine (redis_cache.py), against a real redis-server:
reads cost no round trip while nothing changes, and a write, a logout or a restart anywhere
is never answered from memory afterwards."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from sessionlab.server import redis_server
from sessionlab.server.stores import Record, RedisStore
from tests.conftest import need_service


@pytest.fixture(scope="module")
def private_redis():
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:
        yield server


def local_store(server: redis_server.RedisServer, prefix: str) -> RedisStore:
    return RedisStore(server.socket_url, prefix=prefix, server=server)


def record(sid: str, ttl: float = 60.0, **data) -> Record:
    now = time.time()
    return Record(sid, data, created=now, expires=now + ttl)


def gets_seen_by_redis(store: RedisStore) -> int:
    stats = store.redis.info("commandstats").get("cmdstat_get", {"calls": 0})
    return int(stats["calls"])


def test_reads_cost_no_round_trip_until_the_key_changes(private_redis):
    store = local_store(private_redis, "c:reads:")
    store.set(record("abc", name="alice"))
    before = gets_seen_by_redis(store)
    for _ in range(200):
        assert store.get("abc").data == {"name": "alice"}
    assert gets_seen_by_redis(store) - before == 1  # the first read; the rest from memory
    store.set(record("abc", name="bob"))
    assert store.get("abc").data == {"name": "bob"}
    assert gets_seen_by_redis(store) - before == 2
    store.clear()
    store.close()


def test_a_redis_over_tcp_is_read_on_every_request(private_redis):
    """Over a network an invalidation may arrive late: no cache there."""
    store = RedisStore(private_redis.url, prefix="c:tcp:")
    assert store.cache is None
    store.set(record("abc", name="alice"))
    before = gets_seen_by_redis(store)
    for _ in range(50):
        store.get("abc")
    assert gets_seen_by_redis(store) - before == 50
    store.clear()
    store.close()


def test_what_one_store_writes_the_next_read_of_another_sees(private_redis):
    """Two stores, two caches, two listeners, one thread: every read follows a write."""
    writer, reader = local_store(private_redis, "c:two:"), local_store(private_redis, "c:two:")
    for i in range(1000):
        writer.set(record("k", v=i))
        assert reader.get("k").data == {"v": i}
        if i % 3 == 0:
            reader.set(record("k", v=-i))
            assert writer.get("k").data == {"v": -i}
        if i % 7 == 0:
            writer.destroy("k")  # a logout
            assert reader.get("k") is None
            writer.set(record("k", v=i))
    writer.clear()
    assert reader.get("k") is None
    writer.close()
    reader.close()


def read_on_cue(url: str, cues, answers) -> None:
    """In another process: read the key each time the writer says what it must hold."""
    store = RedisStore(url, prefix="c:proc:")
    wrong = 0
    while (expected := cues.recv()) is not None:
        got = store.get("k")
        wrong += (got is not None) if expected == "gone" else (got is None or got.data != expected)
        answers.send(len(store.cache or ()))
    answers.send(wrong)


def test_a_worker_never_serves_what_another_process_replaced(private_redis):
    """The causal chain of two workers behind one client: the writer's response, then the
    reader's request. The reader caches between cues (its cache is used) and still never
    answers with a value or a session the writer had already replaced or destroyed."""
    context = multiprocessing.get_context("spawn")
    cue_out, cue_in = context.Pipe()
    answer_out, answer_in = context.Pipe()
    reader = context.Process(
        target=read_on_cue, args=(private_redis.socket_url, cue_in, answer_in)
    )
    reader.start()
    writer = local_store(private_redis, "c:proc:")
    cached = 0
    try:
        for i in range(600):
            if i % 5 == 4:
                writer.destroy("k")
                cue_out.send("gone")
            else:
                writer.set(record("k", v=i))
                cue_out.send({"v": i})
            cached += answer_out.recv()
            if i % 2:  # the same value read again: from the reader's cache
                cue_out.send("gone" if i % 5 == 4 else {"v": i})
                cached += answer_out.recv()
        cue_out.send(None)
        assert answer_out.recv() == 0  # stale answers
        assert cached > 0  # the reader's cache held values: this tested the cache
    finally:
        reader.join(timeout=10)
        writer.clear()
        writer.close()


def test_a_restarted_redis_that_lost_everything_is_not_answered_from_memory():
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:  # volatile: a restart loses every key
        store = local_store(server, "c:restart:")
        store.set(record("abc", name="alice"))
        assert store.get("abc").data == {"name": "alice"}
        assert len(store.cache) == 1
        server.restart()
        assert store.get("abc") is None
        store.close()


def test_an_expired_session_is_not_answered_from_memory(private_redis):
    store = local_store(private_redis, "c:expiry:")
    store.set(record("short", ttl=0.3, name="alice"))
    assert store.get("short").data == {"name": "alice"}
    time.sleep(0.4)
    assert store.get("short") is None
    store.close()


def test_the_cache_is_bounded(private_redis):
    store = local_store(private_redis, "c:bound:")
    assert store.cache is not None
    store.cache.limit = 50
    for n in range(120):
        store.set(record(f"s{n}", n=n))
        store.get(f"s{n}")
    assert len(store.cache) <= 50
    assert store.get("s0").data == {"n": 0}  # evicted: read from Redis again
    store.clear()
    store.close()


def test_a_backed_up_listener_still_takes_the_invalidation_of_a_finished_write(private_redis):
    """A worker idle while others write has a socket full of invalidations, and Redis holds
    the rest back (a reviewer's case): after another worker's write and PING have finished,
    and with Redis busy for a moment so that it cannot refill the socket, this worker's next
    read must still not answer with the value that write replaced."""
    import socket as sockets

    reader = local_store(private_redis, "c:behind:")
    writer = local_store(private_redis, "c:behind:")
    writer.set(record("K", v=1))
    assert reader.get("K").data == {"v": 1}  # cached
    for n in range(400):  # other workers' traffic, the reader idle
        writer.redis.set(f"c:behind:other{n:06d}-" + "x" * 32, "v")
    writer.set(record("K", v=2))  # the write and its PING are done: the response went out
    held = [
        client
        for client in writer.redis.client_list()
        if "t" in client["flags"] and int(client["obl"]) + int(client["oll"]) > 0
    ]
    assert held, "the reader's listener was not backed up: the case was not made"
    busy = sockets.socket(sockets.AF_UNIX)
    busy.connect(str(private_redis.socket_path))
    script = b"local i=0 while i<20000000 do i=i+1 end return i"  # Redis busy for a moment
    password = private_redis.password.encode()
    busy.sendall(
        b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password)
        + b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
    )
    time.sleep(0.05)
    try:
        assert reader.get("K").data == {"v": 2}
    finally:
        busy.close()
        writer.clear()
        reader.close()
        writer.close()


def read_in_child(store: RedisStore, answers) -> None:
    record = store.get("k")
    answers.send(None if record is None else record.data)


def test_a_fork_while_another_thread_reads_does_not_hang_the_child(private_redis):
    # The cache's lock, held by a thread of the parent at the fork, is held for good in the
    # child, which has only the forking thread: the child must get a lock of its own.
    store = local_store(private_redis, "c:fork:")
    store.set(record("k", v=1))
    assert store.get("k").data == {"v": 1}
    context = multiprocessing.get_context("fork")
    answer_out, answer_in = context.Pipe()
    with store.cache._lock:  # as a reader of another thread holds it, mid-read
        child = context.Process(target=read_in_child, args=(store, answer_in))
        child.start()
    try:
        assert answer_out.poll(10), "the child hung on the lock it inherited"
        assert answer_out.recv() == {"v": 1}
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
        store.clear()
        store.close()
