"""Each audit check against real servers on 127.0.0.1: one that should pass it, one that should
fail it; then whole audits, whose failed checks must be exactly the ones REFERENCE predicts."""

from __future__ import annotations

import secrets
import warnings

import pytest
from flask import session

import sessionlab as sl
from sessionlab.auditing import (
    checks_cookie,
    checks_ids,
    checks_logout,
    checks_methods,
    checks_secrets,
)
from sessionlab.auditing.checks_timeouts import absolute_check, idle_check
from sessionlab.auditing.finding import REQUIREMENTS, Finding
from sessionlab.auditing.report import COLUMNS, failed, run_check
from sessionlab.auditing.target import Routes, Target

# REFERENCE §1-§5, as observed on these targets. The seed profile's cookie has HttpOnly and
# SameSite=Lax in both stores (sessionlab's safe defaults), so neither fails those.
SEED_COOKIE_FAILS = {
    "logout on server",  # client-side sessions cannot be revoked: the replay still logs in
    "Secure",
    "__Host- prefix",
    "data in cookie",  # signed, not encrypted: anyone reads {"name": ...}
    "secret in wordlist",  # 'some secret key' is line 21,273 of the Flask-Unsign list
    "login not GET",
    "logout not GET",
    "CSRF token",
}
SEED_SERVER_FAILS = {
    "fixation",  # the seed never regenerates the id at login
    "Secure",
    "__Host- prefix",
    "login not GET",
    "logout not GET",
    "CSRF token",
}
FLASK_SESSION_FAILS = {
    "fixation",  # regenerate() exists but is never called for you
    "Secure",
    "SameSite",
    "__Host- prefix",
    "login not GET",
    "logout not GET",
    "CSRF token",
}


@pytest.fixture(scope="module")
def seed_server():
    with sl.start(store="memory", name="t-audit-seed-server") as lab:
        yield Target(lab.url)


@pytest.fixture(scope="module")
def seed_cookie():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.WeakSecretWarning)  # the weakness under test
        lab = sl.start(store="cookie", secret="some secret key", name="t-audit-seed-cookie")
    with lab:
        yield Target(lab.url)


@pytest.fixture(scope="module")
def flask_session():
    with sl.start_flask_session_app(name="t-audit-flask-session") as app:
        yield Target(app.url)


@pytest.fixture(scope="module")
def hardened():
    with sl.start(store="memory", name="t-audit-hardened", profile="hardened") as lab:
        yield Target(lab.url, "hardened", verify=lab.ca_path)


@pytest.fixture(scope="module")
def hardened_short():
    """The hardened profile with timeouts short enough to watch: 0.5 s idle, 1.2 s in all."""
    lab = sl.start(
        store="memory",
        name="t-audit-hardened-short",
        profile="hardened",
        idle_timeout=0.5,
        absolute_timeout=1.2,
    )
    with lab:
        yield Target(lab.url, "hardened", verify=lab.ca_path)


# -- the id --------------------------------------------------------------------------------


def test_id_strength_passes_256_bit_ids_and_skips_client_side_sessions(seed_server, seed_cookie):
    strong = checks_ids.check_id_strength(seed_server, samples=10)
    assert strong.verdict == "pass"
    assert "43 chars of base64url (64 symbols): at most 256 bits" in strong.observed
    assert "10/10 unique" in strong.observed
    assert checks_ids.check_id_strength(seed_cookie).verdict == "not applicable"


def test_id_strength_fails_short_ids():
    weak = {"genid": lambda: secrets.token_hex(4)}
    with sl.start(store="memory", name="t-audit-weak-ids", **weak) as lab:
        finding = checks_ids.check_id_strength(Target(lab.url), samples=10)
    assert finding.verdict == "fail"
    assert "8 chars of hex (16 symbols): at most 32 bits" in finding.observed


