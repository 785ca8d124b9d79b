"""What a check found, and the requirement it checks (OWASP ASVS 4.0.3 and 5.0.0 ids)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "not applicable"
COULD_NOT_TEST = "could not test"
VERDICTS = (PASS, FAIL, NOT_APPLICABLE, COULD_NOT_TEST)


@dataclass(frozen=True)
class Requirement:
    requirement: str
    asvs4: str
    asvs5: str
    expected: str


# One row per check, in the order of the report. Ids from OWASP ASVS 4.0.3 and 5.0.0.
REQUIREMENTS: dict[str, Requirement] = {
    "id strength": Requirement(
        "session id from a CSPRNG, at least 128 bits",
        "3.2.2",
        "7.2.3",
        "unique ids of >= 128 bits",
    ),
    "fixation": Requirement(
        "new id at login; the old id stops working",
        "3.2.1",
        "7.2.4",
        "a planted id is replaced at login and does not reach the new session",
    ),
    "unknown id": Requirement(
        "ids the server never issued are not adopted",
        "—",
        "7.2.1",
        "an id the server never issued is replaced at login",
    ),
    "tampered cookie": Requirement(
        "tampered tokens rejected visibly",
        "3.5.3",
        "9.1.1",
        "a tampered cookie logs nobody in and is cleared",
    ),
    "logout on server": Requirement(
        "logout invalidates the session on the server",
        "3.3.1",
        "7.4.1",
        "the pre-logout cookie, replayed, logs nobody in",
    ),
    "logout clears cookie": Requirement(
        "logout expires the cookie with the attributes it was set with",
        "3.3.1",
        "7.4.1",
        "a deleting Set-Cookie with the same Path, Domain, Secure, HttpOnly, SameSite",
    ),
    "Secure": Requirement("cookie attribute Secure", "3.4.1", "3.3.1", "Secure"),
    "HttpOnly": Requirement("cookie attribute HttpOnly", "3.4.2", "3.3.4", "HttpOnly"),
    "SameSite": Requirement(
        "cookie attribute SameSite set explicitly", "3.4.3", "3.3.2", "SameSite=Lax or Strict"
    ),
    "__Host- prefix": Requirement(
        "cookie name prefix __Host-", "3.4.4", "3.3.1, 3.3.3", "name starts with __Host-"
    ),
    "Domain and Path": Requirement(
        "no Domain attribute; Path set", "3.4.5", "3.3.3", "no Domain, an explicit Path"
    ),
    "persistence": Requirement(
        "session cookie not persistent (OWASP session cheat sheet)",
        "—",
        "—",
        "no Expires/Max-Age, or at most the absolute lifetime",
    ),
    "cookie size": Requirement(
        "cookie name and value at most 4096 bytes", "—", "3.3.5", "<= 4096 bytes"
    ),
    "data in cookie": Requirement(
        "session data not readable in the cookie (WSTG-SESS-04)",
        "—",
        "—",
        "an opaque id, no readable payload",
    ),
    "secret in wordlist": Requirement(
        "signing key strong, not a known or guessable value",
        "6.4.1",
        "11.2.3, 13.3.1",
        "the signing secret is not in the public wordlist",
    ),
    "idle timeout": Requirement(
        "idle timeout enforced on the server",
        "3.3.2",
        "7.3.1",
        "an unused session ends within the idle wait",
    ),
    "absolute timeout": Requirement(
        "absolute lifetime enforced on the server",
        "3.3.2",
        "7.3.2",
        "a session kept busy still ends within the absolute wait",
    ),
    "login not GET": Requirement(
        "login does not change state on GET", "—", "3.5.3", "a GET does not log anyone in"
    ),
    "logout not GET": Requirement(
        "logout does not change state on GET", "—", "3.5.3", "a GET does not log anyone out"
    ),
    "CSRF token": Requirement(
        "login and logout need an anti-CSRF token",
        "—",
        "3.5.1",
        "without the token, login and logout are refused",
    ),
}


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: what was expected, what was seen, and where."""

    check: str
    verdict: str
    observed: str
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.check not in REQUIREMENTS:
            raise ValueError(f"unknown check {self.check!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")

    def row(self) -> dict[str, Any]:
        """The finding beside its requirement, as one row of the report."""
        requirement = REQUIREMENTS[self.check]
        return {
            "check": self.check,
            "requirement": requirement.requirement,
            "ASVS 4.0.3": requirement.asvs4,
            "ASVS 5.0.0": requirement.asvs5,
            "expected": requirement.expected,
            **{key: value for key, value in asdict(self).items() if key != "check"},
        }


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL
