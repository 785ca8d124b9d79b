"""Worker processes under faults: a killed worker is replaced and the handle knows it, idle
connections cannot silence the server, orphans do not serve, a restart keeps sessions."""

from __future__ import annotations

import os
import resource
import signal
import socket
import time

import pytest
import requests

import sessionlab as sl
from sessionlab.server.processes import port_answers


@pytest.fixture(scope="module")
def lab():
    with sl.start(store="sqlite", name="t-faults-workers", workers=2) as lab:
        yield lab


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_killed_worker_is_replaced_and_the_handle_knows(lab):
    client = sl.Client(lab.url)
    client.get("/user/alice")
    before = lab.pids
    os.kill(before[0], signal.SIGKILL)  # a crash, not a polite stop
    assert wait_for(lambda: len(lab.pids) == 2 and before[0] not in lab.pids)
    # The dead worker's threads may still be exiting, its sockets not yet closed: a request
    # sent on the client's kept connection then meets a reset (a keep-alive race any server
    # has, not what this test is about), so wait for the process to be gone.
    assert wait_for(lambda: not os.path.exists(f"/proc/{before[0]}"))
    assert lab.running
    assert client.get("/user").text.startswith("alice")  # the shared store kept the session
    health = lab.health()
    assert health["workers"] == 2 and health["respawns"] >= 1
    [replaced] = [e for e in lab.events if f"worker {before[0]} exited" in e]
    assert "took its place (respawned)" in replaced


def test_kill_worker_returns_the_replacement(lab):
    # The oldest worker (lowest pid), not the one just respawned: granian takes a second
    # death of the same worker within 5.5 s for a crash loop, and exits.
    victim = min(lab.pids)
    replacement = lab.kill_worker(victim)
    assert replacement is not None and replacement in lab.pids and victim not in lab.pids
    assert any(f"kill_worker: killed worker {victim}" in e for e in lab.events)


def test_the_replacement_gets_its_share_of_clients_that_keep_their_connections():
    """Clients that keep their connections open reconnect once, while the replacement is
    still starting: unless the survivor sends some of them away, all of them stay on it and
    the replacement serves nobody (the server runs at one worker's throughput for good)."""
    with sl.start(store="sqlite", name="t-faults-share", workers=2) as lab:
        victim, survivor = sorted(lab.pids)
        run = sl.load(
            lab,
            clients=8,
            cycles=10_000,
            duration=4.0,
            faults=[(0.5, lambda: lab.kill_worker(victim))],
            progress=False,
        )
        [replacement] = set(lab.pids) - {survivor}
    late = run.frame[run.frame["t"] > run.faults.iloc[0]["at"] + 2.0]
    served = late["worker"].value_counts()
    assert served.get(str(survivor), 0) > 0 and served.get(str(replacement), 0) > 0, served


def test_two_thousand_idle_connections_do_not_silence_the_workers(lab):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2200:
        pytest.skip(f"this process may hold only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4200), hard))
    held = [socket.create_connection(("127.0.0.1", lab.port)) for _ in range(2000)]
    try:
        time.sleep(0.5)
        started = time.monotonic()
        response = requests.get(f"{lab.url}/user", timeout=30)
        assert response.status_code == 200
        assert time.monotonic() - started < 3.0  # the target is 1 s; margin for a busy machine
    finally:
        for connection in held:
            connection.close()


def test_restart_keeps_the_port_and_the_sessions_of_a_shared_store(lab):
    client = sl.Client(lab.url)
    client.get("/user/carol")
    port, before = lab.port, lab.pids
    lab.restart()
    assert lab.port == port and lab.running and len(lab.pids) == 2
    assert not set(before) & set(lab.pids)
    assert client.get("/user").text.startswith("carol")
    assert any(e.startswith("restart:") for e in lab.events)


def test_workers_of_a_killed_server_stop_serving():
    with sl.start(store="cookie", name="t-faults-orphans", workers=2) as lab:
        workers = lab.pids
        os.kill(lab.runner.child.pid, signal.SIGKILL)  # the server process, not a worker
        assert wait_for(lambda: not port_answers(lab.port, 0.2), 10)
        # The workers die with the server's first thread; its others may still be exiting
        # for a moment (the process not yet reaped), so the handle may say so a moment later.
        assert wait_for(lambda: not lab.running, 10) and lab.pids == []
        assert wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in workers), 10)
        health = lab.health()
        assert health["running"] is False
        assert "exited" in (health["last_error"] or "")
