"""Several independent sessionlab servers behind a real HAProxy (round-robin, no sticky
sessions): sessions survive on one shared Redis and are lost on memory stores.

Each server is its own ``sessionlab serve`` process on its own port of 127.0.0.1, as it
would be on its own host. The load is small (the bench runs 16 clients x 200 cycles); every
loop is bounded in count and time.
"""

from __future__ import annotations

import secrets
import warnings

import pytest
import requests

import sessionlab as sl
from conftest import need_service
from sessionlab.server.balancer import (
    HAPROXY_HINT,
    BalancedServers,
    ServeProcess,
    haproxy_binary,
    run_cycles,
    start_servers,
)
from sessionlab.server.processes import check_host

SECRET = secrets.token_hex(32)


@pytest.fixture
def haproxy() -> None:
    need_service(haproxy_binary() is not None, HAPROXY_HINT)


def test_two_servers_behind_haproxy_share_sessions_in_one_redis(haproxy, shared_redis_url):
    with BalancedServers(
        shared_redis_url, secret=SECRET, count=2, name="t-balanced-redis", workers=None
    ) as farm:
        result = run_cycles(farm.url, clients=8, cycles=25, seconds=60)
    assert (result.lost, result.crossed, result.stale, result.errors) == (0, 0, 0, 0), (
        result.summary()
    )
    assert result.cycles == 8 * 25
    assert set(result.served_by) == {"s1", "s2"}  # round-robin: both servers answered
    assert min(result.served_by.values()) > result.requests / 4


def test_the_same_set_up_on_memory_stores_loses_sessions(haproxy):
    with BalancedServers(
        "memory", secret=SECRET, count=2, name="t-balanced-memory", workers=None
    ) as farm:
        result = run_cycles(farm.url, clients=4, cycles=10, seconds=60)
    # Each server knows only the sessions it made: a read that lands on the other loses it.
    assert result.lost > 0 and result.crossed == 0, result.summary()


def test_a_write_and_a_logout_on_one_server_are_seen_at_once_on_the_other(shared_redis_url):
    """No cache anywhere may serve a session older than the last write or the logout."""
    servers = start_servers(2, shared_redis_url, secret=SECRET, name="t-two-hosts", workers=None)
    try:
        first, second = (f"http://127.0.0.1:{server.port}" for server in servers)
        with requests.Session() as client:  # cookies do not isolate ports: one jar for both
            for round_number in range(20):
                name = f"n{round_number}"
                assert client.get(f"{first}/user/{name}", timeout=10).ok
                assert client.get(f"{second}/user", timeout=10).text.startswith(f"{name}<br />")
                client.get(f"{second}/user/{name}b", timeout=10)
                assert client.get(f"{first}/user", timeout=10).text.startswith(f"{name}b<br />")
                cookie = client.cookies.get("t-two-hosts")
                client.get(f"{first}/logout", timeout=10)
                assert client.get(f"{second}/user", timeout=10).text == "user logged out!"
                # The logged-out cookie, replayed to the other server, finds nothing either.
                replay = requests.get(
                    f"{second}/user", cookies={"t-two-hosts": cookie}, timeout=10
                )
                assert replay.text == "user logged out!"
    finally:
        for server in servers:
            server.stop()


def test_serve_takes_a_store_url_workers_and_an_explicit_loopback_host(tmp_path):
    store = f"sqlite:///{tmp_path}/shared.sqlite3"  # an absolute path: four slashes
    server = ServeProcess(store, secret=SECRET, name="t-serve-url", workers=2)
    try:
        assert "2 worker processes" in server.log_tail()
        with sl.Client(f"http://127.0.0.1:{server.port}") as client:
            client.get("/user/dora")
            assert client.get("/user").text.startswith("dora<br />")
        assert sl.SQLiteStore(tmp_path / "shared.sqlite3").length() == 1
    finally:
        server.stop()


def test_listening_beyond_loopback_is_explicit_and_warned_about():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_host("127.0.0.1")  # the default: no warning
    with pytest.warns(sl.ExposedServerWarning, match="anyone who can reach"):
        check_host("0.0.0.0")
    with pytest.raises(sl.ConfigError, match="must be an IP address"):
        check_host("example.com")


def test_a_load_run_never_leaves_this_machine():
    with pytest.raises(sl.ConfigError, match="only targets this machine"):
        run_cycles("http://192.0.2.1/", clients=1, cycles=1)
