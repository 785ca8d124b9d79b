"""The sessionlab command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import subprocess
import sys

import requests

import sessionlab as sl

COMMAND = [sys.executable, "-m", "sessionlab.cli"]


def test_tour_prints_the_timeline():
    result = subprocess.run(
        [*COMMAND, "tour", "--store", "memory", "--user", "bob"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Tour of memory sessions")
    assert "GET /user/bob" in lines[2] and "cookie set; record created" in lines[2]
    assert "cookie cleared; record deleted" in lines[4]


def test_serve_prints_a_url_that_serves_the_seed_routes():
    process = subprocess.Popen(
        [*COMMAND, "serve", "--store", "memory"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        url = line.split(" at ")[1].split("/user")[0]
        assert url.startswith("http://127.0.0.1:")
        session = requests.Session()
        session.get(f"{url}/user/carol", timeout=5)
        assert session.get(f"{url}/user", timeout=5).text.startswith("carol<br />")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_bad_store_is_refused_with_the_choices():
    result = subprocess.run(
        [*COMMAND, "tour", "--store", "mongo"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "invalid choice: 'mongo'" in result.stderr


def test_a_busy_port_is_a_one_line_error_not_a_traceback():
    with sl.start(store="memory", name="cli-busy") as lab:
        result = subprocess.run(
            [*COMMAND, "serve", "--port", str(lab.port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.startswith("sessionlab: cannot listen on 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_a_malformed_route_spec_is_a_one_line_error():
    result = subprocess.run(
        [*COMMAND, "audit", "http://127.0.0.1:1", "--login", "POST /login user"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "expected 'METHOD /path [field=value ...]'" in result.stderr
    assert "Traceback" not in result.stderr
