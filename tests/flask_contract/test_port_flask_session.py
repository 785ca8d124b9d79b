"""Flask-Session 0.8.0's behavioural tests (pallets-eco/flask-session), and checks derived
from Flask's tests of what a user of a server-side store meets."""

from __future__ import annotations

import flask
import pytest
from werkzeug.http import parse_date

from sessionlab.flask import ServerSessions

from .helpers import cookie_id, expires_of


@pytest.fixture
def fs_app(make_app):
    """The app of flask-session tests/conftest.py ``app_utils.create_app``: set, modify,
    delete and get one value. The original sets SESSION_PERMANENT=False (Flask's default here)
    and needs no key (unsigned ids); sessionlab signs its ids, so the key stays."""
    app = make_app(__name__)

    @app.get("/")
    def hello():
        return "hello world"

    @app.post("/set")
    @app.post("/modify", endpoint="modify")
    def set_value():
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.post("/delete")
    def delete():
        del flask.session["value"]
        return "value deleted"

    @app.get("/get")
    def get():
        return flask.session.get("value", "no value set")

    return app


def test_session(fs_app):
    # Origin: pallets-eco/flask-session tests/conftest.py app_utils.test_session, which
    # every backend's test runs (test_redis.py::TestRedisSession::test_redis_default, ...)
    client = fs_app.test_client()
    assert client.get("/get").data not in (b"42", b"43", b"44")  # nothing from other tests
    assert "Vary" not in client.get("/").headers  # the session was not used
    assert client.post("/set", data={"value": "42"}).data == b"value set"
    assert client.get("/get").data == b"42"
    assert client.get("/get").headers["Vary"] == "Cookie"
    assert client.post("/modify", data={"value": "43"}).data == b"value set"
    assert client.get("/get").data == b"43"
    assert client.post("/delete").data == b"value deleted"
    assert client.get("/get").data == b"no value set"


def test_session_with_cookie(fs_app, server_store):
    # Origin: pallets-eco/flask-session tests/conftest.py app_utils.test_session_with_cookie,
    # with the record check that closes test_redis.py::TestRedisSession::test_redis_default
    # (and the other backends'). Flask-Session's cookie is the bare id, its record a key
    # "session:<id>"; sessionlab's cookie is "<id>.<signature>", its record read by id
    # through the Store protocol.
    response = fs_app.test_client().post("/set", data={"value": "44"})
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers, "the session cookie was not set"
    record = server_store.get(cookie_id(headers[0]))
    assert record is not None and record.data.get("value") == "44"


def test_null_session(server_store):
    # Origin: pallets-eco/flask-session tests/test_basic.py::test_null_session: a session
    # backend that cannot work is refused at setup with a ValueError (Flask-Session's
    # default SESSION_TYPE "null"; here a store URL sessionlab does not know).
    app = flask.Flask(__name__)
    app.secret_key = "alsdkfjaldkjsf"
    app.config["SESSIONLAB_STORE"] = "null://"
    with pytest.raises(ValueError, match="SESSIONLAB_STORE"):
        ServerSessions(app)


# -- derived from Flask's tests, as a user of a server-side store meets them ------------------


def test_no_secret_key_leaves_no_record(make_app, server_store):
    # Derived from pallets/flask tests/test_basic.py::test_missing_session: without a key,
    # a write fails with Flask's error before anything is stored (no orphan record, no 500
    # from deep inside the signer), and logout and login fail the same way.
    app = make_app(__name__, SECRET_KEY=None)

    @app.route("/<action>")
    def act(action):
        if action == "write":
            flask.session["user"] = "alice"
        else:
            getattr(flask.session, action)()
        return ""

    for action in ("write", "destroy", "regenerate"):
        with pytest.raises(RuntimeError, match="session is unavailable because no secret key"):
            app.test_client().get(f"/{action}")
    assert server_store.length() == 0


def test_permanent_record_outlives_its_cookie(make_app, server_store):
    # Derived from pallets/flask tests/test_basic.py::test_session_expiration: the cookie of a
    # permanent session says it lasts PERMANENT_SESSION_LIFETIME; the record it names must
    # last at least as long ("remember me" must not end sooner on the server).
    app = make_app(__name__)

    @app.get("/remember-me")
    def remember():
        flask.session.update(user="alice")
        flask.session.permanent = True
        return ""

    header = app.test_client().get("/remember-me").headers["set-cookie"]
    cookie_expires = parse_date(expires_of(header)).timestamp()
    assert server_store.get(cookie_id(header)).expires >= cookie_expires - 1


def test_values_without_a_tag_are_written_as_flask_writes_them(app, client):
    # Derived from pallets/flask tests/test_basic.py::test_session_special_types: what the
    # tagged serializer has no tag for goes through Flask's JSON default, as in its cookie
    # (a Decimal comes back as its text, a dataclass as a dict), not an error.
    import dataclasses
    from decimal import Decimal

    @dataclasses.dataclass
    class Point:
        x: int

    @app.route("/")
    def write():
        flask.session.update(price=Decimal("9.99"), point=Point(1))
        return "", 204

    @app.route("/read")
    def read():
        return {"price": flask.session["price"], "point": flask.session["point"]}

    client.get("/")
    assert client.get("/read").json == {"price": "9.99", "point": {"x": 1}}
