"""A small Django project (django_app/project.py) with django.contrib.auth's login and logout.

``backend="db"``: sessions in the ``django_session`` table (SQLite in the lab's private
folder), listed by ``lab.store``; ``backend="signed_cookies"``: the whole session in a
signed cookie, nothing on the server. ``mode="default"``: startproject's settings over
http; ``mode="hardened"``: HTTPS with the lab's local CA, a ``__Host-`` Secure cookie that
ends with the browser session, an 8-hour ``SESSION_COOKIE_AGE``, a ``__Host-`` HttpOnly CSRF
cookie. Two accounts, alice and mallory, get random passwords (in ``lab.routes``).

The lab's Django hashes passwords with MD5 instead of PBKDF2, as Django's docs advise for
test suites: an audit logs in some 25 times, 0.3 s each with PBKDF2 on a small machine.
It changes nothing in how sessions work; it would be wrong in production.
"""

from __future__ import annotations

import json
import secrets

from ...errors import ConfigError
from ...routes import ATTACKER, VICTIM, Route, Routes
from ..handle import LabServer
from ..serve import serve_child
from ..storage import UnlistedStore
from ..tls import local_tls
from .records import django_records
from .runtime import HERE, granian, http_ready, python_package

APP = HERE / "django_app"
BACKENDS = ("db", "signed_cookies")
MODES = ("default", "hardened")


def django_routes(hardened: bool, passwords: dict[str, str]) -> Routes:
    return Routes(
        login=Route(
            "POST",
            "/accounts/login/",
            {"username": "{user}", "password": "{password}"},
            token_from="/accounts/login/",
        ),
        view=Route("GET", "/user"),
        logout=Route("POST", "/accounts/logout/", token_from="/user"),
        cookie="__Host-sessionid" if hardened else "sessionid",
        csrf_field="csrfmiddlewaretoken",
        passwords=passwords,
    )


def start_django(
    *,
    name: str = "django",
    backend: str = "db",
    mode: str = "default",
    secret: str | None = None,
    absolute_timeout: float | None = None,
    passwords: dict[str, str] | None = None,
    port: int = 0,
) -> LabServer:
    """Django on 127.0.0.1 (granian, one worker). ``absolute_timeout``: SESSION_COOKIE_AGE
    in whole seconds (Django counts it from the session's last write). ``passwords``: the
    accounts to make (alice and mallory with random passwords by default)."""
    if backend not in BACKENDS:
        raise ConfigError(f"django backend must be one of {BACKENDS}, not {backend!r}")
    if mode not in MODES:
        raise ConfigError(f"django mode must be one of {MODES}, not {mode!r}")
    python_package("django", "django")
    hardened = mode == "hardened"
    passwords = passwords or {user: secrets.token_urlsafe(12) for user in (VICTIM, ATTACKER)}
    key = secret or "django-insecure-" + secrets.token_urlsafe(38)  # startproject's shape
    command = [*granian(), "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    command += ["--working-dir", str(APP)]
    env = {
        "SESSIONLAB_BACKEND": backend,
        "SESSIONLAB_MODE": mode,
        "SESSIONLAB_DATA": "{folder}",
        "SESSIONLAB_SECRETS": "{folder}/secrets.json",
        "SESSIONLAB_ORIGIN": ("https" if hardened else "http") + "://127.0.0.1:{port}",
    }
    if absolute_timeout:
        env["SESSIONLAB_AGE"] = str(max(1, round(absolute_timeout)))
    ca_path = None
    if hardened:
        tls = local_tls()
        # The key goes to the child's private folder only (in this process it is in memory).
        command += ["--ssl-certificate", str(tls.cert_path), "--ssl-keyfile", "{folder}/key.pem"]
        ca_path = str(tls.ca_path)
    command.append("project:application")
    return serve_child(
        command,
        name=name,
        kind=f"django ({backend}, {mode})",
        cookie_name="__Host-sessionid" if hardened else "sessionid",
        routes=django_routes(hardened, passwords),
        store=(
            (lambda _url, folder: django_records(folder / "db.sqlite3"))
            if backend == "db"
            else lambda _url, _folder: UnlistedStore(
                "django signed_cookies", "the session is in the signed cookie"
            )
        ),
        env=env,
        cwd=str(APP),
        scheme="https" if hardened else "http",
        ca_path=ca_path,
        ready=http_ready(ca_path, "/user"),
        insecure_choices=() if hardened else ("http, no Secure", "a 2-week cookie"),
        port=port,
        private_files={
            "secrets.json": json.dumps({"secret_key": key, "passwords": passwords}),
            **({"key.pem": local_tls().key_pem.decode()} if hardened else {}),
        },
    )
