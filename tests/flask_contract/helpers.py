"""Small helpers the ported tests share (their fixtures are in conftest.py)."""

from __future__ import annotations

import re

import flask


def later(app: flask.Flask, seconds: float) -> None:
    """Move the session interface's clock forward (the control's Flask reads no clock of
    ours: it re-sends a permanent cookie on every request anyway)."""
    interface = app.session_interface
    if hasattr(interface, "clock"):
        start = interface.clock()
        interface.clock = lambda: start + seconds  # type: ignore[method-assign]


def cookie_id(set_cookie: str) -> str:
    """The session id in a sessionlab cookie, ``<id>.<signature>``."""
    value = set_cookie.split(";", 1)[0].split("=", 1)[1]
    return value.rpartition(".")[0]


def expires_of(set_cookie: str) -> str | None:
    found = re.search(r"(?i)\bexpires=([^;]+)", set_cookie)
    return found.group(1) if found else None
