"""sessionlab: a lab for web sessions.

A session has two halves: a cookie on the client and a record on the server. Start a real
session server, drive it with a recording client, and look at both halves side by side.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-face") as lab:
...     client = sl.Client(lab.url, watch=lab.store)
...     _ = client.cycle("alice")
...     sl.timeline(client)["server holds"].tolist()
['id1: {"name":"alice"}', 'id1: {"name":"alice"}', '(nothing)', '(nothing)']
"""

from .auditing import Route, Routes, audit
from .client import Client, Exchange
from .cookies import (
    CookieAnatomy,
    anatomy_frame,
    decode_cookie,
    sign_express,
    sign_flask,
    sign_sessionlab,
    signed_with,
    verify,
)
from .crack import CrackResult, crack, forge_flask, tamper
from .frames import (
    cookies_frame,
    history_frame,
    parse_set_cookie,
    set_cookie_frame,
    store_frame,
    timeline,
)
from .pictures import sequence_diagram
from .server.app import CookieOptions
from .server.launch import LabServer, WeakSecretWarning, running, start, stop
from .server.stores import MemoryStore, Record, RedisStore, SQLiteStore, Store
from .server.third_party import start_flask_session_app
from .server.workers import StoreNotSharedWarning
from .wordlist import load_wordlist

__version__ = "0.1.0"

__all__ = [
    "Client",
    "CookieAnatomy",
    "CookieOptions",
    "CrackResult",
    "Exchange",
    "LabServer",
    "MemoryStore",
    "Record",
    "RedisStore",
    "Route",
    "Routes",
    "SQLiteStore",
    "Store",
    "StoreNotSharedWarning",
    "WeakSecretWarning",
    "anatomy_frame",
    "audit",
    "cookies_frame",
    "crack",
    "decode_cookie",
    "forge_flask",
    "history_frame",
    "load_wordlist",
    "parse_set_cookie",
    "running",
    "sequence_diagram",
    "set_cookie_frame",
    "sign_express",
    "sign_flask",
    "sign_sessionlab",
    "signed_with",
    "start",
    "start_flask_session_app",
    "stop",
    "store_frame",
    "tamper",
    "timeline",
    "verify",
]
