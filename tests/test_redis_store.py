"""RedisStore against a real, private redis-server."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time

import pytest

import sessionlab as sl
from sessionlab.server import redis_server
from sessionlab.server.processes import port_answers
from sessionlab.server.stores import Record, RedisStore
from sessionlab.server.stores.redis import encode
from tests.conftest import need_service


@pytest.fixture(scope="module")
def redis_url():
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:
        yield server.url


@pytest.fixture
def store(redis_url, request):
    store = RedisStore(redis_url, prefix=f"t:{request.node.name}:")
    yield store
    store.clear()
    store.close()


def record(sid: str, ttl: float = 60.0, **data) -> Record:
    now = time.time()
    return Record(sid, data, created=now, expires=now + ttl)


def test_one_key_per_session_with_ttl_as_expiry(store):
    store.set(record("abc", ttl=60, name="alice"))
    assert store.redis.exists(store.prefix + "abc") == 1
    assert 59_000 < store.redis.pttl(store.prefix + "abc") <= 60_000
    got = store.get("abc")
    assert got.data == {"name": "alice"}
    assert got.expires == pytest.approx(time.time() + 60, abs=1)


def test_expired_sessions_vanish_by_ttl(store):
    store.set(record("short", ttl=0.3, name="alice"))
    store.set(record("long", ttl=60, name="bob"))
    time.sleep(1.3)  # a second's margin: Redis must have dropped it even on a busy machine
    assert store.get("short") is None
    assert [r.sid for r in store.all()] == ["long"]
    assert store.prune() == 0  # nothing left for us to do: Redis removed it


def test_touch_moves_only_the_expiry_and_never_resurrects(store):
    store.set(record("abc", ttl=5, cart=["apple"], note="a b\tc"))
    json_before = store.redis.get(store.prefix + "abc").split(b" ", 1)[1]
    store.touch("abc", expires := time.time() + 100)
    assert store.redis.pttl(store.prefix + "abc") > 90_000
    assert store.redis.get(store.prefix + "abc").split(b" ", 1)[1] == json_before
    assert store.get("abc").expires == expires
    assert store.get("abc").data == {"cart": ["apple"], "note": "a b\tc"}
    store.destroy("abc")
    store.touch("abc", time.time() + 100)
    assert store.get("abc") is None and store.redis.exists(store.prefix + "abc") == 0


def test_all_length_clear_stay_inside_the_prefix_and_never_use_keys(store, redis_url):
    other = RedisStore(redis_url, prefix="other[*]:")
    other.set(record("keep", name="zed"))
    pipe = store.redis.pipeline()
    for i in range(2500):  # more than one SCAN batch
        value = encode(Record(f"{i:05d}", {"n": i}, created=i, expires=time.time() + 60))
        pipe.set(f"{store.prefix}{i:05d}", value, ex=60)
    pipe.execute()
    store.redis.config_resetstat()
    records = store.all()
    assert len(records) == store.length() == 2500
    assert [r.data["n"] for r in records[:3]] == [0, 1, 2]  # oldest first
    store.clear()
    assert store.length() == 0
    assert [r.data for r in other.all()] == [{"name": "zed"}]
    assert "cmdstat_keys" not in store.redis.info("commandstats")
    other.clear()


def test_private_server_is_loopback_only_and_keeps_nothing_on_disk(store):
    assert store.redis.config_get("save") == {"save": ""}
    assert store.redis.config_get("appendonly") == {"appendonly": "no"}
    assert store.redis.config_get("bind")["bind"] == "127.0.0.1"


def test_missing_binary_says_how_to_install(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    with pytest.raises(redis_server.RedisNotInstalledError, match="apt-get install redis-server"):
        redis_server.RedisServer()


def test_private_server_dies_with_a_parent_that_skips_atexit(redis_url):
    script = (
        "import os, sys\n"
        "from sessionlab.server.redis_server import RedisServer\n"
        "print(RedisServer().port, flush=True)\n"
        "os._exit(0)  # no atexit: as when a kernel is killed\n"
    )
    port = int(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    )
    deadline = time.monotonic() + 5
    while port_answers(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_answers(port), "redis-server outlived its parent"


def test_start_with_redis_runs_the_cycle_and_survives_a_restart(redis_url):
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    secret = secrets.token_hex(32)  # a restarted server keeps its secret, or cookies die
    with sl.start(store="redis", name="t-redis-restart", secret=secret) as lab:
        assert lab.store.kind == "redis"
        client = sl.Client(lab.url)
        client.get("/user/alice")
        assert [r.data for r in lab.store.all()] == [{"name": "alice"}]
    with sl.start(store="redis", name="t-redis-restart", secret=secret, port=lab.port) as lab:
        assert client.get("/user").text.startswith("alice<br />")  # same cookie, new server
        client.get("/logout")
        assert lab.store.length() == 0


def test_private_server_started_from_a_thread_outlives_that_thread(redis_url):
    started = {}
    worker = threading.Thread(target=lambda: started.update(server=redis_server.RedisServer()))
    worker.start()
    worker.join()  # an executor thread that has done its job
    with started["server"] as server:
        time.sleep(1.0)  # a parent-death signal would have ended the server by now
        assert server.running
        assert RedisStore(server.url, prefix="t:thread:").length() == 0
