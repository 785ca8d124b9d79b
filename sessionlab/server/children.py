"""Child processes (a private redis-server, a granian master) that die with this process.

On Linux a child asks the kernel, between fork and exec, for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), so a killed Jupyter kernel or test run leaves nothing behind. The
kernel's "parent" is the *thread* that forked, not the process: a child started from an
executor thread would be killed as soon as that thread ended. So every child is forked by
one long-lived daemon thread, which lives exactly as long as the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from typing import Any

_requests: queue.SimpleQueue[tuple[list[str], dict[str, Any], Future]] = queue.SimpleQueue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def spawn(command: list[str], **options: Any) -> subprocess.Popen:
    """``subprocess.Popen(command, **options)``, for a child that dies with this process.

    >>> child = spawn(["true"])
    >>> child.wait()
    0
    """
    if sys.platform != "linux":  # no parent-death signal to ask for elsewhere
        return subprocess.Popen(command, **options)
    started: Future[subprocess.Popen] = Future()
    _requests.put((command, options, started))
    _ensure_spawner()
    return started.result()


def _ensure_spawner() -> None:
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawn_forever, name="sessionlab:spawner")
            _spawner.daemon = True  # it must never end before the process does
            _spawner.start()


def _spawn_forever() -> None:
    while True:
        command, options, started = _requests.get()
        try:
            started.set_result(subprocess.Popen(command, preexec_fn=die_with_parent, **options))
        except BaseException as error:  # the caller re-raises it
            started.set_exception(error)


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent thread dies."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
