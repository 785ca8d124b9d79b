"""Doctests and notebooks that need a service follow the same rule as tests/: skip on a laptop
that lacks it, fail where services are required (SESSIONLAB_REQUIRE_SERVICES=1, as in CI)."""

from __future__ import annotations

import os
import shutil

import pytest

# The frameworks' own apps run in their child processes, configured by their environment.
collect_ignore_glob = ["sessionlab/server/frameworks/*_app/*"]

NEEDS_REDIS = (
    "sessionlab/server/stores/redis.py",
    "sessionlab/server/redis_server.py",
    "notebooks/03-stores-and-scale.ipynb",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("redis-server") or os.environ.get("SESSIONLAB_REQUIRE_SERVICES") == "1":
        return
    skip = pytest.mark.skip(reason="redis-server is not installed: apt-get install redis-server")
    for item in items:
        if str(item.fspath).endswith(NEEDS_REDIS):
            item.add_marker(skip)
