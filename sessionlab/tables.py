"""pandas tables of what the client and the server hold.

Every frame is built from recorded facts (a recorder's exchanges and jar, a store's
``all()``), so every table works on every client (requests or Chromium); nothing here starts
or asks a server. Times are relative (``expires_in``, ``created_ago``)
so that the same steps give the same tables on every run.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .cookies import parse_set_cookie
from .labframe import LabFrame
from .recording import Exchange, JarCookie, Recorder

# Devtools' columns, the attributes first: the value (a long random token) comes last, so the
# attributes a lesson points at are never the ones pushed off screen.
COOKIE_COLUMNS = [
    "name",
    "HttpOnly",
    "Secure",
    "SameSite",
    "path",
    "domain",
    "expires",
    "size",
    "value",
]
SET_COOKIE_COLUMNS = [
    "step",
    "name",
    "effect",
    "Path",
    "Domain",
    "Expires",
    "Max-Age",
    "HttpOnly",
    "Secure",
    "SameSite",
    "value",
]
STORE_COLUMNS = ["id", "data", "created_ago", "expires_in"]
HISTORY_COLUMNS = [
    "step",
    "label",
    "method",
    "path",
    "status",
    "sent Cookie",
    "Set-Cookie",
    "body",
]
MAX_TIMEDELTA_SECONDS = 9e9  # pandas Timedeltas are int64 nanoseconds: about 292 years
TIMELINE_COLUMNS = ["step", "request", "status", "client holds", "server holds", "changed"]


def seconds(value: float) -> Any:
    """Whole seconds, rounded up, so a value read a moment later still shows the same:
    a Timedelta, or NaT for never."""
    return pd.Timedelta(seconds=math.ceil(value)) if math.isfinite(value) else pd.NaT


# -- the client's side -----------------------------------------------------------------


def cookie_row(cookie: JarCookie, now: float | None = None) -> dict[str, Any]:
    """One cookie as browser devtools show it."""
    now = time.time() if now is None else now
    return {
        "name": cookie.name,
        "value": cookie.value,
        "domain": cookie.domain,
        "path": cookie.path,
        "expires": "Session" if cookie.expires is None else seconds(cookie.expires - now),
        "size": cookie.size,
        "HttpOnly": cookie.httponly,
        "Secure": cookie.secure,
        "SameSite": cookie.samesite,
    }


def cookies_frame(client: Recorder | Iterable[JarCookie]) -> pd.DataFrame:
    """The client's cookie jar, one row per cookie, with devtools' columns.

    ``expires`` is "Session" for a cookie that dies with the browser, else the time left.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-frames") as lab:
    ...     client = sl.Client(lab.url)
    ...     _ = client.get("/user/alice")
    ...     sl.cookies_frame(client)[["name", "HttpOnly", "SameSite"]].to_dict("records")
    [{'name': 'doc-frames', 'HttpOnly': True, 'SameSite': 'Lax'}]
    """
    jar = client.jar() if isinstance(client, Recorder) else client
    rows = [cookie_row(cookie) for cookie in jar]
    return LabFrame(rows, columns=COOKIE_COLUMNS).sort_values(["name", "path"], ignore_index=True)


def set_cookie_frame(client: Recorder) -> pd.DataFrame:
    """Every Set-Cookie header the client received, parsed, with the step it came in.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-set-cookie") as lab:
    ...     client = sl.Client(lab.url)
    ...     _ = client.cycle("alice")
    ...     sl.set_cookie_frame(client)[["step", "effect", "SameSite"]].values.tolist()
    [[1, 'set', 'Lax'], [3, 'delete', 'Lax']]
    """
    blank = dict.fromkeys(["Path", "Domain", "Expires", "Max-Age", "SameSite"], "")
    rows = [
        {**blank, "step": exchange.step, **parse_set_cookie(header)}
        for exchange in client.exchanges
        for header in exchange.set_cookies
    ]
    return LabFrame(rows, columns=SET_COOKIE_COLUMNS)


def history_frame(client: Recorder) -> pd.DataFrame:
    """One row per exchange: the Cookie header sent, the Set-Cookie headers received.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-history") as lab:
    ...     client = sl.Client(lab.url)
    ...     _ = client.cycle("alice")
    ...     sl.history_frame(client)["body"].tolist()[-1]
    'user logged out!'
    """
    rows = [
        {
            "step": e.step,
            "label": e.label,
            "method": e.method,
            "path": e.path,
            "status": e.status,
            "sent Cookie": e.sent_cookie or "",
            "Set-Cookie": "\n".join(e.set_cookies),
            "body": e.body,
        }
        for e in client.exchanges
    ]
    return LabFrame(rows, columns=HISTORY_COLUMNS)


# -- the server's side -----------------------------------------------------------------


def store_frame(store: Any, now: float | None = None) -> pd.DataFrame:
    """The server's records, decoded: id, data, how long ago created, how long until expiry.

    >>> from sessionlab.server.stores import MemoryStore, Record
    >>> store, now = MemoryStore(), time.time()
    >>> store.set(Record("abc", {"name": "alice"}, created=now - 30, expires=now + 60))
    >>> row = store_frame(store, now=now).iloc[0]
    >>> row["data"], str(row["created_ago"]), str(row["expires_in"])
    ({'name': 'alice'}, '0 days 00:00:30', '0 days 00:01:00')
    >>> print(store_frame(store, now=now))  # shown in words, the data above stay Timedeltas
    id  data              created_ago expires_in
    abc {'name': 'alice'} 30 s        1 min
    """
    now = time.time() if now is None else now
    return records_frame(store.all(), now)


def records_frame(records: Iterable[Any], now: float) -> pd.DataFrame:
    """Records as a frame, with whole-second ages; vectorised, as stores hold 100k records."""
    records = list(records)
    created = np.fromiter((r.created for r in records), float, len(records))
    expires = np.fromiter((r.expires for r in records), float, len(records))
    return LabFrame(
        {
            "id": [r.sid for r in records],
            "data": [r.data for r in records],
            "created_ago": _whole_seconds(np.floor(np.maximum(0.0, now - created))),
            "expires_in": _whole_seconds(np.ceil(expires - now)),  # rounded up: stable
        },
        columns=STORE_COLUMNS,
    )


def _whole_seconds(values: np.ndarray) -> pd.TimedeltaIndex:
    """Seconds as Timedeltas; NaT where pandas cannot hold them (never, or past ~292 years)."""
    representable = np.isfinite(values) & (np.abs(values) < MAX_TIMEDELTA_SECONDS)
    return pd.to_timedelta(np.where(representable, values, np.nan), unit="s")


# -- both, step by step ----------------------------------------------------------------


class Aliases:
    """Names session ids and cookie values in order of appearance: id1, id2, ...

    Random tokens are unreadable and differ on every run; their aliases are neither.
    """

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def sid(self, sid: str) -> str:
        return self.ids.setdefault(sid, f"id{len(self.ids) + 1}")

    def cookie_value(self, value: str) -> str:
        """A cookie value names the id it carries, else gets an alias of its own."""
        for sid, alias in self.ids.items():
            if sid in value:
                return f"{alias}+signature"
        return self.values.setdefault(value, f"value{len(self.values) + 1}")


def timeline(client: Recorder, store: Any = None) -> pd.DataFrame:
    """Per step: the request, what the client held after it, what the server held after it.

    ``changed`` names what moved on each side, so the eye finds it. The server column
    needs snapshots: create the client with ``Client(url, watch=lab.store)``.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", name="doc-timeline") as lab:
    ...     client = sl.Client(lab.url, watch=lab.store)
    ...     _ = client.cycle("alice")
    ...     sl.timeline(client)["changed"].tolist()
    ['cookie set; record created', '', 'cookie cleared; record deleted', '']
    """
    if store is not None and client.watch is not store:
        raise ValueError(
            "this client does not watch that store: create it with Client(url, watch=store)"
        )
    aliases = Aliases()
    rows: list[dict[str, Any]] = []
    before_raw: dict[str, str] = {}
    before_jar: dict[str, str] = {}
    before_store: dict[str, str] = {}
    for exchange in client.exchanges:
        server = _server_state(exchange, aliases)
        raw = {c.name: c.value or "" for c in exchange.jar_after}
        jar = {name: aliases.cookie_value(value) for name, value in raw.items()}
        # Records other clients wrote since this client's previous step are not this step's.
        just_before = _server_state(exchange, aliases, before=True)
        if just_before is None:
            just_before = before_store
        rows.append(
            {
                "step": exchange.step,
                "request": f"{exchange.method} {exchange.path}",
                "status": exchange.status,
                "client holds": _describe(jar, "="),
                "server holds": _describe(server, ": ") if server is not None else "(not watched)",
                "changed": "; ".join(
                    _changes(before_jar, jar, "cookie")
                    + _resigned(before_raw, raw, before_jar, jar)
                    + _changes(just_before, server or {}, "record")
                ),
            }
        )
        before_raw, before_jar, before_store = raw, jar, server or {}
    return LabFrame(rows, columns=TIMELINE_COLUMNS)


def _server_state(
    exchange: Exchange, aliases: Aliases, *, before: bool = False
) -> dict[str, str] | None:
    """The watched store after the exchange (or just before it), records by alias."""
    records = exchange.store_before if before else exchange.store_after
    if records is None:
        return None
    return {aliases.sid(r.sid): _compact(r.data) for r in records}


def _compact(data: dict[str, Any]) -> str:
    """Compact JSON; what JSON cannot write (bytes, datetimes: Flask's tagged JSON keeps
    them) shows as its repr.

    >>> print(_compact({"b": b"x", "n": 1}))
    {"b":"b'x'","n":1}
    """
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=repr)


def _describe(items: dict[str, str], separator: str) -> str:
    return ", ".join(f"{key}{separator}{value}" for key, value in items.items()) or "(nothing)"


def _resigned(
    before_raw: dict[str, str], raw: dict[str, str], before: dict[str, str], after: dict[str, str]
) -> list[str]:
    """Same id under a new signature (a secret was rotated): the alias hides it, say it."""
    return [
        "cookie re-signed"
        for name, value in raw.items()
        if name in before_raw and value != before_raw[name] and after[name] == before[name]
    ]


def _changes(before: dict[str, str], after: dict[str, str], noun: str) -> list[str]:
    verbs = {"cookie": ("set", "cleared", "replaced"), "record": ("created", "deleted", "updated")}
    added, removed, changed = verbs[noun]
    events = [f"{noun} {added}" for key in after if key not in before]
    events += [f"{noun} {removed}" for key in before if key not in after]
    events += [f"{noun} {changed}" for key in after if key in before and before[key] != after[key]]
    return events
