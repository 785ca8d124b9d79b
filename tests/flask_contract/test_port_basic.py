"""Flask's session tests from pallets/flask 3.1.3 tests/test_basic.py, on every store.

Each test names its original; its assertions check what the original's check. Where the
original leans on the session being inside the cookie, the comment says what is checked
instead, and why that is the same observable behaviour.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import flask
import pytest
from flask.globals import request_ctx
from markupsafe import Markup
from werkzeug.http import parse_date

from .helpers import expires_of, later


def test_session_accessed(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_accessed
    # Vary: Cookie exactly when the request used the session; accessed/modified as Flask sets.
    @app.post("/")
    def store_value():
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.get("/")
    def show_value():
        return flask.session.get("value", "None")

    @app.get("/nothing")
    def nothing():
        return ""

    def state():
        return request_ctx._session.accessed, request_ctx._session.modified

    with client:
        response = client.get("/nothing")
        assert "cookie" not in response.vary and state() == (False, False)
    with client:
        response = client.post(data={"value": "42"})
        assert response.text == "value set"
        assert "cookie" in response.vary and state() == (True, True)
    with client:
        response = client.get()
        assert response.text == "42"
        assert "cookie" in response.vary and state() == (True, False)
    with client:
        response = client.get("/nothing")
        assert response.text == ""
        assert "cookie" not in response.vary and state() == (False, False)


def write_on_index(app):
    @app.route("/")
    def index():
        flask.session["testing"] = 42
        return "Hello World"


def test_session_path(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_path
    app.config.update(APPLICATION_ROOT="/foo")
    write_on_index(app)
    response = client.get("/", "http://example.com:8080/foo")
    assert "path=/foo" in response.headers["set-cookie"].lower()


def test_session_using_application_root(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_using_application_root
    inner = app.wsgi_app

    def mounted_at_bar(environ, start_response):  # the original's PrefixPathMiddleware
        environ["SCRIPT_NAME"] = "/bar"
        return inner(environ, start_response)

    app.wsgi_app = mounted_at_bar
    app.config.update(APPLICATION_ROOT="/bar")
    write_on_index(app)
    response = client.get("/", "http://example.com:8080/")
    assert "path=/bar" in response.headers["set-cookie"].lower()


def test_session_using_session_settings(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_using_session_settings
    # Every SESSION_COOKIE_* setting shows on the cookie that is set and on the one cleared.
    app.config.update(
        SERVER_NAME="www.example.com:8080",
        APPLICATION_ROOT="/test",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )
    write_on_index(app)

    @app.route("/clear")
    def clear():
        flask.session.pop("testing", None)
        return "Goodbye World"

    set_header = client.get("/", "http://www.example.com:8080/test/").headers["set-cookie"]
    cleared = client.get("/clear", "http://www.example.com:8080/test/").headers["set-cookie"]
    assert "session=;" in cleared.lower()
    for header in (set_header.lower(), cleared.lower()):
        assert "domain=example.com" in header or "domain=.example.com" in header
        assert "path=/" in header and "secure" in header
        assert "samesite" in header and "partitioned" in header
    assert "httponly" not in set_header.lower()


@pytest.mark.parametrize("samesite", [None, "Strict", "Lax"])
def test_session_using_samesite_attribute(app, samesite):
    # Origin: pallets/flask tests/test_basic.py::test_session_using_samesite_attribute
    # The original changes SESSION_COOKIE_SAMESITE between writes to one live session and
    # reads each new Set-Cookie: Flask re-sends an unchanged cookie on every write, sessionlab
    # sends none (the cookie did not change). The same setting is checked where a cookie is
    # set: a new session's, from a fresh client per value.
    write_on_index(app)
    app.config.update(SESSION_COOKIE_SAMESITE="invalid")
    with pytest.raises(ValueError):
        app.test_client().get("/")
    app.config.update(SESSION_COOKIE_SAMESITE=samesite)
    header = app.test_client().get("/").headers["set-cookie"].lower()
    if samesite is None:
        assert "samesite" not in header
    else:
        assert f"samesite={samesite.lower()}" in header


def test_missing_session(app):
    # Origin: pallets/flask tests/test_basic.py::test_missing_session
    app.secret_key = None
    with app.test_request_context():
        assert flask.session.get("missing_key") is None
        for write in (
            lambda: flask.session.__setitem__("foo", 42),
            lambda: flask.session.pop("foo"),
        ):
            with pytest.raises(RuntimeError, match="session is unavailable"):
                write()


def test_session_secret_key_fallbacks(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_secret_key_fallbacks
    # On the server the key signs the id, not the data; the user sees the same: a cookie
    # under an unknown key reads as an empty session, and comes back once its key is trusted
    # again (the extension leaves the refused cookie in the browser, as Flask does).
    @app.post("/")
    def set_session():
        flask.session["a"] = 1
        return ""

    @app.get("/")
    def get_session():
        return dict(flask.session)

    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "0 key", ["-1 key", "-2 key"]
    client.post()
    assert client.get().json == {"a": 1}
    app.secret_key = "? key"  # the cookie's key is neither current nor a fallback
    assert client.get().json == {}
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "+1 key", ["0 key", "-1 key"]
    assert client.get().json == {"a": 1}


def test_session_expiration(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_expiration
    # A permanent session's cookie expires PERMANENT_SESSION_LIFETIME from now (to the day),
    # the flag survives to the next request, and a session made non-permanent again gets a
    # cookie without an expiry.
    @app.route("/keep/<answer>")
    def keep(answer):
        flask.session["answer"] = 42
        flask.session.permanent = answer == "yes"
        return ""

    app.add_url_rule("/is-permanent", "is_permanent", lambda: str(flask.session.permanent))

    header = client.get("/keep/yes").headers.get("set-cookie")
    assert header is not None
    expires = parse_date(expires_of(header))
    expected = datetime.now(UTC) + app.permanent_session_lifetime
    assert expires.date() == expected.date()
    assert client.get("/is-permanent").text == "True"

    header = client.get("/keep/no").headers.get("set-cookie")
    assert header is not None and expires_of(header) is None


def test_session_stored_last(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_stored_last
    # A write in an after_request function is saved: the session is saved after it runs.
    @app.after_request
    def write_late(response):
        flask.session["foo"] = 42
        return response

    @app.route("/")
    def show():
        return repr(flask.session.get("foo"))

    assert client.get("/").data == b"None"
    assert client.get("/").data == b"42"


SPECIAL = {  # Flask's test values: each needs a tag, or looks like one and must not be read so
    "t": (1, 2, 3),
    "b": b"\xff",
    "m": Markup("<html>"),
    "u": uuid.UUID("b1a4fe6c-2d34-4b1c-bc4e-16f5e1ae0c3e"),
    "d": datetime(2026, 11, 29, 17, 0, tzinfo=UTC),
    "t_tag": {" t": "not-a-tuple"},
    "di_t_tag": {" t__": "not-a-tuple"},
    "di_tag": {" di": "not-a-dict"},
}


def assert_special(session):
    for key, value in SPECIAL.items():
        assert session[key] == value and type(session[key]) is type(value), key


def test_session_special_types(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_special_types
    # As in the original, the values are checked on the request's own session object, whose
    # save must succeed (a 500 here before issue 11); the next test reads them back.
    @app.route("/")
    def write_special():
        flask.session.update(SPECIAL)
        return "", 204

    with client:
        assert client.get("/").status_code == 204
        assert_special(flask.session)


def test_session_special_types_on_the_next_request(app, client):
    # Derived from pallets/flask tests/test_basic.py::test_session_special_types: a cookie
    # session decodes the values from the cookie on the next request, a server-side one from
    # its store. The next request must see the same values with the same types.
    @app.route("/")
    def write_special():
        flask.session.update(SPECIAL)
        return "", 204

    @app.route("/read")
    def read():
        return "", 204

    with client:
        client.get("/")
        client.get("/read")
        assert_special(flask.session)


def test_session_cookie_setting(app):
    # Origin: pallets/flask tests/test_basic.py::test_session_cookie_setting
    # A read of a permanent session refreshes its cookie only with SESSION_REFRESH_EACH_REQUEST;
    # a non-permanent one never. Flask re-sends the permanent cookie on every request, even
    # when its Expires has not changed; sessionlab sends it when the expiry moves, a tenth of
    # the lifetime on (a write to the store per read otherwise): the read comes 4 days later.
    mode = {"permanent": True}

    @app.route("/bump")
    def bump():
        count = flask.session["foo"] = flask.session.get("foo", 0) + 1
        flask.session.permanent = mode["permanent"]
        return str(count)

    @app.route("/read")
    def read():
        return str(flask.session.get("foo", 0))

    def run(app, expect_header):
        with app.test_client() as client:
            assert [client.get("/bump").data for _ in range(3)] == [b"1", b"2", b"3"]
            later(app, 4 * 24 * 3600)
            response = client.get("/read")
            assert ("set-cookie" in response.headers) == expect_header
            assert response.data == b"3"
        app.session_interface.__dict__.pop("clock", None)  # back to the real clock

    for permanent, refresh, expected in [
        (True, True, True),
        (True, False, False),
        (False, True, False),
        (False, False, False),
    ]:
        mode["permanent"] = permanent
        app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
        run(app, expected)


def test_session_vary_cookie(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_vary_cookie
    # Every way of using the session gives one Vary header with Cookie in it, merged with
    # what the view put there itself; a view that leaves the session alone gives none.
    def writing_with_vary(*values):
        def view():
            response = flask.Response()
            response.vary.update(values)
            flask.session["test"] = "test"
            return response

        return view

    expected = {
        "/set": (lambda: flask.session.update(test="test") or "", "Cookie"),
        "/get": (lambda: flask.session.get("test"), "Cookie"),
        "/getitem": (lambda: flask.session["test"], "Cookie"),
        "/setdefault": (lambda: flask.session.setdefault("test", "default"), "Cookie"),
        "/clear": (lambda: flask.session.clear() or "", "Cookie"),
        "/vary-cookie-header-set": (writing_with_vary("Cookie"), "Cookie"),
        "/vary-header-set": (
            writing_with_vary("Accept-Encoding", "Accept-Language"),
            "Accept-Encoding, Accept-Language, Cookie",
        ),
        "/no-vary-header": (lambda: "", None),
    }
    for path, (view, _) in expected.items():
        app.add_url_rule(path, path, view)
    for path, (_, vary) in expected.items():  # in this order, on one client
        headers = client.get(path).headers
        assert headers.getlist("Vary") == ([vary] if vary else []), path


def test_session_refresh_vary(app, client):
    # Origin: pallets/flask tests/test_basic.py::test_session_refresh_vary
    # A refreshed permanent cookie on a request that never touches the session still says
    # Vary: Cookie. Flask refreshes it on every request; sessionlab when the expiry has moved
    # (see test_session_cookie_setting), so the second request comes 4 days later.
    @app.get("/login")
    def login():
        flask.session["user_id"] = 1
        flask.session.permanent = True
        return ""

    @app.get("/ignored")
    def ignored():
        return ""

    assert client.get("/login").headers["Vary"] == "Cookie"
    later(app, 4 * 24 * 3600)
    response = client.get("/ignored")
    assert "set-cookie" in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_flashes(app, req_ctx):
    # Origin: pallets/flask tests/test_basic.py::test_flashes
    assert not flask.session.modified
    flask.flash("Zap")
    flask.session.modified = False
    flask.flash("Zip")
    assert flask.session.modified
    assert list(flask.get_flashed_messages()) == ["Zap", "Zip"]


EMPHASIS = Markup("<em>Testing</em>")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Hello World", "Hello World", EMPHASIS]),
        (
            {"with_categories": True},
            [("message", "Hello World"), ("error", "Hello World"), ("warning", EMPHASIS)],
        ),
        ({"category_filter": ["message"], "with_categories": True}, [("message", "Hello World")]),
        (
            {"category_filter": ["message", "warning"], "with_categories": True},
            [("message", "Hello World"), ("warning", EMPHASIS)],
        ),
        ({"category_filter": ["message", "warning"]}, ["Hello World", EMPHASIS]),
    ],
    ids=["all", "with-categories", "filter", "filters", "filters-without-categories"],
)
def test_extended_flashing(app, query, expected):
    # Origin: pallets/flask tests/test_basic.py::test_extended_flashing (its five reading
    # routes, one per case, each from a new client after the same three flashes)
    @app.route("/")
    def index():
        flask.flash("Hello World")
        flask.flash("Hello World", "error")
        flask.flash(EMPHASIS, "warning")
        return ""

    @app.route("/read")
    def read():
        messages = flask.get_flashed_messages(**query)
        assert list(messages) == expected
        for got, wanted in zip(messages, expected, strict=True):  # tuples stay tuples,
            assert type(got) is type(wanted)  # and Markup stays Markup
        return ""

    client = app.test_client()
    client.get("/")
    client.get("/read")


def test_flashed_markup_renders_as_html(app, client):
    # Derived from pallets/flask tests/test_basic.py::test_extended_flashing: a Markup equals
    # the same text as a plain str, so what the user sees is the check: the page must show the
    # flashed Markup as HTML, not escaped.
    @app.route("/")
    def index():
        flask.flash(EMPHASIS, "warning")
        return ""

    @app.route("/show")
    def show():
        return flask.render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}"
            "{{ c }}:{{ m }}{% endfor %}"
        )

    client.get("/")
    assert client.get("/show").text == "warning:<em>Testing</em>"
