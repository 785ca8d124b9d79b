"""start(): ready on return, idempotent by name, quiet, stoppable."""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import socket
import threading
import time

import pytest
import requests

import sessionlab as sl


def test_start_returns_a_ready_server_on_loopback():
    with sl.start(store="memory", name="ready") as lab:
        assert lab.url.startswith("http://127.0.0.1:")
        assert requests.get(f"{lab.url}/user", timeout=2).text == "user logged out!"


def test_starting_the_same_name_again_replaces_the_server():
    first = sl.start(store="memory", name="again")
    requests.get(f"{first.url}/user", timeout=2)  # a kept-alive connection, and its thread
    second = sl.start(store="memory", name="again")
    try:
        assert not first.running and second.running
        assert sl.running()["again"] is second
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{first.url}/user", timeout=2)
        deadline = time.monotonic() + 5
        while threads_of(first.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threads_of(first.port) == []  # its serving, waiting and request threads
        assert threads_of(second.port)
    finally:
        second.stop()
    assert "again" not in sl.running()


def threads_of(port: int) -> list[str]:
    prefix = f"sessionlab:{port}"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_stop_frees_the_port_and_can_be_called_twice():
    lab = sl.start(store="memory", name="free-port")
    lab.stop()
    lab.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", lab.port))  # would raise if the port were still held


def test_a_port_in_use_gets_a_clear_error():
    with sl.start(store="memory", name="taken") as lab:
        with pytest.raises(OSError, match="port=0"):
            sl.start(store="memory", name="taker", port=lab.port)
        assert "taker" not in sl.running()


def test_access_log_is_kept_on_the_handle_not_printed(capfd):
    with sl.start(store="memory", name="quiet") as lab:
        sl.Client(lab.url).cycle("alice")
        out, err = capfd.readouterr()
        assert out == "" and err == ""
        assert len(lab.access_log) == 4 and '"GET /logout HTTP/1.1" 200' in lab.access_log[2]


def test_unknown_store_names_the_choices():
    with pytest.raises(ValueError, match="choose one of cookie, memory, "):
        sl.start(store="mongo", name="bad-store")


def test_bad_cookie_options_are_refused():
    with pytest.raises(ValueError, match="Secure"):
        sl.start(store="memory", name="bad-cookie", cookie={"samesite": "None"})


def test_secrets_must_be_non_empty():
    with pytest.raises(ValueError, match="non-empty"):
        sl.start(store="memory", name="empty-secret", secret=[])


def test_a_store_object_is_used_as_given(tmp_path):
    store = sl.SQLiteStore(tmp_path / "sessions.sqlite3")
    with sl.start(store=store, name="given") as lab:
        sl.Client(lab.url).get("/user/alice")
        assert lab.store is store
    assert [record.data for record in store.all()] == [{"name": "alice"}]
    store.close()


def test_a_server_restarts_on_the_port_it_just_left():
    """Re-running a cell with a fixed port must work while old connections linger."""
    first = sl.start(store="memory", name="fixed-port")
    port = first.port
    sl.Client(first.url).cycle("alice")  # leaves connections in TIME_WAIT
    again = sl.start(store="memory", name="fixed-port", port=port)
    with again:
        assert again.port == port
        assert sl.Client(again.url).get("/user").text == "user logged out!"


def test_stopping_a_server_leaves_a_store_passed_in_usable():
    store = sl.SQLiteStore()
    try:
        for _ in range(2):  # as when a notebook cell is run twice
            with sl.start(store=store, name="shared-store") as lab:
                sl.Client(lab.url).get("/user/alice")
        assert store.length() == 2
    finally:
        store.close()


def test_sqlite_store_does_not_keep_a_connection_per_request():
    with sl.start(store="sqlite", name="connections") as lab:
        for i in range(100):  # each request is served in a new thread
            requests.get(f"{lab.url}/user/u{i}", timeout=5)
        assert len(lab.store.pool._opened) <= 4


def test_server_side_options_are_refused_on_cookie_sessions():
    with pytest.raises(ValueError, match="idle_timeout/absolute_timeout, lock"):
        sl.start(store="cookie", name="cookie-timeouts", idle_timeout=1, lock=True)
    assert "cookie-timeouts" not in sl.running()


def test_the_handle_names_the_seed_profiles_insecure_choices():
    with sl.start(store="cookie", name="says-so") as lab:
        assert (
            "insecure, for teaching: GET login and logout, no new id at login, "
            "client-side sessions cannot be revoked" in repr(lab)
        )


@pytest.mark.parametrize("profile", ["seed", "hardened"])
def test_the_url_in_the_handles_description_opens_a_page_listing_the_routes(profile):
    with sl.start(store="memory", name=f"home-{profile}", profile=profile) as lab:
        assert (
            repr(lab).partition(" at ")[2].startswith(f"{lab.url}") and lab.home == lab.url + "/"
        )
        page = requests.get(lab.home, verify=lab.ca_path or True, timeout=5)
        assert page.status_code == 200 and "Set-Cookie" not in page.headers
        assert lab.store.length() == 0  # the page reads nothing from the session
        assert '<a href="/user">/user</a>' in page.text
        login = '<a href="/user/alice">/user/alice</a>' if profile == "seed" else "POST</td>"
        assert login in page.text


def test_sqlite_in_memory_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="one database per connection"):
        sl.SQLiteStore(":memory:")


def test_a_closed_sqlite_store_says_so_instead_of_reopening(tmp_path):
    store = sl.SQLiteStore(tmp_path / "s.sqlite3")
    store.close()
    with pytest.raises(RuntimeError, match="is closed"):
        store.length()


def open_fds_on(path) -> int:
    """How many of this process's file descriptors point at ``path`` (or its -wal, -shm)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(str(path))
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds in /proc (Linux)")
def test_running_a_cell_again_closes_the_store_it_replaces(tmp_path):
    """A notebook cell `sl.start(store=sl.SQLiteStore(path), name=...)` run again makes a new
    store object: the replaced server's store is closed, so no file descriptor piles up."""
    path = tmp_path / "sessions.sqlite3"
    counts = []
    gc.disable()  # a leak hidden only by the garbage collector is still a leak in a kernel
    try:
        for _ in range(4):
            lab = sl.start(store=sl.SQLiteStore(path), name="rerun-cell")
            lab.client().get("/user/alice")
            counts.append(open_fds_on(path))
        sl.stop()  # the clean-up cell: every server, and the stores they used
        counts.append(open_fds_on(path))
    finally:
        gc.enable()
    assert counts[0] > 0
    assert counts[1] == counts[2] == counts[3] <= counts[0] + 1, counts  # no growth per run
    assert counts[4] == 0, counts


def test_a_store_shared_by_the_replacing_server_stays_open(tmp_path):
    store = sl.SQLiteStore(tmp_path / "sessions.sqlite3")
    sl.start(store=store, name="rotate-shared", secret=secrets.token_hex(32))
    with sl.start(store=store, name="rotate-shared") as lab:  # a new secret, the same store
        lab.client().get("/user/alice")
    assert store.length() == 1
    store.close()
