"""Browser: a real Chromium that records every exchange, like Client does with requests.

``requests`` ignores SameSite and HttpOnly and never sends a Secure cookie over http; a
browser decides all three. ``sl.Browser(url)`` drives the system's Chromium through
Playwright and records each request it makes (redirect hops, images, scripts and fetches
included) into the same :class:`~sessionlab.recording.Exchange` records as ``Client``, so
``history_frame``, ``cookies_frame``, ``set_cookie_frame``, ``timeline`` and
``sequence_diagram`` read it unchanged. The jar comes from Chromium itself (a cookie set
without SameSite shows "", not the "Lax" Playwright reports), and each exchange also says
which Set-Cookie lines Chromium refused and which cookies it withheld, with its reasons.

One Chromium process serves every Browser of this process (chromium.py); each Browser is a
fresh context (its own jar) and one tab. Browsers are named: creating one under a name in
use closes the earlier one, so re-running a notebook cell leaves one tab, not two.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import json
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

from .capture import Capture, Wire, jar_rows
from .chromium import driver, find_chromium, launch_args, stop_driver
from .client import seed_cycle
from .errors import ConfigError
from .recording import Exchange, JarCookie, Recorder

WaitUntil = Literal["commit", "domcontentloaded", "load", "networkidle"]  # Playwright's
ALLOW_THIRD_PARTY = {"profile": {"cookie_controls_mode": 0}}  # Settings: allow 3rd-party cookies


@dataclass(frozen=True)
class Screenshot:
    """A PNG of the page; a notebook shows it inline.

    >>> from sessionlab.server.attacker import PIXEL
    >>> Screenshot(PIXEL)
    <Screenshot: PNG, 1x1>
    """

    png: bytes

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        width, height = (int.from_bytes(self.png[i : i + 4], "big") for i in (16, 20))
        return f"<Screenshot: PNG, {width}x{height}>"

    def save(self, path: str | Path) -> Path:
        Path(path).write_bytes(self.png)
        return Path(path)


@dataclass(eq=False)
class Browser(Recorder):
    """A recording Chromium tab for one base URL: headless, sharing one Chromium process.

    ``verify``: True checks certificates as Chromium does; the path of a CA (a hardened
    lab's ``lab.ca_path``) trusts that server's certificate once it verifies against the
    CA. ``allow_third_party_cookies`` gives this Browser a profile of its own with that
    setting on (Chromium blocks them by default). ``enable_features`` starts a Chromium with
    those features on, e.g. ``["ShortLaxAllowUnsafeThreshold"]``, which cuts the 2-minute
    allowance for cross-site POSTs with cookies that have no SameSite to 10 seconds.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-browser") as lab, sl.Browser(lab.url) as b:
    ...     _ = b.cycle("alice")
    ...     sl.history_frame(b)[["path", "sent Cookie"]].map(bool).values.tolist()
    [[True, False], [True, True], [True, True], [True, False]]
    """

    name: str = "browser"
    headless: bool = True
    verify: bool | str = True
    allow_third_party_cookies: bool = False
    enable_features: Sequence[str] = ()
    timeout: float = 10.0
    viewport: tuple[int, int] = (800, 320)  # the tab's size: what a screenshot shows
    _open: ClassVar[dict[str, Browser]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __post_init__(self) -> None:
        self.base_url = str(self.base_url).rstrip("/") + "/"
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ConfigError(f"base_url must be an http(s) URL, not {self.base_url!r}")
        with Browser._open_lock:
            earlier = Browser._open.pop(self.name, None)
        if earlier is not None:
            earlier.close()
        self._closed = False
        self._profile: str | None = None
        self._driver = driver()
        switches = launch_args(self.enable_features, self._certificate_switches())
        self._context, self._page, self._cdp, self._capture = self._driver.call(
            lambda: self._open_tab(switches)
        )
        with Browser._open_lock:
            Browser._open[self.name] = self

    # -- on the browser thread ----------------------------------------------------------

    def _open_tab(self, switches: list[str]) -> tuple[Any, Any, Any, Capture]:
        width, height = self.viewport
        options = {
            "ignore_https_errors": self.verify is False,
            "viewport": {"width": width, "height": height},
        }
        if self.allow_third_party_cookies:
            self._profile = profile_allowing_third_party_cookies()
            context = self._driver.playwright.chromium.launch_persistent_context(
                self._profile,
                executable_path=find_chromium(),
                args=switches,
                headless=self.headless,
                **options,
            )
            page = context.pages[0] if context.pages else context.new_page()
        else:
            browser = self._driver.chromium(self.headless, switches)
            context = browser.new_context(**options)
            page = context.new_page()
        context.set_default_timeout(self.timeout * 1000)
        cdp = context.new_cdp_session(page)
        capture = Capture(context, page, cdp)  # listens before the first request
        cdp.send("Network.enable")
        return context, page, cdp, capture

    def _act(self, action: Any, label: str) -> list[dict[str, Any]]:
        """Run a page action, then collect what it put on the wire and the jar after it."""
        error: Exception | None = None
        try:
            action()
        except Exception as failure:  # recorded first, raised after
            error = failure
            self._wait_for_error_page()
        wires = self._capture.drain(self.timeout)
        jar = jar_rows(self._cdp)
        if error is not None:
            raise RecordedError(error, [self._fields(w, label, jar) for w in wires])
        return [self._fields(w, label, jar) for w in wires]

    def _wait_for_error_page(self) -> None:
        """A failed navigation commits Chromium's error page a moment later; wait for it, or
        it interrupts the next one."""
        with contextlib.suppress(Exception):  # none came: not a navigation error
            self._page.wait_for_url("chrome-error://**", timeout=2000)

    def _fields(self, wire: Wire, label: str, jar: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "method": wire.method,
            "url": wire.url,
            "status": wire.status,
            "sent_cookie": wire.sent_cookie,
            "set_cookies": wire.set_cookies,
            "body": wire.body,
            "elapsed_ms": wire.elapsed_ms,
            "redirect": 300 <= wire.status < 400,
            "jar_after": [JarCookie(**row) for row in sorted_jar(jar)],
            "label": self._label(label, wire),
            "kind": wire.kind,
            "refused": wire.refused,
            "withheld": wire.withheld,
        }

    def _label(self, label: str, wire: Wire) -> str:
        """The action's label, plus the host when another site was asked, plus what asked
        (an image, a fetch...) when it was not a page."""
        host = urlsplit(wire.url).hostname or ""
        parts = [label] if label else []
        if host != urlsplit(self.base_url).hostname:
            parts.append(host)
        if wire.kind != "document":
            parts.append(wire.kind)
        return " · ".join(parts)

    # -- the caller's side --------------------------------------------------------------

    def _call(self, work: Any) -> Any:
        if self._closed:
            raise RuntimeError(f"Browser {self.name!r} is closed: create a new one")
        return self._driver.call(work, timeout=self.timeout * 4 + 5)

    def _record_all(self, action: Any, label: str) -> list[Exchange]:
        try:
            rows = self._call(lambda: self._act(action, label))
        except RecordedError as error:
            for row in error.rows:
                self.record(**row)
            raise error.cause from None
        return [self.record(**row) for row in rows]

    def url_for(self, path_or_url: str) -> str:
        """A path relative to the base URL, or a full URL as given."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def goto(
        self, path_or_url: str, *, label: str = "", wait_until: WaitUntil = "load"
    ) -> list[Exchange]:
        """Go to a page as a user who typed its address: the exchanges it caused.

        A typed address is not a cross-site request (it sends even SameSite=Strict cookies):
        to make one, go to another site's page and ``click`` there. ``wait_until`` is
        Playwright's: ``"networkidle"`` also waits for requests a script makes after the page
        loaded (half a second without any), so that they are recorded with this step.
        """
        url = self.url_for(path_or_url)
        return self._record_all(lambda: self._page.goto(url, wait_until=wait_until), label)

    def click(self, selector: str, *, label: str = "") -> list[Exchange]:
        """Click what ``selector`` finds (a link, a button), as the user would."""

        def action() -> None:
            self._page.click(selector)
            self._page.wait_for_load_state()

        return self._record_all(action, label)

    def fill(self, selector: str, value: str) -> None:
        """Type ``value`` into the form field ``selector`` finds (sends nothing yet)."""
        self._call(lambda: self._page.fill(selector, value))

    def cycle(self, user: str = "alice") -> list[Exchange]:
        """The tutorial's cycle, each step typed: set the name, view, log out, view again."""
        return [self.goto(path, label=label)[-1] for path, label in seed_cycle(user)]

    def evaluate(self, script: str) -> Any:
        """Run JavaScript in the page, as the page's own scripts would, and return its value."""
        return self._call(lambda: self._page.evaluate(script))

    def document_cookie(self) -> str:
        """What the page's scripts see of the cookies: never the HttpOnly ones."""
        return str(self.evaluate("document.cookie"))

    def text(self) -> str:
        """The text the page shows."""
        return str(self._call(lambda: self._page.inner_text("body")))

    @property
    def url(self) -> str:
        """The address the tab shows now."""
        return str(self._call(lambda: self._page.url))

    def screenshot(self, *, full_page: bool = False) -> Screenshot:
        """The page as a PNG, shown inline by a notebook."""
        return Screenshot(self._call(lambda: self._page.screenshot(full_page=full_page)))

    def jar(self) -> list[JarCookie]:
        """The cookies Chromium holds now, every site's, as :class:`JarCookie` rows."""
        return [JarCookie(**row) for row in sorted_jar(self._call(lambda: jar_rows(self._cdp)))]

    def clear_cookies(self) -> None:
        """Forget every cookie, as a fresh profile would."""
        self._call(self._context.clear_cookies)

    def forget(self) -> None:
        """Drop recorded exchanges and cookies: a new visitor."""
        super().forget()
        self.clear_cookies()

    def close(self) -> None:
        """Close this Browser's tab and context (Chromium stays up for the next). Safe twice."""
        if self._closed:
            return
        self._closed = True
        with Browser._open_lock:
            if Browser._open.get(self.name) is self:
                del Browser._open[self.name]
        context, profile = self._context, self._profile

        def close_context() -> None:
            try:
                context.close()
            finally:
                if profile:
                    shutil.rmtree(profile, ignore_errors=True)

        if self._driver.alive:
            self._driver.call(close_context)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<Browser {self.name!r} on {self.base_url} {state}, {len(self.exchanges)} exchanges>"
        )

    def _certificate_switches(self) -> list[str]:
        if not isinstance(self.verify, str) or urlsplit(self.base_url).scheme != "https":
            return []
        return [f"--ignore-certificate-errors-spki-list={pinned_key(self.base_url, self.verify)}"]


