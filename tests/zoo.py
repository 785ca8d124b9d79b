"""The real implementations the audit is judged against, and what a careful reviewer expects.

Each configuration is ``sl.start`` options; each expected table was written from the
framework's documentation and source, then checked by hand probes with plain ``requests``
(research notes: the FINDINGS of issue 10). P pass, F fail (a requirement not met), A advice
not followed (a row no ASVS requirement backs: unknown id, logout clears cookie, Domain and
Path, persistence), N not applicable. Timeout rows are in TIMEOUTS (they need waits).
Shared by tests/test_zoo.py and bench/agreement.py.
"""

from __future__ import annotations

from typing import Any

CHECKS = [
    "id strength",
    "fixation",
    "unknown id",
    "tampered cookie",
    "logout on server",
    "logout clears cookie",
    "Secure",
    "HttpOnly",
    "SameSite",
    "__Host- prefix",
    "Domain and Path",
    "persistence",
    "cookie size",
    "data in cookie",
    "secret in wordlist",
    "login not GET",
    "logout not GET",
    "CSRF token",
]
SHORT = {"P": "pass", "F": "fail", "A": "advice", "N": "not applicable"}


def table(codes: str) -> dict[str, str]:
    """A verdict per check from one code per check, in CHECKS' order (spaces ignored)."""
    letters = codes.replace(" ", "")
    assert len(letters) == len(CHECKS), (len(letters), codes)
    return {check: SHORT[letter] for check, letter in zip(CHECKS, letters, strict=True)}


#              ids  logout  cookie attributes  data    methods
#              f u t s c    S H S _ D p z      d w    l o c
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    # express-session's defaults (README "Options"): 24-byte uid-safe ids; no regenerate;
    # a bad signature is no cookie and a new session; destroy() sends no Set-Cookie;
    # cookie.secure false, sameSite unset, no maxAge; 'some secret key' is on the wordlist.
    "express-faithful": (
        {"server": "express"},
        table("P F P P P A  F P F F P P P  P F  F F F"),
    ),
    # express-session's README advice applied (app.js): regenerate at login, POST + CSRF,
    # clearCookie at logout, SameSite=Lax, a random secret; no Secure over http.
    "express-recommended": (
        {"server": "express", "mode": "recommended"},
        table("P P P P P P  F P P F P P P  P P  P P P"),
    ),
    "express-recommended-https": (
        {"server": "express", "mode": "recommended", "https": True},
        table("P P P P P P  P P P P P P P  P P  P P P"),
    ),
    # Django (docs: topics/http/sessions, topics/auth/default): 32 chars of a-z0-9 (165
    # bits); login() cycles the key; flush() at logout; SESSION_COOKIE_SECURE False,
    # HTTPONLY True, SAMESITE 'Lax', AGE two weeks; LogoutView is POST only (5.0+).
    "django-db": (
        {"server": "django"},
        table("P P P P P P  F P P F P A P  P N  P P P"),
    ),
    "django-db-hardened": (
        {"server": "django", "mode": "hardened"},
        table("P P P P P P  P P P P P P P  P N  P P P"),
    ),
    # signed_cookies: "not invalidated when a user logs out"; the data is "signed but not
    # encrypted"; the cookie is the session, so the id checks do not apply.
    "django-signed": (
        {"server": "django", "backend": "signed_cookies"},
        table("N N N P F P  F P P F P A P  F P  P P P"),
    ),
    "django-signed-changeme": (
        {"server": "django", "backend": "signed_cookies", "secret": "changeme"},
        table("N N N P F P  F P P F P A P  F F  P P P"),
    ),
    "django-signed-hardened": (
        {"server": "django", "backend": "signed_cookies", "mode": "hardened"},
        table("N N N P F P  P P P P P P P  F P  P P P"),
    ),
    # PHP's compiled-in defaults (php.net session.configuration): 32 x 4 bits; no strict
    # mode (an uninitialized id is accepted); session_destroy() "does not unset the
    # session cookie"; no HttpOnly or SameSite; no signature.
    "php-default": (
        {"server": "php"},
        table("P F A P P A  F F F F P P P  P N  F F F"),
    ),
    # 22 characters x 5 bits = 110 bits: under ASVS 5.0.0's 128.
    "php-sid22": (
        {
            "server": "php",
            "ini": {"session.sid_length": "22", "session.sid_bits_per_character": "5"},
        },
        table("F F A P P A  F F F F P P P  P N  F F F"),
    ),
    # The PHP manual's advice (hardened.php): strict mode, regenerate, POST + CSRF.
    "php-hardened": (
        {"server": "php", "mode": "hardened"},
        table("P P P P P P  F P P F P P P  P N  P P P"),
    ),
    # Starlette SessionMiddleware: "signed cookie-based HTTP sessions", readable payload,
    # max_age 14 days, same_site lax, https_only False.
    "starlette": (
        {"server": "starlette"},
        table("N N N P F P  F P P F P A P  F P  F F F"),
    ),
    "starlette-your-secret-key": (
        {"server": "starlette", "secret": "your-secret-key"},
        table("N N N P F P  F P P F P A P  F F  F F F"),
    ),
}

# (sl.start options, idle wait, absolute wait, expected idle, expected absolute)
TIMEOUTS: dict[str, tuple[dict[str, Any], float, float, str, str]] = {
    # express-session keeps MemoryStore records without cookie.maxAge forever
    "express-faithful": ({"server": "express"}, 1.5, 2.0, "fail", "fail"),
    # timestamps kept in the session, checked on every request (app.js)
    "express-recommended": (
        {"server": "express", "mode": "recommended", "idle_timeout": 1, "absolute_timeout": 2},
        2.0,
        3.5,
        "pass",
        "pass",
    ),
    # expire_date = last write + SESSION_COOKIE_AGE: ends idle and busy sessions alike
    "django-db": ({"server": "django", "absolute_timeout": 1}, 2.0, 3.0, "pass", "pass"),
    # files expire only by a garbage collector that runs on 1 request in 100, after reading
    "php-default": (
        {"server": "php", "ini": {"session.gc_maxlifetime": "1"}},
        2.0,
        2.5,
        "fail",
        "fail",
    ),
    # The same with GC on every request: the returning request is still served stale data
    # ("GC must be done after read"), and in the audit no other traffic runs during the wait.
    "php-gc-always": (
        {
            "server": "php",
            "ini": {
                "session.gc_maxlifetime": "1",
                "session.gc_probability": "1",
                "session.gc_divisor": "1",
            },
        },
        2.0,
        2.5,
        "fail",
        "fail",
    ),
    # A cookie the client drops after 1 s is not a session the server ended.
    "php-cookie-lifetime": (
        {"server": "php", "ini": {"session.cookie_lifetime": "1"}},
        2.0,
        2.5,
        "fail",
        "fail",
    ),
    "php-hardened": (
        {"server": "php", "mode": "hardened", "idle_timeout": 1, "absolute_timeout": 2},
        2.5,
        4.0,
        "pass",
        "pass",
    ),
    # no idle timeout; the signature is good for 14 days from the last write
    "starlette": ({"server": "starlette"}, 1.0, 1.5, "fail", "fail"),
}
