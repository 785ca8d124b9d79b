"""audit(): run every check against one app and gather the findings into one table."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd
import requests

from ..errors import ConfigError
from ..transport import DEFAULT_MAX_BODY
from . import checks_cookie, checks_ids, checks_logout, checks_methods, checks_secrets
from .checks_timeouts import absolute_check, idle_check
from .finding import ADVICE, COULD_NOT_TEST, FAIL, REQUIREMENTS, Finding
from .target import CannotTest, Routes, Target

COLUMNS = [
    "check",
    "verdict",
    "observed",
    "advice",
    "ASVS 4.0.3",
    "ASVS 5.0.0",
    "requirement",
    "expected",
    "evidence",
    "ASVS text",
]

Check = Callable[[Target], Finding]


class Lab(Protocol):
    """Anything with a URL, a route map and a CA: a lab handle (``sl.start(...)``)."""

    url: str
    routes: Routes
    ca_path: str | None


def audit(
    app: str | Lab,
    routes: Routes | str | None = None,
    *,
    verify: bool | str | None = None,
    samples: int = 20,
    idle: float | None = None,
    absolute: float | None = None,
    lifetime: float | None = None,
    wordlist: bool = True,
    progress: bool = False,
    deadline: float | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> pd.DataFrame:
    """Audit the session handling of an app: one row per check.

    ``app``: its URL, or a lab handle (``sl.start(...)``), whose URL, routes and CA are
    used. ``routes`` says how to log in, view and log out ("seed", the default, "hardened"
    or a :class:`Routes`). ``verify`` is passed to requests (a CA bundle path for local
    TLS). ``idle`` and ``absolute`` are how long to wait for the app's timeouts (seconds;
    without them those checks are "could not test"); they run last, alone. ``lifetime``:
    the longest acceptable cookie lifetime (default 8 hours). ``wordlist=False`` skips
    trying the public secrets.
    ``deadline``: seconds the whole audit may take (default: 60 plus the waits asked for);
    a check still running then becomes "could not test". ``max_body``: bytes of one
    response body the audit reads at most.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-audit") as lab:
    ...     report = sl.audit(lab, wordlist=False)
    >>> report.set_index("check").loc[["fixation", "logout on server"], "verdict"].tolist()
    ['fail', 'pass']
    """
    url, routes, verify = _resolve(app, routes, verify)
    slow = [  # built first: a wait that cannot work is refused before any request is sent
        ("idle timeout", idle_check(idle)),
        ("absolute timeout", absolute_check(absolute, idle)),
    ]
    if not (isinstance(samples, int) and samples >= 2):
        raise ConfigError(f"samples must be at least 2 logins to compare ids, not {samples!r}")
    seconds = audit_deadline(deadline, idle, absolute)
    ends_at = time.monotonic() + seconds
    target = Target(url, routes, verify=verify, ends_at=ends_at, max_body=max_body)
    try:
        target.issued()
    except Exception as error:  # any reason login gave no cookie: every row says it, no crash
        rows = [
            Finding(check, COULD_NOT_TEST, f"no session to audit: {_reason(error)}").row()
            for check in REQUIREMENTS
        ]
        return pd.DataFrame(rows, columns=COLUMNS)
    checks = quick_checks(samples, lifetime, wordlist, progress) + slow
    # One after the other, timeouts last: no check's traffic may clean up another's session.
    findings = [run_check(name, check, target) for name, check in checks]
    order = list(REQUIREMENTS)
    findings.sort(key=lambda finding: order.index(finding.check))
    return pd.DataFrame([finding.row() for finding in findings], columns=COLUMNS)


def audit_deadline(deadline: float | None, idle: float | None, absolute: float | None) -> float:
    """The audit's overall deadline: the caller's, or 60 s more than the waits asked for.

    >>> audit_deadline(None, 5, None)
    65.0
    """
    longest = (idle or 0.0) + (absolute or 0.0)  # the timeout checks run one after the other
    if deadline is None:
        return 60.0 + longest
    if not deadline > longest:  # `not >` also refuses NaN
        raise ConfigError(
            f"deadline={deadline!r} leaves no time for the {longest:g} s the timeout checks "
            "wait: give a longer deadline, or shorter idle/absolute waits"
        )
    return float(deadline)


def _resolve(
    app: str | Lab, routes: Routes | str | None, verify: bool | str | None
) -> tuple[str, Routes | str | None, bool | str]:
    """URL, routes and CA of a URL or a lab handle; what the caller gave wins."""
    if isinstance(app, str):
        return app, routes, True if verify is None else verify
    lab: Any = app
    ca = getattr(lab, "ca_path", None)
    return (
        lab.url,
        routes if routes is not None else getattr(lab, "routes", None),
        verify if verify is not None else ca or True,
    )


def quick_checks(
    samples: int, lifetime: float | None, wordlist: bool, progress: bool
) -> list[tuple[str, Check]]:
    """Every check that takes no deliberate waiting, by the report row it fills."""
    return [
        ("id strength", lambda target: checks_ids.check_id_strength(target, samples)),
        ("fixation", checks_ids.check_fixation),
        ("unknown id", checks_ids.check_unknown_id),
        ("tampered cookie", checks_ids.check_tampered_cookie),
        ("logout on server", checks_logout.check_logout_on_server),
        ("logout clears cookie", checks_logout.check_logout_clears_cookie),
        ("Secure", checks_cookie.check_secure),
        ("HttpOnly", checks_cookie.check_httponly),
        ("SameSite", checks_cookie.check_samesite),
        ("__Host- prefix", checks_cookie.check_host_prefix),
        ("Domain and Path", checks_cookie.check_domain_and_path),
        ("persistence", checks_cookie.persistence_check(lifetime)),
        ("cookie size", checks_cookie.check_cookie_size),
        ("data in cookie", checks_secrets.check_data_in_cookie),
        ("secret in wordlist", checks_secrets.wordlist_check(wordlist, progress)),
        ("login not GET", checks_methods.check_login_not_get),
        ("logout not GET", checks_methods.check_logout_not_get),
        ("CSRF token", checks_methods.check_csrf_token),
    ]


def run_check(name: str, check: Check, target: Target) -> Finding:
    """Run one check; whatever stops it (a target that stops answering, a header it cannot
    read) makes its row "could not test" with the error as what was observed, never a crash
    of the whole audit."""
    try:
        return check(target)
    except Exception as error:  # one broken check must not cost the other rows
        return Finding(name, COULD_NOT_TEST, _reason(error)[:160])


def _reason(error: Exception) -> str:
    """The error in words; its type too when it is not one of the audit's own."""
    if isinstance(error, requests.exceptions.SSLError):
        return f"SSLError: {error}"
    if isinstance(error, requests.ConnectionError) and error.request is not None:
        return f"cannot connect to {error.request.url}: is the app running there?"
    return str(error) if isinstance(error, CannotTest) else f"{type(error).__name__}: {error}"


def failed(report: pd.DataFrame) -> list[str]:
    """The checks a report failed (advice never counts).

    >>> failed(pd.DataFrame({"check": ["Secure", "HttpOnly"], "verdict": ["fail", "pass"]}))
    ['Secure']
    """
    return report.loc[report["verdict"] == FAIL, "check"].tolist()


def advised(report: pd.DataFrame) -> list[str]:
    """The checks whose advice the app does not follow (never a failure)."""
    return report.loc[report["verdict"] == ADVICE, "check"].tolist()
