"""Fixtures for Flask's and Flask-Session's own session tests, ported to sessionlab.

Every test here runs on ``ServerSessions`` over a memory, a SQLite and a Redis store, and once
more on Flask's own cookie session (``cookie-control``): a port that passes there tests what
the original tested. Tests that only mean something on the server skip on the control. The
one place that puts sessions into an app is :func:`install_sessions`.

The originals, read at the tags matching the pinned versions: pallets/flask 3.1.3
(tests/test_basic.py, test_reqctx.py, test_testing.py, test_session_interface.py,
test_signals.py, test_templating.py, test_helpers.py, test_converters.py, test_config.py:
every test that touches the session or flashing) and pallets-eco/flask-session 0.8.0
(tests/conftest.py, test_redis.py, test_basic.py). Each test names its origin.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pytest

from sessionlab.flask import ServerSessions
from sessionlab.server.stores import MemoryStore, RedisStore, SQLiteStore, Store

CONTROL = "cookie-control"  # Flask's SecureCookieSessionInterface, untouched
KINDS = [CONTROL, "memory", "sqlite", "redis"]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store | None]:
    """An empty store of each kind; None on the control, whose session is in the cookie."""
    kind = request.param
    if kind == CONTROL:
        yield None
        return
    made: Store
    if kind == "memory":
        made = MemoryStore()
    elif kind == "sqlite":
        made = SQLiteStore(tmp_path / "sessions.sqlite3")
    else:
        made = RedisStore(
            request.getfixturevalue("redis_url"), prefix=f"t:{uuid.uuid4().hex}:"
        )  # tests/conftest.py
    yield made
    made.clear()
    made.close()


@pytest.fixture
def server_store(store: Store | None) -> Store:
    """The store, for a test that needs the session to live on the server."""
    if store is None:
        pytest.skip("server-side only: Flask's cookie session keeps no record")
    return store


def install_sessions(app: flask.Flask, store: Store | None) -> None:
    """The two lines a Flask developer adds; nothing at all on the control."""
    if store is not None:
        ServerSessions(app, store=store)


@pytest.fixture
def make_app(store: Store | None) -> Callable[..., flask.Flask]:
    """A new app set up as Flask's tests/conftest.py ``app`` fixture sets up its own
    (testing on, the key "test key"), with sessions installed; keywords go to app.config."""

    def make(import_name: str = "flask_test", **config: Any) -> flask.Flask:
        app = flask.Flask(import_name, root_path=str(Path(__file__).parent))
        app.config.update(TESTING=True, SECRET_KEY="test key")
        app.config.update(config)
        install_sessions(app, store)
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., flask.Flask]) -> flask.Flask:
    return make_app()


@pytest.fixture
def client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()


@pytest.fixture
def req_ctx(app: flask.Flask) -> Iterator[Any]:
    with app.test_request_context() as ctx:
        yield ctx


@pytest.fixture
def app_ctx(app: flask.Flask) -> Iterator[Any]:
    with app.app_context() as ctx:
        yield ctx
