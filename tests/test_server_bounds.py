"""What a hostile client can make a lab server hold is bounded, and every refusal is a 4xx or
503 with a message naming the setting, never a 500; each test reproduces an attack."""

from __future__ import annotations

import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

import sessionlab as sl
from sessionlab.server.app import create_app
from sessionlab.server.guards import HeaderCounter, header_bytes
from sessionlab.server.stores import MemoryStore, Record, SQLiteStore

SECRET = secrets.token_hex(32)


@pytest.fixture(scope="module")
def memory_lab():
    with sl.start(store="memory", name="t-bounds-memory", secret=SECRET) as lab:
        yield lab


def test_a_60_kb_name_in_the_url_is_414_and_stores_nothing(memory_lab):
    before = memory_lab.store.length()
    response = requests.get(f"{memory_lab.url}/user/{'a' * 60_000}", timeout=10)
    assert response.status_code == 414
    assert "url_bytes" in response.text
    assert memory_lab.store.length() == before


def test_a_cart_that_outgrows_its_session_is_413_and_keeps_what_fitted(memory_lab):
    client = sl.Client(memory_lab.url)
    statuses = [client.get(f"/cart/add/{'item' * 50}-{n}").status_code for n in range(60)]
    assert 413 in statuses and 500 not in statuses
    kept = statuses.index(413)
    refused = client.get(f"/cart/add/{'item' * 50}-last")
    assert refused.status_code == 413 and "session_bytes" in refused.text
    assert client.get("/cart").text.count("<li>") == kept  # the refused additions left no trace


def test_oversized_headers_are_431(memory_lab):
    response = requests.get(f"{memory_lab.url}/user", headers={"X-Big": "b" * 20_000}, timeout=10)
    assert response.status_code == 431 and "header_bytes" in response.text


def test_an_oversized_form_is_413(memory_lab):
    response = requests.post(f"{memory_lab.url}/login", data={"user": "u" * 100_000}, timeout=10)
    assert response.status_code == 413


