"""What Chromium put on the wire, collected per page: the raw material of a Browser's exchanges.

Playwright reports each request (redirect hops and subresources included) but not what
Chromium decided about cookies. A DevTools (CDP) session on the page adds that: the Cookie
header as sent, each Set-Cookie line as received, which Set-Cookie lines Chromium refused
and which held cookies it withheld from a request, each with Chromium's reasons
(``SameSiteNoneInsecure``, ``InvalidPrefix``, ``SchemefulSameSiteLax``, ``UserPreferences``
for blocked third-party cookies, ...).

Everything here runs on the browser thread (chromium.py). Event handlers only append; the
:class:`Capture` is drained once an action has settled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

SETTLE_STEP_MS = 5  # how long each wait for pending events lasts
# Failures that come after the response arrived (Chromium kept it from the page): CDP still
# reports its status and Set-Cookie lines, in ExtraInfo events that may come after the failure.
BLOCKED_AFTER_RESPONSE = ("net::ERR_BLOCKED_BY_ORB", "net::ERR_BLOCKED_BY_RESPONSE")
CDP_GRACE_S = 2.0  # the longest wait for those events once every request has ended


@dataclass
class Hop:
    """What CDP reported for one request id: its URLs (one per redirect hop), in order."""

    urls: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Wire:
    """One request as it crossed the wire, ready to be recorded as an Exchange."""

    method: str
    url: str
    kind: str  # Chromium's resource type: document, image, fetch, script, ...
    status: int  # 0 when the request failed
    sent_cookie: str | None
    set_cookies: list[str]
    body: str
    elapsed_ms: float
    refused: list[str]  # "Set-Cookie line: reasons" Chromium did not store
    withheld: list[str]  # "cookie name: reasons" held but not sent


class Capture:
    """Collects a page's requests and the CDP events about them."""

    def __init__(self, context: Any, page: Any, cdp: Any) -> None:
        self.page = page
        self.requests: list[Any] = []
        self.finished: set[int] = set()
        self.responses: dict[int, Any] = {}
        self.hops: dict[str, Hop] = {}
        context.on("request", lambda r: self.requests.append(r))
        context.on("response", lambda r: self.responses.__setitem__(id(r.request), r))
        context.on("requestfinished", lambda r: self.finished.add(id(r)))
        context.on("requestfailed", lambda r: self.finished.add(id(r)))
        cdp.on("Network.requestWillBeSent", self._will_send)
        cdp.on("Network.requestWillBeSentExtraInfo", self._sent)
        cdp.on("Network.responseReceivedExtraInfo", self._received)

    # CDP reuses one requestId across redirect hops, and an ExtraInfo event may come before
    # or after its requestWillBeSent: keep ordered lists per id and pair them when draining.
    def _hop(self, request_id: str) -> Hop:
        return self.hops.setdefault(request_id, Hop())

    def _will_send(self, event: dict[str, Any]) -> None:
        self._hop(event["requestId"]).urls.append(event["request"]["url"])

    def _sent(self, event: dict[str, Any]) -> None:
        withheld = [
            f"{c['cookie']['name']}: {', '.join(c['blockedReasons'])}"
            for c in event.get("associatedCookies", [])
            if c["blockedReasons"]
        ]
        cookie = header(event["headers"], "cookie")
        self._hop(event["requestId"]).sent.append({"cookie": cookie, "withheld": withheld})

    def _received(self, event: dict[str, Any]) -> None:
        refused = [
            f"{c.get('cookieLine', c.get('cookie', {}).get('name', '?'))}: "
            f"{', '.join(c['blockedReasons'])}"
            for c in event.get("blockedCookies", [])
        ]
        lines = header(event["headers"], "set-cookie")
        self._hop(event["requestId"]).received.append(
            {
                "set_cookies": lines.split("\n") if lines else [],
                "refused": refused,
                "status": event.get("statusCode", 0),
            }
        )

    def settle(self, timeout: float) -> None:
        """Let Playwright dispatch events until every request seen has ended, and CDP has
        reported the answers Chromium blocked (bounded)."""
        deadline = time.monotonic() + timeout
        ended_at = None
        while (now := time.monotonic()) < deadline:
            if all(id(r) in self.finished for r in self.requests):
                ended_at = ended_at or now
                if not self._cdp_behind() or now - ended_at > CDP_GRACE_S:
                    return
            self.page.wait_for_timeout(SETTLE_STEP_MS)

    def _cdp_behind(self) -> bool:
        """Whether a blocked response's ExtraInfo events are still to come (without them its
        status would read 0 and its Set-Cookie lines, refused or not, would be lost)."""
        reported = {
            url
            for hop in self.hops.values()
            for url in hop.urls[: min(len(hop.sent), len(hop.received))]
        }
        return any(
            r.failure in BLOCKED_AFTER_RESPONSE and r.url not in reported for r in self.requests
        )

    def drain(self, timeout: float) -> list[Wire]:
        """Every request since the last drain, in the order Chromium made them."""
        self.settle(timeout)
        requests, self.requests, self.finished = self.requests, [], set()
        responses, self.responses = self.responses, {}
        by_url: dict[str, list[tuple[Any, Any]]] = {}
        for hop in self.hops.values():
            for index, url in enumerate(hop.urls):
                sent = hop.sent[index] if index < len(hop.sent) else None
                received = hop.received[index] if index < len(hop.received) else None
                by_url.setdefault(url, []).append((sent, received))
        self.hops.clear()
        wires = []
        for request in requests:
            sent, received = (by_url.get(request.url) or [(None, None)]).pop(0)
            wires.append(wire(request, responses.get(id(request)), sent, received))
        return wires


