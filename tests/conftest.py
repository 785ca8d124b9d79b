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
def redis_url() -> Iterator[str]:
    """A private redis-server (loopback, no persistence) for the whole run."""
    need_service(redis_server.redis_server_binary() is not None, "redis-server is not installed")
    with redis_server.RedisServer() as server:
        yield server.url


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
