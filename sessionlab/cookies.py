"""Cookie anatomy: read, verify and sign session cookies, given only their value.

Three kinds of signed session cookie, all an HMAC over some bytes:

* **flask** (Flask's built-in, client-side session): ``[.]payload.timestamp.signature``.
  The payload is the whole session as tagged JSON (zlib-compressed when a leading ``.``
  says so); anyone can read it. The signature is HMAC-SHA1 over ``payload.timestamp``,
  keyed by HMAC-SHA1(secret, "cookie-session").
* **express** (express-session): ``s:<id>.<signature>``, URL-encoded on the wire; the
  signature is HMAC-SHA256(secret, id) in standard base64 without ``=``.
* **sessionlab** (our server-side sessions): ``<id>.<signature>``, an itsdangerous
  ``Signer`` with salt "sessionlab.sid", HMAC key derivation and SHA-256.

The server-side formats carry only an id: the data stays on the server. This module is the
client's view, so it never imports ``sessionlab.server``; the tests check it byte for byte
against Flask, express-session (Node) and our own server.

>>> anatomy = decode_cookie("s%3Aabc.4n49lb1e6wSwqj3z%2FeJ%2FL%2FKrMgdgrdZXCS1ZU%2FV87VY")
>>> anatomy.kind, anatomy.payload, verify(anatomy.value, "some secret key")
('express', 'abc', True)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote, unquote

import pandas as pd
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import Signer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

CookieKind = Literal["flask", "express", "sessionlab", "unknown"]
Secret = str | bytes

FLASK_SALT = b"cookie-session"  # Flask's SecureCookieSessionInterface.salt
SESSIONLAB_SALT = b"sessionlab.sid"  # sessionlab.server.sessions.SIGNER_SALT
EXPRESS_PREFIX = "s:"  # express-session marks signed values with it
ANATOMY_COLUMNS = ["part", "raw", "decoded", "meaning"]
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class CookieAnatomy:
    """A session cookie taken apart. ``signed`` is exactly what the signature covers."""

    kind: CookieKind
    value: str
    payload: Any = None
    timestamp: int | None = None
    signature: str = ""
    signed: bytes = b""
    digest: bytes = b""
    compressed: bool = False
    problem: str = ""

    @property
    def signed_at(self) -> datetime | None:
        """When a Flask cookie was signed (UTC), from its timestamp part."""
        if self.timestamp is None:
            return None
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)


# -- the signatures: one HMAC (two for a derived key) per candidate secret ---------------


def flask_digest(secret: bytes, signed: bytes) -> bytes:
    """Flask's signature: HMAC-SHA1 keyed by HMAC-SHA1(secret, "cookie-session")."""
    return hmac.digest(hmac.digest(secret, FLASK_SALT, "sha1"), signed, "sha1")


def express_digest(secret: bytes, signed: bytes) -> bytes:
    """express-session's signature (cookie-signature): HMAC-SHA256(secret, id)."""
    return hmac.digest(secret, signed, "sha256")


def sessionlab_digest(secret: bytes, signed: bytes) -> bytes:
    """Our signature: HMAC-SHA256 keyed by HMAC-SHA256(secret, "sessionlab.sid")."""
    return hmac.digest(hmac.digest(secret, SESSIONLAB_SALT, "sha256"), signed, "sha256")


DIGESTS = {"flask": flask_digest, "express": express_digest, "sessionlab": sessionlab_digest}


def _bytes(secret: Secret) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def b64_standard(digest: bytes) -> str:
    return base64.b64encode(digest).decode().rstrip("=")


# -- reading -----------------------------------------------------------------------------


def decode_cookie(value: str) -> CookieAnatomy:
    """Take a cookie value apart without the key; ``kind`` says which format it is.

    Accepts the value as the browser holds it (URL-encoded, or in double quotes) or decoded.

    >>> decode_cookie("eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A").payload
    {'name': 'alice'}
    >>> decode_cookie("hello").kind
    'unknown'
    """
    text = _unwrap(value)
    for parse in (_parse_express, _parse_flask, _parse_sessionlab):
        anatomy = parse(text)
        if anatomy is not None:
            return anatomy
    return CookieAnatomy(
        "unknown", text, problem="not a Flask, express-session or sessionlab signed cookie"
    )