def wire(request: Any, response: Any, sent: Any, received: Any) -> Wire:
    """One request, from CDP's view where it has one, else from Playwright's (a round trip)."""
    failed = request.failure is not None
    if response is None and not failed:
        response = request.response()
    # A response Chromium blocked from the page (an image that is HTML, say) still came back:
    # CDP saw its status even where Playwright reports only a failure.
    status = response.status if response is not None else (received or {}).get("status", 0)
    # requests CDP did not see (an out-of-process iframe's): ask Playwright (a round trip)
    cookie = sent["cookie"] if sent is not None else all_headers(request).get("cookie")
    if received is not None:
        set_cookies = received["set_cookies"]
    elif response is not None:
        set_cookies = [h["value"] for h in response.headers_array() if h["name"] == "set-cookie"]
    else:
        set_cookies = []
    return Wire(
        method=request.method,
        url=request.url,
        kind=request.resource_type,
        status=status,
        sent_cookie=cookie,
        set_cookies=set_cookies,
        body=f"failed: {request.failure}" if failed else body(request, response),
        elapsed_ms=elapsed_ms(request.timing),
        refused=received["refused"] if received else [],
        withheld=sent["withheld"] if sent else [],
    )


def body(request: Any, response: Any) -> str:
    """A page's text (documents only; a redirect has none)."""
    if request.resource_type != "document" or response is None or 300 <= response.status < 400:
        return ""
    try:
        return str(response.text())
    except Exception:  # the page navigated on before its body could be read
        return ""


def elapsed_ms(timing: dict[str, float]) -> float:
    """From sending the request to the end of the response, by the browser's own clock.

    >>> elapsed_ms({"requestStart": 1.5, "responseEnd": 4.0}), elapsed_ms({"responseEnd": -1})
    (2.5, 0.0)
    """
    if timing.get("responseEnd", -1) < 0:
        return 0.0
    return round(timing["responseEnd"] - max(timing.get("requestStart", 0.0), 0.0), 2)


def all_headers(request: Any) -> dict[str, str]:
    try:
        return dict(request.all_headers())
    except Exception:  # it failed before its headers were known
        return dict(request.headers)


def header(headers: dict[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (CDP keeps the server's).

    >>> header({"Set-Cookie": "a=1"}, "set-cookie")
    'a=1'
    """
    return next((value for key, value in headers.items() if key.lower() == name), None)


def jar_rows(cdp: Any) -> list[dict[str, Any]]:
    """The context's cookies from CDP, which leaves ``sameSite`` out when the Set-Cookie named
    none (Playwright's ``context.cookies()`` would say "Lax" there, hiding the default)."""
    return [
        {
            "name": c["name"],
            "value": c["value"],
            "domain": c["domain"],
            "path": c["path"],
            "expires": None if c.get("session") else float(c["expires"]),
            "secure": bool(c["secure"]),
            "httponly": bool(c["httpOnly"]),
            "samesite": c.get("sameSite", ""),
        }
        for c in cdp.send("Network.getAllCookies")["cookies"]
    ]
