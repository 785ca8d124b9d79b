"""Checks that the server ends sessions on its own: after idleness, and after a fixed lifetime.

They take real time, so they run only when the caller says how long to wait (a little
longer than the timeouts the app is configured with). They run after every other check,
one after the other, so that no other request reaches the app during the wait: a session
store that only expires records when *some* request triggers a cleanup (PHP's garbage
collector) must not pass because the audit's own traffic cleaned up for it. What counts is
what the server accepts, not what the client kept: the last cookie is replayed from a fresh
jar too, so a cookie the client dropped (its Max-Age passed) is not taken for a session the
server ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .finding import COULD_NOT_TEST, Finding, verdict
from .target import Client, Target, evidence


def positive_wait(wait: float | None, option: str) -> float | None:
    """The wait, refused with a clear message unless it is None (not run) or above zero.

    >>> positive_wait(0, "idle")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: idle=0 cannot observe a timeout: give a wait in seconds above 0, ...
    """
    if wait is not None and not wait > 0:  # `not >` also refuses NaN
        raise ValueError(
            f"{option}={wait:g} cannot observe a timeout: give a wait in seconds above 0, "
            "a little longer than the app's timeout, or None to skip the check"
        )
    return wait


MAX_VISITS = 1000  # the absolute check's visits, whatever the waits


def served(target: Target, client: Client, value: str) -> tuple[bool, bool, Client]:
    """Does the server still serve the session to its own client, and to its last cookie
    replayed from a fresh jar? The client's request goes first: a server that cleans up
    only after reading (PHP) must be caught serving it."""
    own = target.logged_in(client)
    replayed, replay = target.replayed(value)
    return own, replayed, replay


def idle_check(wait: float | None) -> Callable[[Target], Finding]:
    """Log in, stay away for ``wait`` seconds, come back: the session must be gone."""
    wait = positive_wait(wait, "idle")

    def check_idle_timeout(target: Target) -> Finding:
        if wait is None:
            return Finding(
                "idle timeout",
                COULD_NOT_TEST,
                "not run: give the idle wait (idle=SECONDS, --idle)",
            )
        client, value, aliases = target.logged_in_victim()
        time.sleep(wait)
        start = len(client.exchanges)
        own, replayed, replay = served(target, client, value)
        alive = own or replayed
        observed = f"after {wait:g} s idle the session " + ("is still alive" if alive else "ended")
        shown = [*client.exchanges[start:], *replay.exchanges]
        return Finding(
            "idle timeout",
            verdict(not alive),
            observed,
            evidence(shown, target.cookie_name, aliases),
        )

    return check_idle_timeout


def absolute_check(wait: float | None, idle: float | None) -> Callable[[Target], Finding]:
    """Log in and keep the session busy for ``wait`` seconds: it must still end."""
    wait = positive_wait(wait, "absolute")
    idle = positive_wait(idle, "idle")

    def check_absolute_timeout(target: Target) -> Finding:
        if wait is None:
            return Finding(
                "absolute timeout",
                COULD_NOT_TEST,
                "not run: give the absolute wait (absolute=SECONDS, --absolute)",
            )
        # Visit often enough that an idle timeout cannot be what ends the session.
        every = min(wait, idle if idle is not None else wait) / 4
        client, value, aliases = target.logged_in_victim()
        started = time.monotonic()
        alive, start, shown = True, len(client.exchanges), []
        for _ in range(MAX_VISITS):
            if not alive or time.monotonic() - started >= wait:
                break
            time.sleep(min(every, max(wait - (time.monotonic() - started), 0)))
            start = len(client.exchanges)
            own, replayed, replay = served(target, client, value)
            alive = own or replayed
            if own:  # follow a cookie the server renewed, never an anonymous new one
                value = target.cookie(client) or value
            shown = [*client.exchanges[start:], *replay.exchanges]
        observed = f"kept busy for {wait:g} s, the session " + (
            "is still alive" if alive else "ended"
        )
        return Finding(
            "absolute timeout",
            verdict(not alive),
            observed,
            evidence(shown, target.cookie_name, aliases),
        )

    return check_absolute_timeout
