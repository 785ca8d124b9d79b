"""SIGTERM (a kernel shut down, a CI job cancelled) leaves nothing secret on disk: not the
session database, not the TLS private key, not the pickled options that hold the secret."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from sessionlab.server.redis_server import redis_server_binary
from tests.conftest import need_service

SCRIPT = """
import json, sys, time
import sessionlab as sl
from sessionlab.server import tls

sqlite = sl.start(store="sqlite", name="term-sqlite")
hardened = sl.start(store="sqlite", name="term-hardened", profile="hardened")
workers = sl.start(store="sqlite", name="term-workers", workers=1)
redis = sl.RedisServer(durable=True)
redis.store().set(sl.Record("a", {"n": 1}, created=0, expires=time.time() + 60))
paths = {
    "database": str(sqlite.store.path),
    "workers' database": str(workers.store.path),
    "certificates": str(tls.local_tls().cert_path.parent),
    "worker options": str(workers.runner.child.folder),
    "redis data": str(redis.folder),
}
print(json.dumps(paths), flush=True)
time.sleep(60)
"""


def test_sigterm_removes_the_database_the_key_and_the_options():
    need_service(redis_server_binary() is not None, "redis-server is not installed")
    child = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        paths = json.loads(child.stdout.readline())
        assert all(Path(path).exists() for path in paths.values()), paths
        keys = list(Path(paths["certificates"]).glob("key*"))
        assert keys == []  # the private key never stays on disk, even while serving
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGTERM  # it still dies of the signal
    left = {name: path for name, path in paths.items() if Path(path).exists()}
    assert left == {}
