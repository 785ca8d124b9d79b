"""The Flask extension's own settings: the ``SESSIONLAB_*`` keys of ``app.config``, validated.

They sit beside Flask's keys, which keep their meaning and are read on every request as Flask
reads them: ``SECRET_KEY``, ``SECRET_KEY_FALLBACKS``, ``SESSION_COOKIE_*``,
``PERMANENT_SESSION_LIFETIME``, ``SESSION_REFRESH_EACH_REQUEST``. The ``SESSIONLAB_*`` keys
are read once, by ``init_app``; an unknown one (a typo) is refused rather than ignored.
No Flask import here.

>>> settings = SessionSettings.from_config({"SESSIONLAB_IDLE_TIMEOUT": 600})
>>> settings.timeouts.idle, settings.timeouts.absolute, settings.clear_refused_cookies
(600.0, None, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..errors import ConfigError
from .config import Timeouts, new_session_id
from .stores import Store

DEFAULTS: dict[str, Any] = {
    # A store object, or a URL: memory://, sqlite:///path (relative to app.instance_path),
    # sqlite:////absolute/path, sqlite:// (a temporary file), redis://host:port/db.
    "SESSIONLAB_STORE": "sqlite:///sessionlab.sqlite3",
    "SESSIONLAB_KEY_PREFIX": "sessionlab:",  # Redis keys: not Flask-Session's "session:"
    "SESSIONLAB_PERMANENT": False,  # new sessions start with session.permanent = True
    "SESSIONLAB_IDLE_TIMEOUT": None,  # seconds (or a timedelta) since the last request
    "SESSIONLAB_ABSOLUTE_TIMEOUT": None,  # seconds (or a timedelta) since login
    "SESSIONLAB_ROLLING": False,  # re-send the cookie on every response (express-session)
    "SESSIONLAB_LOCK": False,  # the requests of one session take turns (see locking.py)
    "SESSIONLAB_LOCK_TIMEOUT": 10.0,  # seconds a request waits for its session's lock: 503
    "SESSIONLAB_GENID": new_session_id,  # makes new session ids
    "SESSIONLAB_CLEAR_REFUSED_COOKIES": False,  # expire a cookie whose signature fails
    "SESSIONLAB_PRUNE_INTERVAL": 60.0,  # seconds between sweeps of expired records
    "SESSIONLAB_MAX_BYTES": None,  # a session over this (as JSON) is not saved: HTTP 413
}


@dataclass(frozen=True)
class SessionSettings:
    """What ``SESSIONLAB_*`` says, checked; see :data:`DEFAULTS` for each key."""

    store: str | Store = DEFAULTS["SESSIONLAB_STORE"]
    key_prefix: str = DEFAULTS["SESSIONLAB_KEY_PREFIX"]
    permanent: bool = False
    timeouts: Timeouts = Timeouts(idle=None, absolute=None)
    rolling: bool = False
    lock: bool = False
    lock_timeout: float = DEFAULTS["SESSIONLAB_LOCK_TIMEOUT"]
    genid: Callable[[], str] = new_session_id
    clear_refused_cookies: bool = False
    prune_interval: float = DEFAULTS["SESSIONLAB_PRUNE_INTERVAL"]
    max_bytes: int | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SessionSettings:
        """Settings from an app's config; a missing key takes its default.

        >>> SessionSettings.from_config({"SESSIONLAB_LOCK": "yes"})
        Traceback (most recent call last):
        sessionlab.errors.ConfigError: SESSIONLAB_LOCK must be True or False, not 'yes'
        """
        unknown = sorted(k for k in config if k.startswith("SESSIONLAB_") and k not in DEFAULTS)
        if unknown:
            raise ConfigError(
                f"unknown setting {', '.join(unknown)}: sessionlab reads " + ", ".join(DEFAULTS)
            )

        def get(key: str) -> Any:
            return config.get(key, DEFAULTS[key])

        store = get("SESSIONLAB_STORE")
        if not isinstance(store, (str, Store)):
            raise ConfigError(
                f"SESSIONLAB_STORE must be a URL (memory://, sqlite:///path, "
                f"redis://host:port/db) or a Store object, not {store!r}"
            )
        prefix = get("SESSIONLAB_KEY_PREFIX")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError(f"SESSIONLAB_KEY_PREFIX must be a non-empty string, not {prefix!r}")
        genid = get("SESSIONLAB_GENID")
        if not callable(genid):
            raise ConfigError(f"SESSIONLAB_GENID must be a function that returns an id: {genid!r}")
        return cls(
            store=store,
            key_prefix=prefix,
            permanent=flag(config, "SESSIONLAB_PERMANENT"),
            timeouts=Timeouts(
                idle=seconds(config, "SESSIONLAB_IDLE_TIMEOUT", optional=True),
                absolute=seconds(config, "SESSIONLAB_ABSOLUTE_TIMEOUT", optional=True),
            ),
            rolling=flag(config, "SESSIONLAB_ROLLING"),
            lock=flag(config, "SESSIONLAB_LOCK"),
            lock_timeout=seconds(config, "SESSIONLAB_LOCK_TIMEOUT"),  # type: ignore[arg-type]
            genid=genid,
            clear_refused_cookies=flag(config, "SESSIONLAB_CLEAR_REFUSED_COOKIES"),
            prune_interval=seconds(config, "SESSIONLAB_PRUNE_INTERVAL"),  # type: ignore[arg-type]
            max_bytes=byte_count(config, "SESSIONLAB_MAX_BYTES"),
        )


def flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key, DEFAULTS[key])
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be True or False, not {value!r}")
    return value


def byte_count(config: Mapping[str, Any], key: str) -> int | None:
    """A whole number of bytes above 0, or None for no limit.

    >>> byte_count({"SESSIONLAB_MAX_BYTES": 4.5}, "SESSIONLAB_MAX_BYTES")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: SESSIONLAB_MAX_BYTES must be a whole number of bytes ...
    """
    value = config.get(key, DEFAULTS[key])
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"{key} must be a whole number of bytes above 0 (or None for no limit), not {value!r}"
        )
    return value


def seconds(config: Mapping[str, Any], key: str, *, optional: bool = False) -> float | None:
    """A duration in seconds, given as a number or a ``timedelta`` (as Flask accepts for
    ``PERMANENT_SESSION_LIFETIME``); None only where the key allows no limit.

    >>> seconds({"SESSIONLAB_IDLE_TIMEOUT": timedelta(minutes=5)}, "SESSIONLAB_IDLE_TIMEOUT")
    300.0
    >>> seconds({"SESSIONLAB_LOCK_TIMEOUT": 0}, "SESSIONLAB_LOCK_TIMEOUT")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: SESSIONLAB_LOCK_TIMEOUT must be a number of seconds above 0 ...
    """
    value = config.get(key, DEFAULTS[key])
    if value is None and optional:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        allowed = " (or None for no limit)" if optional else ""
        raise ConfigError(
            f"{key} must be a number of seconds above 0 or a timedelta{allowed}, not {value!r}"
        )
    return float(value)
