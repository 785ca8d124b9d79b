"""Signed session-cookie formats, one small class each: parse, sign, verify, explain.

Every format here is an HMAC over some bytes of the cookie, keyed by the secret or by a key
derived from it. A format knows how to take its cookie apart without the key
(:meth:`CookieFormat.parse`), how to compute the signature for a candidate secret
(:meth:`CookieFormat.mac`: what verifying and cracking both need), how to sign, and what each
part means (:meth:`CookieFormat.rows`). The server's signer, ``crack`` and the audit all use
these classes, so adding a format is adding one class to :data:`FORMATS`.

* **flask** (Flask's built-in, client-side session): ``[.]payload.timestamp.signature``.
  The payload is the whole session as tagged JSON (zlib-compressed when a leading ``.``
  says so); anyone can read it. HMAC-SHA1 over ``payload.timestamp``, keyed by
  HMAC-SHA1(secret, "cookie-session").
* **express** (express-session): ``s:<id>.<signature>``, URL-encoded on the wire;
  HMAC-SHA256(secret, id) in standard base64 without ``=``.
* **sessionlab** (our server-side sessions): ``<id>.<signature>``, an itsdangerous
  ``Signer`` with salt "sessionlab.sid", HMAC key derivation and SHA-256.
* **django** (Django's ``signed_cookies`` session backend) and **starlette**
  (``SessionMiddleware``): in formats_more.py; both carry the session's data readably.
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
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from flask.json.tag import TaggedJSONSerializer
from itsdangerous import Signer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, int_to_bytes, want_bytes

Secret = str | bytes
Row = tuple[str, str, Any, str]  # part, raw text, decoded, meaning
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class CookieAnatomy:
    """A session cookie taken apart. ``signed`` is exactly what the signature covers."""

    kind: str
    value: str
    payload: Any = None
    timestamp: int | None = None
    signature: str = ""
    signed: bytes = b""
    digest: bytes = b""
    compressed: bool = False
    problem: str = ""
    alternatives: tuple[str, ...] = ()  # other formats that read the same bytes

    @property
    def signed_at(self) -> datetime | None:
        """When a Flask, Django or Starlette cookie was signed (UTC), from its timestamp."""
        if self.timestamp is None:
            return None
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    @property
    def format(self) -> CookieFormat | None:
        """The format that reads this cookie, or None when no known format does."""
        return FORMATS.get(self.kind)


def as_bytes(secret: Secret) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def b64_standard(digest: bytes) -> str:
    """Standard base64 without padding, as cookie-signature writes signatures."""
    return base64.b64encode(digest).decode().rstrip("=")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_b64url(part: str) -> bytes | None:
    """Strict base64url without padding (itsdangerous' decoder skips stray characters)."""
    if not _B64URL.fullmatch(part):
        return None
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


class CookieFormat:
    """One signed-cookie format. Subclasses set the class attributes and :meth:`parse`.

    The signature is HMAC(``key``, ``signed``) with ``hash_name``, where ``key`` is the
    secret itself (``salt`` None), HMAC(secret, ``salt``) (itsdangerous' "hmac" key
    derivation) or, with ``concat``, HASH(``salt`` + secret) (Django's and itsdangerous'
    default "django-concat"). ``carries_data``: the cookie holds the session's data.
    """

    kind: ClassVar[str]
    hash_name: ClassVar[str]
    salt: ClassVar[bytes | None] = None
    concat: ClassVar[bool] = False
    carries_data: ClassVar[bool] = False
    signature_meaning: ClassVar[str] = ""

    def parse(self, text: str) -> CookieAnatomy | None:
        """The cookie's parts when ``text`` (unquoted, URL-decoded) has this format."""
        raise NotImplementedError

    def key(self, secret: Secret) -> bytes:
        """The HMAC key a secret gives."""
        raw = as_bytes(secret)
        if self.salt is None:
            return raw
        if self.concat:
            return hashlib.new(self.hash_name, self.salt + raw).digest()
        return hmac.digest(raw, self.salt, self.hash_name)

    def mac(self, secret: Secret, signed: bytes) -> bytes:
        """The signature this secret gives ``signed``."""
        return hmac.digest(self.key(secret), signed, self.hash_name)

    def verify(self, anatomy: CookieAnatomy, secret: Secret) -> bool:
        return hmac.compare_digest(self.mac(secret, anatomy.signed), anatomy.digest)

    @property
    def digest_size(self) -> int:
        return hashlib.new(self.hash_name).digest_size

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        """The parts side by side: raw text (with the separator before it), decoded, meaning."""
        raise NotImplementedError

    def signature_row(self, anatomy: CookieAnatomy) -> Row:
        return (
            "signature",
            f".{anatomy.signature}",
            f"{len(anatomy.digest)} bytes",
            self.signature_meaning,
        )


def json_payload_row(anatomy: CookieAnatomy, raw: str) -> Row:
    """The payload of a cookie that carries the whole session as base64url JSON."""
    return (
        "payload",
        raw,
        anatomy.payload if not anatomy.problem else f"({anatomy.problem})",
        "the whole session: base64url JSON"
        + (", zlib-compressed (leading '.')" if anatomy.compressed else "")
        + "; readable by anyone, no key needed",
    )


def id_row(anatomy: CookieAnatomy) -> Row:
    return (
        "session id",
        anatomy.payload,
        f"{len(anatomy.payload)} characters",
        "names the record on the server; the data itself never leaves the server",
    )


class FlaskCookie(CookieFormat):
    """Flask's client-side session cookie.

    >>> FLASK.sign({"name": "alice"}, "some secret key", timestamp=1_764_183_680)
    'eyJuYW1lIjoiYWxpY2UifQ.aSdOgA.6UIlXK8ih1MJ2EwO_xCUKZA6x1A'
    """

    kind = "flask"
    hash_name = "sha1"
    salt = b"cookie-session"  # Flask's SecureCookieSessionInterface.salt
    carries_data = True
    signature_meaning = (
        "HMAC-SHA1 of payload.timestamp, key derived from SECRET_KEY + 'cookie-session'"
    )

    def parse(self, text: str) -> CookieAnatomy | None:
        compressed = text.startswith(".")
        parts = text[compressed:].split(".")
        if len(parts) != 3:
            return None
        payload_part, timestamp_part, signature = parts
        digest = decode_b64url(signature)
        stamp = decode_b64url(timestamp_part)
        if digest is None or len(digest) != self.digest_size or not stamp:
            return None
        signed = text.rpartition(".")[0].encode()
        timestamp = int.from_bytes(stamp, "big")
        try:
            payload, problem = flask_payload(payload_part, compressed), ""
        except ValueError as error:
            payload, problem = None, str(error)
        return CookieAnatomy(
            self.kind, text, payload, timestamp, signature, signed, digest, compressed, problem
        )

    def serializer(self, secret: Secret) -> URLSafeTimedSerializer:
        """The serializer Flask's ``SecureCookieSessionInterface`` signs cookies with."""
        return URLSafeTimedSerializer(
            secret,
            salt=self.salt,
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    def sign(
        self, payload: dict[str, Any], secret: Secret, *, timestamp: int | None = None
    ) -> str:
        """Byte for byte what Flask sends for ``payload`` with this key at that second."""
        body = self.serializer(secret).dump_payload(payload)  # compresses when it pays off
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = body + b"." + base64_encode(int_to_bytes(stamp))
        return (signed + b"." + base64_encode(self.mac(secret, signed))).decode()

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        payload_part, timestamp_part, _ = anatomy.value.rsplit(".", 2)
        signed_at = anatomy.signed_at
        return [
            json_payload_row(anatomy, payload_part),
            (
                "timestamp",
                f".{timestamp_part}",
                f"{signed_at:%Y-%m-%d %H:%M:%S} UTC" if signed_at else "",
                "when it was signed; Flask refuses it after PERMANENT_SESSION_LIFETIME (31 days)",
            ),
            self.signature_row(anatomy),
        ]


def payload_bytes(part: str, compressed: bool = False) -> bytes:
    """A base64url payload part's bytes, inflated when a leading ``.`` said it is
    zlib-compressed (Flask's and Django's way); ValueError says what is wrong with it."""
    raw = decode_b64url(part)
    if raw is None:
        raise ValueError("the payload is not base64url")
    if compressed:
        try:
            raw = zlib.decompress(raw)
        except zlib.error as error:
            raise ValueError(f"the compressed payload does not inflate: {error}") from None
    return raw


def flask_payload(part: str, compressed: bool = False) -> Any:
    """A Flask payload part as Python data, through Flask's own tagged JSON serializer.

    >>> flask_payload("eyJjYXJ0Ijp7IiB0IjpbMSwyXX19")
    {'cart': (1, 2)}
    """
    raw = payload_bytes(part, compressed)
    try:
        return TaggedJSONSerializer().loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"the payload is not Flask's tagged JSON: {error}") from None


class ExpressCookie(CookieFormat):
    """express-session's cookie (cookie-signature): ``s:<id>.<signature>``.

    >>> EXPRESS.sign("abc", "some secret key")
    's:abc.4n49lb1e6wSwqj3z/eJ/L/KrMgdgrdZXCS1ZU/V87VY'
    >>> EXPRESS.sign("abc", "some secret key", encoded=True)[:12]
    's%3Aabc.4n49'
    """

    kind = "express"
    hash_name = "sha256"
    salt = None  # cookie-signature keys the HMAC with the secret itself
    prefix = "s:"  # express-session marks signed values with it
    signature_meaning = "HMAC-SHA256(secret, id), standard base64 without '='"

    def parse(self, text: str) -> CookieAnatomy | None:
        if not text.startswith(self.prefix) or "." not in text:
            return None
        sid, _, signature = text[len(self.prefix) :].rpartition(".")
        try:
            digest = base64.b64decode(signature + "=" * (-len(signature) % 4), validate=True)
        except binascii.Error:
            return None
        if len(digest) != self.digest_size:
            return None
        return CookieAnatomy(
            self.kind, text, sid, signature=signature, signed=sid.encode(), digest=digest
        )

    def sign(self, sid: str, secret: Secret, *, encoded: bool = False) -> str:
        """The cookie value for session ``sid`` (``encoded``: URL-encoded, as on the wire)."""
        value = f"{self.prefix}{sid}.{b64_standard(self.mac(secret, sid.encode()))}"
        return quote(value, safe="") if encoded else value

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        return [
            ("prefix", self.prefix, "signed", "express-session marks a signed value with 's:'"),
            id_row(anatomy),
            self.signature_row(anatomy),
        ]


class SessionlabCookie(CookieFormat):
    """sessionlab's server-side session cookie: ``<id>.<signature>``.

    >>> SESSIONLAB.sign("abc", "some secret key")
    'abc.mrtHC0wbhXSPYrYfRLIIU2nvAbzt22xe1Eg67D9HYpU'
    """

    kind = "sessionlab"
    hash_name = "sha256"
    salt = b"sessionlab.sid"
    signature_meaning = "HMAC-SHA256 of the id, key derived from the secret + 'sessionlab.sid'"

    def parse(self, text: str) -> CookieAnatomy | None:
        sid, dot, signature = text.rpartition(".")
        digest = decode_b64url(signature) if dot and sid and "." not in sid else None
        if digest is None or len(digest) != self.digest_size:
            return None
        return CookieAnatomy(
            self.kind, text, sid, signature=signature, signed=sid.encode(), digest=digest
        )

    def signer(self, secrets_newest_first: Sequence[Secret]) -> Signer:
        """The server's signer: signs with the newest secret, verifies with every one.

        itsdangerous signs with its *last* key, so the list is reversed.
        """
        return DerivedKeySigner(
            [as_bytes(secret) for secret in reversed(secrets_newest_first)],
            salt=self.salt,
            key_derivation="hmac",
            digest_method=hashlib.sha256,
        )

    def sign(self, sid: str, secret: Secret) -> str:
        return self.signer([secret]).sign(sid).decode()

    def rows(self, anatomy: CookieAnatomy) -> list[Row]:
        return [id_row(anatomy), self.signature_row(anatomy)]


class DerivedKeySigner(Signer):
    """itsdangerous' ``Signer``, byte for byte, with each key derived once instead of on
    every call.

    itsdangerous derives the key (an HMAC of the secret and the salt) on every call; made
    once per set of keys, this signer derives them once and keys each HMAC once (a request
    copies it). Not ``hmac.digest``: it lets go of the GIL for a microsecond, and taking it
    back under a server's threads cost more than the HMAC (README, Benchmarks).

    >>> old = Signer("k", salt="s", key_derivation="hmac", digest_method=hashlib.sha256)
    >>> new = DerivedKeySigner("k", salt="s", key_derivation="hmac",
    ...                        digest_method=hashlib.sha256)
    >>> new.sign("abc") == old.sign("abc"), new.unsign(old.sign("abc"))
    (True, b'abc')
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Newest first, as verify_signature tries them.
        self._keys = [super(DerivedKeySigner, self).derive_key(k) for k in self.secret_keys]
        self._keys.reverse()
        self._keyed = [hmac.new(key, digestmod=self.digest_method) for key in self._keys]

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is None:
            return self._keys[0]
        return super().derive_key(secret_key)

    def get_signature(self, value: str | bytes) -> bytes:
        return base64_encode(self._mac(self._keyed[0], want_bytes(value)))

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        try:
            digest = base64_decode(sig)
        except Exception:  # as itsdangerous: any undecodable signature is a bad one
            return False
        value = want_bytes(value)
        return any(hmac.compare_digest(digest, self._mac(keyed, value)) for keyed in self._keyed)

    @staticmethod
    def _mac(keyed: hmac.HMAC, value: bytes) -> bytes:
        mac = keyed.copy()  # the keyed state, shared by every thread, is only read
        mac.update(value)
        return mac.digest()


FLASK = FlaskCookie()
EXPRESS = ExpressCookie()
SESSIONLAB = SessionlabCookie()
# Every format, filled in the order values are tried by formats_data.py (which adds
# Django's and Starlette's formats): the most distinctive shape first.
FORMATS: dict[str, CookieFormat] = {}
