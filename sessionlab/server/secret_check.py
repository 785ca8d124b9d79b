"""Is a signing secret strong enough? Anyone who guesses it can sign sessions as anyone.

Three tests, cheapest first: is it a publicly known secret (the Flask-Unsign wordlist of
55,982 secrets found in public code, which every attacker tries first), is it long enough,
does it have enough entropy. Every secret of a rotation list is checked: an old secret is
still accepted when verifying, so a weak one keeps the door open until it is dropped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from ..wordlist import in_public_wordlist

SEED_SECRET = "some secret key"  # the Express tutorial's secret
MIN_LENGTH = 32
MIN_BITS = 128
FIX = "use secrets.token_hex(32), kept outside the code (for example in an environment variable)"


def estimated_bits(secret: str) -> float:
    """Shannon entropy of the characters times the length: a generous upper bound.

    >>> estimated_bits("aaaa"), estimated_bits("abab")
    (0.0, 4.0)
    """
    counts = Counter(secret)
    # log2(len / n) >= 0 term by term: one repeated character gives 0.0, never -0.0
    per_char = sum(n / len(secret) * math.log2(len(secret) / n) for n in counts.values())
    return per_char * len(secret)


def weakness(secret: str) -> str:
    """Why one secret is weak, or "" when it looks strong.

    >>> weakness("changeme")
    'is in the public Flask-Unsign wordlist of leaked secrets: it is cracked offline in seconds'
    """
    if secret == SEED_SECRET:
        return (
            f"{SEED_SECRET!r} is the Express tutorial's and is in public wordlists: "
            "anyone can crack it in seconds and forge this server's cookies"
        )
    if in_public_wordlist(secret):
        return (
            "is in the public Flask-Unsign wordlist of leaked secrets: "
            "it is cracked offline in seconds"
        )
    if len(secret) < MIN_LENGTH:
        return f"is {len(secret)} characters long, under {MIN_LENGTH}"
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        distinct = len(set(secret))
        what = "is one character repeated" if distinct == 1 else f"uses {distinct} characters"
        return f"{what}: about {bits:.0f} bits of entropy, under {MIN_BITS}"
    return ""


def check_secret(secret: str | Sequence[str]) -> list[str]:
    """Why a secret (or any secret of a rotation list) is weak; empty when all look strong.

    >>> "public wordlists" in check_secret("some secret key")[0]
    True
    >>> check_secret("3f7c0a9e5b1d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e")
    []
    >>> strong = "3f7c0a9e5b1d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"
    >>> check_secret([strong, "q7#Lp"])[0].split(";")[0]
    'the old secret #2 (still accepted) is 5 characters long, under 32'
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    problems = []
    for position, current in enumerate(secrets):
        problem = weakness(current) if isinstance(current, str) and current else ""
        if problem:
            problems.append(f"{_label(position, len(secrets))} {problem}; {FIX}")
    return problems


def _label(position: int, count: int) -> str:
    if count == 1:
        return "the secret"
    if position == 0:
        return "the newest secret"
    return f"the old secret #{position + 1} (still accepted)"
