"""The audit's report as people and CI systems read it: a terminal table, JSON, JUnit, SARIF.

The terminal table fits a 100-column terminal: grouped by verdict (fails first), one line
per check with what was observed, evidence on request, colour only on a terminal that has
it. JUnit gives one test case per check (a fail is a failure; advice is not). SARIF 2.1.0
is what code-scanning tools read: a fail is an ``error``, advice a ``note``, so a gate on
errors never fails on advice.
"""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

from .finding import ADVICE, COULD_NOT_TEST, FAIL, NOT_APPLICABLE, PASS, REQUIREMENTS, VERDICTS

COLOURS = {FAIL: "31", ADVICE: "33", PASS: "32", NOT_APPLICABLE: "2", COULD_NOT_TEST: "35"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {FAIL: "error", ADVICE: "note"}
INFORMATION_URI = "https://owasp.org/www-project-application-security-verification-standard/"


def use_colour(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def to_table(
    report: pd.DataFrame, *, width: int = 100, evidence: bool = False, colour: bool = False
) -> str:
    """The report grouped by verdict, each line at most ``width`` columns.

    >>> report = pd.DataFrame([
    ...     {"check": "Secure", "verdict": "fail", "observed": "no Secure", "advice": "",
    ...      "ASVS 4.0.3": "3.4.1", "ASVS 5.0.0": "3.3.1", "evidence": ""}])
    >>> print(to_table(report))
    fail (1)
      Secure                 4.0.3 3.4.1 / 5.0.0 3.3.1  no Secure
    """
    lines: list[str] = []
    for verdict_name in VERDICTS:
        rows = report[report["verdict"] == verdict_name]
        if rows.empty:
            continue
        title = f"{verdict_name} ({len(rows)})"
        lines.append(f"\033[{COLOURS[verdict_name]}m{title}\033[0m" if colour else title)
        for _, row in rows.iterrows():
            lines += _row_lines(row, width, evidence)
    return "\n".join(lines)


def _row_lines(row: pd.Series, width: int, evidence: bool) -> list[str]:
    ids = " / ".join(
        f"{version} {row[f'ASVS {version}']}"
        for version in ("4.0.3", "5.0.0")
        if row.get(f"ASVS {version}") not in (None, "", "—")
    )
    head = f"  {row['check']:<22} {ids or '(advice)':<26} "
    text = str(row["observed"])
    if row.get("advice"):
        text += f" — advice: {row['advice']}"
    body = textwrap.wrap(text, width - len(head)) or [""]
    out = [head + body[0]] + [" " * len(head) + more for more in body[1:]]
    if evidence and row.get("evidence"):
        out += textwrap.wrap(
            str(row["evidence"]), width, initial_indent="      ", subsequent_indent="      "
        )
    return out


def to_json(report: pd.DataFrame, url: str = "") -> str:
    """The whole report as JSON: the URL, a count per verdict, one object per check."""
    counts = report["verdict"].value_counts().to_dict()
    return json.dumps(
        {"url": url, "counts": counts, "findings": report.to_dict("records")}, indent=2
    )


def to_junit(report: pd.DataFrame, url: str = "") -> str:
    """JUnit XML: one test case per check; fails are failures, untested checks skipped,
    advice passes with its text in the test's output."""
    suite = ET.Element(
        "testsuite",
        name=f"sessionlab audit {url}".strip(),
        tests=str(len(report)),
        failures=str(int((report["verdict"] == FAIL).sum())),
        skipped=str(int(report["verdict"].isin([NOT_APPLICABLE, COULD_NOT_TEST]).sum())),
    )
    for _, row in report.iterrows():
        case = ET.SubElement(suite, "testcase", classname="sessionlab.audit", name=row["check"])
        if row["verdict"] == FAIL:
            failure = ET.SubElement(case, "failure", message=str(row["observed"]))
            failure.text = str(row.get("evidence") or "")
        elif row["verdict"] in (NOT_APPLICABLE, COULD_NOT_TEST):
            ET.SubElement(case, "skipped", message=f"{row['verdict']}: {row['observed']}")
        elif row["verdict"] == ADVICE or row.get("advice"):
            ET.SubElement(case, "system-out").text = f"advice: {row['observed']} {row['advice']}"
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def to_sarif(report: pd.DataFrame, url: str = "") -> dict[str, Any]:
    """SARIF 2.1.0: one rule per check (its ASVS ids and words), one result per fail
    (level ``error``) and per advice (level ``note``), located at the audited URL."""
    rules = [
        {
            "id": _rule_id(check),
            "name": check,
            "shortDescription": {"text": requirement.requirement},
            "fullDescription": {"text": requirement.quote or requirement.requirement},
            "help": {"text": f"expected: {requirement.expected}"},
            "properties": {
                "tags": ["security", "session-management"],
                "asvs-4.0.3": requirement.asvs4,
                "asvs-5.0.0": requirement.asvs5,
            },
        }
        for check, requirement in REQUIREMENTS.items()
    ]
    results = []
    for _, row in report.iterrows():
        level = SARIF_LEVELS.get(row["verdict"])
        advice_only = row["verdict"] == PASS and row.get("advice")
        if level is None and not advice_only:
            continue
        text = str(row["observed"]) + (f" (advice: {row['advice']})" if row.get("advice") else "")
        results.append(
            {
                "ruleId": _rule_id(row["check"]),
                "ruleIndex": list(REQUIREMENTS).index(row["check"]),
                "level": level or "note",
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": url or "."}}}],
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sessionlab audit",
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _rule_id(check: str) -> str:
    """A stable rule id from a check's name.

    >>> _rule_id("__Host- prefix")
    'session/host-prefix'
    """
    slug = "".join(char if char.isalnum() else "-" for char in check.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"session/{slug}"
