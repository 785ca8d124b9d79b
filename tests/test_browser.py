"""sl.Browser as a client: it records what Chromium put on the wire into the same records as
Client, so every table reads it; it starts one Chromium, and leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from urllib.parse import quote

import pytest

import sessionlab as sl
import sessionlab.chromium
from sessionlab.chromium import PLAYWRIGHT_DISABLED, chromium_processes


def set_cookie(browser, *lines, directory=""):
    """Visit the teaching lab's /set-cookie with raw Set-Cookie lines."""
    query = "&".join("c=" + quote(line, safe="") for line in lines)
    return browser.goto(f"{directory}/set-cookie?{query}")


def test_the_cycle_in_chromium_gives_the_same_timeline_as_requests(chromium, lab):
    client = lab.client()
    client.cycle("alice")
    with lab.browser() as browser:
        browser.cycle("alice")
        assert sl.timeline(browser).equals(sl.timeline(client))
        history = sl.history_frame(browser)
        assert history["label"].tolist() == ["set", "view", "logout", "view again"]
        assert history["body"].tolist() == sl.history_frame(client)["body"].tolist()
        assert sl.set_cookie_frame(browser)["effect"].tolist() == ["set", "delete"]
        assert sl.cookies_frame(browser).empty
        assert len(sl.sequence_diagram(browser).axes) == 1


def test_redirect_hops_are_recorded_each_with_its_own_headers(browser):
    exchanges = browser.goto("/private")
    assert [(e.path, e.status, e.redirect) for e in exchanges] == [
        ("/private", 302, True),
        ("/login?next=/private", 200, False),
    ]


def test_the_jar_keeps_a_missing_samesite_empty_and_refusals_have_reasons(browser):
    (exchange,) = set_cookie(browser, "plain=1; Path=/", "nn=1; Path=/; SameSite=None")
    assert [(c.name, c.samesite) for c in browser.jar()] == [("plain", "")]
    assert exchange.refused == ("nn=1; Path=/; SameSite=None: SameSiteNoneInsecure",)
    assert sl.cookies_frame(browser)["SameSite"].tolist() == [""]


def test_subresources_are_recorded_and_labelled_by_site_and_kind(browser, attacker):
    browser.goto(attacker.page("img", "/user"))
    labels = [(e.label, e.path) for e in browser.exchanges]
    assert labels == [("attacker.localhost", "/img?path=%2Fuser"), ("image", "/user")]


def test_an_answer_chromium_kept_from_an_img_is_recorded_every_time(browser, attacker):
    """ORB blocks the HTML answer to an <img>; CDP reports its status and cookies in events
    that can come after the failure (1 time in 6 in notebook 06's steps): drain waits for them."""
    for _ in range(25):
        browser.forget()
        browser.goto("/user/alice")
        browser.goto(attacker.page("img", "/logout"))
        image = browser.exchanges[-1]
        assert (image.label, image.status, image.body) == (
            "image",
            200,
            "failed: net::ERR_BLOCKED_BY_ORB",
        )
        assert image.sent_cookie is None  # third-party cookies are blocked by default


def test_screenshot_is_a_png_a_notebook_shows_inline(browser):
    browser.goto("/user")
    assert browser.screenshot()._repr_png_().startswith(b"\x89PNG")


def test_a_failed_navigation_is_recorded_then_raised_and_the_tab_still_works(browser):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Exception, match="ERR_CONNECTION_REFUSED"):
        browser.goto(f"http://127.0.0.1:{port}/")
    assert browser.exchanges[-1].status == 0
    assert browser.goto("/user")[-1].body == "user logged out!"


def test_a_browser_of_the_same_name_replaces_the_earlier_one(chromium, teaching_lab):
    first = sl.Browser(teaching_lab.url, name="replace-me")
    second = sl.Browser(teaching_lab.url, name="replace-me")
    with pytest.raises(RuntimeError, match="closed"):
        first.goto("/user")
    second.close()
    second.close()  # twice is fine


def test_it_works_where_an_asyncio_loop_runs_as_in_a_notebook_cell(chromium, teaching_lab):
    async def cell():
        with sl.Browser(teaching_lab.url, name="in-a-loop") as browser:
            return browser.goto("/user")[-1].body

    assert asyncio.run(cell()) == "user logged out!"


