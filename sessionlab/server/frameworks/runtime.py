"""What the frameworks' servers need from the machine, each missing piece one clear error."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ...errors import ServiceMissingError

HERE = Path(__file__).resolve().parent
INSTALL = {
    "node": "apt-get install nodejs npm (or conda install -c conda-forge nodejs)",
    "npm": "apt-get install npm (or conda install -c conda-forge nodejs)",
    "php": "apt-get install php-cli (or conda install -c conda-forge php)",
    "django": "pip install 'sessionlab[frameworks]' (Django)",
    "starlette": "pip install 'sessionlab[frameworks]' (Starlette)",
}


def program(name: str, server: str) -> str:
    """The path of a program, or :class:`ServiceMissingError` with the install command.

    >>> program("no-such-program-here", "test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ServiceMissingError: sl.start(server='test') needs no-such-program-here...
    """
    path = shutil.which(name)
    if path is None:
        how = INSTALL.get(name, f"install {name}")
        raise ServiceMissingError(f"sl.start(server={server!r}) needs {name}, not found: {how}")
    return path


def python_package(name: str, server: str) -> None:
    """Raise :class:`ServiceMissingError` unless this Python can import ``name``."""
    if importlib.util.find_spec(name) is None:
        raise ServiceMissingError(
            f"sl.start(server={server!r}) needs the Python package {name}: {INSTALL[name]}"
        )


def granian() -> list[str]:
    """The command that starts granian from this Python (a dependency of sessionlab)."""
    return [sys.executable, "-m", "granian"]


def http_ready(ca_path: str | None = None, path: str = "/") -> Callable[[str], bool]:
    """A readiness test: the server at ``url`` answers ``path`` with any HTTP status."""
    context = ssl.create_default_context(cafile=ca_path) if ca_path else None

    def ready(url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=1, context=context):  # noqa: S310
                return True
        except urllib.error.HTTPError:
            return True  # an answer, even an error page, means it serves
        except (OSError, ValueError):
            return False

    return ready


def cache_dir() -> Path:
    """Where downloaded runtimes' packages go (npm's node_modules): never the source tree."""
    base = os.environ.get("SESSIONLAB_CACHE") or os.environ.get("XDG_CACHE_HOME")
    folder = Path(base) if base else Path.home() / ".cache"
    if not os.environ.get("SESSIONLAB_CACHE"):
        folder = folder / "sessionlab"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return folder