def test_fixation_fails_without_regeneration_and_passes_with_it(seed_server, hardened):
    seed = checks_ids.check_fixation(seed_server)
    assert (seed.verdict, seed.observed) == (
        "fail",
        "login kept the planted id; replaying it shows the victim's session",
    )
    # The login writes to the planted session and, its cookie unchanged, sends no Set-Cookie.
    assert "GET /user/alice [cookie value1] → 200 '<p>Session Set" in seed.evidence
    assert "GET /user [cookie value1] → 200 'alice" in seed.evidence
    assert checks_ids.check_fixation(hardened).verdict == "pass"


def test_unknown_ids_are_replaced_by_every_target(seed_server, flask_session):
    for target in (seed_server, flask_session):
        assert checks_ids.check_unknown_id(target).verdict == "pass"


def test_id_checks_do_not_apply_to_client_side_sessions(seed_cookie):
    # Flask's cookie session has no id: the cookie is the session, signed.
    for check in (checks_ids.check_fixation, checks_ids.check_unknown_id):
        finding = check(seed_cookie)
        assert (finding.verdict, finding.observed) == ("not applicable", checks_ids.NO_ID)


def test_a_refused_tampered_cookie_passes_and_clearing_it_is_advice(
    seed_server, seed_cookie, flask_session
):
    # ASVS 4.0.3 3.5.3 / 5.0.0 9.1.1 ask for rejection; clearing the cookie is advice.
    cleared = checks_ids.check_tampered_cookie(seed_server)
    assert (cleared.verdict, cleared.observed, cleared.advice) == (
        "pass",
        "refused; the cookie was cleared",
        "",
    )
    for silent in (seed_cookie, flask_session):
        finding = checks_ids.check_tampered_cookie(silent)
        assert finding.verdict == "pass"
        assert finding.observed == "refused; the bad cookie stays in the client"
        assert finding.advice == "clear the refused cookie"


def test_tampered_cookie_cleared_is_read_from_set_cookie_not_the_body():
    # The page says "clears it", as the evidence line of a deleting Set-Cookie would, but
    # Flask's cookie session sends no Set-Cookie for a tampered cookie: it stays.
    with sl.start(store="cookie", name="t-audit-says-clears") as lab:
        lab.app.view_functions["show_user"] = lambda: session.get("name", "") + " clears it"
        finding = checks_ids.check_tampered_cookie(Target(lab.url))
    assert finding.observed == "refused; the bad cookie stays in the client"
    assert finding.advice == "clear the refused cookie"


def test_session_id_is_the_cookie_anatomys_id():
    value = sl.sign_sessionlab("k3Xv_9", "a" * 64)
    assert checks_ids.session_id(value) == "k3Xv_9"


REQUIREMENTS_EXPECTED_DELETION = REQUIREMENTS["logout clears cookie"].expected


# -- logout --------------------------------------------------------------------------------


def test_logout_replay_fails_only_for_client_side_sessions(seed_server, seed_cookie):
    assert checks_logout.check_logout_on_server(seed_server).verdict == "pass"
    replay = checks_logout.check_logout_on_server(seed_cookie)
    assert replay.verdict == "fail"
    assert replay.evidence == "GET /user [cookie value1] → 200 'alice<br /><a href=\"/log…'"


def test_a_deletion_matches_on_name_domain_and_path_only(seed_server, flask_session):
    # Browsers match a deletion on name, Domain and Path (RFC 6265 5.3 step 11): Flask-
    # Session's deletion drops HttpOnly and still deletes (REFERENCE.md section 4).
    assert checks_logout.check_logout_clears_cookie(seed_server).verdict == "pass"
    dropped = checks_logout.check_logout_clears_cookie(flask_session)
    assert (dropped.verdict, dropped.observed) == ("pass", "deleted (same name, Domain and Path)")


