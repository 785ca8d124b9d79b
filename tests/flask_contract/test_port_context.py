"""Flask's other session tests, pallets/flask 3.1.3: the request context (test_reqctx.py),
the test client (test_testing.py), and one each from test_session_interface.py,
test_signals.py, test_templating.py, test_helpers.py, test_converters.py, test_config.py."""

from __future__ import annotations

import flask
import pytest
from flask.globals import request_ctx
from werkzeug.routing import BaseConverter


def write_fizz_and_copy(app, copy):
    """A view that writes the session, then hands a copy of its context to a greenlet that
    checks the request and the session from there; returns the greenlets made."""
    greenlet = pytest.importorskip("greenlet").greenlet  # in the [test] extra
    made = []

    @app.route("/")
    def index():
        flask.session["fizz"] = "buzz"
        made.append(greenlet(copy(app)))
        return "Hello World!"

    return made


def check_copied_context(app):
    assert flask.request and flask.current_app == app
    assert flask.request.path == "/" and flask.request.args["foo"] == "bar"
    assert flask.session.get("fizz") == "buzz"
    return 42


def test_greenlet_context_copying(app, client):
    # Origin: pallets/flask tests/test_reqctx.py::TestGreenletContextCopying::
    # test_greenlet_context_copying
    def copy(app):
        copied = request_ctx.copy()

        def run():
            assert not flask.request and not flask.current_app
            with copied:
                check_copied_context(app)
            assert not flask.request
            return 42

        return run

    made = write_fizz_and_copy(app, copy)
    assert client.get("/?foo=bar").data == b"Hello World!"
    assert made[0].run() == 42


def test_greenlet_context_copying_api(app, client):
    # Origin: pallets/flask tests/test_reqctx.py::TestGreenletContextCopying::
    # test_greenlet_context_copying_api
    def copy(app):
        return flask.copy_current_request_context(lambda: check_copied_context(app))

    made = write_fizz_and_copy(app, copy)
    assert client.get("/?foo=bar").data == b"Hello World!"
    assert made[0].run() == 42


def test_session_error_pops_context(make_app, store, monkeypatch):
    # Origin: pallets/flask tests/test_reqctx.py::test_session_error_pops_context
    # The original's interface raises in open_session. On the server that happens when the
    # store fails while a session is loaded (Redis down, disk gone): here the store's get
    # raises once a session exists. On the control, open_session raises, as in the original.
    # Not in testing mode, so the error is a 500 and the contexts are gone afterwards.
    class SessionError(Exception):
        pass

    def fail(*args, **kwargs):
        raise SessionError()

    app = make_app(__name__)
    app.testing = False

    @app.route("/login")
    def login():
        flask.session["user"] = "alice"
        return ""

    @app.route("/")
    def index():
        raise AssertionError("the view must not run when the session could not be opened")

    client = app.test_client()
    if store is None:
        monkeypatch.setattr(app.session_interface, "open_session", fail)
    else:
        client.get("/login")
        monkeypatch.setattr(store, "get", fail)
    assert client.get("/").status_code == 500
    assert not flask.request and not flask.current_app


def test_session_dynamic_cookie_name(make_app):
    # Origin: pallets/flask tests/test_reqctx.py::test_session_dynamic_cookie_name
    # The original subclasses Flask's interface to override get_cookie_name; the port
    # overrides it on whichever interface is installed.
    app = make_app(__name__, SECRET_KEY="secret_key")
    app.testing = False
    interface = app.session_interface
    usual_name = interface.get_cookie_name

    def get_cookie_name(app):
        if flask.request.url.endswith("dynamic_cookie"):
            return "dynamic_cookie_name"
        return usual_name(app)

    interface.get_cookie_name = get_cookie_name

    for path in ("/set", "/set_dynamic_cookie"):
        app.add_url_rule(path, path, set_from_form, methods=["POST"])
    for path in ("/get", "/get_dynamic_cookie"):
        app.add_url_rule(path, path, lambda: flask.session.get("value", "None"))

    client = app.test_client()
    assert client.post("/set", data={"value": "42"}).data == b"value set"
    assert client.post("/set_dynamic_cookie", data={"value": "616"}).data == b"value set"
    assert client.get("/get").data == b"42"  # two cookies, one per name
    assert client.get("/get_dynamic_cookie").data == b"616"


def set_from_form():
    flask.session["value"] = flask.request.form["value"]
    return "value set"


def test_redirect_session(app, client, app_ctx):
    # Origin: pallets/flask tests/test_testing.py::test_redirect_session
    # Both hops of a followed redirect write to one session; the client's context keeps it.
    def mark(key, then):
        def view():
            flask.session[key] = True
            return flask.redirect(then) if then else ""

        return view

    app.add_url_rule("/first-hop", "first", mark("first", "/second-hop"))
    app.add_url_rule("/second-hop", "second", mark("second", None))
    with client:
        client.get("/first-hop", follow_redirects=True)
        assert (flask.session["first"], flask.session["second"]) == (True, True)


