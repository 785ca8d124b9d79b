"""The seed's own Express app (express_app/app.js) under Node, behind a lab handle.

``mode="faithful"``: the tutorial unchanged: ``session({secret: 'some secret key'})`` and
express-session's defaults (a stored session for every cookieless visit, no cookie cleared
at logout, the name echoed unescaped). ``mode="recommended"``: express-session's README
advice (see app.js): a strong secret (or a list, newest first, for key rotation),
SameSite=Lax, a new id at login, POST login and logout with a CSRF token, server-side
timeouts, and over ``https=True`` a ``__Host-`` Secure cookie.

express and express-session are pinned by express_app/package-lock.json and installed
with ``npm ci`` on first use into a cache folder named after the lockfile's hash
(``~/.cache/sessionlab/express-<hash>``), never into the package; the app finds them
through ``NODE_PATH``, so app.js keeps the tutorial's plain ``require("express")``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ...errors import ConfigError, StartError
from ...routes import Route, Routes
from ..handle import LabServer
from ..serve import serve_child
from ..tls import local_tls
from .records import express_records
from .runtime import HERE, cache_dir, http_ready, program

APP = HERE / "express_app"
MODES = ("faithful", "recommended")
FAITHFUL_INSECURE = [
    "the tutorial's secret 'some secret key'",
    "GET login and logout",
    "no new id at login",
    "a stored session for every cookieless visit",
    "logout leaves the cookie",
    "the name echoed unescaped (XSS)",
]


def node_modules() -> Path:
    """node_modules for the pinned lockfile, installed once by ``npm ci`` into the cache."""
    lock = (APP / "package-lock.json").read_bytes()
    folder = cache_dir() / f"express-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (folder / ".installed").exists():
        return folder / "node_modules"
    npm = program("npm", "express")
    staging = Path(tempfile.mkdtemp(prefix="express-staging-", dir=cache_dir()))
    for name in ("package.json", "package-lock.json"):
        shutil.copy(APP / name, staging / name)
    done = subprocess.run(
        [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]
        + ["--loglevel=error"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise StartError(f"npm ci failed for the Express app:\n{done.stderr[-2000:]}")
    (staging / ".installed").write_text("ok\n")
    try:
        staging.rename(folder)  # atomic: two starts racing leave one complete folder
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / "node_modules"


def express_routes(mode: str, https: bool) -> Routes:
    if mode == "faithful":
        return Routes(cookie="connect.sid")
    return Routes(
        login=Route("POST", "/login", {"user": "{user}"}, token_from="/login"),
        view=Route("GET", "/user"),
        logout=Route("POST", "/logout", token_from="/user"),
        cookie="__Host-sid" if https else "sid",
        csrf_field="_csrf",
    )


def express_secret(secret: str | Sequence[str] | None) -> str:
    """SESSION_SECRET for app.js: one string, or a JSON array (newest first) for rotation."""
    if secret is None:
        return secrets.token_urlsafe(32)
    if isinstance(secret, str):
        return secret
    if not secret or not all(isinstance(key, str) for key in secret):
        raise ConfigError("secret: a string, or a non-empty list of strings (newest first)")
    return json.dumps(list(secret))


def start_express(
    *,
    name: str = "express",
    mode: str = "faithful",
    https: bool = False,
    secret: str | Sequence[str] | None = None,
    idle_timeout: float | None = None,
    absolute_timeout: float | None = None,
    port: int = 0,
) -> LabServer:
    """The seed's Express app on 127.0.0.1; ``lab.store`` lists its MemoryStore."""
    if mode not in MODES:
        raise ConfigError(f"express mode must be one of {MODES}, not {mode!r}")
    if mode == "faithful" and (https or secret or idle_timeout or absolute_timeout):
        raise ConfigError("mode='faithful' is the tutorial unchanged: use mode='recommended'")
    node = program("node", "express")
    env = {"MODE": mode, "PORT": "{port}", "NODE_PATH": str(node_modules())}
    ca_path = None
    if mode == "recommended":
        env["SESSION_SECRET"] = express_secret(secret)
        if idle_timeout:
            env["IDLE_TIMEOUT"] = str(idle_timeout)
        if absolute_timeout:
            env["ABSOLUTE_TIMEOUT"] = str(absolute_timeout)
        if https:
            tls = local_tls()
            env.update(TLS_CERT=str(tls.cert_path), TLS_KEY=str(tls.key_path))
            ca_path = str(tls.ca_path)
    routes = express_routes(mode, https)
    return serve_child(
        [node, str(APP / "app.js")],
        name=name,
        kind=f"express ({mode})",
        cookie_name=routes.cookie or "",
        routes=routes,
        store=lambda url, _folder: express_records(url, ca_path),
        env=env,
        cwd=str(APP),
        scheme="https" if https else "http",
        ca_path=ca_path,
        ready=http_ready(ca_path, "/_sessionlab/sessions"),
        insecure_choices=FAITHFUL_INSECURE if mode == "faithful" else (),
        port=port,
    )
