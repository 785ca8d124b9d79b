"""Checks on the session id itself: strength, fixation, unknown ids, tampering."""

from __future__ import annotations

import math
import secrets
import string

from ..cookies import decode_cookie, parse_set_cookie
from ..crack import tamper
from .finding import FAIL, NOT_APPLICABLE, PASS, Finding, verdict
from .target import Aliases, Target, evidence

# Alphabets ids are drawn from, narrowest first: the first that holds every symbol seen in
# the samples is the one their bits are estimated with. Samples reveal the alphabet: 20 ids
# of 22 or more characters show every symbol of a 64-symbol alphabet with near certainty.
ALPHABETS = {
    "digits": string.digits,
    "hex": string.digits + "abcdef",
    "HEX": string.digits + "ABCDEF",
    "0-9a-v (PHP, 5 bits)": string.digits + "abcdefghijklmnopqrstuv",
    "a-z0-9 (Django)": string.ascii_lowercase + string.digits,
    "alphanumeric": string.ascii_letters + string.digits,
    "base64url": string.ascii_letters + string.digits + "-_",
    "base64": string.ascii_letters + string.digits + "+/",
    "0-9a-zA-Z,- (PHP, 6 bits)": string.ascii_letters + string.digits + ",-",
}
MIN_BITS = 128  # ASVS 5.0.0 7.2.3; 4.0.3 3.2.2 asks for 64


def session_id(value: str) -> str:
    """The id inside a session cookie, as the cookie anatomy reads it: express's and
    sessionlab's without their signature, any other value as it is.

    >>> session_id("s%3Aabc.4n49lb1e6wSwqj3z%2FeJ%2FL%2FKrMgdgrdZXCS1ZU%2FV87VY")
    'abc'
    >>> session_id("k3Xv_9")
    'k3Xv_9'
    """
    anatomy = decode_cookie(value)
    return anatomy.payload if anatomy.kind in ("express", "sessionlab") else anatomy.value


def alphabet_of(ids: list[str]) -> tuple[str, int]:
    """The narrowest known alphabet holding every symbol seen in the ids, and its size;
    the symbols seen when no known alphabet holds them.

    >>> alphabet_of(["3fa9", "00b1"])
    ('hex', 16)
    >>> alphabet_of(["0123456789abcdefghijklmnopqrstuv"])
    ('0-9a-v (PHP, 5 bits)', 32)
    >>> alphabet_of(["k3x9z"])
    ('a-z0-9 (Django)', 36)
    """
    seen = set("".join(ids))
    for name, alphabet in ALPHABETS.items():
        if seen <= set(alphabet):
            return name, len(alphabet)
    return f"{len(seen)} symbols seen", max(len(seen), 2)


def estimated_bits(ids: list[str]) -> float:
    """Length times bits per character of the alphabet: an upper bound on the entropy.

    Base64 characters carry 6 bits each, but ids are made of whole random bytes: 43
    characters hold 258 bits of which only 256 (32 bytes) can be random, the rest padding.

    >>> estimated_bits(["0123456789abcdef0123456789abcdef"])
    128.0
    >>> estimated_bits(["k_" * 21 + "k"])  # 43 base64url characters
    256.0
    >>> round(estimated_bits(["0123456789abcdefghijklmnopqrstuv"[:22]]))  # PHP, 22 x 5
    110
    """
    name, size = alphabet_of(ids)
    bits = min(len(i) for i in ids) * math.log2(size)
    return float(int(bits) // 8 * 8) if name.startswith("base64") else bits


NO_ID = "no id: the cookie carries the session data itself"


def readable_payload(value: str) -> bool:
    """Does the cookie carry the session data itself (Flask's, Django's signed cookies,
    Starlette's)? Then it has no id: two logins in one second give the same cookie."""
    cookie_format = decode_cookie(value).format
    return cookie_format is not None and cookie_format.carries_data


def without_id(target: Target) -> bool:
    """Is the session in the cookie itself, so that checks on its id do not apply?"""
    return readable_payload(target.issued()[1]["value"])


def check_id_strength(target: Target, samples: int = 20) -> Finding:
    """Log in ``samples`` times as fresh visitors; estimate the ids' length, alphabet, bits."""
    if without_id(target):
        return Finding("id strength", NOT_APPLICABLE, NO_ID)
    values = []
    for _ in range(samples):
        client = target.client()
        target.login(client)
        values.append(target.cookie(client) or "")
        target.clients.remove(client)
    ids = [session_id(value) for value in values if value]
    if len(ids) < samples:
        return Finding("id strength", FAIL, f"{samples - len(ids)} of {samples} logins set no id")
    alphabet, size = alphabet_of(ids)
    bits = estimated_bits(ids)
    unique = len(set(ids))
    lengths = sorted({len(i) for i in ids})
    length = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]}-{lengths[-1]}"
    observed = (
        f"{length} chars of {alphabet} ({size} symbols): at most {bits:.0f} bits"
        f" (4.0.3 asks 64, 5.0.0 128); {unique}/{samples} unique"
    )
    ok = unique == samples and bits >= MIN_BITS
    return Finding("id strength", verdict(ok), observed, f"{samples} fresh logins")


def check_fixation(target: Target) -> Finding:
    """Plant a valid id in the victim's jar, let the victim log in, replay the planted id."""
    if without_id(target):  # a planted cookie carries the attacker's session, not a shared id
        return Finding("fixation", NOT_APPLICABLE, NO_ID)
    aliases = Aliases()
    attacker = target.client()
    planted = _valid_id(target, attacker)
    victim = target.client()
    target.plant(victim, planted)
    start = len(victim.exchanges)
    target.login(victim)
    after = target.cookie(victim)
    hijacked, replay = target.replayed(planted)
    rotated = after is not None and after != planted
    observed = f"login {'replaced' if rotated else 'kept'} the planted id; replaying it " + (
        "shows the victim's session" if hijacked else "does not reach the victim's session"
    )
    shown = [*victim.exchanges[start:], *replay.exchanges]
    aliases.cookie_value(planted)
    return Finding(
        "fixation",
        verdict(rotated and not hijacked),
        observed,
        evidence(shown, target.cookie_name, aliases),
    )


def _valid_id(target: Target, attacker) -> str:
    """An id the server issued: from the login form's page if it starts a session, else by
    logging in as the attacker."""
    if target.routes.login.token_from:
        attacker.get(target.routes.login.token_from)
        if target.cookie(attacker):
            return target.cookie(attacker) or ""
    target.login(attacker, target.attacker)
    return target.cookie(attacker) or ""


def same_shape(value: str) -> str:
    """A value shaped like ``value`` (same length, same kinds of characters) but random.

    >>> v = same_shape("s%3Aab.C9")
    >>> len(v), v[:4], v[6]
    (9, 's%3A', '.')
    """
    prefix = next((p for p in ("s%3A", "s:") if value.startswith(p)), "")  # express's marker
    out = [prefix]
    escape = 0
    for char in value[len(prefix) :]:
        if escape or char == "%" or not char.isalnum():
            escape = 2 if char == "%" else max(escape - 1, 0)
            out.append(char)
            continue
        pool = (
            string.digits
            if char.isdigit()
            else string.ascii_lowercase
            if char.islower()
            else string.ascii_uppercase
        )
        out.append(secrets.choice(pool))
    result = "".join(out)
    return result if result != value else same_shape(value)


def check_unknown_id(target: Target) -> Finding:
    """Plant an id the server never issued; the login must replace it."""
    if without_id(target):
        return Finding("unknown id", NOT_APPLICABLE, NO_ID)
    aliases = Aliases()
    name, issued, _exchange = target.issued()
    unknown = same_shape(issued["value"])
    aliases.cookie_value(unknown)
    victim = target.client()
    target.plant(victim, unknown)
    target.login(victim)
    after = target.cookie(victim)
    adopted = after == unknown
    observed = "the unknown id was " + ("adopted at login" if adopted else "replaced at login")
    return Finding(
        "unknown id", verdict(not adopted), observed, evidence(victim.exchanges, name, aliases)
    )


def check_tampered_cookie(target: Target) -> Finding:
    """Log in, change one character of the cookie's id (or payload), and view with it.

    ASVS asks that the tampered token be rejected: that is the verdict. Clearing the
    refused cookie (or replacing it) is good practice, reported as advice beside it.
    """
    client, good, aliases = target.logged_in_victim()
    forged = tamper(good)
    accepted, attacker = target.replayed(forged)
    cleared = any(
        parsed["name"] == target.cookie_name and parsed["effect"] == "delete"
        for exchange in attacker.exchanges
        for parsed in map(parse_set_cookie, exchange.set_cookies)
    )
    kept = target.cookie(attacker) == forged
    observed = "accepted" if accepted else "refused"
    observed += (
        "; the cookie was cleared"
        if cleared
        else "; the bad cookie stays in the client"
        if kept
        else "; the cookie was replaced"
    )
    advice = "" if accepted or cleared or not kept else "clear the refused cookie"
    return Finding(
        "tampered cookie",
        PASS if not accepted else FAIL,
        observed,
        evidence(attacker.exchanges, target.cookie_name, aliases),
        advice,
    )
