"""Idle timeout and absolute lifetime, enforced on the server; pruning; restarts."""

from __future__ import annotations

import secrets
import time

import pandas as pd
import pytest

import sessionlab as sl
from sessionlab.server.redis_server import redis_server_binary
from sessionlab.server.stores import MemoryStore, Record, SQLiteStore
from tests.conftest import need_service


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_kind(request) -> str:
    if request.param == "redis":
        need_service(redis_server_binary() is not None, "redis-server is not installed")
    return request.param


def logged_in(client: sl.Client) -> bool:
    return client.get("/user").text != "user logged out!"


def test_idle_timeout_rolls_with_each_request_then_ends_the_session(store_kind):
    with sl.start(store=store_kind, name=f"t-idle-{store_kind}", idle_timeout=0.6) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        for _ in range(3):  # 1.2 s in all: twice the idle timeout, kept alive by activity
            time.sleep(0.4)
            assert logged_in(client)
        assert 0.3 < lab.store.all()[0].expires - time.time() <= 0.6  # the idle timeout
        time.sleep(0.8)
        assert not logged_in(client)
        assert lab.store.all() == []


def test_absolute_lifetime_ends_even_an_active_session(store_kind):
    name = f"t-absolute-{store_kind}"
    with sl.start(store=store_kind, name=name, idle_timeout=5, absolute_timeout=1.0) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        # The store table shows the lifetime, not the idle timeout, as the binding limit.
        assert sl.store_frame(lab.store)["expires_in"][0] <= pd.Timedelta(seconds=1)
        time.sleep(0.6)
        assert logged_in(client)
        time.sleep(0.6)
        assert not logged_in(client)


@pytest.mark.parametrize("make", [MemoryStore, SQLiteStore], ids=["memory", "sqlite"])
def test_prune_removes_only_expired_records(make):
    store, now = make(), time.time()
    for i in range(2000):
        store.set(Record(f"dead{i}", {"i": i}, created=now - 10, expires=now - 1))
    store.set(Record("live", {"cart": ["apple"]}, created=now, expires=now + 60))
    store.set(Record("touched", {"name": "bob"}, created=now, expires=now - 1))
    store.touch("touched", now + 60)  # its old expiry is still queued: it must not count
    assert store.prune() == 2000
    assert [(r.sid, r.data) for r in store.all()] == [
        ("live", {"cart": ["apple"]}),
        ("touched", {"name": "bob"}),
    ]
    assert store.prune() == 0
    store.close()


def test_sqlite_sessions_survive_a_restart_and_memory_ones_do_not(tmp_path):
    secret = secrets.token_hex(32)  # a restarted server keeps its secret, or cookies die
    path = tmp_path / "sessions.sqlite3"
    results = {}
    for kind, make in [("sqlite", lambda: SQLiteStore(path)), ("memory", MemoryStore)]:
        with sl.start(store=make(), name=f"t-restart-{kind}", secret=secret) as lab:
            client = sl.Client(lab.url)
            client.get("/user/alice")
        with sl.start(store=make(), name=f"t-restart-{kind}", secret=secret, port=lab.port):
            results[kind] = logged_in(client)
    assert results == {"sqlite": True, "memory": False}
