"""ServerSessions: sessionlab's server-side sessions as a Flask extension.

The shape every pallets-eco extension has: ``ServerSessions(app)``, or
``sessions = ServerSessions()`` then ``sessions.init_app(app)`` in an app factory. It reads
the ``SESSIONLAB_*`` keys once (settings.py), opens or adopts the store, installs
:class:`ServerSessionInterface` as ``app.session_interface`` (and the lock guards with
``SESSIONLAB_LOCK``), and keeps what it made in ``app.extensions["sessionlab"]``, not on
itself, so one extension object can serve several apps. ``sl.start()`` builds its servers
on it too (app.py), so the lab shows what an app using the extension does.

>>> from flask import Flask, session
>>> app = Flask("doc")
>>> app.config.update(SECRET_KEY="x" * 64, SESSIONLAB_STORE="memory://")
>>> _ = ServerSessions(app)
>>> @app.get("/hello")
... def hello():
...     session["who"] = ("alice", 1)
...     return "hi"
>>> _ = app.test_client().get("/hello")
>>> [record.data for record in session_store(app).all()]
[{'who': ('alice', 1)}]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface

from .locking import install_lock_guards, locks_for
from .sessions import ServerSessionInterface
from .settings import SessionSettings
from .storage import store_from_url
from .stores import Store

EXTENSION = "sessionlab"  # the key of an app's state in app.extensions


@dataclass
class SessionState:
    """What sessionlab keeps about one app, in ``app.extensions["sessionlab"]``.

    ``settings`` is None when the app keeps Flask's own cookie session
    (``sl.start(store="cookie")``); ``config`` is the lab's options when ``sl.start()``
    made the app. ``owns_store``: the store was opened from a URL, so closing it is ours.
    """

    store: Store
    interface: SessionInterface
    settings: SessionSettings | None = None
    config: Any = None  # a LabConfig (config.py), for apps the lab made
    owns_store: bool = False


class ServerSessions:
    """Server-side sessions for a Flask app, configured by ``app.config``.

    ``store``, when given, wins over ``SESSIONLAB_STORE``: a Store object or a URL.
    """

    def __init__(self, app: Flask | None = None, *, store: Store | str | None = None) -> None:
        self.store = store
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the settings, open the store, and give ``app`` its session interface."""
        settings = SessionSettings.from_config(app.config)
        if self.store is not None:
            settings = replace(settings, store=self.store)
        given = settings.store
        store = (
            given
            if not isinstance(given, str)
            else store_from_url(given, instance_path=app.instance_path, prefix=settings.key_prefix)
        )
        interface = ServerSessionInterface(
            store, settings, locks=locks_for(store) if settings.lock else None
        )
        app.session_interface = interface
        if settings.lock:
            install_lock_guards(app)
        app.extensions[EXTENSION] = SessionState(
            store, interface, settings, owns_store=isinstance(given, str)
        )


def session_state(app: Flask) -> SessionState:
    """sessionlab's state of an app that uses :class:`ServerSessions` (or ``sl.start()``)."""
    state = app.extensions.get(EXTENSION)
    if not isinstance(state, SessionState):
        raise LookupError(
            f"{app.name!r} has no sessionlab sessions: call ServerSessions(app) first"
        )
    return state


def session_store(app: Flask) -> Store:
    """The store that keeps an app's sessions: list them with ``.all()`` or
    ``sl.store_frame(session_store(app))``."""
    return session_state(app).store