def _unwrap(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return unquote(text) if "%" in text else text


def _decode_b64url(part: str) -> bytes | None:
    """Strict base64url without padding (itsdangerous' decoder skips stray characters)."""
    if not _B64URL.fullmatch(part):
        return None
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _parse_express(text: str) -> CookieAnatomy | None:
    if not text.startswith(EXPRESS_PREFIX) or "." not in text:
        return None
    sid, _, signature = text[len(EXPRESS_PREFIX) :].rpartition(".")
    try:
        digest = base64.b64decode(signature + "=" * (-len(signature) % 4), validate=True)
    except binascii.Error:
        return None
    if len(digest) != hashlib.sha256().digest_size:
        return None
    return CookieAnatomy(
        "express", text, sid, signature=signature, signed=sid.encode(), digest=digest
    )


def _parse_flask(text: str) -> CookieAnatomy | None:
    compressed = text.startswith(".")
    parts = text[compressed:].split(".")
    if len(parts) != 3:
        return None
    payload_part, timestamp_part, signature = parts
    digest = _decode_b64url(signature)
    stamp = _decode_b64url(timestamp_part)
    if digest is None or len(digest) != hashlib.sha1().digest_size or not stamp:
        return None
    signed = text.rpartition(".")[0].encode()
    common = dict(signature=signature, signed=signed, digest=digest, compressed=compressed)
    timestamp = int.from_bytes(stamp, "big")
    try:
        payload = flask_payload(payload_part, compressed)
    except ValueError as error:
        return CookieAnatomy("flask", text, None, timestamp, problem=str(error), **common)
    return CookieAnatomy("flask", text, payload, timestamp, **common)


def flask_payload(part: str, compressed: bool = False) -> Any:
    """A Flask payload part as Python data, through Flask's own tagged JSON serializer.

    >>> flask_payload("eyJjYXJ0Ijp7IiB0IjpbMSwyXX19")
    {'cart': (1, 2)}
    """
    raw = _decode_b64url(part)
    if raw is None:
        raise ValueError("the payload is not base64url")
    if compressed:
        try:
            raw = zlib.decompress(raw)
        except zlib.error as error:
            raise ValueError(f"the compressed payload does not inflate: {error}") from None
    try:
        return TaggedJSONSerializer().loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"the payload is not Flask's tagged JSON: {error}") from None


def _parse_sessionlab(text: str) -> CookieAnatomy | None:
    sid, dot, signature = text.rpartition(".")
    digest = _decode_b64url(signature) if dot and sid and "." not in sid else None
    if digest is None or len(digest) != hashlib.sha256().digest_size:
        return None
    return CookieAnatomy(
        "sessionlab", text, sid, signature=signature, signed=sid.encode(), digest=digest
    )


# -- verifying ---------------------------------------------------------------------------


def verify(value: str | CookieAnatomy, secret: Secret | Sequence[Secret]) -> bool:
    """Was this cookie signed with ``secret`` (or any of a list of them)?

    Only the signature is checked, not the age: an attacker holding the key cares about
    that, a server also checks how old a Flask cookie is. An unknown format gives False.

    >>> cookie = sign_express("abc", "some secret key")
    >>> verify(cookie, "some secret key"), verify(cookie, ["new key", "some secret key"])
    (True, True)
    >>> verify(cookie, "another key")
    False
    """
    anatomy = value if isinstance(value, CookieAnatomy) else decode_cookie(value)
    digest = DIGESTS.get(anatomy.kind)
    if digest is None:
        return False
    candidates = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    return any(
        hmac.compare_digest(digest(_bytes(key), anatomy.signed), anatomy.digest)
        for key in candidates
    )


def signed_with(value: str | CookieAnatomy, secrets: Sequence[Secret]) -> int | None:
    """Which of these secrets (by position) signed the cookie; None when none did.

    >>> signed_with(sign_express("abc", "old"), ["new", "old"])
    1
    """
    for position, secret in enumerate(secrets):
        if verify(value, secret):
            return position
    return None


# -- signing -----------------------------------------------------------------------------


