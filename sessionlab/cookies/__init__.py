"""Cookie anatomy: read, verify and sign session cookies, given only their value.

This is the client's view of a cookie, so it never imports ``sessionlab.server`` (the
server imports its signer from here). The tests check every format byte for byte against
Flask, express-session (Node) and our own server.

>>> anatomy = decode_cookie("s%3Aabc.4n49lb1e6wSwqj3z%2FeJ%2FL%2FKrMgdgrdZXCS1ZU%2FV87VY")
>>> anatomy.kind, anatomy.payload, verify(anatomy.value, "some secret key")
('express', 'abc', True)
"""

from __future__ import annotations

from typing import Any

from .anatomy import ANATOMY_COLUMNS, anatomy_frame
from .formats import (
    EXPRESS,
    FLASK,
    FORMATS,
    SESSIONLAB,
    CookieAnatomy,
    CookieFormat,
    Secret,
    flask_payload,
)
from .formats_data import DJANGO, STARLETTE
from .reading import decode_cookie, readings, signed_with, unwrap, verify
from .setcookie import expires_at, is_deletion, max_age, parse_set_cookie


def sign_flask(payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None) -> str:
    """A Flask session cookie value holding ``payload``, signed now (or at ``timestamp``).

    >>> sign_flask({"name": "alice"}, "some secret key", timestamp=1_764_183_680)
    'eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A'
    """
    return FLASK.sign(payload, secret, timestamp=timestamp)


def sign_express(sid: str, secret: Secret, *, encoded: bool = False) -> str:
    """An express-session cookie value for session id ``sid`` (``encoded``: as on the wire).

    >>> sign_express("abc", "some secret key")
    's:abc.4n49lb1e6wSwqj3z/eJ/L/KrMgdgrdZXCS1ZU/V87VY'
    """
    return EXPRESS.sign(sid, secret, encoded=encoded)


def sign_sessionlab(sid: str, secret: Secret) -> str:
    """A sessionlab session-id cookie value, as our server signs it.

    >>> sign_sessionlab("abc", "some secret key")
    'abc.mrtHC0wbhXSPYrYfRLIIU2nvAbzt22xe1Eg67D9HYpU'
    """
    return SESSIONLAB.sign(sid, secret)


def sign_django(payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None) -> str:
    """A Django signed-cookie session value holding ``payload`` (``signing.dumps``).

    >>> sign_django({"name": "alice"}, "changeme", timestamp=1_764_183_680)[:22]
    'eyJuYW1lIjoiYWxpY2UifQ'
    """
    return DJANGO.sign(payload, secret, timestamp=timestamp)


def sign_starlette(
    payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None
) -> str:
    """A Starlette ``SessionMiddleware`` cookie value holding ``payload``.

    >>> sign_starlette({"name": "alice"}, "your-secret-key", timestamp=1_764_183_680)[:24]
    'eyJuYW1lIjogImFsaWNlIn0='
    """
    return STARLETTE.sign(payload, secret, timestamp=timestamp)


__all__ = [
    "ANATOMY_COLUMNS",
    "DJANGO",
    "STARLETTE",
    "readings",
    "sign_django",
    "sign_starlette",
    "EXPRESS",
    "FLASK",
    "FORMATS",
    "SESSIONLAB",
    "CookieAnatomy",
    "CookieFormat",
    "anatomy_frame",
    "decode_cookie",
    "expires_at",
    "flask_payload",
    "is_deletion",
    "max_age",
    "parse_set_cookie",
    "sign_express",
    "sign_flask",
    "sign_sessionlab",
    "signed_with",
    "unwrap",
    "verify",
]
