"""Checks on what the cookie gives away: readable session data, a guessable signing key.

Both read the cookie with the cookie anatomy module (``sessionlab.cookies``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..cookies import decode_cookie
from ..crack import crack
from .finding import COULD_NOT_TEST, FAIL, NOT_APPLICABLE, PASS, Finding
from .target import Target, issued_cookie


def check_data_in_cookie(target: Target) -> Finding:
    """Decode the cookie login set: does it carry the session's data, readable by anyone?"""
    _name, issued, proof = issued_cookie(target)
    anatomy = decode_cookie(issued["value"])
    if anatomy.format is not None and anatomy.format.carries_data:
        seen = f"readable without the key ({anatomy.kind} format): {anatomy.payload}"
        return Finding("data in cookie", FAIL, seen, proof)
    kind = f"{anatomy.kind} format" if anatomy.format else "no known signed format"
    return Finding("data in cookie", PASS, f"an opaque id ({kind})", proof)


def wordlist_check(run: bool, progress: bool = False) -> Callable[[Target], Finding]:
    """Try every secret of the public Flask-Unsign wordlist against the cookie login set."""

    def check_secret_in_wordlist(target: Target) -> Finding:
        _name, issued, proof = issued_cookie(target)
        anatomy = decode_cookie(issued["value"])
        if anatomy.format is None:
            return Finding(
                "secret in wordlist", NOT_APPLICABLE, "the cookie carries no known signature"
            )
        if not run:
            return Finding(
                "secret in wordlist", COULD_NOT_TEST, "wordlist not tried (wordlist=True)"
            )
        result = crack(issued["value"], progress=progress)
        if result.secret is None:
            kinds = " or ".join((anatomy.kind, *anatomy.alternatives))
            seen = f"none of {result.wordlist_size:,} public secrets signs it ({kinds} key)"
            return Finding("secret in wordlist", PASS, seen, proof)
        seen = (
            f"signed with {result.secret!r} ({result.kind} key), found after "
            f"{result.guesses:,} guesses"
        )
        return Finding("secret in wordlist", FAIL, seen, proof)

    return check_secret_in_wordlist