def test_a_deletion_with_another_path_or_a_broken_prefix_is_advice():
    problems = checks_logout.deletion_problems
    assert problems("sid", {"Path": "/"}, {"Path": "/app", "HttpOnly": True}) == [
        "another Path (/app, not /)"
    ]
    assert problems("sid", {"Path": "/", "Domain": "example.org"}, {"Path": "/"}) == [
        "another Domain (none, not example.org)"
    ]
    assert problems("__Host-sid", {"Path": "/", "Secure": True}, {"Path": "/"}) == [
        "a __Host- deletion without Secure is refused"
    ]
    finding = Finding("logout clears cookie", "fail", "another Path")
    assert (finding.verdict, finding.advice) == ("advice", REQUIREMENTS_EXPECTED_DELETION)


# -- cookie attributes ---------------------------------------------------------------------


def test_cookie_attributes_of_the_seed(seed_server):
    verdicts = {
        check.__name__: check(seed_server).verdict
        for check in (
            checks_cookie.check_secure,
            checks_cookie.check_httponly,
            checks_cookie.check_samesite,
            checks_cookie.check_host_prefix,
            checks_cookie.check_domain_and_path,
            checks_cookie.check_cookie_size,
        )
    }
    assert verdicts == {
        "check_secure": "fail",
        "check_httponly": "pass",
        "check_samesite": "pass",
        "check_host_prefix": "fail",
        "check_domain_and_path": "pass",
        "check_cookie_size": "pass",
    }


def test_cookie_attributes_of_flask_session(flask_session):
    assert checks_cookie.check_samesite(flask_session).observed == (
        "no SameSite: left to the browser's default"
    )
    persistence = checks_cookie.persistence_check(None)(flask_session)
    assert (persistence.verdict, persistence.observed) == ("advice", "kept 31 days")
    assert checks_cookie.persistence_check(40 * 86400)(flask_session).verdict == "pass"


