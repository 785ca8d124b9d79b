"""Checks on logout: the server forgets the session, and the client is told to forget it."""

from __future__ import annotations

from typing import Any

from ..cookies import parse_set_cookie
from .finding import FAIL, Finding, verdict
from .target import VICTIM, Target, evidence

# The attributes a deleting Set-Cookie must repeat, or a browser keeps the old cookie
# (Path, Domain) or refuses the deletion (Secure on a __Host- cookie).
MATCHING = ("Path", "Domain", "Secure", "HttpOnly", "SameSite")


def check_logout_on_server(target: Target) -> Finding:
    """Log in, keep the cookie, log out, then replay the kept cookie from a fresh client."""
    client, before, aliases = target.logged_in_victim()
    target.logout(client)
    replay = target.client()
    target.plant(replay, before)
    alive = target.logged_in(replay, VICTIM)
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
    """The logout response must delete the cookie, repeating the attributes it was set with."""
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
    differ = attribute_differences(issued, deletions[-1])
    observed = "deleted with " + (
        "the same attributes" if not differ else "different " + ", ".join(differ)
    )
    return Finding("logout clears cookie", verdict(not differ), observed, proof)


def attribute_differences(issued: dict[str, Any], deletion: dict[str, Any]) -> list[str]:
    """Which of the attributes that matter differ between the set and the deleting cookie.

    >>> attribute_differences({"Path": "/", "HttpOnly": True}, {"Path": "/", "HttpOnly": False})
    ['HttpOnly']
    """
    return [
        attribute
        for attribute in MATCHING
        if _normal(issued.get(attribute)) != _normal(deletion.get(attribute))
    ]


def _normal(value: Any) -> Any:
    if value in (None, False, ""):
        return None
    return value.lower() if isinstance(value, str) else value
