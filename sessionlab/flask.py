"""Server-side sessions for any Flask app, in two lines.

>>> from flask import Flask
>>> from sessionlab.flask import ServerSessions
>>> app = Flask("doc")
>>> app.config.update(SECRET_KEY="x" * 64, SESSIONLAB_STORE="memory://")
>>> _ = ServerSessions(app)  # or: sessions = ServerSessions(); sessions.init_app(app)
>>> app.test_client().get("/").status_code  # a 404: the app has no routes, the sessions work
404

The session behaves as Flask documents (tagged JSON, ``Vary: Cookie``, ``session.permanent``,
``PERMANENT_SESSION_LIFETIME``, ``SESSION_REFRESH_EACH_REQUEST``, ``SECRET_KEY_FALLBACKS``,
the null session without a key), with the data on the server: in memory, SQLite or Redis,
listed by ``session_store(app).all()``. The ``SESSIONLAB_*`` settings are in
``sessionlab/server/settings.py``; the README says which limit wins and how to move from
Flask-Session.
"""

from .server.extension import ServerSessions, SessionState, session_state, session_store
from .server.sessions import ServerSession, ServerSessionInterface
from .server.settings import DEFAULTS as SETTINGS
from .server.stores import MemoryStore, Record, RedisStore, SQLiteStore, Store

__all__ = [
    "SETTINGS",
    "MemoryStore",
    "Record",
    "RedisStore",
    "SQLiteStore",
    "ServerSession",
    "ServerSessionInterface",
    "ServerSessions",
    "SessionState",
    "Store",
    "session_state",
    "session_store",
]
