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
