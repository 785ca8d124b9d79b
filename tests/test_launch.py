"""start(): ready on return, idempotent by name, quiet, stoppable."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

import sessionlab as sl


def test_start_returns_a_ready_server_on_loopback():
    with sl.start(store="memory", name="ready") as lab:
        assert lab.url.startswith("http://127.0.0.1:")
        assert requests.get(f"{lab.url}/user", timeout=2).text == "user logged out!"


def test_starting_the_same_name_again_replaces_the_server():
    threads_before = threading.active_count()
    first = sl.start(store="memory", name="again")
    second = sl.start(store="memory", name="again")
    try:
        assert not first.running and second.running
        assert sl.running()["again"] is second
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{first.url}/user", timeout=2)
        assert threading.active_count() == threads_before + 1
    finally:
        second.stop()
    assert "again" not in sl.running()


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
    assert (tmp_path / "sessions.sqlite3").exists()
