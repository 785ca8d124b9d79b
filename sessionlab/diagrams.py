"""Pictures of what the tables say: the exchange as a sequence diagram, or as HTTP text."""

from __future__ import annotations

import html
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .cookies import parse_set_cookie
from .recording import Exchange, Recorder
from .tables import Aliases

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def sequence_diagram(client: Recorder, title: str = "") -> Figure:
    """The client's exchanges as arrows between two lifelines, cookies named by alias.

    Each request arrow says which cookie travelled with it; each response arrow says what
    Set-Cookie did to the client's jar.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-picture") as lab:
    ...     client = sl.Client(lab.url)
    ...     _ = client.cycle("alice")
    ...     figure = sl.sequence_diagram(client)
    >>> len(figure.axes)
    1
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        message = "sequence_diagram needs matplotlib: pip install 'sessionlab[lab]'"
        raise ImportError(message) from error

    aliases = Aliases()
    rows = len(client.exchanges)
    figure, axes = plt.subplots(figsize=(9, 1.1 * rows + 0.8))
    axes.set_xlim(0, 10)
    axes.set_ylim(-rows + 0.3, 0.9)
    axes.axis("off")
    for x, label in ((1, "client"), (9, "server")):
        axes.text(x, 0.6, label, ha="center", fontsize=12, weight="bold")
        axes.plot([x, x], [0.5, -rows + 0.4], color="0.6", linewidth=1)
    for row, exchange in enumerate(client.exchanges):
        top = -row
        for record in exchange.store_after or ():  # name cookies by the ids they carry
            aliases.sid(record.sid)
        sent = _cookie_note(exchange.sent_cookie, aliases)
        _arrow(axes, 1, 9, top, f"{exchange.step}. {exchange.method} {exchange.path}", sent)
        received = "; ".join(_set_cookie_note(h, aliases) for h in exchange.set_cookies)
        _arrow(axes, 9, 1, top - 0.5, f"{exchange.status}", received or "no Set-Cookie")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    plt.close(figure)  # shown by the notebook's display, not twice
    return figure


def _arrow(axes: Any, start: float, end: float, y: float, label: str, note: str) -> None:
    """An arrow at height ``y`` with its label and its cookie note both *above* it.

    Arrows are 0.5 apart; a note below its arrow would sit just above the next arrow and read
    as that arrow's (the cookie a response set looked like the next request's).
    """
    color = "tab:blue" if end > start else "tab:green"
    axes.annotate(
        "", xy=(end, y), xytext=(start, y), arrowprops={"arrowstyle": "->", "color": color}
    )
    axes.text(5, y + NOTE_Y, note, ha="center", va="bottom", fontsize=8, color="0.3")
    axes.text(5, y + LABEL_Y, label, ha="center", va="bottom", fontsize=10)


# Heights above an arrow (arrows are 0.5 apart): the cookie note just over the arrow, the
# label over the note, both below the arrow before.
NOTE_Y = 0.04
LABEL_Y = 0.2


def _cookie_note(header: str | None, aliases: Aliases) -> str:
    if not header:
        return "no Cookie"
    pairs = (pair.partition("=") for pair in header.split("; "))
    return "Cookie: " + ", ".join(f"{n}={aliases.cookie_value(v)}" for n, _, v in pairs)


def _set_cookie_note(header: str, aliases: Aliases) -> str:
    cookie = parse_set_cookie(header)
    if cookie["effect"] == "delete":
        return f"Set-Cookie: {cookie['name']} cleared"
    return f"Set-Cookie: {cookie['name']}={aliases.cookie_value(cookie['value'])}"


@dataclass(frozen=True)
class WireText:
    """One exchange written out as HTTP/1.1 messages (the headers the lab records)."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre style='white-space: pre-wrap'>{html.escape(self.text)}</pre>"

    def __repr__(self) -> str:
        return self.text


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status the standard does not name
        return ""


def wire(exchange: Exchange, body_chars: int = 200) -> WireText:
    """An exchange as it crossed the wire: request line, Host, Cookie; status line,
    Set-Cookie headers and the body. Other headers (User-Agent, Content-Length, ...) are
    left out: these are the ones a session lives in.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-wire") as lab:
    ...     client = lab.client()
    ...     _ = client.get("/user/alice")
    ...     print(str(sl.wire(client.exchanges[0])).splitlines()[0])
    GET /user/alice HTTP/1.1
    """
    parts = urlsplit(exchange.url)
    request = [f"{exchange.method} {exchange.path} HTTP/1.1", f"Host: {parts.netloc}"]
    if exchange.sent_cookie:
        request.append(f"Cookie: {exchange.sent_cookie}")
    response = [f"HTTP/1.1 {exchange.status} {_reason(exchange.status)}".rstrip()]
    response += [f"Set-Cookie: {header}" for header in exchange.set_cookies]
    body = exchange.body if len(exchange.body) <= body_chars else exchange.body[:body_chars] + "…"
    return WireText("\n".join([*request, "", *response, "", body]))
