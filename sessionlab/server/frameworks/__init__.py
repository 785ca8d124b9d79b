"""The real implementations the lab runs beside its own Flask server, one module each.

``start_framework(server, ...)`` is what ``sl.start(server=...)`` calls for every server but
"flask": each returns the same :class:`~sessionlab.server.handle.LabServer` handle (url,
name, cookie_name, routes for the audit, a store view of its records where the framework
allows, stop()), served by a child process on 127.0.0.1 (express, django, php, starlette)
or a thread (flask-session).
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from ..handle import LabServer

SERVERS = ("flask", "express", "flask-session", "django", "php", "starlette")


def start_framework(server: str, **options: Any) -> LabServer:
    """Start one of the frameworks by name, with its own options (see each module)."""
    options = {key: value for key, value in options.items() if value is not None}
    if server == "express":
        from .express import start_express

        return start_express(**options)
    if server == "django":
        from .django import start_django

        return start_django(**options)
    if server == "php":
        from .php import start_php

        return start_php(**options)
    if server == "starlette":
        from .starlette import start_starlette

        return start_starlette(**options)
    if server == "flask-session":
        from .flask_session import start_flask_session_app

        unknown = set(options) - {"name", "port"}
        if unknown:
            raise ConfigError(f"server='flask-session' takes no {', '.join(sorted(unknown))}")
        return start_flask_session_app(options.get("name", "flask-session"))
    raise ConfigError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
