"""A hostile or broken server never hangs the client or the audit, nor fills its memory:
bodies are bounded in size, each request and the whole audit in time, and a reply that is not
HTTP is named as such, not as "cannot connect"."""

from __future__ import annotations

import time

import pytest
import requests

import sessionlab as sl
from sessionlab.cli import main
from tests.hostile import (
    big_declared_body,
    endless_body,
    garbage,
    hostile_server,
    silent_close,
    slow_drip_body,
    slow_drip_headers,
)

# Generous: the machine is shared; what matters is that the wait is bounded at all.
MARGIN = 3.0


def timed(call):
    started = time.monotonic()
    try:
        call()
    except Exception as error:  # the test looks at which error, and when
        return error, time.monotonic() - started
    return None, time.monotonic() - started


def test_an_endless_body_stops_at_the_size_limit():
    with hostile_server(endless_body) as url:
        client = sl.Client(url, max_body=1_000_000)
        error, seconds = timed(lambda: client.get("/"))
    assert isinstance(error, sl.ResponseTooLarge), error
    assert "max_body=1000000" in str(error)
    assert seconds < 10


def test_a_declared_body_over_the_limit_is_refused_before_reading_it():
    with hostile_server(big_declared_body) as url:
        error, seconds = timed(lambda: sl.Client(url).get("/"))
    assert isinstance(error, sl.ResponseTooLarge), error
    assert "10000000000" in str(error)
    assert seconds < MARGIN


@pytest.mark.parametrize("behaviour", [slow_drip_body, slow_drip_headers])
def test_a_slow_drip_server_meets_the_overall_deadline(behaviour):
    with hostile_server(behaviour) as url:
        client = sl.Client(url, deadline=1.0)
        error, seconds = timed(lambda: client.get("/"))
    assert isinstance(error, sl.DeadlineExceeded), error
    assert isinstance(error, TimeoutError)
    assert "deadline=1" in str(error)
    assert 0.9 < seconds < 1.0 + MARGIN


def test_garbage_is_named_as_not_http():
    with hostile_server(garbage) as url:
        error, _ = timed(lambda: sl.Client(url).get("/"))
    assert isinstance(error, sl.BadReplyError), error
    assert "not HTTP" in str(error) and "cannot connect" not in str(error)


def test_a_silent_close_is_named_as_such():
    with hostile_server(silent_close) as url:
        error, _ = timed(lambda: sl.Client(url).get("/"))
    assert isinstance(error, sl.BadReplyError), error
    assert "closed the connection without a reply" in str(error)


def test_nothing_listening_is_still_cannot_connect():
    with hostile_server(silent_close) as url:
        pass  # closed: nothing listens there now
    error, _ = timed(lambda: sl.Client(url).get("/"))
    assert isinstance(error, requests.ConnectionError), error
    assert not isinstance(error, sl.BadReplyError)


def test_bounds_are_settings_refused_when_they_cannot_work():
    with pytest.raises(sl.ConfigError, match="max_body"):
        sl.Client("http://127.0.0.1:1", max_body=0)
    with pytest.raises(sl.ConfigError, match="deadline"):
        sl.Client("http://127.0.0.1:1", deadline=0)


def test_an_ordinary_server_is_unaffected_by_the_bounds():
    with sl.start(store="memory", name="t-bounds-ordinary") as lab:
        client = sl.Client(lab.url, deadline=5, max_body=100)
        assert [r.status_code for r in client.cycle("alice")] == [200, 200, 200, 200]
        assert len(client.exchanges) == 4
        client.get("/user/" + "a" * 200)
        with pytest.raises(sl.ResponseTooLarge):
            client.get("/user")  # the body names the user: over 100 bytes


def test_the_audit_meets_its_overall_deadline_on_a_slow_drip_server():
    with hostile_server(slow_drip_body) as url:
        started = time.monotonic()
        report = sl.audit(url, wordlist=False, deadline=2.0)
        seconds = time.monotonic() - started
    assert seconds < 2.0 + MARGIN
    assert set(report["verdict"]) == {"could not test"}
    assert report["observed"].str.contains("deadline").all()


def test_the_audit_names_garbage_as_not_http():
    with hostile_server(garbage) as url:
        report = sl.audit(url, wordlist=False, deadline=10)
    assert report["observed"].str.contains("not HTTP").all()
    assert not report["observed"].str.contains("cannot connect").any()


def test_the_audit_refuses_a_deadline_shorter_than_its_waits():
    with pytest.raises(sl.ConfigError, match="deadline"):
        sl.audit("http://127.0.0.1:1", idle=5, deadline=3)


def test_zero_samples_are_refused(capsys):
    with pytest.raises(sl.ConfigError, match="samples"):
        sl.audit("http://127.0.0.1:1", samples=0)
    with pytest.raises(SystemExit) as exit:
        main(["audit", "http://127.0.0.1:1", "--samples", "0"])
    assert exit.value.code == 2
    assert "--samples" in capsys.readouterr().err
