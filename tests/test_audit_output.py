"""The audit's report as people and CI read it: a 100-column table, JSON, JUnit, SARIF 2.1.0,
exit statuses that never fail on advice, passwords with spaces, and the pytest plugin."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from test_zoo import need_runtime

import sessionlab as sl
from sessionlab.cli import main
from sessionlab.pytest_plugin import assert_session_audit

# The parts of the SARIF 2.1.0 schema (OASIS, sarif-schema-2.1.0.json) that code-scanning
# tools read: required properties, their types and the level enumeration.
SARIF_SHAPE = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "informationUri": {"type": "string", "format": "uri"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                                "fullDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string"}},
                                },
                                "locations": {"type": "array"},
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def express_https():
    need_runtime("express")
    with sl.start(server="express", mode="recommended", https=True, name="t-out-express") as lab:
        yield lab


@pytest.fixture(scope="module")
def seed():
    with sl.start(store="memory", name="t-out-seed") as lab:
        yield lab


@pytest.fixture(scope="module")
def seed_report(seed):
    return sl.audit(seed, wordlist=False, samples=5)


def test_the_table_fits_100_columns_grouped_by_verdict(seed_report):
    table = sl.to_table(seed_report, evidence=True)
    assert max(len(line) for line in table.splitlines()) <= 100
    titles = [line for line in table.splitlines() if not line.startswith(" ")]
    assert titles == ["fail (6)", "pass (11)", "could not test (3)"]
    assert "\033[" not in table and "\033[31m" in sl.to_table(seed_report, colour=True)


def test_sarif_is_2_1_0_and_rules_match_results(seed_report):
    sarif = sl.to_sarif(seed_report, "http://127.0.0.1:1")
    jsonschema.validate(sarif, SARIF_SHAPE)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert {r["level"] for r in run["results"]} == {"error"}
    assert len(run["results"]) == 6


def test_junit_has_one_case_per_check(seed_report):
    from sessionlab.auditing import to_junit

    suite = ET.fromstring(to_junit(seed_report).split("?>", 1)[1])
    assert len(suite.findall("testcase")) == 20
    assert suite.get("failures") == "6" and len(suite.findall("testcase/failure")) == 6


def test_advice_never_fails_the_gate(express_https, capsys):
    # Everything passes; the refused tampered cookie is not cleared: advice, exit 0.
    args = ["audit", express_https.url, "--ca", express_https.ca_path, "--no-wordlist"]
    args += ["--login", "POST /login user={user}", "--login-form", "/login"]
    args += ["--logout", "POST /logout", "--logout-form", "/user", "--csrf-field", "_csrf"]
    args += ["--samples", "5", "--format", "sarif"]
    status = main(args)
    sarif = json.loads(capsys.readouterr().out)
    assert status == 0
    levels = {(r["ruleId"], r["level"]) for r in sarif["runs"][0]["results"]}
    assert levels == {("session/tampered-cookie", "note")}


def test_json_output_and_exit_1_on_a_fail(seed, capsys):
    status = main(["audit", seed.url, "--no-wordlist", "--samples", "3", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 1 and out["counts"]["fail"] == 6 and len(out["findings"]) == 20


def test_passwords_with_spaces_and_from_the_environment(monkeypatch, capsys):
    need_runtime("django")
    passwords = {"alice": "correct horse battery", "mallory": "staple two"}
    with sl.start(server="django", passwords=passwords, name="t-out-django") as lab:
        monkeypatch.setenv("MALLORY_PW", "staple two")
        args = ["audit", lab.url, "--no-wordlist", "--samples", "3", "--cookie", "sessionid"]
        args += ["--login", "POST /accounts/login/ username={user} 'password={password}'"]
        args += ["--login-form", "/accounts/login/", "--csrf-field", "csrfmiddlewaretoken"]
        args += ["--logout", "POST /accounts/logout/", "--logout-form", "/user"]
        args += [
            "--password",
            "alice=correct horse battery",
            "--password-env",
            "mallory=MALLORY_PW",
        ]
        status = main(args)
    out = capsys.readouterr().out
    assert status == 1, out  # Secure and __Host- fail over http
    assert "failed: Secure, __Host- prefix" in out


def test_the_pytest_plugin_starts_labs_and_asserts_audits(pytestconfig, sessionlab_start):
    assert pytestconfig.pluginmanager.hasplugin("sessionlab")
    lab = sessionlab_start(store="memory", profile="hardened", name="t-plugin-hardened")
    assert_session_audit(lab, samples=3)
    seed_lab = sessionlab_start(store="memory", name="t-plugin-seed")
    with pytest.raises(AssertionError, match="session audit failed:\nfail"):
        assert_session_audit(seed_lab, samples=3)
    allowed = {"fixation", "Secure", "__Host- prefix", "login not GET", "logout not GET"}
    assert_session_audit(seed_lab, samples=3, allow=allowed | {"CSRF token"})
