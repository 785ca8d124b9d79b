"""Checks on the session cookie's attributes, read from the Set-Cookie that login sends."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from ..cookies import max_age
from .finding import FAIL, PASS, Finding, verdict
from .target import Target, issued_cookie

MAX_COOKIE_BYTES = 4096
# Without a stated absolute lifetime, a session cookie kept longer than a working day
# outlives any sensible session (OWASP suggests 4 to 8 hours for an absolute timeout).
DEFAULT_LIFETIME = 8 * 60 * 60


def check_secure(target: Target) -> Finding:
    _name, cookie, proof = issued_cookie(target)
    seen = "Secure" if cookie.get("Secure") else "no Secure: the cookie also travels over http"
    return Finding("Secure", verdict(bool(cookie.get("Secure"))), seen, proof)


def check_httponly(target: Target) -> Finding:
    _name, cookie, proof = issued_cookie(target)
    seen = "HttpOnly" if cookie.get("HttpOnly") else "no HttpOnly: scripts can read it"
    return Finding("HttpOnly", verdict(bool(cookie.get("HttpOnly"))), seen, proof)


def check_samesite(target: Target) -> Finding:
    _name, cookie, proof = issued_cookie(target)
    value = str(cookie.get("SameSite") or "")
    ok = value.lower() in ("lax", "strict")
    seen = f"SameSite={value}" if value else "no SameSite: left to the browser's default"
    return Finding("SameSite", verdict(ok), seen, proof)


def check_host_prefix(target: Target) -> Finding:
    name, cookie, proof = issued_cookie(target)
    ok = (
        name.startswith("__Host-")
        and cookie.get("Secure")
        and cookie.get("Path") == "/"
        and not cookie.get("Domain")
    )
    seen = f"named {name!r}" + ("" if ok or not name.startswith("__Host-") else " (rules broken)")
    return Finding("__Host- prefix", verdict(bool(ok)), seen, proof)


def check_domain_and_path(target: Target) -> Finding:
    _name, cookie, proof = issued_cookie(target)
    domain, path = cookie.get("Domain"), cookie.get("Path")
    seen = (f"Domain={domain}" if domain else "no Domain") + (
        f", Path={path}" if path else ", no Path (defaults to the login URL's directory)"
    )
    return Finding("Domain and Path", verdict(not domain and bool(path)), seen, proof)


def lifetime(cookie: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds the cookie is kept, or None for a browser-session cookie.

    A Max-Age or Expires a browser would ignore (not a number, not a date) is ignored here too.

    >>> lifetime({"Max-Age": "60"}), lifetime({}), lifetime({"Max-Age": "1.5", "Expires": "soon"})
    (60.0, None, None)
    """
    seconds = max_age(cookie.get("Max-Age"))
    if seconds is not None:
        return seconds
    if isinstance(cookie.get("Expires"), str):
        try:
            expires = parsedate_to_datetime(cookie["Expires"]).timestamp()
        except (TypeError, ValueError):
            return None
        return expires - (time.time() if now is None else now)
    return None


def persistence_check(limit: float | None) -> Callable[[Target], Finding]:
    """The persistence check, against the absolute lifetime the caller states."""
    limit = DEFAULT_LIFETIME if limit is None else limit

    def check_persistence(target: Target) -> Finding:
        _name, cookie, proof = issued_cookie(target)
        kept = lifetime(cookie)
        if kept is None:
            return Finding("persistence", PASS, "a browser-session cookie (no Expires)", proof)
        days = kept / 86400
        seen = f"kept {days:.0f} days" if days >= 1 else f"kept {kept / 3600:.1f} hours"
        return Finding("persistence", verdict(kept <= limit + 1), seen, proof)

    return check_persistence


def check_cookie_size(target: Target) -> Finding:
    name, cookie, proof = issued_cookie(target)
    size = len(name.encode()) + len(str(cookie["value"]).encode())
    seen = f"{size} bytes" if size <= MAX_COOKIE_BYTES else f"{size} bytes: browsers drop it"
    return Finding("cookie size", PASS if size <= MAX_COOKIE_BYTES else FAIL, seen, proof)
