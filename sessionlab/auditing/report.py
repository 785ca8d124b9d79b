"""audit(): run every check against one app and gather the findings into one table."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import requests

from ..errors import ConfigError
from ..transport import DEFAULT_MAX_BODY
from . import checks_cookie, checks_ids, checks_logout, checks_methods, checks_secrets
from .checks_timeouts import absolute_check, idle_check
from .finding import COULD_NOT_TEST, FAIL, REQUIREMENTS, Finding
from .target import CannotTest, Routes, Target

COLUMNS = [
    "check",
    "requirement",
    "ASVS 4.0.3",
    "ASVS 5.0.0",
    "expected",
    "observed",
    "verdict",
    "evidence",
]

Check = Callable[[Target], Finding]


def audit(
    url: str,
    routes: Routes | str | None = None,
    *,
    verify: bool | str = True,
    samples: int = 20,
    idle: float | None = None,
    absolute: float | None = None,
    lifetime: float | None = None,
    wordlist: bool = True,
    progress: bool = False,
    deadline: float | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> pd.DataFrame:
    """Audit the session handling of the app at ``url``: one row per check.

    ``routes`` says how to log in, view and log out ("seed", the default, "hardened" or a
    :class:`Routes`). ``verify`` is passed to requests (a CA bundle path for local TLS).
    ``idle`` and ``absolute`` are how long to wait for the app's timeouts (seconds; without
    them those checks are "could not test"). ``lifetime``: the longest acceptable cookie
    lifetime (default 8 hours). ``wordlist=False`` skips trying the public secrets.
    ``deadline``: seconds the whole audit may take (default: 60 plus the waits asked for);
    a check still running then becomes "could not test". ``max_body``: bytes of one
    response body the audit reads at most.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-audit") as lab:
    ...     report = sl.audit(lab.url, wordlist=False)
    >>> report.set_index("check").loc[["fixation", "logout on server"], "verdict"].tolist()
    ['fail', 'pass']
    """
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
    quick = quick_checks(samples, lifetime, wordlist, progress)
    # The timeout checks mostly wait: run them beside the others instead of after them.
    with ThreadPoolExecutor(max_workers=len(slow)) as pool:
        waiting = [pool.submit(run_check, name, check, target) for name, check in slow]
        findings = [run_check(name, check, target) for name, check in quick]
        findings += [future.result() for future in waiting]
    order = list(REQUIREMENTS)
    findings.sort(key=lambda finding: order.index(finding.check))
    return pd.DataFrame([finding.row() for finding in findings], columns=COLUMNS)


def audit_deadline(deadline: float | None, idle: float | None, absolute: float | None) -> float:
    """The audit's overall deadline: the caller's, or 60 s more than the longest wait.

    >>> audit_deadline(None, 5, None)
    65.0
    """
    longest = max(idle or 0.0, absolute or 0.0)
    if deadline is None:
        return 60.0 + longest
    if not deadline > longest:  # `not >` also refuses NaN
        raise ConfigError(
            f"deadline={deadline!r} leaves no time for the {longest:g} s the timeout checks "
            "wait: give a longer deadline, or shorter idle/absolute waits"
        )
    return float(deadline)


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
        return Finding(name, COULD_NOT_TEST, _reason(error)[:120])


def _reason(error: Exception) -> str:
    """The error in words; its type too when it is not one of the audit's own."""
    if isinstance(error, requests.exceptions.SSLError):
        return f"SSLError: {error}"
    if isinstance(error, requests.ConnectionError) and error.request is not None:
        return f"cannot connect to {error.request.url}: is the app running there?"
    return str(error) if isinstance(error, CannotTest) else f"{type(error).__name__}: {error}"


def failed(report: pd.DataFrame) -> list[str]:
    """The checks a report failed.

    >>> failed(pd.DataFrame({"check": ["Secure", "HttpOnly"], "verdict": ["fail", "pass"]}))
    ['Secure']
    """
    return report.loc[report["verdict"] == FAIL, "check"].tolist()
