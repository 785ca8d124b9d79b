"""What a check found, and the requirement it checks, in the requirement's own words.

Each check maps to the OWASP ASVS 4.0.3 and 5.0.0 requirements that say what it tests, or
to none. A check with no requirement behind it is **advice**: when the app does not follow
it, the verdict is "advice", never "fail", so a CI gate (exit status, SARIF level) does not
fail on it. A check with a requirement may still carry advice beside its verdict (a
tampered cookie refused, as ASVS asks, but not cleared). Quotes are short phrases of the
ASVS texts (OWASP, CC BY-SA 4.0), attributed by id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PASS = "pass"
FAIL = "fail"
ADVICE = "advice"
NOT_APPLICABLE = "not applicable"
COULD_NOT_TEST = "could not test"
VERDICTS = (FAIL, ADVICE, PASS, NOT_APPLICABLE, COULD_NOT_TEST)


@dataclass(frozen=True)
class Requirement:
    """What a check tests: a short name, the ASVS ids and words behind it, what passes."""

    requirement: str
    asvs4: str
    asvs5: str
    expected: str
    quote: str = ""  # the requirement's words, with their ids; "" for advice

    @property
    def advice(self) -> bool:
        """No ASVS requirement says this: not meeting it is advice, not a failure."""
        return not self.asvs4 and not self.asvs5


def _q(*parts: str) -> str:
    return "; ".join(parts)


# One row per check, in the order of the report.
REQUIREMENTS: dict[str, Requirement] = {
    "id strength": Requirement(
        "session id from a CSPRNG, unique, >= 64 bits of entropy (4.0.3), >= 128 (5.0.0)",
        "3.2.2",
        "7.2.3",
        "unique ids, >= 128 bits (5.0.0; 4.0.3 asks >= 64)",
        _q(
            '4.0.3 3.2.2: "session tokens possess at least 64 bits of entropy"',
            '5.0.0 7.2.3: "unique ... and possess at least 128 bits of entropy"',
        ),
    ),
    "fixation": Requirement(
        "new id at login; the old id stops working",
        "3.2.1",
        "7.2.4",
        "a planted id is replaced at login and does not reach the new session",
        _q(
            '4.0.3 3.2.1: "generates a new session token on user authentication"',
            '5.0.0 7.2.4: "... and terminates the current session token"',
        ),
    ),
    "unknown id": Requirement(
        "ids the server never issued are not adopted (advice: strict session ids)",
        "",
        "",
        "an id the server never issued is replaced at login",
    ),
    "tampered cookie": Requirement(
        "tampered tokens rejected",
        "3.5.3",
        "9.1.1",
        "a tampered cookie logs nobody in (advice: and is cleared)",
        _q(
            '4.0.3 3.5.3: "stateless session tokens use digital signatures ... to protect '
            'against tampering"',
            '5.0.0 9.1.1: "validated using their digital signature or MAC ... before '
            "accepting the token's contents\"",
        ),
    ),
    "logout on server": Requirement(
        "logout invalidates the session on the server",
        "3.3.1",
        "7.4.1",
        "the pre-logout cookie, replayed, logs nobody in",
        _q(
            '4.0.3 3.3.1: "logout and expiration invalidate the session token"',
            '5.0.0 7.4.1: "the application disallows any further use of the session"',
        ),
    ),
    "logout clears cookie": Requirement(
        "logout deletes the cookie (advice: ASVS asks the server to end the session)",
        "",
        "",
        "a Set-Cookie that expires it with the same name, Domain and Path",
    ),
    "Secure": Requirement(
        "cookie attribute Secure",
        "3.4.1",
        "3.3.1",
        "Secure",
        _q(
            "4.0.3 3.4.1: \"cookie-based session tokens have the 'Secure' attribute set\"",
            "5.0.0 3.3.1: \"cookies have the 'Secure' attribute set\"",
        ),
    ),
    "HttpOnly": Requirement(
        "cookie attribute HttpOnly",
        "3.4.2",
        "3.3.4",
        "HttpOnly",
        _q(
            "4.0.3 3.4.2: \"cookie-based session tokens have the 'HttpOnly' attribute set\"",
            "5.0.0 3.3.4: \"the cookie must have the 'HttpOnly' attribute set\"",
        ),
    ),
    "SameSite": Requirement(
        "cookie attribute SameSite set explicitly",
        "3.4.3",
        "3.3.2",
        "SameSite=Lax or Strict",
        _q(
            "4.0.3 3.4.3: \"utilize the 'SameSite' attribute to limit exposure to "
            'cross-site request forgery attacks"',
            "5.0.0 3.3.2: \"each cookie's 'SameSite' attribute value is set according to "
            'the purpose of the cookie"',
        ),
    ),
    "__Host- prefix": Requirement(
        "cookie name prefix __Host-",
        "3.4.4",
        "3.3.3",
        "name starts with __Host-",
        _q(
            '4.0.3 3.4.4: "cookie-based session tokens use the "__Host-" prefix"',
            "5.0.0 3.3.3: \"cookies have the '__Host-' prefix for the cookie name unless "
            'they are explicitly designed to be shared with other hosts"',
        ),
    ),
    "Domain and Path": Requirement(
        "no Domain attribute, an explicit Path (advice: 4.0.3 3.4.5 speaks of Path "
        "only, and only where other apps share the domain)",
        "",
        "",
        "no Domain, an explicit Path",
    ),
    "persistence": Requirement(
        "session cookie not kept past the session (advice: OWASP session cheat sheet)",
        "",
        "",
        "no Expires/Max-Age, or at most the absolute lifetime",
    ),
    "cookie size": Requirement(
        "cookie name and value at most 4096 bytes",
        "",
        "3.3.5",
        "<= 4096 bytes",
        '5.0.0 3.3.5: "the cookie name and value length combined are not over 4096 bytes"',
    ),
    "data in cookie": Requirement(
        "session data not readable in the cookie",
        "8.2.2",
        "14.3.3",
        "an opaque id, no readable payload",
        _q(
            '4.0.3 8.2.2: "data stored in browser storage (such as ... cookies) does not '
            'contain sensitive data"',
            '5.0.0 14.3.3: "... with the exception of session tokens"',
        ),
    ),
    "secret in wordlist": Requirement(
        "signing key not a public, guessable value",
        "",
        "11.2.3",
        "the signing secret is not in the public wordlist",
        '5.0.0 11.2.3: "all cryptographic primitives utilize a minimum of 128-bits of '
        'security based on the algorithm, key size, and configuration"',
    ),
    "idle timeout": Requirement(
        "idle timeout enforced on the server",
        "3.3.2",
        "7.3.1",
        "an unused session ends within the idle wait",
        _q(
            '4.0.3 3.3.2: "re-authentication occurs periodically ... after an idle period"',
            '5.0.0 7.3.1: "there is an inactivity timeout"',
        ),
    ),
    "absolute timeout": Requirement(
        "absolute lifetime enforced on the server",
        "3.3.2",
        "7.3.2",
        "a session kept busy still ends within the absolute wait",
        _q(
            '4.0.3 3.3.2: "re-authentication occurs periodically both when actively used"',
            '5.0.0 7.3.2: "there is an absolute maximum session lifetime"',
        ),
    ),
    "login not GET": Requirement(
        "login does not change state on GET",
        "",
        "3.5.3",
        "a GET does not log anyone in",
        '5.0.0 3.5.3: "requests to sensitive functionality use appropriate HTTP methods '
        '... and not methods defined ... as "safe" such as ... GET"',
    ),
    "logout not GET": Requirement(
        "logout does not change state on GET",
        "",
        "3.5.3",
        "a GET does not log anyone out",
        '5.0.0 3.5.3: "requests to sensitive functionality use appropriate HTTP methods '
        '... and not methods defined ... as "safe" such as ... GET"',
    ),
    "CSRF token": Requirement(
        "login and logout need an anti-CSRF token",
        "4.2.2",
        "3.5.1",
        "without the token, login and logout are refused",
        _q(
            '4.0.3 4.2.2: "enforces a strong anti-CSRF mechanism to protect authenticated '
            'functionality"',
            '5.0.0 3.5.1: "validated to ensure they originate from the application itself"',
        ),
    ),
}


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: what was expected, what was seen, and where.

    A failing check that no requirement backs becomes "advice"; ``advice`` also holds a
    recommendation beside a requirement's verdict.

    >>> Finding("logout clears cookie", "fail", "no Set-Cookie deletes the cookie").verdict
    'advice'
    """

    check: str
    verdict: str
    observed: str
    evidence: str = ""
    advice: str = ""

    def __post_init__(self) -> None:
        if self.check not in REQUIREMENTS:
            raise ValueError(f"unknown check {self.check!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")
        if self.verdict == FAIL and REQUIREMENTS[self.check].advice:
            object.__setattr__(self, "verdict", ADVICE)
            if not self.advice:
                object.__setattr__(self, "advice", REQUIREMENTS[self.check].expected)

    def row(self) -> dict[str, Any]:
        """The finding beside its requirement, as one row of the report."""
        requirement = REQUIREMENTS[self.check]
        return {
            "check": self.check,
            "requirement": requirement.requirement,
            "ASVS 4.0.3": requirement.asvs4 or "—",
            "ASVS 5.0.0": requirement.asvs5 or "—",
            "expected": requirement.expected,
            **{key: value for key, value in asdict(self).items() if key != "check"},
            "ASVS text": requirement.quote,
        }


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL
