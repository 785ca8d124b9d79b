"""The private redis-server: a password nobody else can read, and the outage a killed Redis
causes (503 with Retry-After, noticed by the handle) and what a restart brings back."""

from __future__ import annotations

import os
import time

import pytest
import redis

import sessionlab as sl
from sessionlab.server import redis_server
from sessionlab.server.stores import Record
from tests.conftest import need_service


@pytest.fixture(autouse=True)
def _need_redis():
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")


def test_the_private_server_needs_its_random_password_and_the_url_carries_it():
    with sl.RedisServer() as server:
        stranger = redis.Redis(port=server.port, retry=None)  # any local user, no password
        with pytest.raises(redis.exceptions.AuthenticationError):
            stranger.ping()
        stranger.close()
        assert redis.Redis.from_url(server.url).ping()
        assert len(server.password) >= 43 and f":{server.password}@" in server.url
        with open(f"/proc/{server.pid}/cmdline", "rb") as cmdline:
            assert server.password.encode() not in cmdline.read()  # ps would show it
        assert not [p for p in server.folder.rglob("*.conf")]  # the config file is gone
        store = server.store(prefix="t-pw:")
        assert server.password not in repr(store) and "***" in repr(store)
        store.close()


@pytest.mark.parametrize("durable", [False, True])
def test_kill_and_restart_keep_sessions_only_when_durable(durable):
    with sl.RedisServer(durable=durable) as server:
        store = server.store(prefix="t-durable:")
        now = time.time()
        for n in range(20):
            store.set(Record(f"s{n}", {"n": n}, created=now, expires=now + 60))
        port, pid = server.port, server.pid
        server.kill()
        assert not server.running
        with pytest.raises(redis.exceptions.ConnectionError):
            store.get("s1")
        server.restart()
        assert server.port == port and server.pid != pid
        assert store.length() == (20 if durable else 0)
        store.close()


def test_a_killed_store_is_a_503_the_handle_notices_and_a_restart_heals():
    with sl.start(store="redis", name="t-faults-redis") as lab:
        client = sl.Client(lab.url)
        assert client.get("/user/alice").status_code == 200
        lab.kill_store()
        down = client.get("/user")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "1"
        assert "session store (redis) is unavailable" in down.text
        health = lab.health()
        assert health["store"].startswith("unreachable")
        assert "store outage" in (health["last_error"] or "")
        started = time.monotonic()
        lab.restart_store()
        time.sleep(0.15)  # the server asks the store again at most every 0.1 s
        assert client.get("/user/bob").status_code == 200
        assert time.monotonic() - started < 10  # the target is 2 s: a margin for a busy machine
        assert lab.health()["store"] == "reachable"
        events = lab.events
        assert any(e.startswith("kill_store:") for e in events)
        assert any(e.startswith("store outage: the redis store failed") for e in events)
        assert any(e.startswith("store back:") for e in events)


def test_fault_helpers_name_what_they_need():
    with sl.start(store="memory", name="t-faults-helpers") as lab:
        with pytest.raises(sl.ConfigError, match="kill_store"):
            lab.kill_store()
        with pytest.raises(sl.ConfigError, match="workers="):
            lab.kill_worker()


def test_the_shared_private_server_stops_with_the_process_it_belongs_to():
    server = redis_server.shared_redis_server()
    assert server.running and os.path.exists(f"/proc/{server.pid}")