def test_session_transactions(app, client):
    # Origin: pallets/flask tests/test_testing.py::test_session_transactions
    # What a test puts in through session_transaction() a request sees, and the next
    # transaction sees it too.
    app.add_url_rule("/", "show", lambda: repr(flask.session["items"]))
    with client:
        with client.session_transaction() as planted:
            assert dict(planted) == {}
            planted["items"] = [42]
            assert dict(planted) == {"items": [42]}
        assert client.get("/").text == "[42]"
        with client.session_transaction() as seen:
            assert dict(seen) == {"items": [42]}


def test_session_transactions_no_null_sessions(make_app):
    # Origin: pallets/flask tests/test_testing.py::test_session_transactions_no_null_sessions
    # (the original's app is a bare Flask(__name__): no secret key)
    app = make_app(__name__, SECRET_KEY=None)
    client = app.test_client()
    with client, pytest.raises(RuntimeError) as error, client.session_transaction():
        pass
    assert "Session backend did not open a session" in str(error.value)


def test_session_transactions_keep_context(app, client, req_ctx):
    # Origin: pallets/flask tests/test_testing.py::test_session_transactions_keep_context
    client.get("/")
    request = flask.request._get_current_object()
    assert request is not None
    with client.session_transaction():
        assert request is flask.request._get_current_object()


def test_session_transaction_needs_cookies(app):
    # Origin: pallets/flask tests/test_testing.py::test_session_transaction_needs_cookies
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="Cookies are disabled."), client.session_transaction():
        pass


def test_open_session_with_endpoint(make_app):
    # Origin: pallets/flask tests/test_session_interface.py::test_open_session_with_endpoint
    # An interface may match the URL while it opens the session (the endpoint is known then).
    # The original's interface does only that and returns None; the port wraps the installed
    # interface's open_session, which then opens the real session.
    app = make_app(__name__)
    opened = app.session_interface.open_session
    endpoints = []

    def open_after_matching(app, request):
        request_ctx.match_request()
        endpoints.append(request.endpoint)
        return opened(app, request)

    app.session_interface.open_session = open_after_matching
    app.add_url_rule("/", "hello", lambda: "Hello, World!")
    assert app.test_client().get("/").status_code == 200
    assert endpoints == ["hello"]


def test_flash_signal(app):
    # Origin: pallets/flask tests/test_signals.py::test_flash_signal
    @app.route("/")
    def index():
        flask.flash("This is a flash message", category="notice")
        return flask.redirect("/other")

    recorded = []

    def record(sender, message, category):
        recorded.append((message, category))

    with flask.message_flashed.connected_to(record, app):
        client = app.test_client()
        with client.session_transaction():
            client.get("/")
            assert recorded == [("This is a flash message", "notice")]


def test_standard_context(app, client):
    # Origin: pallets/flask tests/test_templating.py::test_standard_context
    @app.route("/")
    def index():
        flask.g.foo = 23
        flask.session["test"] = "aha"
        return flask.render_template_string(
            "{{ request.args.foo }} {{ g.foo }} {{ config.DEBUG }} {{ session.test }}"
        )

    assert client.get("/?foo=42").data.split() == [b"42", b"23", b"False", b"aha"]


def streaming_view(app, view_is_async: bool):
    def stream():
        flask.session["test"] = "flask"

        @flask.stream_with_context
        def generate():
            yield flask.session["test"]

        return flask.Response(generate())

    async def async_stream():
        return stream()

    app.add_url_rule("/", "index", async_stream if view_is_async else stream)


def test_stream_keeps_session(app, client):
    # Origin: pallets/flask tests/test_helpers.py::TestStreaming::test_stream_keeps_session
    streaming_view(app, view_is_async=False)
    assert client.get("/").data == b"flask"


def test_async_view(app, client):
    # Origin: pallets/flask tests/test_helpers.py::TestStreaming::test_async_view
    pytest.importorskip("asgiref")  # in the [test] extra (Flask's "async" extra)
    streaming_view(app, view_is_async=True)
    client.get().close()  # the response closed without reading the stream
    assert client.get().text == "flask"
    with client:  # and the same with the client keeping the context
        client.get().close()
    with client:
        assert client.get().text == "flask"


def test_context_available(app, client):
    # Origin: pallets/flask tests/test_converters.py::test_context_available
    # The session is open before URL converters run.
    class ContextConverter(BaseConverter):
        def to_python(self, value):
            assert flask.request is not None
            assert flask.session is not None
            return value

    app.url_map.converters["ctx"] = ContextConverter
    app.add_url_rule("/<ctx:name>", "index", lambda name: name)
    assert client.get("/admin").data == b"admin"


def test_session_lifetime(make_app):
    # Origin: pallets/flask tests/test_config.py::test_session_lifetime (configuration only,
    # kept so that the list of Flask's session tests is whole)
    app = make_app(__name__)
    app.config["PERMANENT_SESSION_LIFETIME"] = 42
    assert app.permanent_session_lifetime.seconds == 42