def test_cookie_size_fails_over_4096_bytes():
    # Random, so that Flask's zlib compression cannot shrink the cookie below the limit.
    long_login = Routes(users=(secrets.token_urlsafe(4000), "mallory"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Werkzeug warns that the cookie is too large
        with sl.start(store="cookie", name="t-audit-big") as lab:
            finding = checks_cookie.check_cookie_size(Target(lab.url, long_login))
    assert finding.verdict == "fail"
    assert finding.observed.endswith("bytes: browsers drop it")


# -- what the cookie gives away --------------------------------------------------------------


def test_data_in_cookie_is_read_from_flask_cookies_only(seed_cookie, seed_server):
    readable = checks_secrets.check_data_in_cookie(seed_cookie)
    assert readable.verdict == "fail"
    assert readable.observed == "readable without the key (flask format): {'name': 'alice'}"
    assert checks_secrets.check_data_in_cookie(seed_server).verdict == "pass"


def test_wordlist_finds_the_seed_secret(seed_cookie, seed_server, flask_session):
    cracked = checks_secrets.wordlist_check(True)(seed_cookie)
    assert cracked.verdict == "fail"
    assert cracked.observed == (
        "signed with 'some secret key' (flask key), found after 21,273 guesses"
    )
    assert checks_secrets.wordlist_check(True)(seed_server).verdict == "pass"
    assert checks_secrets.wordlist_check(True)(flask_session).verdict == "not applicable"
    assert checks_secrets.wordlist_check(False)(seed_cookie).verdict == "could not test"


# -- timeouts ------------------------------------------------------------------------------


def test_timeouts_are_enforced_by_the_hardened_server(hardened_short):
    assert idle_check(0.8)(hardened_short).verdict == "pass"
    assert absolute_check(1.5, idle=0.8)(hardened_short).observed == (
        "kept busy for 1.5 s, the session ended"
    )


def test_timeouts_are_not_enforced_for_client_side_sessions(seed_cookie):
    assert idle_check(0.3)(seed_cookie).verdict == "fail"
    assert idle_check(None)(seed_cookie).verdict == "could not test"


# -- methods and CSRF ----------------------------------------------------------------------


def test_get_login_and_logout(seed_server, hardened):
    assert checks_methods.check_login_not_get(seed_server).verdict == "fail"
    assert checks_methods.check_logout_not_get(seed_server).verdict == "fail"
    assert checks_methods.check_login_not_get(hardened).verdict == "pass"
    assert checks_methods.check_logout_not_get(hardened).verdict == "pass"


def test_csrf_token_required(seed_server, hardened):
    assert checks_methods.check_csrf_token(seed_server).observed == (
        "without a token, login and logout work"
    )
    refused = checks_methods.check_csrf_token(hardened)
    assert refused.verdict == "pass"
    assert "POST /logout [cookie value1] → 403" in refused.evidence


# -- whole audits: exactly the predicted failures --------------------------------------------


def test_seed_on_cookie_sessions_fails_exactly_as_predicted(seed_cookie):
    report = sl.audit(seed_cookie.url)
    assert set(failed(report)) == SEED_COOKIE_FAILS


def test_seed_on_server_sessions_fails_exactly_as_predicted(seed_server):
    report = sl.audit(seed_server.url)
    assert set(failed(report)) == SEED_SERVER_FAILS


def test_flask_session_defaults_fail_exactly_as_predicted(flask_session):
    report = sl.audit(flask_session.url)
    assert set(failed(report)) == FLASK_SESSION_FAILS


def test_hardened_profile_passes_every_applicable_check(hardened_short):
    target = hardened_short
    report = sl.audit(target.url, "hardened", verify=target.verify, idle=0.8, absolute=1.5)
    verdicts = dict(zip(report["check"], report["verdict"], strict=True))
    assert {verdict for verdict in verdicts.values()} == {"pass"}
    assert list(report.columns) == COLUMNS


def test_the_flask_session_target_is_in_the_launch_registry():
    app = sl.start_flask_session_app(name="t-audit-fs-registry")
    assert sl.running()["t-audit-fs-registry"] is app
    assert sl.start_flask_session_app(name="t-audit-fs-registry") is not app  # replaces it
    assert not app.running
    sl.stop("t-audit-fs-registry")
    assert "t-audit-fs-registry" not in sl.running()


def test_a_dead_url_makes_every_check_could_not_test():
    with sl.start(store="memory", name="t-audit-dead") as lab:
        url = lab.url
    report = sl.audit(url)
    assert set(report["verdict"]) == {"could not test"}


# -- robustness: odd headers, unreachable targets, impossible waits ---------------------------


@pytest.mark.parametrize("max_age", ["1.5", "", "soon"])
def test_an_unreadable_max_age_is_ignored_not_fatal(max_age):
    with sl.start(store="memory", name="t-audit-max-age") as lab:

        @lab.app.after_request
        def odd_max_age(response):
            headers = response.headers.getlist("Set-Cookie")
            response.headers.setlist("Set-Cookie", [f"{h}; Max-Age={max_age}" for h in headers])
            return response

        report = sl.audit(lab.url, wordlist=False, samples=3).set_index("check")
    # Browsers ignore such a Max-Age (RFC 6265 5.2.2): a browser-session cookie, audited whole.
    assert report.loc["persistence", "observed"] == "a browser-session cookie (no Expires)"
    assert report.loc["fixation", "verdict"] == "fail"


def test_a_check_that_raises_becomes_could_not_test(seed_server):
    def broken(target):
        raise KeyError("Max-Age")

    finding = run_check("persistence", broken, seed_server)
    assert (finding.verdict, finding.observed) == ("could not test", "KeyError: 'Max-Age'")


@pytest.mark.parametrize("option", [{"idle": 0}, {"absolute": 0}, {"absolute": -1}])
def test_a_wait_that_cannot_observe_a_timeout_is_refused(seed_server, option):
    with pytest.raises(ValueError, match="cannot observe a timeout"):
        sl.audit(seed_server.url, **option)
