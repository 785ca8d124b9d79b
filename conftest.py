"""Doctests and notebooks that need a service follow the same rule as tests/: skip on a laptop
that lacks it, fail where services are required (SESSIONLAB_REQUIRE_SERVICES=1, as in CI)."""

from __future__ import annotations

import os
import shutil

import pytest

from sessionlab.chromium import chromium_available

NEEDS_REDIS = (
    "sessionlab/server/stores/redis.py",
    "sessionlab/server/redis_server.py",
    "notebooks/03-stores-and-scale.ipynb",
)
NEEDS_CHROMIUM = (
    "sessionlab/browser.py",
    "notebooks/06-in-a-real-browser.ipynb",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("SESSIONLAB_REQUIRE_SERVICES") == "1":
        return
    missing = []
    if not shutil.which("redis-server"):
        missing.append(
            (NEEDS_REDIS, "redis-server is not installed: apt-get install redis-server")
        )
    if not chromium_available():
        reason = "Chromium is not installed: apt-get install chromium (and pip install playwright)"
        missing.append((NEEDS_CHROMIUM, reason))
    for paths, reason in missing:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if str(item.fspath).endswith(paths):
                item.add_marker(skip)
