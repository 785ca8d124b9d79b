"""Reading a cookie without the key, and checking which secret signed it."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

from .formats import FORMATS, CookieAnatomy, Secret


def decode_cookie(value: str) -> CookieAnatomy:
    """Take a cookie value apart without the key; ``kind`` says which format it is.

    Accepts the value as the browser holds it (URL-encoded, or in double quotes) or decoded.

    >>> decode_cookie("eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A").payload
    {'name': 'alice'}
    >>> decode_cookie("hello").kind
    'unknown'
    """
    text = unwrap(value)
    for cookie_format in FORMATS.values():
        anatomy = cookie_format.parse(text)
        if anatomy is not None:
            return anatomy
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
    cookie_format = anatomy.format
    if cookie_format is None:
        return False
    candidates = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    return any(cookie_format.verify(anatomy, key) for key in candidates)


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
