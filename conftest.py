"""Doctests and notebooks that need a service follow the same rule as tests/: skip on a laptop
that lacks it, fail where services are required (SESSIONLAB_REQUIRE_SERVICES=1, as in CI)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from sessionlab.chromium import chromium_available

# The frameworks' own apps run in their child processes, configured by their environment.
collect_ignore_glob = ["sessionlab/server/frameworks/*_app/*"]

NEEDS_REDIS = (
    "sessionlab/server/stores/redis.py",
    "sessionlab/server/redis_server.py",
    "notebooks/03-stores-and-scale.ipynb",
)
NEEDS_CHROMIUM = (
    "sessionlab/browser.py",
    "notebooks/06-in-a-real-browser.ipynb",
)


# Notebook 07 runs on a learner's machine without Node or PHP (it says what they would add),
# but its committed outputs show every framework: nbval compares them only where all run.
NEEDS_FRAMEWORKS = ("notebooks/07-the-original-and-the-port.ipynb",)
FRAMEWORK_PROGRAMS = ("node", "npm", "php")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("SESSIONLAB_REQUIRE_SERVICES") == "1":
        return
    skips = []
    if not shutil.which("redis-server"):
        reason = "redis-server is not installed: apt-get install redis-server"
        skips.append((NEEDS_REDIS, pytest.mark.skip(reason=reason)))
    if not chromium_available():
        reason = "Chromium is not installed: apt-get install chromium (and pip install playwright)"
        skips.append((NEEDS_CHROMIUM, pytest.mark.skip(reason=reason)))
    missing = [program for program in FRAMEWORK_PROGRAMS if not shutil.which(program)]
    missing += [name for name in ("django", "starlette") if not importlib.util.find_spec(name)]
    if missing:
        reason = f"{', '.join(missing)} missing: apt-get install nodejs npm php-cli"
        skips.append((NEEDS_FRAMEWORKS, pytest.mark.skip(reason=reason)))
    for item in items:
        for paths, skip in skips:
            if str(item.fspath).endswith(paths):
                item.add_marker(skip)
