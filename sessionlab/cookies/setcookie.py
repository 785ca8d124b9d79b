"""Set-Cookie headers as a client reads them: name, value, attributes, and whether it deletes."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

ATTRIBUTES = ["Path", "Domain", "Expires", "Max-Age", "HttpOnly", "Secure", "SameSite"]
_CANONICAL = {name.lower(): name for name in ATTRIBUTES}


def parse_set_cookie(header: str) -> dict[str, Any]:
    """A raw Set-Cookie header split into name, value and attributes.

    ``effect`` is "delete" when the header expires the cookie (Max-Age <= 0, or an Expires
    in the past), else "set".

    >>> parse_set_cookie("sid=abc; Path=/; HttpOnly; SameSite=Lax")["SameSite"]
    'Lax'
    >>> parse_set_cookie("sid=; Max-Age=0; Path=/")["effect"]
    'delete'
    """
    pair, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = pair.partition("=")
    row: dict[str, Any] = {"name": name, "value": value, "HttpOnly": False, "Secure": False}
    for attribute in attributes:
        key, has_value, attr_value = attribute.partition("=")
        key = _CANONICAL.get(key.strip().lower(), key.strip())
        row[key] = attr_value if has_value else True
    row["effect"] = "delete" if is_deletion(row) else "set"
    return row


def max_age(value: Any) -> float | None:
    """A Max-Age attribute's seconds, or None when browsers would ignore it (RFC 6265 5.2.2:
    only an optional minus and digits count; "1.5", "" and "soon" are dropped, not fatal).

    >>> max_age("60"), max_age("-1"), max_age("1.5"), max_age(""), max_age(True)
    (60.0, -1.0, None, None, None)
    """
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]+", value.strip()):
        return None
    return float(value.strip())


def expires_at(value: Any) -> float | None:
    """An Expires attribute as seconds since the epoch, or None when it is not a date.

    >>> expires_at("Thu, 01 Jan 1970 00:00:00 GMT"), expires_at("soon")
    (0.0, None)
    """
    if not isinstance(value, str):
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def is_deletion(cookie: dict[str, Any], now: float | None = None) -> bool:
    """Does this parsed Set-Cookie expire the cookie? Max-Age wins over Expires."""
    seconds = max_age(cookie.get("Max-Age"))
    if seconds is not None:
        return seconds <= 0
    expires = expires_at(cookie.get("Expires"))
    return expires is not None and expires <= (time.time() if now is None else now)
