"""The session-id cookie's signature: signed with ``SECRET_KEY``, verified with it and with
``SECRET_KEY_FALLBACKS`` (key rotation), in the sessionlab cookie format (see cookies/).

>>> from flask import Flask
>>> app = Flask("doc")
>>> app.secret_key = "k" * 64
>>> ids = SignedIds()
>>> cookie = ids.signer(app).sign("abc").decode()
>>> ids.verified(app, cookie), ids.verified(app, cookie[:-1] + "x")
('abc', None)
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from itsdangerous import BadSignature, Signer

from ..cookies import SESSIONLAB
from ..cookies.formats import Secret

VERIFIED_LIMIT = 10_000  # verified cookie values remembered per set of keys (about 3 MB)
KEY_SETS = 8  # sets of keys kept: more means the keys changed many times


def id_signer(secrets_newest_first: list[Secret] | tuple[Secret, ...]) -> Signer:
    """The signer for session-id cookies (the sessionlab cookie format, see cookies/)."""
    return SESSIONLAB.signer(secrets_newest_first)


class SignedIds:
    """Signs session ids and verifies cookies, under the app's keys of the moment.

    The keys are read on every request, as Flask reads them; each set of keys gets one
    signer (making one costs a hash) and remembers the cookie values it verified.
    """

    def __init__(self) -> None:
        # Per set of keys: its signer, and the cookie values it verified, with their ids.
        self._by_keys: dict[tuple[Any, ...], tuple[Signer, dict[str, str]]] = {}

    def signer(self, app: Flask) -> Signer:
        """Signs with ``SECRET_KEY``, verifies with it and ``SECRET_KEY_FALLBACKS``."""
        return self._keys(app)[0]

    def verified(self, app: Flask, cookie: str) -> str | None:
        """The id a cookie value carries, or None when its signature does not verify.

        A session sends the same cookie on each of its requests: a value verified once under
        these keys, spelled as this server signs it, is remembered with its id (at most
        ``VERIFIED_LIMIT``; then forgotten all at once), so that only its first request pays
        for the HMAC. Only the signature is
        remembered: whether the id is still a live session is asked of the store every time.
        """
        signer, verified = self._keys(app)
        sid = verified.get(cookie)
        if sid is None:
            try:
                sid = signer.unsign(cookie).decode()
            except BadSignature:
                return None
            # Only the value this server would send: base64 decoding skips stray characters,
            # so one cookie verifies in endless spellings, each of which would take room.
            if signer.sign(sid).decode() == cookie:
                if len(verified) >= VERIFIED_LIMIT:
                    verified.clear()
                verified[cookie] = sid
        return sid

    def _keys(self, app: Flask) -> tuple[Signer, dict[str, str]]:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        known = self._by_keys.get(keys)
        if known is None:
            known = self._by_keys[keys] = (id_signer(keys), {})
            if len(self._by_keys) > KEY_SETS:
                del self._by_keys[next(iter(self._by_keys))]
        return known
