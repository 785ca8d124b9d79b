"""PHP's native sessions under ``php -S``: the classic tutorial code, and a hardened version.

``mode="default"`` (php_app/faithful.php): ``session_start()``, ``$_SESSION['name'] = ...``,
``session_destroy()`` and nothing else, under PHP's compiled-in defaults (``php -n``, so
the result does not depend on the machine's php.ini): 32 hex characters per id, no strict
mode, no HttpOnly or SameSite, and expiry left to the probabilistic garbage collector.
``mode="hardened"`` (php_app/hardened.php): the PHP manual's advice: strict mode, HttpOnly
and SameSite=Lax, ``session_regenerate_id(true)`` at login, POST login and logout with a
CSRF token, logout that empties, deletes the cookie and destroys, and idle and absolute
timeouts kept as timestamps in the session (whole seconds). ``ini`` adds php.ini settings
(``{"session.sid_length": "22"}``). The session files are listed by ``lab.store``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ...errors import ConfigError
from ...routes import Route, Routes
from ..handle import LabServer
from ..serve import serve_child
from .records import php_records
from .runtime import HERE, http_ready, program

APP = HERE / "php_app"
MODES = ("default", "hardened")
HARDENED_INI = {
    "session.use_strict_mode": "1",
    "session.cookie_httponly": "1",
    "session.cookie_samesite": "Lax",
    "session.use_only_cookies": "1",
}
DEFAULT_INSECURE = [
    "GET login and logout",
    "no new id at login",
    "unknown ids adopted (no strict mode)",
    "no HttpOnly, no SameSite",
    "logout leaves the cookie",
    "expiry only by garbage collection",
    "the name echoed unescaped (XSS)",
]


def start_php(
    *,
    name: str = "php",
    mode: str = "default",
    ini: Mapping[str, str] | None = None,
    idle_timeout: float | None = None,
    absolute_timeout: float | None = None,
    port: int = 0,
) -> LabServer:
    """PHP's built-in server on 127.0.0.1 with native sessions kept in its private folder."""
    if mode not in MODES:
        raise ConfigError(f"php mode must be one of {MODES}, not {mode!r}")
    php = program("php", "php")
    settings = {"session.save_path": "{folder}"}
    if mode == "hardened":
        settings.update(HARDENED_INI)
    settings.update(ini or {})
    command = [php, "-n"]
    for key, value in settings.items():
        command += ["-d", f"{key}={value}"]
    script = "hardened.php" if mode == "hardened" else "faithful.php"
    command += ["-S", "127.0.0.1:{port}", str(APP / script)]
    env = {"PHP_CLI_SERVER_WORKERS": "1"}
    for variable, seconds in (
        ("SESSIONLAB_IDLE", idle_timeout),
        ("SESSIONLAB_ABSOLUTE", absolute_timeout),
    ):
        if seconds:
            env[variable] = str(max(1, math.ceil(seconds)))
    if mode == "hardened":
        routes = Routes(
            login=Route("POST", "/login", {"user": "{user}"}, token_from="/login"),
            logout=Route("POST", "/logout", token_from="/user"),
            cookie="PHPSESSID",
        )
    else:
        routes = Routes(cookie="PHPSESSID")
    return serve_child(
        command,
        name=name,
        kind=f"php ({mode})",
        cookie_name="PHPSESSID",
        routes=routes,
        store=lambda url, _folder: php_records(url),
        env=env,
        cwd=str(APP),
        ready=http_ready(None, "/_sessionlab/sessions"),
        insecure_choices=DEFAULT_INSECURE if mode == "default" else (),
        port=port,
    )
