"""RedisStore against a real, private redis-server."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import threading
import time

import pytest
from redis.exceptions import ResponseError

import sessionlab as sl
from sessionlab.server import redis_server
from sessionlab.server.processes import port_answers
from sessionlab.server.stores import Record, RedisStore
from sessionlab.server.stores.redis import encode
from tests.conftest import need_service


@pytest.fixture(scope="module")
def private_redis():
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def redis_url(private_redis):
    return private_redis.url


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


def test_the_private_server_is_reached_through_a_unix_socket_only_this_user_opens(
    private_redis, request
):
    socket_path = private_redis.socket_path
    assert stat.S_ISSOCK(os.stat(socket_path).st_mode)
    assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(socket_path.parent).st_mode) == 0o700
    over_socket = RedisStore(private_redis.socket_url, prefix=f"t:{request.node.name}:")
    over_tcp = RedisStore(private_redis.url, prefix=f"t:{request.node.name}:")
    try:
        over_socket.set(record("s1", name="ann"))
        assert over_tcp.get("s1").data == {"name": "ann"}  # one server, two ways in
        # The lab's own store="redis" goes through the socket.
        with sl.start(store="redis", name="t-redis-socket") as lab:
            assert lab.store.url.startswith("unix://")
            client = lab.client()
            client.get("/user/bo")
            assert client.get("/user").text.startswith("bo<br />")
    finally:
        over_socket.clear()
        over_socket.close()
        over_tcp.close()


def test_a_dropped_connection_is_replaced_and_the_command_tried_again(store):
    store.set(record("s1", name="cy"))
    lent = store.connections._idle.qsize()
    assert lent >= 1  # the hot path keeps its connections between commands
    # Redis drops every client connection (as a restart or an idle timeout would).
    store.redis.client_kill_filter(_type="normal", skipme=False)
    assert store.get("s1").data == {"name": "cy"}  # retried once, on a new connection
    store.destroy("s1")
    assert store.get("s1") is None


def test_an_error_reply_is_raised_and_its_connection_never_lent_again(store):
    store.get("warm-up")
    idle = store.connections._idle.qsize()
    with pytest.raises(ResponseError):
        store.connections.command("NO-SUCH-COMMAND")
    assert store.connections._idle.qsize() == idle - 1  # that connection was dropped
    store.set(record("s2", name="di"))
    assert store.get("s2").data == {"name": "di"}


def test_a_forked_process_uses_connections_of_its_own(redis_url):
    """A worker that inherits the store must not share its parent's sockets (replies
    would interleave): after a fork, the first command opens a connection of its own."""
    script = (
        "import os, sys\n"
        "from sessionlab.server.stores import Record, RedisStore\n"
        f"store = RedisStore({redis_url!r}, prefix='t:fork:')\n"
        "store.set(Record('p', {'n': 1}, created=0.0, expires=float('inf')))\n"
        "inherited = store.connections._idle.get_nowait()\n"
        "store.connections._idle.put(inherited)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    ok = store.get('p').data == {'n': 1}\n"
        "    fresh = store.connections._idle.get_nowait()\n"
        "    os._exit(0 if ok and fresh is not inherited else 3)\n"
        "_, status = os.waitpid(child, 0)\n"
        "assert store.get('p').data == {'n': 1}  # the parent's connection still in step\n"
        "store.clear()\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
