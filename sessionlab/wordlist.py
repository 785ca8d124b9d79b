"""The public Flask-Unsign wordlist: 55,982 signing secrets found in public code.

Both halves use it: the attacker's side (``crack``) tries every word, the server's side
(``check_secret``) refuses to stay quiet about a secret that is on it. It is read once,
on first use, and kept in memory.

Each line of the list is a Python string literal (``'secret'``), as flask-unsign reads it;
the few lines that are not valid literals are taken as they are, as flask-unsign does.
"""

from __future__ import annotations

import ast
import functools
import warnings

import flask_unsign_wordlist


@functools.cache
def _words() -> tuple[str, ...]:
    with open(flask_unsign_wordlist.get("all"), encoding="utf-8", errors="replace") as file:
        return tuple(_parse(line) for line in file)


def _parse(line: str) -> str:
    """One line as a string; the fast path skips ``literal_eval`` for plain quoted words."""
    text = line.strip()
    quote = text[:1]
    body = text[1:-1]
    plain = "\\" not in body and quote not in body
    if len(text) >= 2 and quote in "'\"" and text[-1] == quote and plain:
        return body
    try:
        with warnings.catch_warnings():  # a few words hold escapes Python calls invalid
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        return text
    return value if isinstance(value, str) else text


def load_wordlist() -> list[str]:
    """The public Flask-Unsign wordlist, in its own order (read once, then cached).

    >>> words = load_wordlist()
    >>> len(words), words.index("some secret key") + 1
    (55982, 21273)
    """
    return list(_words())


@functools.cache
def _word_set() -> frozenset[str]:
    return frozenset(_words())


def in_public_wordlist(secret: str) -> bool:
    """Is this secret one of the publicly known ones (a guess any attacker tries first)?

    >>> in_public_wordlist("some secret key"), in_public_wordlist("9f86d081884c7d659a2feaa0")
    (True, False)
    """
    return secret in _word_set()