class RecordedError(Exception):
    """An action failed after putting exchanges on the wire: record them, then raise."""

    def __init__(self, cause: Exception, rows: list[dict[str, Any]]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.rows = rows


def sorted_jar(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda c: (c["domain"], c["path"], c["name"]))


def pinned_key(url: str, ca_path: str) -> str:
    """The server's public-key hash, once its certificate verifies against ``ca_path``.

    Chromium cannot be handed a CA file, but it can accept one key; Python checks the chain
    and the host name first, so nothing unverified is ever trusted.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    context = ssl.create_default_context(cafile=ca_path)
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = x509.load_der_x509_certificate(der or b"").public_key()
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def profile_allowing_third_party_cookies() -> str:
    """A fresh Chromium profile directory whose settings allow third-party cookies."""
    directory = tempfile.mkdtemp(prefix="sessionlab-profile-")
    (Path(directory) / "Default").mkdir()
    (Path(directory) / "Default" / "Preferences").write_text(json.dumps(ALLOW_THIRD_PARTY))
    return directory


def close_browsers() -> None:
    """Close every open Browser and the Chromium processes behind them (a notebook's last
    cell; also run at exit). The next Browser starts Chromium again."""
    close_all()
    stop_driver()


def close_all() -> None:
    """Close every open Browser (run at exit, before Chromium itself is stopped)."""
    for browser in list(Browser._open.values()):
        with contextlib.suppress(Exception):  # exiting: the browser thread may be gone
            browser.close()


atexit.register(close_all)
