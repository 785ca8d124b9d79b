"""Evidence: the recorded exchanges behind a verdict, one short line each, values aliased."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from ..cookies import parse_set_cookie
from ..recording import Exchange
from ..tables import Aliases

__all__ = ["Aliases", "evidence", "sent_value"]


def evidence(
    exchanges: Iterable[Exchange], cookie_name: str, aliases: Aliases, body_chars: int = 24
) -> str:
    """The exchanges that showed a verdict, one short line each, cookie values aliased.

    Aliases are the timelines' (``value1``, ``value2``, ... in order of appearance), so the
    same random value reads the same wherever it appears, on every run.
    """
    return " | ".join(_line(e, cookie_name, aliases, body_chars) for e in exchanges)


def _line(exchange: Exchange, cookie_name: str, aliases: Aliases, body_chars: int) -> str:
    sent = sent_value(exchange.sent_cookie, cookie_name)
    parts = [f"{exchange.method} {urlsplit(exchange.url).path}"]
    parts.append(f"[cookie {aliases.cookie_value(sent)}]" if sent else "[no cookie]")
    reply = [str(exchange.status)]
    for header in exchange.set_cookies:
        parsed = parse_set_cookie(header)
        if parsed["name"] == cookie_name:
            reply.append(
                "clears it"
                if parsed["effect"] == "delete"
                else f"sets {aliases.cookie_value(parsed['value'])}"
            )
    body = " ".join(exchange.body.split())
    if body:
        reply.append(repr(body[:body_chars] + ("…" if len(body) > body_chars else "")))
    return f"{' '.join(parts)} → {' '.join(reply)}"


def sent_value(header: str | None, name: str) -> str | None:
    """The value a Cookie request header carried for ``name``.

    >>> sent_value("a=1; sid=xyz", "sid")
    'xyz'
    """
    for pair in (header or "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value
    return None