def test_a_hardened_lab_over_tls_is_trusted_through_its_ca_only(chromium):
    with sl.start(store="memory", profile="hardened", name="t-browser-tls") as lab:
        with lab.browser() as browser:
            browser.goto("/login")
            browser.fill("input[name=user]", "alice")
            browser.click("button")
            assert browser.goto("/user")[-1].body.startswith("alice<br />")
        with (
            sl.Browser(lab.url, name="t-untrusted") as untrusted,
            pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"),
        ):
            untrusted.goto("/login")


def test_chromium_runs_with_playwrights_disabled_features_repeated_plus_ours(chromium, browser):
    browser.goto("/user")
    lines = []
    for pid in chromium_processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                args = file.read().decode().split("\0")
        except OSError:
            continue
        features = [a.split("=", 1)[1] for a in args if a.startswith("--disable-features=")]
        if len(features) >= 2 and "RenderDocument" in features[-1]:
            lines.append(features)
    assert lines, "no Chromium of ours found"
    playwrights, ours = (set(f.split(",")) for f in (lines[0][0], lines[0][-1]))
    assert playwrights <= ours, f"re-sync PLAYWRIGHT_DISABLED: {playwrights - ours}"
    assert set(PLAYWRIGHT_DISABLED.split(",")) <= ours


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_without_chromium_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SESSIONLAB_CHROMIUM", raising=False)
    monkeypatch.setattr(sessionlab.chromium, "_driver", None)  # as in a fresh interpreter
    with pytest.raises(sl.ServiceMissingError, match="apt-get install chromium"):
        sl.Browser("http://127.0.0.1:1")


def test_without_playwright_the_error_names_the_extra(monkeypatch):
    monkeypatch.setenv("SESSIONLAB_CHROMIUM", "/bin/true")  # a Chromium is there
    monkeypatch.setattr(sessionlab.chromium, "_driver", None)
    real_find_spec = sessionlab.chromium.importlib.util.find_spec
    monkeypatch.setattr(
        sessionlab.chromium.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "playwright" else real_find_spec(name, *args),
    )
    with pytest.raises(sl.ServiceMissingError, match=r"pip install 'sessionlab\[browser\]'"):
        sl.Browser("http://127.0.0.1:1")


def test_no_chromium_process_outlives_close_browsers_or_an_interpreter_that_never_closed(
    chromium,
):
    """In one fresh interpreter: a Browser's processes end with sl.close_browsers() (a
    notebook's last cell), after a failed call on a closed tab; then a second Browser's end
    when the interpreter exits without closing it."""
    result = run_python(
        """
        import os, sessionlab as sl
        from sessionlab.chromium import chromium_processes

        def descendants():
            parents = {}
            for pid in chromium_processes():
                with open(f"/proc/{pid}/stat") as stat:
                    parents[pid] = int(stat.read().rpartition(")")[2].split()[1])
            mine, grew = {os.getpid()}, True
            while grew:
                grown = {pid for pid, parent in parents.items() if parent in mine}
                grew = bool(grown - mine)
                mine |= grown
            return mine - {os.getpid()}

        lab = sl.start(store="memory", name="leak-check")
        with sl.Browser(lab.url) as browser:
            browser.goto("/user")
            first = descendants()
        try:
            browser.goto("/user")  # a failing cell: the closed tab says so
        except RuntimeError:
            pass
        sl.close_browsers()
        print(len(first), len(first & set(chromium_processes())))
        sl.Browser(lab.url).goto("/user")
        print(" ".join(str(pid) for pid in descendants()))
        """  # exits without closing the second Browser: the exit handlers end Chromium
    )
    assert result.returncode == 0, result.stderr
    counts, second = result.stdout.splitlines()
    started, left = map(int, counts.split())
    assert started >= 2 and left == 0  # Playwright's driver and Chromium, at least
    assert len(second.split()) >= 2
    assert [pid for pid in second.split() if alive(pid)] == []


def alive(pid: str) -> bool:
    """Running, not merely a zombie waiting for a parent (here PID 1) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
