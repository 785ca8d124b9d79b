"""Reading a cookie without the key, and checking which secret signed it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import unquote

from .formats import FORMATS, CookieAnatomy, CookieFormat, Secret
from .formats_data import spaced_json


def decode_cookie(value: str) -> CookieAnatomy:
    """Take a cookie value apart without the key; ``kind`` says which format it is.

    Accepts the value as the browser holds it (URL-encoded, or in double quotes) or decoded.

    >>> decode_cookie("eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A").payload
    {'name': 'alice'}
    >>> decode_cookie("hello").kind
    'unknown'

    Starlette's cookies have Flask's shape; the JSON inside tells them apart (Starlette
    writes spaces after separators, Flask does not), and ``alternatives`` names the other:

    >>> decode_cookie("eyJuYW1lIjogImFsaWNlIn0=.aSdOgA.OottoEZVNLSZRHprpoJ7iiu4t7M").kind
    'starlette'
    """
    text = unwrap(value)
    found = [a for f in FORMATS.values() if (a := f.parse(text)) is not None]
    if found:
        kinds = [anatomy.kind for anatomy in found]
        if "starlette" in kinds and "flask" in kinds:
            starlette = found[kinds.index("starlette")]
            first = starlette if spaced_json(starlette) else found[kinds.index("flask")]
        else:
            first = found[0]
        others = tuple(a.kind for a in found if a is not first and not a.problem)
        return replace(first, alternatives=others) if others else first
    known = ", ".join(FORMATS)
    return CookieAnatomy(
        "unknown", text, problem=f"not a signed cookie of a known format ({known})"
    )


def unwrap(value: str) -> str:
    """The value without double quotes and URL-encoding."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return unquote(text) if "%" in text else text


def verify(value: str | CookieAnatomy, secret: Secret | Sequence[Secret]) -> bool:
    """Was this cookie signed with ``secret`` (or any of a list of them)?

    Only the signature is checked, not the age: an attacker holding the key cares about
    that, a server also checks how old a Flask cookie is. An unknown format gives False.

    >>> from sessionlab.cookies import sign_express
    >>> cookie = sign_express("abc", "some secret key")
    >>> verify(cookie, "some secret key"), verify(cookie, ["new key", "some secret key"])
    (True, True)
    >>> verify(cookie, "another key")
    False
    """
    anatomy = value if isinstance(value, CookieAnatomy) else decode_cookie(value)
    candidates = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    return any(
        cookie_format.verify(reading, key)
        for reading, cookie_format in readings(anatomy)
        for key in candidates
    )


def readings(anatomy: CookieAnatomy) -> list[tuple[CookieAnatomy, CookieFormat]]:
    """The cookie as read by its format and by every other format that reads the same
    bytes (a Flask-shaped cookie may be Starlette's): what verifying and cracking try."""
    out = []
    for kind in (anatomy.kind, *anatomy.alternatives):
        cookie_format = FORMATS.get(kind)
        reading = cookie_format.parse(anatomy.value) if cookie_format else None
        if cookie_format is not None and reading is not None:
            out.append((reading, cookie_format))
    return out


def signed_with(value: str | CookieAnatomy, secrets: Sequence[Secret]) -> int | None:
    """Which of these secrets (by position) signed the cookie; None when none did.

    >>> from sessionlab.cookies import sign_express
    >>> signed_with(sign_express("abc", "old"), ["new", "old"])
    1
    """
    for position, secret in enumerate(secrets):
        if verify(value, secret):
            return position
    return None
