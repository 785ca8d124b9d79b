"""Two more cookies that carry the whole session, signed but readable, and the format registry.

* **django** (Django's ``signed_cookies`` session backend, ``django.core.signing``):
  ``<payload>:<timestamp>:<signature>``. The payload is compact JSON in base64url, or ``.`` +
  base64url(zlib(JSON)) when that is shorter; the timestamp is base62 seconds; the signature
  is HMAC-SHA256 over ``payload:timestamp`` keyed by SHA256(salt + "signer" + SECRET_KEY),
  salt "django.contrib.sessions.backends.signed_cookies" (Django 3.1 and later). The db
  backend's ``session_data`` column has the same shape under another salt.
* **starlette** (Starlette's ``SessionMiddleware``: an itsdangerous ``TimestampSigner`` with
  its defaults): ``<payload>.<timestamp>.<signature>``. The payload is *standard* base64 of
  ``json.dumps(session)`` (spaces after ``,`` and ``:``); HMAC-SHA1 keyed by
  SHA1("itsdangerous.Signer" + "signer" + secret).

A Starlette cookie has the shape of a Flask one (three dot-separated parts, a 20-byte
signature). They differ in the JSON inside (Flask writes it compact, Starlette with spaces)
and in the key. :func:`~sessionlab.cookies.decode_cookie` picks by the JSON and names the
other format in ``alternatives``; ``crack`` tries both keys and says which one matched.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import zlib
from typing import Any

from itsdangerous.encoding import int_to_bytes

from .formats import (
    EXPRESS,
    FLASK,
    FORMATS,
    SESSIONLAB,
    CookieAnatomy,
    CookieFormat,
    Row,
    Secret,
    b64url,
    decode_b64url,
    json_payload_row,
    payload_bytes,
)

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int) -> str:
    """Django's base62 (``django.utils.baseconv``): digits, then upper, then lower case.

    >>> base62(1_764_183_680), from_base62("1vOKlU")
    ('1vOKlU', 1764183680)
    """
    out = ""
    while number:
        number, rest = divmod(number, 62)
        out = BASE62[rest] + out
    return out or "0"


def from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + BASE62.index(char)
    return number


def _timestamp_row(anatomy: CookieAnatomy, raw: str, meaning: str) -> Row:
    signed_at = anatomy.signed_at
    return ("timestamp", raw, f"{signed_at:%Y-%m-%d %H:%M:%S} UTC" if signed_at else "", meaning)


class DjangoSignedCookie(CookieFormat):
    """Django's signed-cookie session (``SESSION_ENGINE = "...backends.signed_cookies"``).

    >>> value = DJANGO.sign({"name": "alice"}, "changeme", timestamp=1_764_183_680)
    >>> value
    'eyJuYW1lIjoiYWxpY2UifQ:1vOKlU:XueZzv3u0p2cvlpcM9aerimAuTjNFfyYRKR6xqtLPpE'
    >>> DJANGO.parse(value).payload
    {'name': 'alice'}
    """

    kind = "django"
    hash_name = "sha256"
    salt = b"django.contrib.sessions.backends.signed_cookies" + b"signer"
    concat = True
    carries_data = True
    signature_meaning = (
        "HMAC-SHA256 of payload:timestamp, key SHA256(salt + 'signer' + SECRET_KEY)"
    )

    def parse(self, text: str) -> CookieAnatomy | None:
        parts = text.split(":")
        if len(parts) != 3:
            return None
        payload_part, stamp, signature = parts
        digest = decode_b64url(signature)
        if not stamp or any(char not in BASE62 for char in stamp):
            return None
        if digest is None or len(digest) != self.digest_size:
            return None
        compressed = payload_part.startswith(".")
        try:
            payload, problem = django_payload(payload_part[compressed:], compressed), ""
        except ValueError as error:
            payload, problem = None, str(error)
        signed = f"{payload_part}:{stamp}".encode()
        return CookieAnatomy(
            self.kind,
            text,
            payload,
            from_base62(stamp),
            signature,
            signed,
            digest,
            compressed,
            problem,
        )

    def sign(
        self, payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None
    ) -> str:
        """Byte for byte what ``signing.dumps(payload, compress=True, salt=...)`` gives."""
        data = json.dumps(payload, separators=(",", ":")).encode("latin-1")
        packed = zlib.compress(data)
        body = "." + b64url(packed) if len(packed) < len(data) - 1 else b64url(data)
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{body}:{base62(stamp)}"
        return f"{signed}:{b64url(self.mac(secret, signed.encode()))}"

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        payload_part, stamp, _ = anatomy.value.split(":")
        return [
            json_payload_row(anatomy, payload_part),
            _timestamp_row(
                anatomy, f":{stamp}", "base62 seconds; refused after SESSION_COOKIE_AGE"
            ),
            (
                "signature",
                f":{anatomy.signature}",
                f"{len(anatomy.digest)} bytes",
                self.signature_meaning,
            ),
        ]


def django_payload(part: str, compressed: bool = False) -> Any:
    """A Django signing payload as Python data (Django's JSON is read as latin-1)."""
    raw = payload_bytes(part, compressed)
    try:
        return json.loads(raw.decode("latin-1"))
    except ValueError as error:
        raise ValueError(f"the payload is not JSON: {error}") from None


class StarletteCookie(CookieFormat):
    """Starlette's ``SessionMiddleware`` cookie (itsdangerous ``TimestampSigner`` defaults).

    >>> STARLETTE.sign({"name": "alice"}, "your-secret-key", timestamp=1_764_183_680)
    'eyJuYW1lIjogImFsaWNlIn0=.aSdOgA.OottoEZVNLSZRHprpoJ7iiu4t7M'
    """

    kind = "starlette"
    hash_name = "sha1"
    salt = b"itsdangerous.Signer" + b"signer"
    concat = True
    carries_data = True
    signature_meaning = (
        "HMAC-SHA1 of payload.timestamp, key SHA1('itsdangerous.Signer' + 'signer' + secret)"
    )

    def parse(self, text: str) -> CookieAnatomy | None:
        parts = text.split(".")
        if len(parts) != 3:
            return None
        payload_part, stamp_part, signature = parts
        digest = decode_b64url(signature)
        stamp = decode_b64url(stamp_part)
        if digest is None or len(digest) != self.digest_size or not stamp:
            return None
        try:
            payload = json.loads(base64.b64decode(payload_part, validate=True))
        except (binascii.Error, ValueError):
            return None
        if not isinstance(payload, dict):
            return None
        signed = f"{payload_part}.{stamp_part}".encode()
        timestamp = int.from_bytes(stamp, "big")
        return CookieAnatomy(self.kind, text, payload, timestamp, signature, signed, digest)

    def sign(
        self, payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None
    ) -> str:
        body = base64.b64encode(json.dumps(payload).encode()).decode()
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{body}.{b64url(int_to_bytes(stamp))}"
        return f"{signed}.{b64url(self.mac(secret, signed.encode()))}"

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        payload_part, stamp, _ = anatomy.value.split(".")
        return [
            (
                "payload",
                payload_part,
                anatomy.payload,
                "the whole session: standard base64 of json.dumps; readable by anyone",
            ),
            _timestamp_row(anatomy, f".{stamp}", "when it was signed; refused after max_age"),
            self.signature_row(anatomy),
        ]


def spaced_json(anatomy: CookieAnatomy) -> bool:
    """Is the payload JSON written with Python's default spaces (Starlette), not compact
    (Flask, Django)? Only a payload holding at least one key or item can tell.

    >>> spaced_json(STARLETTE.parse(STARLETTE.sign({"a": 1}, "k")))
    True
    """
    try:
        text = base64.b64decode(anatomy.value.split(".")[0] + "==").decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ", " in text or ": " in text


DJANGO = DjangoSignedCookie()
STARLETTE = StarletteCookie()
# In the order a value is tried: the most distinctive shape first. Starlette before Flask:
# when both read a value, the JSON inside decides (see decode_cookie).
FORMATS.update({f.kind: f for f in (EXPRESS, DJANGO, STARLETTE, FLASK, SESSIONLAB)})