def flask_serializer(secret: Secret) -> URLSafeTimedSerializer:
    """The serializer Flask's ``SecureCookieSessionInterface`` signs session cookies with."""
    return URLSafeTimedSerializer(
        secret,
        salt=FLASK_SALT,
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def sign_flask(payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None) -> str:
    """A Flask session cookie value holding ``payload``, signed now (or at ``timestamp``).

    Byte for byte what Flask would send with this ``SECRET_KEY`` at that second.

    >>> sign_flask({"name": "alice"}, "some secret key", timestamp=1_764_183_680)
    'eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A'
    """
    body = flask_serializer(secret).dump_payload(payload)  # compresses when it pays off
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = body + b"." + base64_encode(int_to_bytes(stamp))
    return (signed + b"." + base64_encode(flask_digest(_bytes(secret), signed))).decode()


def sign_express(sid: str, secret: Secret, *, encoded: bool = False) -> str:
    """An express-session cookie value for session id ``sid`` (``encoded``: as on the wire).

    >>> sign_express("abc", "some secret key")
    's:abc.4n49lb1e6wSwqj3z/eJ/L/KrMgdgrdZXCS1ZU/V87VY'
    >>> sign_express("abc", "some secret key", encoded=True)[:12]
    's%3Aabc.4n49'
    """
    value = f"{EXPRESS_PREFIX}{sid}.{b64_standard(express_digest(_bytes(secret), sid.encode()))}"
    return quote(value, safe="") if encoded else value


def sign_sessionlab(sid: str, secret: Secret) -> str:
    """A sessionlab session-id cookie value, as our server signs it.

    >>> sign_sessionlab("abc", "some secret key")
    'abc.mrtHC0wbhXSPYrYfRLIIU2nvAbzt22xe1Eg67D9HYpU'
    """
    signer = Signer(
        secret,
        salt=SESSIONLAB_SALT,
        key_derivation="hmac",
        digest_method=hashlib.sha256,
    )
    return signer.sign(sid).decode()


# -- the parts side by side ----------------------------------------------------------------


def anatomy_frame(value: str | CookieAnatomy) -> pd.DataFrame:
    """A cookie's parts side by side: the raw text, what it decodes to, what it is for.

    Each raw part keeps the separator before it, so the raw column joined is the value.

    >>> frame = anatomy_frame(sign_express("abc", "some secret key"))
    >>> frame["part"].tolist(), frame["raw"].tolist()[:2]
    (['prefix', 'session id', 'signature'], ['s:', 'abc'])
    """
    anatomy = value if isinstance(value, CookieAnatomy) else decode_cookie(value)
    rows = {
        "flask": _flask_rows,
        "express": _express_rows,
        "sessionlab": _sessionlab_rows,
    }.get(anatomy.kind, _unknown_rows)(anatomy)
    return pd.DataFrame(rows, columns=ANATOMY_COLUMNS)


def _flask_rows(anatomy: CookieAnatomy) -> list[tuple[str, str, Any, str]]:
    payload_part, timestamp_part, _ = anatomy.value.rsplit(".", 2)
    signed_at = anatomy.signed_at
    return [
        (
            "payload",
            payload_part,
            anatomy.payload if not anatomy.problem else f"({anatomy.problem})",
            "the whole session: base64url JSON"
            + (", zlib-compressed (leading '.')" if anatomy.compressed else "")
            + "; readable by anyone, no key needed",
        ),
        (
            "timestamp",
            f".{timestamp_part}",
            f"{signed_at:%Y-%m-%d %H:%M:%S} UTC" if signed_at else "",
            "when it was signed; Flask refuses it after PERMANENT_SESSION_LIFETIME (31 days)",
        ),
        (
            "signature",
            f".{anatomy.signature}",
            f"{len(anatomy.digest)} bytes",
            "HMAC-SHA1 of payload.timestamp, key derived from SECRET_KEY + 'cookie-session'",
        ),
    ]


def _express_rows(anatomy: CookieAnatomy) -> list[tuple[str, str, Any, str]]:
    return [
        ("prefix", EXPRESS_PREFIX, "signed", "express-session marks a signed value with 's:'"),
        _id_row(anatomy),
        (
            "signature",
            f".{anatomy.signature}",
            f"{len(anatomy.digest)} bytes",
            "HMAC-SHA256(secret, id), standard base64 without '='",
        ),
    ]


def _sessionlab_rows(anatomy: CookieAnatomy) -> list[tuple[str, str, Any, str]]:
    return [
        _id_row(anatomy),
        (
            "signature",
            f".{anatomy.signature}",
            f"{len(anatomy.digest)} bytes",
            "HMAC-SHA256 of the id, key derived from the secret + 'sessionlab.sid'",
        ),
    ]


def _id_row(anatomy: CookieAnatomy) -> tuple[str, str, Any, str]:
    return (
        "session id",
        anatomy.payload,
        f"{len(anatomy.payload)} characters",
        "names the record on the server; the data itself never leaves the server",
    )


def _unknown_rows(anatomy: CookieAnatomy) -> list[tuple[str, str, Any, str]]:
    return [("value", anatomy.value, "", anatomy.problem)]