def test_cr_lf_in_next_is_not_a_500(memory_lab):
    response = requests.post(
        f"{memory_lab.url}/login?next=/a%0d%0aSet-Cookie:%20evil=1",
        data={"user": "alice"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/user"
    assert "evil" not in response.headers.get("Set-Cookie", "")


def test_a_full_memory_store_answers_503_with_retry_after():
    with sl.start(store="memory", name="t-bounds-full", limits={"sessions": 3}) as lab:
        statuses = [sl.Client(lab.url).get(f"/user/u{n}").status_code for n in range(5)]
        assert statuses == [200, 200, 200, 503, 503]
        full = sl.Client(lab.url).get("/user/u9")
        assert full.headers["Retry-After"] == "1"
        assert "holds its limit of 3 sessions" in full.text
        assert lab.store.length() == 3


def test_limits_are_checked_and_named():
    with pytest.raises(sl.ConfigError, match="threads must be above 0"):
        sl.start(store="memory", name="t-bounds-bad", limits={"threads": 0})
    with pytest.raises(sl.ConfigError, match="unknown setting 'thread'"):
        sl.start(store="memory", name="t-bounds-bad", limits={"thread": 4})


def test_the_expiry_heap_does_not_grow_with_rewrites_of_one_session():
    store = MemoryStore()
    now = time.time()
    for n in range(10_000):
        store.set(Record("one", {"n": n}, created=now, expires=now + 60 + n))
        store.touch("one", now + 120 + n)
    assert len(store._expiries) <= 64
    assert store.get("one").data == {"n": 9999}
    store.set(Record("gone", {}, created=now - 10, expires=now - 1))
    assert store.prune() == 1 and store.length() == 1


def test_an_invalid_first_duplicate_cookie_does_not_cost_the_valid_one():
    app = create_app(store="memory", secret=SECRET, name="dup")
    client = app.test_client()
    client.get("/user/alice")
    valid = client.get_cookie("dup").value
    response = app.test_client(use_cookies=False).get(
        "/user", headers={"Cookie": f"dup=forged.signature; dup={valid}"}
    )
    assert response.get_data(as_text=True).startswith("alice")
    assert "Set-Cookie" not in response.headers  # nothing deleted


def test_a_stale_first_duplicate_cookie_does_not_cost_the_live_one():
    app = create_app(store="memory", secret=SECRET, name="dup")
    old, live = app.test_client(), app.test_client()
    old.get("/user/bob")
    stale = old.get_cookie("dup").value
    old.get("/logout")  # signed by the server, but its record is gone
    live.get("/user/alice")
    valid = live.get_cookie("dup").value
    response = app.test_client(use_cookies=False).get(
        "/user", headers={"Cookie": f"dup={stale}; dup={valid}"}
    )
    assert response.get_data(as_text=True).startswith("alice")
    assert "Set-Cookie" not in response.headers


def test_a_path_cannot_forge_an_event_line(memory_lab):
    requests.get(
        f"{memory_lab.url}/user%0arejected%20session%20cookie:%20forged",
        cookies={memory_lab.name: "x.y"},
        timeout=10,
    )
    assert not any(
        event.startswith("rejected session cookie: forged") for event in memory_lab.events
    )
    assert any("\\x0arejected" in event for event in memory_lab.events)


def test_a_sqlite_connection_that_met_a_read_only_file_is_not_reused(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    store.close()  # the schema exists; open afresh so the next connection is the one we break
    store = SQLiteStore(path)
    real = sqlite3.connect
    opened = []

    def connect_read_only_once(database, *args, **kwargs):
        if not opened:  # the file is read-only the first time, then writable again
            opened.append(True)
            return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)
        return real(database, *args, **kwargs)

    store.pool.close()
    store.pool = type(store.pool)(path)
    monkeypatch.setattr("sqlite3.connect", connect_read_only_once)
    now = time.time()
    with pytest.raises(Exception, match="readonly"):
        store.set(Record("a", {}, created=now, expires=now + 60))
    for n in range(6):  # before the fix, every write that borrowed the bad connection failed
        store.set(Record(f"b{n}", {}, created=now, expires=now + 60))
    assert store.length() == 6
    store.close()


def test_port_minus_one_is_a_clear_error_not_a_traceback():
    with pytest.raises(sl.ConfigError, match="port must be"):
        sl.start(store="memory", name="t-bounds-port", port=-1)
    done = subprocess.run(
        [sys.executable, "-m", "sessionlab.cli", "serve", "--port", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "port" in done.stderr


def idle_connections(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def answered_within(url: str, seconds: float, **options) -> bool:
    started = time.monotonic()
    response = requests.get(f"{url}/user", timeout=seconds + 5, **options)
    return response.status_code == 200 and time.monotonic() - started < seconds


def test_the_tls_server_keeps_answering_beside_an_idle_connection_and_a_partial_hello():
    with sl.start(store="memory", name="t-bounds-tls", profile="hardened") as lab:
        idle = idle_connections(lab.port, 1)[0]
        partial = socket.create_connection(("127.0.0.1", lab.port))
        partial.sendall(b"\x16\x03\x01")  # three bytes of a ClientHello, then nothing
        try:
            assert answered_within(lab.url, 2.0, verify=lab.ca_path)
            assert answered_within(lab.url, 2.0, verify=lab.ca_path)
        finally:
            idle.close()
            partial.close()


def test_the_thread_server_holds_no_thread_per_idle_connection():
    with sl.start(store="memory", name="t-bounds-threads", limits={"threads": 8}) as lab:
        threads_before = threading.active_count()
        held = idle_connections(lab.port, 300)
        try:
            time.sleep(0.3)
            assert threading.active_count() <= threads_before + 8
            assert answered_within(lab.url, 1.0)
        finally:
            for connection in held:
                connection.close()


def test_the_thread_server_closes_connections_that_never_speak():
    with sl.start(store="memory", name="t-bounds-idle", limits={"idle": 0.5}) as lab:
        [connection] = idle_connections(lab.port, 1)
        connection.settimeout(5)
        started = time.monotonic()
        assert connection.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 4


def test_a_tls_handshake_that_never_finishes_is_dropped():
    with sl.start(
        store="memory", name="t-bounds-tls-idle", profile="hardened", limits={"idle": 0.5}
    ) as lab:
        partial = socket.create_connection(("127.0.0.1", lab.port))
        partial.sendall(b"\x16\x03\x01")
        partial.settimeout(5)
        started = time.monotonic()
        assert partial.recv(1) == b""  # closed by the server, not held forever
        assert time.monotonic() - started < 4


class FlakyStore(MemoryStore):
    """A memory store that can be made to fail like a store that went away."""

    failing = False

    def get(self, sid):
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        return super().get(sid)

    def set(self, record):
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        super().set(record)


def test_a_store_outage_is_a_503_naming_the_cause_logged_once_without_traceback(capfd):
    store = FlakyStore()
    with sl.start(store=store, name="t-bounds-outage") as lab:
        client = sl.Client(lab.url)
        assert client.get("/user/alice").status_code == 200
        store.failing = True
        failed = [client.get(path) for path in ("/user", "/user/bob", "/user")]
        store.failing = False
        time.sleep(0.2)  # the server asks the store again at most every 0.1 s
        assert client.get("/user").text.startswith("alice")  # nothing was overwritten
        events = lab.events
    assert [r.status_code for r in failed] == [503, 503, 503]
    assert all(r.headers["Retry-After"] == "1" for r in failed)
    assert "OperationalError: disk I/O error" in failed[0].text
    outages = [e for e in events if e.startswith("store outage")]
    assert outages == ["store outage: the memory store failed: OperationalError: disk I/O error"]
    assert any(e.startswith("store back: the memory store answers again after") for e in events)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_a_store_outage_with_lock_true_is_still_a_503(capfd):
    store = FlakyStore()
    with sl.start(store=store, name="t-bounds-outage-lock", lock=True) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        store.failing = True
        assert client.get("/user").status_code == 503
        store.failing = False
        assert client.get("/user").text.startswith("alice")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


HEADER_NAMES = ["HTTP_HOST", "HTTP_COOKIE", "HTTP_X_A", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"]
ENVIRON_KEYS = [*HEADER_NAMES, "CONTENT_TYPE", "CONTENT_LENGTH", "PATH_INFO", "REMOTE_ADDR"]


@given(st.lists(st.tuples(st.sampled_from(ENVIRON_KEYS), st.text(max_size=30)), max_size=12))
@settings(max_examples=300, deadline=None)
def test_the_header_count_of_known_names_is_the_exact_count(pairs):
    # HeaderCounter learns each set of names once; what it counts must stay header_bytes'.
    count = HeaderCounter(limit=4)
    for _ in range(2):  # learned, then known
        environ = dict(pairs)
        assert count(environ) == header_bytes(environ)
