"""The Flask extension: its settings, store URLs, which limit wins, when a cookie is sent,
refused cookies (and a key rollback), and records written before the tagged format."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import timedelta

import flask
import pytest
from werkzeug.http import parse_date

import sessionlab as sl
from sessionlab.flask import RedisStore, ServerSessions, SQLiteStore, session_store
from sessionlab.server.extension import session_state
from sessionlab.server.stores import MemoryStore, Record

KEY = "k" * 64


def make_app(**config) -> flask.Flask:
    """An app with a login (a write), a view (a read), a permanent login and a logout."""
    app = flask.Flask("t-extension")
    app.config.update(SECRET_KEY=KEY, SESSIONLAB_STORE="memory://")
    app.config.update(config)

    @app.get("/login/<name>")
    def login(name):
        flask.session["name"] = name
        return "in"

    @app.get("/remember/<name>")
    def remember(name):
        flask.session["name"] = name
        flask.session.permanent = True
        return "in"

    @app.get("/forget")
    def forget():
        flask.session.permanent = False
        return "browser session"

    @app.get("/new-id")
    def new_id():
        flask.session.regenerate()
        return "new id"

    @app.get("/me")
    def me():
        return flask.session.get("name", "nobody")

    @app.get("/logout")
    def logout():
        flask.session.destroy()
        return "out"

    return app


def with_sessions(**config) -> flask.Flask:
    app = make_app(**config)
    ServerSessions(app)
    return app


# -- the two lines, the factory pattern, listing ------------------------------------------


def test_two_lines_keep_sessions_in_sqlite_in_the_instance_folder(tmp_path):
    app = flask.Flask("t-two-lines", instance_path=str(tmp_path / "instance"))
    app.secret_key = KEY
    ServerSessions(app)  # the default store: a SQLite file that workers and restarts share
    app.add_url_rule("/", "index", lambda: flask.session.setdefault("n", "alice"))
    assert app.test_client().get("/").text == "alice"
    store = session_store(app)
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "instance" / "sessionlab.sqlite3"
    assert [record.data for record in store.all()] == [{"n": "alice"}]
    store.close()


def test_one_extension_serves_apps_made_by_a_factory():
    sessions = ServerSessions()
    apps = [make_app(), make_app()]
    for app in apps:
        sessions.init_app(app)
    apps[0].test_client().get("/login/alice")
    assert [len(session_store(app).all()) for app in apps] == [1, 0]
    assert session_state(apps[1]).interface is apps[1].session_interface


def test_a_store_object_wins_over_the_setting():
    mine = MemoryStore()
    app = make_app(SESSIONLAB_STORE="redis://127.0.0.1:1/0")  # never opened
    ServerSessions(app, store=mine)
    app.test_client().get("/login/alice")
    assert session_store(app) is mine and mine.length() == 1


def test_an_app_without_the_extension_is_named_in_the_error():
    with pytest.raises(LookupError, match=r"call ServerSessions\(app\) first"):
        session_store(flask.Flask("t-bare"))


# -- settings and URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SESSIONLAB_IDLE_TIMOUT": 60}, "unknown setting SESSIONLAB_IDLE_TIMOUT"),
        ({"SESSIONLAB_LOCK": "yes"}, "SESSIONLAB_LOCK must be True or False"),
        ({"SESSIONLAB_IDLE_TIMEOUT": 0}, "SESSIONLAB_IDLE_TIMEOUT must be a number of seconds"),
        ({"SESSIONLAB_LOCK_TIMEOUT": None}, "SESSIONLAB_LOCK_TIMEOUT must be a number"),
        ({"SESSIONLAB_STORE": 42}, "SESSIONLAB_STORE must be a URL"),
        ({"SESSIONLAB_GENID": "abc"}, "SESSIONLAB_GENID must be a function"),
        ({"SESSIONLAB_KEY_PREFIX": ""}, "SESSIONLAB_KEY_PREFIX must be a non-empty string"),
        ({"SESSIONLAB_MAX_BYTES": 0}, "SESSIONLAB_MAX_BYTES must be a whole number of bytes"),
        ({"SESSIONLAB_MAX_BYTES": "8k"}, "SESSIONLAB_MAX_BYTES must be a whole number of bytes"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(config, message):
    with pytest.raises(sl.ConfigError, match=message):
        with_sessions(**config)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis", "not a store URL"),  # sl.start's names are not URLs
        ("sqlite:/sessions.db", "not a store URL"),
        ("sqlite:///", "not a store URL"),
        ("memory://elsewhere", "not a store URL"),
        ("postgresql://db/sessions", "use memory://, sqlite:///relative/path"),
        ("redis://127.0.0.1:port/0", "Port could not be cast"),
        ("redis://127.0.0.1:6379/zero", "the database 'zero' is not a number"),
        ("sqlite:////no/such/folder/s.db", "the folder /no/such/folder does not exist"),
    ],
)
def test_bad_store_urls_say_what_a_store_url_looks_like(url, message):
    with pytest.raises(sl.ConfigError, match=message) as error:
        with_sessions(SESSIONLAB_STORE=url)
    assert "SESSIONLAB_STORE" in str(error.value)


def test_store_urls_open_each_kind(tmp_path):
    def opened(url):
        app = flask.Flask("t-urls", instance_path=str(tmp_path / "instance"))
        app.config.update(SECRET_KEY=KEY, SESSIONLAB_STORE=url, SESSIONLAB_KEY_PREFIX="app1:")
        ServerSessions(app)
        return session_store(app)

    assert isinstance(opened("memory://"), MemoryStore)
    temporary = opened("sqlite://")
    assert temporary.path.exists() and temporary.path.parent != tmp_path / "instance"
    temporary.close()
    assert opened("sqlite:///sub/s.db").path == tmp_path / "instance" / "sub" / "s.db"
    assert opened(f"sqlite:///{tmp_path}/abs.db").path == tmp_path / "abs.db"
    redis = opened("redis://127.0.0.1:6390/3")  # redis-py connects on first use only
    assert isinstance(redis, RedisStore) and (redis.url, redis.prefix) == (
        "redis://127.0.0.1:6390/3",
        "app1:",
    )


def test_durations_may_be_timedeltas_and_genid_makes_the_ids():
    app = with_sessions(
        SESSIONLAB_IDLE_TIMEOUT=timedelta(minutes=5), SESSIONLAB_GENID=lambda: "A" * 43
    )
    app.test_client().get("/login/alice")
    (record,) = session_store(app).all()
    assert record.sid == "A" * 43
    assert record.expires - record.created == pytest.approx(300, abs=1)


# -- which limit wins --------------------------------------------------------------------


def test_the_shortest_limit_wins_and_a_permanent_cookie_never_outlives_the_absolute_one(clock):
    app = with_sessions(
        PERMANENT_SESSION_LIFETIME=3600,
        SESSIONLAB_IDLE_TIMEOUT=600,
        SESSIONLAB_ABSOLUTE_TIMEOUT=5400,
    )
    client, store = app.test_client(), session_store(app)
    login = clock.now
    header = client.get("/remember/alice").headers["Set-Cookie"]
    assert store.all()[0].expires == login + 600  # idle (10 min) beats the lifetime (1 h)
    assert parse_date(header.split("Expires=")[1].split(";")[0]).timestamp() == int(login + 3600)
    for _ in range(9):  # active every 9 minutes: the idle limit rolls on
        clock.advance(540)
        assert client.get("/me").text == "alice"
    assert store.all()[0].expires == login + 5400  # then the absolute limit (1.5 h) binds
    header = client.get("/remember/alice").headers["Set-Cookie"]  # a write: a new Expires
    cookie_expires = parse_date(header.split("Expires=")[1].split(";")[0]).timestamp()
    assert cookie_expires == int(login + 5400), "capped by the absolute limit, not now + 1 h"
    clock.advance(5400 - 9 * 540)
    assert client.get("/me").text == "nobody"


def test_without_timeouts_a_session_lives_permanent_session_lifetime_after_its_last_use(clock):
    app = with_sessions(PERMANENT_SESSION_LIFETIME=timedelta(days=1))
    client = app.test_client()
    client.get("/login/alice")
    for _ in range(3):
        clock.advance(20 * 3600)
        assert client.get("/me").text == "alice"
    clock.advance(25 * 3600)
    assert client.get("/me").text == "nobody"


def test_sessionlab_permanent_makes_new_sessions_permanent():
    app = with_sessions(SESSIONLAB_PERMANENT=True, PERMANENT_SESSION_LIFETIME=60)
    client = app.test_client()
    assert "Max-Age=60" in client.get("/login/alice").headers["Set-Cookie"]
    assert "Expires=" not in client.get("/forget").headers["Set-Cookie"]


# -- when Set-Cookie is sent ---------------------------------------------------------------


def set_cookie_after(client, path: str) -> str | None:
    return client.get(path).headers.get("Set-Cookie")


def test_set_cookie_only_when_the_cookie_changes():
    app = with_sessions()
    client = app.test_client()
    assert set_cookie_after(client, "/login/alice")  # a new id
    assert set_cookie_after(client, "/login/bob") is None  # a write to a live session
    assert set_cookie_after(client, "/me") is None
    assert set_cookie_after(client, "/new-id")  # a regenerated id
    assert "Expires=" in set_cookie_after(client, "/remember/bob")  # now permanent
    assert "Expires=" in set_cookie_after(client, "/remember/bob")  # a write: a later expiry
    assert "Expires=" not in set_cookie_after(client, "/forget")  # a browser-session again
    assert "Expires=Thu, 01 Jan 1970" in set_cookie_after(client, "/logout")


def test_rolling_sends_the_cookie_on_every_response():
    client = with_sessions(SESSIONLAB_ROLLING=True).test_client()
    assert [bool(set_cookie_after(client, p)) for p in ("/login/a", "/me", "/me")] == [True] * 3


def test_a_rotated_key_re_signs_the_cookie_on_a_write_not_on_a_read():
    app = with_sessions()
    client = app.test_client()
    client.get("/login/alice")
    app.config.update(SECRET_KEY="n" * 64, SECRET_KEY_FALLBACKS=[KEY])
    assert set_cookie_after(client, "/me") is None
    header = set_cookie_after(client, "/login/alice")
    assert header and sl.signed_with(header.split(";")[0].split("=", 1)[1], ["n" * 64]) == 0


# -- refused cookies -----------------------------------------------------------------------


@pytest.mark.parametrize("clear", [False, True])
def test_a_refused_signature_and_a_key_rollback(clear, caplog):
    # Flask keeps a cookie it cannot verify, so putting the key back restores the session;
    # SESSIONLAB_CLEAR_REFUSED_COOKIES (sl.start() sets it) clears it, and a rollback does not.
    app = with_sessions(SESSIONLAB_CLEAR_REFUSED_COOKIES=clear)
    client = app.test_client()
    client.get("/login/alice")
    app.secret_key = "removed-key-replaced" * 4
    with caplog.at_level(logging.WARNING, "sessionlab.server"):
        response = client.get("/me")
    assert response.text == "nobody"
    assert "rejected session cookie: bad-signature" in caplog.text
    assert ("Expires=Thu, 01 Jan 1970" in (response.headers.get("Set-Cookie") or "")) is clear
    app.secret_key = KEY  # the rollback
    assert client.get("/me").text == ("nobody" if clear else "alice")
    assert session_store(app).length() == 1  # the record itself lives on either way


def test_an_unknown_id_is_cleared_whatever_the_setting():
    app = with_sessions()
    client = app.test_client()
    client.get("/login/alice")
    session_store(app).clear()  # the record is gone: nothing can bring the session back
    assert "Expires=Thu, 01 Jan 1970" in set_cookie_after(client, "/me")


# -- records and their format ---------------------------------------------------------------


def test_a_registered_tag_is_used_by_the_store():
    # Flask's documented way to add a type to the session serializer, on the server.
    from flask.json.tag import JSONTag

    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    class TagPoint(JSONTag):
        key = " point"

        def check(self, value):
            return isinstance(value, Point)

        def to_json(self, value):
            return value.x

        def to_python(self, value):
            return Point(value)

    app = with_sessions()
    app.session_interface.serializer.register(TagPoint)
    app.add_url_rule("/point", "point", lambda: flask.session.update(p=Point(3)) or "")
    app.test_client().get("/point")
    assert session_store(app).all()[0].data["p"].x == 3


LEGACY = {"name": "alice", "cart": [1, 2], "x": {" t": [1, 2]}}  # the last looks like a tag


def test_sqlite_records_written_before_tagging_read_back_exactly(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)  # the table as sessionlab 0.1 made it: no format column
    old.execute(
        "CREATE TABLE sessions (sid TEXT PRIMARY KEY, data TEXT NOT NULL, "
        "created REAL NOT NULL, expires REAL NOT NULL)"
    )
    old.execute("INSERT INTO sessions VALUES ('old', ?, 0, ?)", (json.dumps(LEGACY), 2e9))
    old.commit()
    old.close()
    store = SQLiteStore(path)
    app = make_app()
    ServerSessions(app, store=store)
    assert store.get("old").data == LEGACY  # plain JSON: the tag-shaped dict stays a dict
    store.set(Record("new", {"t": (1, 2)}, created=0, expires=2e9))
    assert store.get("new").data == {"t": (1, 2)}
    assert [r.data for r in store.all()] == [LEGACY, {"t": (1, 2)}]
    store.close()


def test_redis_values_written_before_tagging_read_back_exactly(redis_url):
    store = RedisStore(redis_url, prefix="t:legacy:")
    ServerSessions(make_app(), store=store)
    old_value = f"2000000000.0 {json.dumps({'created': 0, 'data': LEGACY})}"
    store.redis.set(store.key("old"), old_value, ex=60)
    store.set(Record("new", {"t": (1, 2)}, created=1, expires=time.time() + 60))
    assert store.get("old").data == LEGACY
    assert store.get("new").data == {"t": (1, 2)}
    assert [r.data for r in store.all()] == [LEGACY, {"t": (1, 2)}]
    store.clear()
    store.close()


def test_sessionlab_lock_makes_a_request_wait_for_its_session_then_refuse():
    app = with_sessions(SESSIONLAB_LOCK=True, SESSIONLAB_LOCK_TIMEOUT=0.05)
    client = app.test_client()
    header = client.get("/login/alice").headers["Set-Cookie"]
    sid = header.split("=", 1)[1].split(".")[0]
    held = session_state(app).interface.locks.acquire(sid, timeout=1)  # another request
    response = client.get("/me")
    assert response.status_code == 503 and b"SESSIONLAB_LOCK_TIMEOUT" in response.data
    session_state(app).interface.locks.release(held)
    assert client.get("/me").text == "alice"


# -- SESSIONLAB_MAX_BYTES -------------------------------------------------------------------


def test_a_session_over_sessionlab_max_bytes_is_refused_and_not_saved():
    app = make_app(SESSIONLAB_MAX_BYTES=100)

    @app.get("/grow/<int:size>")
    def grow(size):
        flask.session["blob"] = "x" * size
        return flask.redirect("/me")

    ServerSessions(app)
    client = app.test_client()
    client.get("/login/alice")
    assert client.get("/grow/10").status_code == 302
    refused = client.get("/grow/500")
    assert refused.status_code == 413
    assert refused.text.startswith("413: the session would hold 526 bytes")
    assert "limit of 100 (SESSIONLAB_MAX_BYTES changes it)" in refused.text
    assert "Location" not in refused.headers and refused.mimetype == "text/plain"
    (record,) = session_store(app).all()
    assert record.data == {"name": "alice", "blob": "x" * 10}  # what fitted, kept


def test_without_sessionlab_max_bytes_a_session_may_grow():
    app = make_app()

    @app.get("/grow")
    def grow():
        flask.session["blob"] = "x" * 100_000
        return "ok"

    ServerSessions(app)
    assert app.test_client().get("/grow").status_code == 200


def test_a_refused_write_changes_nothing_not_even_with_a_new_id_or_a_server_error():
    app = make_app(SESSIONLAB_MAX_BYTES=100)

    @app.get("/grow-with-new-id")
    def grow_with_new_id():
        flask.session.regenerate()
        flask.session["blob"] = "x" * 500
        return "grown"

    @app.get("/grow-then-fail")
    def grow_then_fail():
        flask.session["blob"] = "x" * 500
        raise RuntimeError("the view failed after writing")

    ServerSessions(app)
    client = app.test_client()
    client.get("/login/alice")
    assert client.get("/grow-with-new-id").status_code == 413
    assert client.get("/grow-then-fail").status_code == 500  # stays the server error it is
    assert client.get("/me").text == "alice"  # the old id still works
    (record,) = session_store(app).all()
    assert record.data == {"name": "alice"}
