"""The hardened profile over local TLS, and the ``sessionlab audit`` command."""

from __future__ import annotations

import datetime

import pytest
import requests

import sessionlab as sl
from sessionlab.cli import main
from sessionlab.server import tls


@pytest.fixture(scope="module")
def lab():
    with sl.start(store="memory", name="t-hardened", profile="hardened") as lab:
        yield lab


def logged_in_client(lab, user="alice"):
    client = sl.Client(lab.url, verify=lab.ca_path)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"user": user, "csrf_token": token})
    return client


def test_served_over_https_with_a_certificate_the_lab_client_trusts(lab):
    assert lab.url.startswith("https://127.0.0.1:")
    assert sl.Client(lab.url, verify=lab.ca_path).get("/user").text == "user logged out!"


def test_an_untrusting_client_refuses_the_certificate_and_says_how_to_trust_it(lab):
    with pytest.raises(requests.exceptions.SSLError, match=r"verify=lab\.ca_path.*--ca"):
        sl.Client(lab.url).get("/user")  # the system CAs do not know the lab's CA


def test_the_local_ca_is_made_again_before_it_expires():
    now = datetime.datetime.now(datetime.UTC)
    current = tls.local_tls(now)
    assert tls.local_tls(now + datetime.timedelta(days=20)) is current  # 10 days left: kept
    renewed = tls.local_tls(now + tls.VALIDITY - tls.RENEW_BEFORE + datetime.timedelta(hours=1))
    assert renewed is not current and renewed.ca_path != current.ca_path
    assert tls.local_tls() is renewed


def test_login_sets_a_host_prefixed_secure_cookie_with_a_new_id(lab):
    client = sl.Client(lab.url, verify=lab.ca_path)
    client.get("/login")
    before = client.cookies["__Host-t-hardened"]
    client = logged_in_client(lab)
    login = client.exchanges[-1]
    assert login.set_cookies[0].startswith("__Host-t-hardened=")
    assert login.set_cookies[0].endswith("; Secure; HttpOnly; Path=/; SameSite=Lax")
    assert client.cookies["__Host-t-hardened"] != before
    assert client.get("/user").text.startswith('alice<br /><form method="post"')


def test_login_and_logout_need_post_and_the_token(lab):
    visitor = sl.Client(lab.url, verify=lab.ca_path)
    visitor.get("/login")
    assert visitor.post("/login", data={"user": "alice"}).status_code == 403
    assert visitor.get("/user/alice").status_code == 404
    member = logged_in_client(lab)
    assert member.get("/logout").status_code == 405
    assert member.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert member.get("/user").text.startswith("alice")


def test_weak_secrets_and_cookie_sessions_are_refused():
    with pytest.raises(ValueError, match="strong secret"), pytest.warns(sl.WeakSecretWarning):
        sl.start(store="memory", name="t-hardened-weak", profile="hardened", secret="changeme")
    with pytest.raises(ValueError, match="keeps sessions on the server"):
        sl.start(store="cookie", name="t-hardened-cookie", profile="hardened")


@pytest.mark.parametrize(
    "cookie",
    [
        {"max_age": 3600},
        {"samesite": "None", "secure": True},
        {"httponly": False},
        {"path": "/app"},
    ],
)
def test_cookie_options_the_profile_would_override_are_refused(cookie):
    with pytest.raises(ValueError, match="the hardened profile would not honour that cookie"):
        sl.start(store="memory", name="t-hardened-cookie-opts", profile="hardened", cookie=cookie)
    assert "t-hardened-cookie-opts" not in sl.running()


def test_samesite_strict_is_kept():
    options = {"samesite": "Strict"}
    with sl.start(store="memory", name="t-hardened-strict", profile="hardened", cookie=options):
        pass  # started: Strict is at least as strict as the profile's Lax


def test_cli_audit_exits_2_when_nothing_could_be_tested(lab, capsys):
    with sl.start(store="memory", name="t-cli-dead") as dead:
        url = dead.url
    assert main(["audit", url, "--no-wordlist"]) == 2
    assert (
        "nothing could be tested: no session to audit: cannot connect" in capsys.readouterr().err
    )
    assert main(["audit", lab.url, "--routes", "hardened", "--no-wordlist"]) == 2  # no --ca
    err = capsys.readouterr().err
    assert "nothing could be tested" in err and "--ca" in err and len(err.splitlines()) == 1


def test_cli_audit_exits_1_on_a_failed_check(capsys):
    with sl.start(store="memory", name="t-cli-audit") as seed:
        status = main(["audit", seed.url, "--no-wordlist", "--samples", "5"])
    out = capsys.readouterr().out
    assert status == 1
    assert (
        "failed: fixation, Secure, __Host- prefix, login not GET, logout not GET, CSRF token"
        in out
    )


def test_cli_audit_exits_0_on_the_hardened_profile(lab, capsys):
    status = main(
        ["audit", lab.url, "--routes", "hardened", "--ca", lab.ca_path, "--samples", "5"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "18 pass, 2 could not test" in out


def test_cli_audit_takes_a_custom_route_map(lab, capsys):
    args = ["audit", lab.url, "--ca", lab.ca_path, "--no-wordlist", "--samples", "5"]
    args += ["--login", "POST /login user={user}", "--login-form", "/login"]
    args += ["--logout", "POST /logout", "--logout-form", "/user"]
    assert main(args) == 0, capsys.readouterr().out
