"""Shared fixtures: real servers on 127.0.0.1, each stopped after its test."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest

import sessionlab as sl
from sessionlab.server import redis_server

# In CI (.ci/run sets this), a missing service is a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("SESSIONLAB_REQUIRE_SERVICES") == "1"


def need_service(available: bool, reason: str) -> None:
    """Skip on a laptop that lacks a service; fail loudly where services are required."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (required: SESSIONLAB_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def cookie_name(test_name: str) -> str:
    """A valid cookie name (an HTTP token) from a test's name, so servers never collide."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"t-{test_name}")[:60]


@pytest.fixture(params=["memory", "sqlite"])
def server_store(request) -> str:
    """Each server-side store kind."""
    return request.param


@pytest.fixture
def lab(server_store, request):
    """A running server-side session server, named after the test so none collide."""
    with sl.start(store=server_store, name=cookie_name(request.node.name)) as lab:
        yield lab


@pytest.fixture
def client(lab):
    with sl.Client(lab.url, watch=lab.store) as client:
        yield client


@pytest.fixture(scope="session")
def private_redis_server() -> Iterator[redis_server.RedisServer]:
    """A private redis-server (loopback, no persistence) for the whole run."""
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(private_redis_server: redis_server.RedisServer) -> str:
    """Its TCP URL: every read goes to Redis."""
    return private_redis_server.url


@pytest.fixture(scope="session", params=["tcp", "unix socket: cached reads"])
def shared_redis_url(request: pytest.FixtureRequest, private_redis_server) -> str:
    """Its URL over TCP, and over its Unix socket, where workers cache what they read."""
    server = private_redis_server
    return server.url if request.param == "tcp" else server.socket_url


class FakeClock:
    """Stands in for ``time.time``, for the session interface and the stores alike: expiry
    tested to the second without sleeping. It starts at the real time, so that a cookie's
    Expires computed from it means the same to a client that reads the real clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(time, "time", clock)
    return clock


CHROMIUM_MISSING = (
    "Chromium is not installed: apt-get install chromium (and pip install playwright)"
)


@pytest.fixture(scope="session")
def chromium():
    """Chromium is here (or, in CI, the test fails): one process serves the whole session."""
    from sessionlab.chromium import chromium_available

    need_service(chromium_available(), CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def teaching_lab():
    """A seed lab with the teaching routes (/set-cookie, the unescaped name), per module."""
    name = cookie_name(f"teach-{os.getpid()}-{id(object())}")
    with sl.start(store="memory", name=name, teaching=["xss", "set-cookie"]) as lab:
        yield lab


@pytest.fixture(scope="module")
def attacker(teaching_lab):
    """The attacker's site (http://attacker.localhost:PORT) aiming at the teaching lab."""
    with sl.start_attacker(teaching_lab.url, name=f"{teaching_lab.name}-attacker") as site:
        yield site


@pytest.fixture(scope="module")
def module_browser(chromium, teaching_lab):
    """One Chromium tab per module on the teaching lab (a tab costs more than clearing it)."""
    with teaching_lab.browser(name=f"{teaching_lab.name}-browser") as browser:
        yield browser


@pytest.fixture
def browser(module_browser):
    """The module's tab as a new visitor: no cookies, no recorded exchanges."""
    module_browser.forget()
    return module_browser
