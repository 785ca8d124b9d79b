"""Is a signing secret strong enough? Anyone who guesses it can sign sessions as anyone."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

SEED_SECRET = "some secret key"  # the Express tutorial's secret
MIN_LENGTH = 32
MIN_BITS = 128
FIX = "use secrets.token_hex(32), kept outside the code (for example in an environment variable)"


def estimated_bits(secret: str) -> float:
    """Shannon entropy of the characters times the length: a generous upper bound.

    >>> round(estimated_bits("aaaa"))
    0
    """
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def check_secret(secret: str | Sequence[str]) -> list[str]:
    """Why a secret (or the newest of a list) is weak; an empty list when it looks strong.

    >>> "public wordlists" in check_secret("some secret key")[0]
    True
    >>> check_secret("3f7c0a9e5b1d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e")
    []
    """
    current = secret if isinstance(secret, str) else (secret[0] if secret else "")
    problems = []
    if current == SEED_SECRET:
        problems.append(
            f"the secret {SEED_SECRET!r} is the Express tutorial's and is in public wordlists: "
            "anyone can forge this server's cookies"
        )
    elif len(current) < MIN_LENGTH:
        problems.append(f"the secret is {len(current)} characters long, under {MIN_LENGTH}")
    elif estimated_bits(current) < MIN_BITS:
        problems.append(
            f"the secret has about {estimated_bits(current):.0f} bits of entropy, under {MIN_BITS}"
        )
    return [f"{problem}; {FIX}" for problem in problems]
