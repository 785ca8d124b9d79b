"""The errors and warnings sessionlab raises, under one root.

Each error a user can cause also inherits the builtin it stands for, so code that catches
``ValueError`` or ``OSError`` keeps working, and ``except sl.SessionlabError`` catches them all.

>>> import sessionlab as sl
>>> issubclass(sl.ConfigError, ValueError), issubclass(sl.ConfigError, sl.SessionlabError)
(True, True)
"""

from __future__ import annotations

import warnings


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


class DeadlineExceeded(SessionlabError, TimeoutError):
    """A request (or an audit) took longer than the deadline the caller set for it."""


class ResponseTooLarge(SessionlabError, OSError):
    """A response body was over the client's ``max_body``: it was not read to the end."""


class BadReplyError(SessionlabError, ConnectionError):
    """Something answered on the port, but not with HTTP (or closed without a reply)."""


class StoreUnavailable(SessionlabError, ConnectionError):
    """The session store cannot be reached, or refused the write: the server answers 503."""


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


def format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """sessionlab's warnings as ``Name: message``; others as Python formats them.

    The place Python would name is the caller's line, in a notebook a temporary file of the
    kernel's (``/tmp/ipykernel_1234/5678.py:3``), which tells a learner nothing the cell
    they ran does not.

    >>> format_warning(WeakSecretWarning("guessable"), WeakSecretWarning, "/tmp/x.py", 3)
    'WeakSecretWarning: guessable\\n'
    """
    if isinstance(category, type) and issubclass(category, SessionlabWarning):
        return f"{category.__name__}: {message}\n"
    return _python_format_warning(message, category, filename, lineno, line)


_python_format_warning = warnings.formatwarning
warnings.formatwarning = format_warning

__all__ = [
    "BadReplyError",
    "CannotTest",
    "ConfigError",
    "DeadlineExceeded",
    "ExposedServerWarning",
    "PortInUseError",
    "ResponseTooLarge",
    "ServiceMissingError",
    "SessionLockTimeout",
    "SessionlabError",
    "SessionlabWarning",
    "StartError",
    "StoreClosedError",
    "StoreNotSharedWarning",
    "StoreUnavailable",
    "WeakSecretWarning",
]
