"""What a lab server tells its handle: one line per event, whatever a client put in it.

A server logs security events (a refused cookie, with the request's path), store outages and
worker respawns; ``lab.events`` reads them. Each event is one line: control characters are
escaped on the way in (``%0A`` in a path decodes to a newline, which would otherwise start a
forged line of its own), as Werkzeug's access log does.

>>> one_line("on GET /a\\nrejected session cookie: forged")
'on GET /a\\\\x0arejected session cookie: forged'
"""

from __future__ import annotations

import logging

EVENT_PREFIX = "sessionlab-event: "  # how a child's log marks the events it logs

_CONTROL = str.maketrans({c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]})


def one_line(text: str) -> str:
    """``text`` with every control character (newlines included) escaped."""
    return text.translate(_CONTROL)


class EventList(logging.Handler):
    """Collects a server's events into a list, one line each (the thread runner's log)."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(one_line(record.getMessage()))


class EventLine(logging.Formatter):
    """Formats an event as one marked line of a child's log (worker processes)."""

    def format(self, record: logging.LogRecord) -> str:
        return EVENT_PREFIX + one_line(record.getMessage())
