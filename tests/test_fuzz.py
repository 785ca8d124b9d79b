"""Fuzzing with hypothesis: whatever a client sends (paths, query strings, cookies, headers,
forms), a lab server on any store answers with less than 500, and logs no exception.

Requests go out over raw sockets, so that bytes requests would refuse to send (control
characters, broken percent-escapes, odd methods) reach the server too. Each store gets one
server for all its examples; ``max_examples`` keeps the run to a few seconds in the suite
(``SESSIONLAB_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` searches harder).
"""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionlab as sl
from sessionlab.server.redis_server import redis_server_binary
from tests.conftest import need_service

ROUTES = ["/", "/user", "/user/", "/logout", "/cart", "/cart/add/", "/login", "/private"]
FUZZ = settings(
    max_examples=int(os.environ.get("SESSIONLAB_FUZZ_EXAMPLES", "80")),
    deadline=None,  # real HTTP on a shared machine: time is not what is tested
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text of every kind, non-ASCII included, with the characters that break parsers and headers
# (CR, LF, NUL, separators, quotes) drawn often.
anything = st.text(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(list("\r\n\x00\t\x7f/\\%;,=\"'<> ")),
    ),
    max_size=40,
)
# Bytes that may appear raw in a request line or a header value (no space, CR, LF).
raw = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
token = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}", fullmatch=True)


@st.composite
def paths(draw) -> str:
    """One of the lab's routes, as it is or followed by percent-encoded text or raw bytes."""
    route = draw(st.sampled_from(ROUTES))
    tail = st.one_of(anything.map(lambda t: quote(t, safe="")), raw.filter(lambda t: "?" not in t))
    return route + draw(st.one_of(st.just(""), tail))


@st.composite
def queries(draw) -> str:
    """Query strings, ``next`` among them, with paths that may hide control characters."""
    values = st.one_of(anything, anything.map(lambda t: "/" + t))
    keys = st.one_of(st.just("next"), token)
    pairs = draw(st.lists(st.tuples(keys, values), max_size=3))
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='/')}" for k, v in pairs)


@st.composite
def cookie_headers(draw, name: str) -> str:
    """Cookies the server never issued: its own name with forged, tampered or odd values."""
    value = st.one_of(
        raw.filter(lambda t: ";" not in t and "," not in t),
        st.from_regex(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}", fullmatch=True),
    )
    names = st.one_of(st.just(name), token)
    pairs = draw(st.lists(st.tuples(names, value), max_size=4))
    return "; ".join(f"{k}={v}" for k, v in pairs)


@st.composite
def logins(draw) -> bytes:
    """POST /login, the form that redirects to ``next``: both fields fuzzed."""
    form = f"user={quote(draw(anything), safe='')}".encode()
    target = f"/login?next={quote(draw(anything.map(lambda t: '/' + t)), safe='/')}"
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    )
    return head.encode() + form


METHODS = st.one_of(
    st.just("GET"), st.just("POST"), st.sampled_from(["HEAD", "PUT", "DELETE", "OPTIONS"])
)


@st.composite
def requests_(draw, name: str) -> bytes:
    method = draw(METHODS)
    query = draw(queries())
    target = draw(paths()) + (f"?{query}" if query else "")
    headers = ["Host: 127.0.0.1", "Connection: close"]
    cookie = draw(cookie_headers(name))
    if cookie:
        headers.append(f"Cookie: {cookie}")
    for key, value in draw(st.lists(st.tuples(token, raw), max_size=3)):
        headers.append(f"{key}: {value}")
    body = b""
    if method == "POST":
        field_names = st.sampled_from(["user", "csrf_token", "x"])
        fields = draw(st.lists(st.tuples(field_names, anything), max_size=3))
        body = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields).encode()
        headers.append("Content-Type: application/x-www-form-urlencoded")
        headers.append(f"Content-Length: {len(body)}")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    return head.encode("utf-8") + body


def status_of(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while b"\r\n" not in reply:
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


class Errors(logging.Handler):
    """Collects what the app logs at ERROR (an unhandled exception is logged so)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module", params=["memory", "sqlite", "redis"])
def fuzzed(request):
    if request.param == "redis":
        need_service(redis_server_binary() is not None, "redis-server is not installed")
    errors = Errors()
    logging.getLogger("sessionlab").addHandler(errors)  # Flask's app.logger: app.name
    with sl.start(store=request.param, name=f"t-fuzz-{request.param}", lock=True) as lab:
        yield lab, errors
    logging.getLogger("sessionlab").removeHandler(errors)


def test_no_request_gets_a_500_or_logs_an_exception(fuzzed, capfd):
    lab, errors = fuzzed

    @FUZZ
    @given(request=st.one_of(requests_(lab.cookie_name), logins()))
    def check(request: bytes) -> None:
        status = status_of(lab.port, request)
        assert 0 < status < 500, (status, request[:300])

    check()
    assert [record.getMessage() for record in errors.records] == []
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert not any('" 5' in line for line in lab.access_log), [
        line for line in lab.access_log if '" 5' in line
    ]
