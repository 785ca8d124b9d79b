"""Bounds on what a client can make a lab server hold, each a setting with a safe default.

An anonymous client can create a session with one request, and put whatever it likes in it:
without bounds, 1,500 requests with 60 KB names took 187 MB, and one cart grew to 12 MB. So
every lab server bounds, in one place (:class:`Limits`, ``start(limits=...)``):

================  ==========  ========================================================
setting           default     a request over it gets
================  ==========  ========================================================
``url_bytes``     8 KiB       414 URI Too Long (path and query)
``header_bytes``  16 KiB      431 Request Header Fields Too Large (all headers together)
``body_bytes``    64 KiB      413 Content Too Large (a form, say)
``session_bytes`` 8 KiB       413, and the session is not saved (its data, as JSON)
``sessions``      10,000      503 with Retry-After (a memory store's records; SQLite
                              and Redis are bounded by their disk and ``maxmemory``)
================  ==========  ========================================================

8 KiB of session data is twice what a browser keeps of one cookie: room for what a lab
session holds, none for a 60 KB name or a 12 MB cart; with 10,000 sessions a memory store
holds at most about 80 MB. The server itself is bounded too: the thread server serves at
most ``threads`` requests at once, keeps at most ``connections`` connections waiting for
their first byte, each for at most ``idle`` seconds (threads.py); granian workers hold at
most ``connections`` connections each (workers.py). A 503 asks clients to come back after
``retry_after`` seconds. Every refusal says which setting to change, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Every bound of a lab server; all above zero.

    >>> Limits(session_bytes=0)
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: limits: session_bytes must be above 0, not 0
    """

    url_bytes: int = 8 * 1024
    header_bytes: int = 16 * 1024
    body_bytes: int = 64 * 1024
    session_bytes: int = 8 * 1024
    sessions: int = 10_000
    threads: int = 64
    connections: int = 4096
    idle: float = 10.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"limits: {item.name} must be above 0, not {value!r}")

    @classmethod
    def of(cls, given: Limits | dict[str, Any] | None) -> Limits:
        """Limits from ``start(limits=...)``: a Limits, a dict of the settings to change, or None.

        >>> Limits.of({"threads": 8}).threads
        8
        """
        if given is None or isinstance(given, Limits):
            return given or cls()
        names = {item.name for item in fields(cls)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise ConfigError(f"limits: unknown setting {unknown[0]!r}: use {', '.join(names)}")
        return cls(**given)


def session_size(data: dict[str, Any]) -> int:
    """Bytes of a session's data as compact JSON (what the stores keep, give or take).

    >>> session_size({"name": "alice"})
    16
    """
    return len(json.dumps(data, separators=(",", ":"), default=str).encode())


def knob(setting: str) -> str:
    """How one of a lab server's bounds is changed, as its refusals say.

    >>> knob("url_bytes")
    "start(limits={'url_bytes': ...})"
    """
    return f"start(limits={{{setting!r}: ...}})"


def refusal_text(status: int, what: str, limit: int, how: str) -> str:
    """The one line a refusal answers with: what was over which limit, and what changes it.

    >>> print(refusal_text(414, "the URL has 9000 bytes", 8192, "URL_BYTES"), end="")
    414: the URL has 9000 bytes, over this server's limit of 8192 (URL_BYTES changes it)
    """
    return f"{status}: {what}, over this server's limit of {limit} ({how} changes it)\n"
