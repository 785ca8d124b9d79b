"""start(workers=N): the app in worker processes, sharing (or not) its store."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sessionlab as sl
from sessionlab.server.processes import port_answers
from sessionlab.server.redis_server import redis_server_binary
from sessionlab.server.stores import Record, SQLiteStore
from sessionlab.server.workers import WORKER_HEADER, StoreNotSharedWarning, start_workers
from tests.conftest import need_service

CLOSE = {"Connection": "close"}  # a new connection per request: any worker may answer


def cycles(url: str, user: str, rounds: int) -> tuple[list[str], set[str]]:
    """Run the seed's cycle ``rounds`` times; return what went wrong, and who served."""
    problems, workers = [], set()
    for n in range(rounds):
        with sl.Client(url) as client:
            name = f"{user}-{n}"
            for path, expected in [
                (f"/user/{name}", "Session Set"),
                ("/user", f"{name}<br />"),
                ("/logout", "logged out!"),
                ("/user", "user logged out!"),
            ]:
                response = client.get(path, headers=CLOSE)
                workers.add(response.headers[WORKER_HEADER])
                if not response.text.startswith(expected) and expected not in response.text:
                    problems.append(f"{name} {path}: {response.text[:40]!r}")
    return problems, workers


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_shared_stores_lose_no_session_across_two_workers(store, request):
    if store == "redis":
        need_service(redis_server_binary() is not None, "redis-server is not installed")
    with sl.start(store=store, name=f"t-workers-{store}", workers=2) as lab:
        assert len(lab.pids) == 2
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: cycles(lab.url, f"u{i}", 5), range(8)))
        assert [p for problems, _ in results for p in problems] == []
        assert len(set().union(*(workers for _, workers in results))) == 2  # both served
        assert lab.store.length() == 0  # every cycle logged out
        # A refusal is a worker's answer too: it says which worker gave it.
        refused = requests.get(f"{lab.url}/user", headers={"X-Big": "b" * 20_000}, timeout=10)
        assert refused.status_code == 431 and int(refused.headers[WORKER_HEADER]) in lab.pids


def test_memory_store_across_workers_warns_and_loses_sessions():
    with pytest.warns(StoreNotSharedWarning, match="each worker process keeps its own"):
        lab = sl.start(store="memory", name="t-workers-memory", workers=2)
    with lab:
        problems, workers = cycles(lab.url, "m", 10)
        assert len(workers) == 2
        assert problems, "40 requests over two workers never crossed to the other worker"
        assert lab.store.all() == []  # this process's dict was never used


def test_restarting_by_name_replaces_the_processes_and_stop_ends_them():
    first = sl.start(store="sqlite", name="t-workers-replace", workers=2)
    second = sl.start(store="sqlite", name="t-workers-replace", workers=2)
    try:
        assert not first.running and all(not alive(pid) for pid in first.pids)
        assert sl.running()["t-workers-replace"] is second
    finally:
        second.stop()
    assert not second.running and "t-workers-replace" not in sl.running()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in second.pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in second.pids)


def test_workers_die_with_a_parent_that_skips_atexit():
    script = (
        "import os, sessionlab as sl\n"
        "lab = sl.start(store='cookie', name='orphan', workers=2)  # no files left\n"
        "print(lab.port, flush=True)\n"
        "os._exit(0)  # no atexit: as when a kernel is killed\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    port = int(done.stdout)
    deadline = time.monotonic() + 10
    while port_answers(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_answers(port), "the worker server outlived its parent"


def test_options_that_cannot_reach_a_worker_are_named():
    with pytest.raises(TypeError, match="module-level functions"):
        sl.start(store="sqlite", name="t-workers-lambda", workers=1, genid=lambda: "x" * 43)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead but not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_gunicorn_serves_the_same_app_for_comparison():
    options = {"store": "sqlite", "name": "t-workers-gunicorn", "secret": "k" * 64}
    with start_workers(options, workers=2, server="gunicorn") as lab:
        problems, workers = cycles(lab.url, "g", 3)
        assert problems == [] and len(lab.pids) == 2
        assert workers <= {str(pid) for pid in lab.pids}
    assert not lab.running


def test_unknown_server_is_named():
    with pytest.raises(ValueError, match="granian, gunicorn"):
        start_workers({"store": "memory"}, workers=1, server="uvicorn")


def test_a_server_started_from_a_thread_outlives_that_thread():
    started = {}
    worker = threading.Thread(
        target=lambda: started.update(
            lab=sl.start(store="cookie", name="t-workers-thread", workers=1)
        )
    )
    worker.start()
    worker.join()  # an executor thread that has done its job
    lab = started["lab"]
    try:
        time.sleep(1.0)  # a parent-death signal would have ended the server by now
        assert lab.running
        assert sl.Client(lab.url).get("/user/alice").status_code == 200
    finally:
        lab.stop()


def environment_reveals(pid: int, secret: str) -> bool:
    """Does the process's environment hold ``secret``, plain or inside base64?"""
    with open(f"/proc/{pid}/environ", "rb") as file:
        values = [entry.partition(b"=")[2] for entry in file.read().split(b"\0")]
    for value in values:
        try:
            decoded = base64.b64decode(value, validate=True)
        except binascii.Error:
            decoded = b""
        if secret.encode() in value or secret.encode() in decoded:
            return True
    return False


def test_the_secret_never_enters_a_process_environment():
    secret = secrets.token_hex(32)
    with sl.start(store="sqlite", name="t-workers-secret", secret=secret, workers=2) as lab:
        assert sl.Client(lab.url).get("/user/alice").status_code == 200  # the workers have it
        for pid in [lab.runner.child.pid, *lab.pids]:
            assert not environment_reveals(pid, secret), f"the secret is in {pid}'s environment"
        options = lab.runner.options_path
        assert options.parent.stat().st_mode & 0o777 == 0o700
        assert not options.exists()  # read into the server's memory, and deleted, at start
    assert not options.parent.exists()  # the private folder goes on stop


class ClosingSQLiteStore(SQLiteStore):
    """A SQLite store that remembers whether it was closed."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def test_stop_leaves_a_store_passed_in_open_and_closes_its_own(tmp_path):
    store = ClosingSQLiteStore(tmp_path / "mine.sqlite3")
    with sl.start(store=store, name="t-workers-own-store", workers=1) as lab:
        sl.Client(lab.url).get("/user/alice")
    assert not store.closed  # the caller's store: still open and usable
    assert [r.data for r in store.all()] == [{"name": "alice"}]
    now = time.time()
    store.set(Record("abc", {"name": "bob"}, created=now, expires=now + 60))
    assert store.get("abc").data == {"name": "bob"}
    store.close()
    with sl.start(store="sqlite", name="t-workers-own-store", workers=1) as lab:
        made = lab.store
        assert made.path.exists()
    assert not made.path.exists()  # the lab made it, so the lab closed it (and its file)


def test_the_handle_names_the_seeds_insecure_choices():
    with sl.start(store="cookie", name="t-workers-repr", workers=1) as lab:
        assert repr(lab).endswith(
            "; insecure, for teaching: GET login and logout, no new id at login, "
            "client-side sessions cannot be revoked>"
        )
