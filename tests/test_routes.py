"""The seed's three routes, byte for byte, on every kind of session storage."""

from __future__ import annotations

import pytest

import sessionlab as sl

SET_BODY = '<p>Session Set: <a href="/user">View Here</a></p>'
LOGOUT_BODY = '<br />logged out!<br /><a href="/user">Check Session</a>'


@pytest.fixture(params=["cookie", "memory", "sqlite"])
def any_client(request):
    with (
        sl.start(store=request.param, name=f"routes-{request.param}") as lab,
        sl.Client(lab.url) as client,
    ):
        yield client


def test_cycle_bodies_match_the_seed(any_client):
    bodies = [response.text for response in any_client.cycle("alice")]
    assert bodies == [
        SET_BODY,
        'alice<br /><a href="/logout">Logout</a>',
        LOGOUT_BODY,
        "user logged out!",
    ]


def test_a_new_visitor_is_logged_out(any_client):
    assert any_client.get("/user").text == "user logged out!"


def test_name_is_html_escaped(any_client):
    any_client.get("/user/<script>alert(1)<%2Fscript>")
    body = any_client.get("/user").text
    assert "<script>" not in body
    assert body.startswith("&lt;script&gt;alert(1)&lt;/script&gt;<br />")


def test_setting_a_new_name_replaces_the_old(any_client):
    any_client.get("/user/alice")
    any_client.get("/user/bob")
    assert any_client.get("/user").text.startswith("bob<br />")


def test_two_clients_do_not_share_a_session(any_client):
    other = sl.Client(any_client.base_url)
    any_client.get("/user/alice")
    other.get("/user/bob")
    assert any_client.get("/user").text.startswith("alice")
    assert other.get("/user").text.startswith("bob")
