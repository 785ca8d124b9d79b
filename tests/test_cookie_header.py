"""The session cookie is read from the Cookie header as Flask's ``request.cookies`` reads it,
on every header a client can send, by a path that skips Werkzeug's parser for plain ones."""

from __future__ import annotations

from flask import Request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from sessionlab.server.cookie_header import request_cookies

NAMES = ["sid", "sid2", "a", "", "s id"]  # the last two: names Werkzeug never yields
# What a Cookie header is made of, and what could trip a hand-written split: separators,
# whitespace of every kind, quotes and escapes, line breaks, text that is not ASCII
# (WSGI hands it over as Latin-1), and names inside other names and values.
PIECES = st.sampled_from(
    [*NAMES, "=", ";", "; ", " ", "\t", "\x0b", "\x1c", '"', "\\", "\n", "\r", "x.y", "é", ","]
)


def request_with(header: str) -> Request:
    environ = EnvironBuilder().get_environ()
    environ["HTTP_COOKIE"] = header
    return Request(environ)


@given(st.lists(PIECES, max_size=24).map("".join), st.sampled_from(NAMES))
@settings(max_examples=600, deadline=None)
def test_every_header_gives_the_values_request_cookies_gives(header, name):
    assert request_cookies(request_with(header), name) == request_with(header).cookies.getlist(
        name
    )


def test_duplicates_come_in_the_order_the_browser_sent_them():
    request = request_with("sid=narrow.path; other=1; sid = wide.path ")
    assert request_cookies(request, "sid") == ["narrow.path", "wide.path"]


def test_a_quoted_value_is_unquoted_as_werkzeug_does():
    assert request_cookies(request_with('sid="a\\"b"; x=1'), "sid") == ['a"b']


def test_a_request_whose_cookies_were_read_already_is_not_parsed_again():
    request = request_with("sid=one")
    assert request.cookies["sid"] == "one"
    request.environ["HTTP_COOKIE"] = "sid=two"  # only the parsed view counts now
    assert request_cookies(request, "sid") == ["one"]
