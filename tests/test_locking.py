"""No lost updates: concurrent cart additions to one session, with and without lock=True."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sessionlab as sl
from sessionlab.server.locking import locks_for
from sessionlab.server.redis_server import redis_server_binary
from sessionlab.server.stores.sqlite import ConnectionPool, SQLiteLocks
from tests.conftest import need_service


def add_concurrently(lab, k: int, threads: int = 16) -> list[int]:
    """Log in, then add k items to one session's cart at once; return the statuses."""
    client = sl.Client(lab.url)
    client.get("/user/alice")
    cookies = {lab.name: client.http.cookies[lab.name]}

    def add(i: int) -> int:
        return requests.get(f"{lab.url}/cart/add/item{i}", cookies=cookies, timeout=30).status_code

    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(add, range(k)))
    cart = lab.store.all()[0].data["cart"]
    assert len(set(cart)) == len(cart)  # nothing doubled, only (perhaps) lost
    return [len(cart), *statuses]


def need(kind: str) -> None:
    if kind == "redis":
        need_service(redis_server_binary() is not None, "redis-server is not installed")


def test_without_a_lock_concurrent_additions_lose_items():
    with sl.start(store="memory", name="t-nolock") as lab:
        kept, *statuses = add_concurrently(lab, 50)
    assert set(statuses) == {200}
    assert kept < 50


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_with_a_lock_all_fifty_additions_are_kept(kind):
    need(kind)
    with sl.start(store=kind, name=f"t-lock-{kind}", lock=True) as lab:
        kept, *statuses = add_concurrently(lab, 50)
    assert set(statuses) == {200}
    assert kept == 50


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_the_lock_holds_across_worker_processes(kind):
    need(kind)
    with sl.start(store=kind, name=f"t-lock-workers-{kind}", lock=True, workers=2) as lab:
        kept, *statuses = add_concurrently(lab, 50)
    assert set(statuses) == {200}
    assert kept == 50


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_lock_held_too_long_gives_503_with_the_fix(kind):
    need(kind)
    with sl.start(store=kind, name=f"t-lock-timeout-{kind}", lock=True, lock_timeout=0.1) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        sid = lab.store.all()[0].sid
        # Another request of this session holds the lock (taken here as that request would).
        locks = lab.app.session_interface.locks if kind == "memory" else locks_for(lab.store)
        held = locks.acquire(sid, timeout=1)
        started = time.monotonic()
        refused = client.get("/cart/add/apple")
        waited = time.monotonic() - started
        locks.release(held)
        assert refused.status_code == 503 and "lock_timeout=" in refused.text
        assert 0.1 <= waited < 10  # it waited its lock_timeout, and then gave up
        assert client.get("/cart/add/pear").status_code == 200
        assert lab.store.all()[0].data["cart"] == ["pear"]  # the refused request changed nothing


def test_a_lock_whose_holder_died_is_taken_over_after_its_lease(tmp_path):
    path = tmp_path / "locks.sqlite3"
    started = time.monotonic()  # before the lease starts: the wait is at least the lease
    dead_holder = SQLiteLocks(ConnectionPool(path), lease=0.5)
    dead_holder.acquire("abc", timeout=1)  # and never released
    handle = SQLiteLocks(ConnectionPool(path), lease=30).acquire("abc", timeout=10)
    assert 0.45 < time.monotonic() - started < 9  # taken over, not stolen early
    assert handle[0] == "abc"


def test_private_page_sends_you_to_login_and_back():
    with sl.start(store="memory", name="t-private") as lab:
        client = sl.Client(lab.url)
        first = client.get("/private", allow_redirects=False)
        assert first.status_code == 302 and first.headers["Location"] == "/login?next=/private"
        assert '<form method="post"' in client.get(first.headers["Location"]).text
        before = client.http.cookies.get(lab.name)
        back = client.post("/login?next=/private", data={"user": "alice"}, allow_redirects=False)
        assert back.headers["Location"] == "/private"
        assert client.http.cookies[lab.name] != before  # a new id at login
        assert client.get("/private").text == "<p>Welcome to your private page, alice.</p>"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(target):
    with sl.start(store="memory", name="t-open-redirect") as lab:
        client = sl.Client(lab.url)
        response = client.post(
            "/login", params={"next": target}, data={"user": "a"}, allow_redirects=False
        )
        assert response.headers["Location"] == "/user"


def test_cart_escapes_items():
    with sl.start(store="memory", name="t-cart-xss") as lab:
        client = sl.Client(lab.url)
        client.get("/cart/add/<img src=x onerror=alert(1)>")
        assert client.get("/cart").text == (
            "<p>1 in your cart:</p><ul><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>"
        )
