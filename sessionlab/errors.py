"""The errors and warnings sessionlab raises, under one root.

Each error a user can cause also inherits the builtin it stands for, so code that catches
``ValueError`` or ``OSError`` keeps working, and ``except sl.SessionlabError`` catches them all.

>>> import sessionlab as sl
>>> issubclass(sl.ConfigError, ValueError), issubclass(sl.ConfigError, sl.SessionlabError)
(True, True)
"""

from __future__ import annotations


class SessionlabError(Exception):
    """The root of every error sessionlab raises on purpose."""


class ConfigError(SessionlabError, ValueError, TypeError):
    """An option that cannot work, by its value or its type: the message names the fix."""


class ServiceMissingError(SessionlabError, RuntimeError):
    """A program the lab needs (redis-server, node, php, chromium) is not installed."""


class StartError(SessionlabError, RuntimeError):
    """A server process did not come up; the message carries the end of its log."""


class PortInUseError(SessionlabError, OSError):
    """The port asked for is taken by another program."""


class StoreClosedError(SessionlabError, RuntimeError):
    """A store was used after ``close()``."""


class SessionLockTimeout(SessionlabError, TimeoutError):
    """A request waited longer than the lock timeout for another request of its session."""


class CannotTest(SessionlabError):
    """The audit's target did not let a check reach the point where it could decide."""


class SessionlabWarning(UserWarning):
    """The root of sessionlab's warnings: each one names something unsafe or lossy."""


class WeakSecretWarning(SessionlabWarning):
    """The signing secret can be guessed: anyone who guesses it can forge sessions."""


class StoreNotSharedWarning(SessionlabWarning):
    """Worker processes cannot share this store: sessions will be lost at random."""


class ExposedServerWarning(SessionlabWarning):
    """A server listens on more than this machine's loopback: others can reach it."""


__all__ = [
    "CannotTest",
    "ConfigError",
    "ExposedServerWarning",
    "PortInUseError",
    "ServiceMissingError",
    "SessionLockTimeout",
    "SessionlabError",
    "SessionlabWarning",
    "StartError",
    "StoreClosedError",
    "StoreNotSharedWarning",
    "WeakSecretWarning",
]
