"""The seed's three routes on Starlette's ``SessionMiddleware`` (starlette_app/app.py).

A signed cookie holds the whole session (readable, not modifiable); the server keeps
nothing. Served by granian's ASGI interface; SessionMiddleware's defaults otherwise
(cookie ``session``, 14 days, ``samesite=lax``, HttpOnly, no Secure).
"""

from __future__ import annotations

import json
import secrets

from ...routes import Routes
from ..handle import LabServer
from ..serve import serve_child
from ..storage import UnlistedStore
from .runtime import HERE, granian, http_ready, python_package

APP = HERE / "starlette_app"


def start_starlette(
    *, name: str = "starlette", secret: str | None = None, port: int = 0
) -> LabServer:
    """Starlette on 127.0.0.1; ``secret``: its ``secret_key`` (256 random bits by default)."""
    python_package("starlette", "starlette")
    command = [*granian(), "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    command += ["--working-dir", str(APP), "app:app"]
    key = secret or secrets.token_urlsafe(32)
    return serve_child(
        command,
        name=name,
        kind="starlette",
        cookie_name="session",
        routes=Routes(cookie="session"),
        store=lambda _url, _folder: UnlistedStore("starlette", "the session is in the cookie"),
        env={"SESSIONLAB_SECRET_FILE": "{folder}/secret.json"},
        cwd=str(APP),
        ready=http_ready(None, "/user"),
        insecure_choices=("GET login and logout", "the name echoed unescaped (XSS)"),
        port=port,
        private_files={"secret.json": json.dumps(key)},
    )
