"""Checks on logout: the server forgets the session, and the client is told to forget it.

A browser replaces the stored cookie that has the same **name, Domain and Path** as the
deleting Set-Cookie (RFC 6265 section 5.3 step 11); HttpOnly, SameSite and Max-Age play no
part in the match. A ``__Host-`` deletion must still carry Secure and Path=/ without Domain,
a ``__Secure-`` one Secure, or the browser refuses it (REFERENCE.md section 4, checked in
Chromium by the browser tests).
"""

from __future__ import annotations

from typing import Any

from ..cookies import parse_set_cookie
from .finding import FAIL, Finding, verdict
from .target import Target, evidence

# The attributes a deleting Set-Cookie must repeat for a browser to match the stored cookie.
MATCHING = ("Path", "Domain")


def check_logout_on_server(target: Target) -> Finding:
    """Log in, keep the cookie, log out, then replay the kept cookie from a fresh client."""
    client, before, aliases = target.logged_in_victim()
    target.logout(client)
    alive, replay = target.replayed(before)
    observed = "the replayed pre-logout cookie " + (
        "still shows the user" if alive else "logs nobody in"
    )
    return Finding(
        "logout on server",
        verdict(not alive),
        observed,
        evidence(replay.exchanges, target.cookie_name, aliases),
    )


def check_logout_clears_cookie(target: Target) -> Finding:
    """The logout response should delete the cookie: same name, Domain and Path, and the
    prefix rules of a ``__Host-`` or ``__Secure-`` name. Advice: ASVS asks the server to
    end the session (the check above), not the client to forget the cookie."""
    name, issued, _ = target.issued()
    client, _, aliases = target.logged_in_victim()
    start = len(client.exchanges)
    target.logout(client)
    shown = client.exchanges[start:]
    deletions = [
        parse_set_cookie(header)
        for exchange in shown
        for header in exchange.set_cookies
        if parse_set_cookie(header)["name"] == name
        and parse_set_cookie(header)["effect"] == "delete"
    ]
    proof = evidence(shown, name, aliases)
    if not deletions:
        return Finding("logout clears cookie", FAIL, "no Set-Cookie deletes the cookie", proof)
    problems = deletion_problems(name, issued, deletions[-1])
    observed = (
        "deleted (same name, Domain and Path)"
        if not problems
        else "a deletion a browser ignores: " + "; ".join(problems)
    )
    return Finding("logout clears cookie", verdict(not problems), observed, proof)


def deletion_problems(name: str, issued: dict[str, Any], deletion: dict[str, Any]) -> list[str]:
    """Why a browser would keep the cookie despite this deleting Set-Cookie (none: deleted).

    >>> deletion_problems("sid", {"Path": "/", "HttpOnly": True}, {"Path": "/"})
    []
    >>> deletion_problems("sid", {"Path": "/"}, {"Path": "/app"})
    ['another Path (/app, not /)']
    >>> deletion_problems("__Host-sid", {"Path": "/", "Secure": True}, {"Path": "/"})
    ['a __Host- deletion without Secure is refused']
    """
    problems = [
        f"another {attribute} ({deletion.get(attribute) or 'none'}, not "
        f"{issued.get(attribute) or 'none'})"
        for attribute in MATCHING
        if _normal(attribute, issued.get(attribute)) != _normal(attribute, deletion.get(attribute))
    ]
    if name.startswith(("__Host-", "__Secure-")) and not deletion.get("Secure"):
        problems.append(f"a {name.split('-')[0]}- deletion without Secure is refused")
    if name.startswith("__Host-") and (deletion.get("Domain") or deletion.get("Path") != "/"):
        problems.append("a __Host- deletion needs Path=/ and no Domain")
    return problems


def _normal(attribute: str, value: Any) -> Any:
    """Attribute values as a browser compares them: no Path is the default path "/" here
    (every route the audit uses sets cookies from a path whose directory is "/" or below),
    a Domain is case-insensitive and a leading dot is ignored."""
    if value in (None, False, True, ""):
        return "/" if attribute == "Path" else None
    text = str(value).lower()
    return text.lstrip(".") if attribute == "Domain" else str(value)
