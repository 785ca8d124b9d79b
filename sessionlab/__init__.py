"""sessionlab: a lab for web sessions.

A session has two halves: a cookie on the client and a record on the server. Start a real
session server, drive it with a recording client, and look at both halves side by side.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-face") as lab:
...     client = lab.client()
...     _ = client.cycle("alice")
...     sl.timeline(client)["server holds"].tolist()
['id1: {"name":"alice"}', 'id1: {"name":"alice"}', '(nothing)', '(nothing)']
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auditing import audit, to_sarif, to_table
    from .browser import Browser, Screenshot, close_browsers
    from .client import Client
    from .cookies import (
        CookieAnatomy,
        CookieFormat,
        anatomy_frame,
        decode_cookie,
        parse_set_cookie,
        sign_django,
        sign_express,
        sign_flask,
        sign_sessionlab,
        sign_starlette,
        signed_with,
        verify,
    )
    from .crack import CrackResult, crack, forge_flask, tamper
    from .diagrams import sequence_diagram, wire
    from .errors import (
        BadReplyError,
        CannotTest,
        ConfigError,
        DeadlineExceeded,
        ExposedServerWarning,
        PortInUseError,
        ResponseTooLarge,
        ServiceMissingError,
        SessionlabError,
        SessionlabWarning,
        SessionLockTimeout,
        StartError,
        StoreClosedError,
        StoreNotSharedWarning,
        StoreUnavailable,
        WeakSecretWarning,
    )
    from .inspector import inspector
    from .load import LoadRun, load
    from .recording import Exchange, JarCookie, Recorder
    from .routes import Route, Routes
    from .server.attacker import AttackerSite, start_attacker
    from .server.config import CookieOptions, LabConfig, Timeouts
    from .server.frameworks.flask_session import start_flask_session_app
    from .server.handle import LabServer, running, stop
    from .server.launch import start
    from .server.limits import Limits
    from .server.redis_server import RedisServer
    from .server.stores import MemoryStore, Record, RedisStore, SQLiteStore, Store
    from .tables import (
        cookies_frame,
        history_frame,
        set_cookie_frame,
        store_frame,
        timeline,
    )
    from .wordlist import load_wordlist

# The face loads each name on first use (PEP 562): a worker process that imports only
# sessionlab.server then starts without pandas, requests or Playwright.
_LAZY = {
    "audit": ".auditing",
    "to_sarif": ".auditing",
    "to_table": ".auditing",
    "Browser": ".browser",
    "Screenshot": ".browser",
    "close_browsers": ".browser",
    "Client": ".client",
    "CookieAnatomy": ".cookies",
    "CookieFormat": ".cookies",
    "anatomy_frame": ".cookies",
    "decode_cookie": ".cookies",
    "parse_set_cookie": ".cookies",
    "sign_django": ".cookies",
    "sign_express": ".cookies",
    "sign_flask": ".cookies",
    "sign_sessionlab": ".cookies",
    "sign_starlette": ".cookies",
    "signed_with": ".cookies",
    "verify": ".cookies",
    "CrackResult": ".crack",
    "crack": ".crack",
    "forge_flask": ".crack",
    "tamper": ".crack",
    "sequence_diagram": ".diagrams",
    "wire": ".diagrams",
    "CannotTest": ".errors",
    "ConfigError": ".errors",
    "ExposedServerWarning": ".errors",
    "PortInUseError": ".errors",
    "ServiceMissingError": ".errors",
    "SessionlabError": ".errors",
    "SessionlabWarning": ".errors",
    "SessionLockTimeout": ".errors",
    "StartError": ".errors",
    "StoreClosedError": ".errors",
    "StoreNotSharedWarning": ".errors",
    "WeakSecretWarning": ".errors",
    "BadReplyError": ".errors",
    "DeadlineExceeded": ".errors",
    "ResponseTooLarge": ".errors",
    "StoreUnavailable": ".errors",
    "LoadRun": ".load",
    "load": ".load",
    "Limits": ".server.limits",
    "RedisServer": ".server.redis_server",
    "inspector": ".inspector",
    "Exchange": ".recording",
    "JarCookie": ".recording",
    "Recorder": ".recording",
    "Route": ".routes",
    "Routes": ".routes",
    "AttackerSite": ".server.attacker",
    "start_attacker": ".server.attacker",
    "CookieOptions": ".server.config",
    "LabConfig": ".server.config",
    "Timeouts": ".server.config",
    "start_flask_session_app": ".server.frameworks.flask_session",
    "LabServer": ".server.handle",
    "running": ".server.handle",
    "stop": ".server.handle",
    "start": ".server.launch",
    "MemoryStore": ".server.stores",
    "Record": ".server.stores",
    "RedisStore": ".server.stores",
    "SQLiteStore": ".server.stores",
    "Store": ".server.stores",
    "cookies_frame": ".tables",
    "history_frame": ".tables",
    "set_cookie_frame": ".tables",
    "store_frame": ".tables",
    "timeline": ".tables",
    "load_wordlist": ".wordlist",
}


class _Face(types.ModuleType):
    """Importing a submodule binds it on its package: ``sessionlab.crack``, the module, would
    then hide ``sl.crack``, the function. Names of the face stay the face's."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _LAZY:
            self.__dict__.pop(name, None)  # looked up through __getattr__ instead
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Face


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__version__ = "0.1.0"

__all__ = [
    "AttackerSite",
    "BadReplyError",
    "Browser",
    "CannotTest",
    "Client",
    "ConfigError",
    "ExposedServerWarning",
    "CookieAnatomy",
    "CookieFormat",
    "CookieOptions",
    "CrackResult",
    "DeadlineExceeded",
    "Exchange",
    "JarCookie",
    "LabConfig",
    "LabServer",
    "LoadRun",
    "Limits",
    "MemoryStore",
    "PortInUseError",
    "Record",
    "Recorder",
    "RedisServer",
    "RedisStore",
    "ResponseTooLarge",
    "Route",
    "Routes",
    "SQLiteStore",
    "Screenshot",
    "ServiceMissingError",
    "SessionLockTimeout",
    "SessionlabError",
    "SessionlabWarning",
    "StartError",
    "Store",
    "StoreClosedError",
    "StoreNotSharedWarning",
    "StoreUnavailable",
    "Timeouts",
    "WeakSecretWarning",
    "anatomy_frame",
    "close_browsers",
    "audit",
    "cookies_frame",
    "crack",
    "decode_cookie",
    "forge_flask",
    "history_frame",
    "inspector",
    "load",
    "load_wordlist",
    "parse_set_cookie",
    "running",
    "sequence_diagram",
    "set_cookie_frame",
    "sign_django",
    "sign_express",
    "sign_flask",
    "sign_sessionlab",
    "sign_starlette",
    "signed_with",
    "start",
    "start_attacker",
    "start_flask_session_app",
    "stop",
    "store_frame",
    "tamper",
    "timeline",
    "to_sarif",
    "to_table",
    "verify",
    "wire",
]
