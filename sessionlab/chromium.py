"""The system's Chromium, launched once per process and driven from one thread.

Playwright's sync API refuses to run where an asyncio loop is running, which is where every
Jupyter cell runs. So one daemon thread owns Playwright and every Chromium process the lab
starts; callers hand it closures through a queue and wait, with a bound, for the result.
Chromium is started on first use, shared by every :class:`~sessionlab.browser.Browser` (each
is a context of its own: a fresh cookie jar), and closed at interpreter exit. If the process
dies without running its exit handlers, Playwright's driver sees its pipe close and ends
Chromium itself, so no process outlives the kernel.

Playwright's own browser download is never used: the lab drives Debian's ``chromium`` (or
``$SESSIONLAB_CHROMIUM``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import queue
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from .errors import ServiceMissingError

T = TypeVar("T")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "apt-get install chromium"
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Playwright 1.65's own feature lists. Chromium keeps the last --enable-features= and
# --disable-features= it is given, so adding one feature means repeating Playwright's list
# (tests/test_browser.py checks the launched command line against this copy).
PLAYWRIGHT_DISABLED = (
    "AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,"
    "HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,"
    "ThirdPartyStoragePartitioning,AvoidCorsURLLoaderRestartOnRedirect,TcpPortRandomizationWin,"
    "OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,"
    "msForceBrowserSignIn,msEdgeUpdateLaunchServicesPreferredVersion"
)
PLAYWRIGHT_ENABLED = "CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies"
# A new document per cross-document navigation costs 15-30% of each page load here, and no
# cookie behaviour depends on it.
DISABLED = ("RenderDocument",)
CALL_TIMEOUT = 60.0  # seconds any one call may take on the browser thread


def find_chromium() -> str:
    """The Chromium executable: ``$SESSIONLAB_CHROMIUM``, else the first one on PATH.

    >>> import os
    >>> os.environ["SESSIONLAB_CHROMIUM"] = "/no/such/chromium"
    >>> find_chromium()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sessionlab.errors.ServiceMissingError: SESSIONLAB_CHROMIUM=/no/such/chromium is not ...
    >>> del os.environ["SESSIONLAB_CHROMIUM"]
    """
    chosen = os.environ.get("SESSIONLAB_CHROMIUM")
    if chosen:
        if os.access(chosen, os.X_OK):
            return chosen
        raise ServiceMissingError(
            f"SESSIONLAB_CHROMIUM={chosen} is not an executable file: "
            f"point it at Chrome or Chromium, or unset it and {INSTALL}"
        )
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ServiceMissingError(
        f"sl.Browser needs Chromium, which is not installed: {INSTALL} (Debian's package), "
        "or set SESSIONLAB_CHROMIUM to a Chrome or Chromium executable. "
        "`playwright install` is not needed."
    )


def chromium_available() -> bool:
    """Can a Browser start here: Playwright importable and a Chromium found?"""
    try:
        import playwright.sync_api  # noqa: F401

        find_chromium()
    except (ImportError, ServiceMissingError):
        return False
    return True


def launch_args(enable: Sequence[str] = (), extra: Sequence[str] = ()) -> list[str]:
    """Chromium's command-line switches: the lab's, Playwright's feature lists plus ours.

    >>> [a for a in launch_args(["ShortLaxAllowUnsafeThreshold"]) if "enable" in a]
    ['--enable-features=CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies,ShortLaxAllowUnsafeThreshold']
    """
    args = [*BASE_ARGS, f"--disable-features={','.join([PLAYWRIGHT_DISABLED, *DISABLED])}"]
    if enable:
        args.append(f"--enable-features={','.join([PLAYWRIGHT_ENABLED, *enable])}")
    return args + list(extra)


class Driver:
    """One thread that owns Playwright and the Chromium processes, one per set of switches."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._browsers: dict[tuple[bool, tuple[str, ...]], Any] = {}
        self.playwright: Any = None
        ready: Future[None] = Future()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="sessionlab-browser", daemon=True
        )
        self.thread.start()
        ready.result(timeout=CALL_TIMEOUT)  # re-raises a start error here

    def _run(self, ready: Future[None]) -> None:
        try:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
        except BaseException as error:  # handed to the caller, which re-raises it
            ready.set_exception(error)
            return
        ready.set_result(None)
        while (item := self._queue.get()) is not None:
            work, future = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work())
                except BaseException as error:  # the caller's to handle
                    future.set_exception(error)
        self._close_all()

    def _close_all(self) -> None:
        for browser in self._browsers.values():
            with contextlib.suppress(Exception):  # already gone with its process
                browser.close()
        self._browsers.clear()
        self.playwright.stop()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def call(self, work: Callable[[], T], timeout: float = CALL_TIMEOUT) -> T:
        """Run ``work`` on the browser thread and return its result (or raise its error)."""
        if threading.current_thread() is self.thread:
            return work()
        if not self.alive:
            raise RuntimeError("the browser thread has stopped (the interpreter is exiting)")
        future: Future[T] = Future()
        self._queue.put((work, future))
        return future.result(timeout=timeout)

    def post(self, work: Callable[[], Any]) -> None:
        """Run ``work`` later without waiting (finalizers must not block)."""
        if self.alive:
            self._queue.put((work, Future()))

    def chromium(self, headless: bool, args: Sequence[str]) -> Any:
        """The Chromium process for these switches, launched on first use (browser thread)."""
        key = (headless, tuple(args))
        browser = self._browsers.get(key)
        if browser is None or not browser.is_connected():
            browser = self.playwright.chromium.launch(
                executable_path=find_chromium(), args=list(args), headless=headless
            )
            self._browsers[key] = browser
        return browser

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive:
            self._queue.put(None)
            self.thread.join(timeout)


_driver: Driver | None = None
_driver_lock = threading.Lock()


def driver() -> Driver:
    """This process's browser thread, started on first use."""
    global _driver
    with _driver_lock:
        if _driver is None or not _driver.alive:
            find_chromium()  # fail fast, naming the install command
            if importlib.util.find_spec("playwright") is None:
                raise ServiceMissingError(
                    "sl.Browser drives Chromium through Playwright, which is not installed: "
                    "pip install 'sessionlab[browser]' (`playwright install` is not needed)"
                )
            _driver = Driver()
        return _driver


def stop_driver() -> None:
    """Close every Chromium process this process started (also run at exit)."""
    global _driver
    with _driver_lock:
        current, _driver = _driver, None
    if current is not None:
        current.stop()


def chromium_processes() -> list[int]:
    """Every Chromium process on this machine (browser, zygotes, renderers, GPU, utilities,
    crash handlers) and Playwright's driver: what a leak would leave behind."""
    names = {"chromium", "chrome", "headless_shell", "chrome_crashpad_handler"}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                command = file.read()
        except OSError:  # gone, or not ours to read
            continue
        if exe in names or (exe == "node" and b"run-driver" in command):
            found.append(int(entry))
    return found


atexit.register(stop_driver)
