"""Read-only views of other frameworks' session records, shaped as a Store.

``store_frame`` and ``timeline`` read any object with ``all()``; these give them what each
framework keeps on its server: express-session's MemoryStore (through a loopback-only route
of our Express app), PHP's session files (through a loopback-only route of our PHP router)
and Django's ``django_session`` table (read from its SQLite file). The lab never writes
through them: a framework's sessions are the framework's to change.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import ssl
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ...cookies import decode_cookie
from ..stores import Record

UNKNOWN = math.nan  # frameworks that do not record when a session began


class RecordsView:
    """A Store-shaped, read-only view over a function that lists a framework's records.

    >>> view = RecordsView("example", lambda: [Record("abc", {"name": "alice"})])
    >>> [record.sid for record in view.all()], view.length(), view.get("abc").data
    (['abc'], 1, {'name': 'alice'})
    """

    def __init__(self, kind: str, fetch: Callable[[], list[Record]]) -> None:
        self.kind = kind
        self._fetch = fetch

    def all(self) -> list[Record]:
        return self._fetch()

    def get(self, sid: str) -> Record | None:
        return next((record for record in self.all() if record.sid == sid), None)

    def length(self) -> int:
        return len(self.all())

    def set(self, record: Record) -> None:
        raise TypeError(f"the {self.kind} server's sessions are read-only here")

    def destroy(self, sid: str) -> None:
        raise TypeError(f"the {self.kind} server's sessions are read-only here")

    def touch(self, sid: str, expires: float) -> None:
        raise TypeError(f"the {self.kind} server's sessions are read-only here")

    def clear(self) -> None:
        raise TypeError(f"the {self.kind} server's sessions are read-only here")

    def prune(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<RecordsView of the {self.kind} server's sessions>"


def fetch_json(url: str, ca_path: str | None = None) -> Any:
    """GET a loopback URL's JSON (the frameworks' record routes)."""
    context = ssl.create_default_context(cafile=ca_path) if url.startswith("https") else None
    with urllib.request.urlopen(url, timeout=5, context=context) as response:  # noqa: S310
        return json.loads(response.read())


def express_records(url: str, ca_path: str | None = None) -> RecordsView:
    """express-session's MemoryStore, listed by our Express app's loopback-only route."""

    def fetch() -> list[Record]:
        records = []
        for item in fetch_json(f"{url}/_sessionlab/sessions", ca_path):
            data = dict(item["data"])
            cookie = data.pop("cookie", {}) or {}
            expires = cookie.get("expires")
            when = datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None
            records.append(
                Record(
                    item["sid"],
                    data,
                    created=UNKNOWN,
                    expires=when.timestamp() if when else math.inf,
                )
            )
        return records

    return RecordsView("express", fetch)


def php_records(url: str) -> RecordsView:
    """PHP's session files (``sess_<id>`` in session.save_path), decoded; no expiry is
    kept: a file lives until PHP's garbage collector happens to remove it."""

    def fetch() -> list[Record]:
        items = fetch_json(f"{url}/_sessionlab/sessions")
        return [
            Record(item["sid"], php_session(item["raw"]), created=UNKNOWN)
            for item in sorted(items, key=lambda item: item["mtime"])
        ]

    return RecordsView("php", fetch)


def django_records(database: Path) -> RecordsView:
    """Django's ``django_session`` table: each row's data decoded without the key (it is
    signed, not encrypted), its ``expire_date`` as the expiry."""

    def fetch() -> list[Record]:
        if not database.exists():
            return []
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT session_key, session_data, expire_date FROM django_session "
                "ORDER BY expire_date"
            ).fetchall()
        return [
            Record(key, decode_cookie(data).payload or {}, UNKNOWN, _utc(expires))
            for key, data, expires in rows
        ]

    return RecordsView("django", fetch)


def _utc(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo).astimezone()
    return moment.timestamp()


_TOKEN = re.compile(r"([^|]+)\|")


def php_session(raw: str) -> dict[str, Any]:
    """PHP's default session encoding (``session.serialize_handler = php``) as a dict.

    >>> php_session('name|s:5:"alice";count|i:3;ok|b:1;')
    {'name': 'alice', 'count': 3, 'ok': True}
    """
    out: dict[str, Any] = {}
    position = 0
    while position < len(raw):
        match = _TOKEN.match(raw, position)
        if match is None:
            break
        value, position = _unserialize(raw, match.end())
        out[match.group(1)] = value
    return out


def _unserialize(raw: str, at: int) -> tuple[Any, int]:
    """One value of PHP's serialize() format from position ``at``: (value, next position)."""
    kind = raw[at]
    if kind == "N":
        return None, at + 2
    if kind in "ibd":
        end = raw.index(";", at)
        text = raw[at + 2 : end]
        value: Any = int(text) if kind == "i" else bool(int(text)) if kind == "b" else float(text)
        return value, end + 1
    if kind == "s":
        colon = raw.index(":", at + 2)
        length = int(raw[at + 2 : colon])
        data = raw.encode("utf-8")[len(raw[: colon + 2].encode("utf-8")) :][:length]
        text = data.decode("utf-8", "replace")
        return text, colon + 2 + len(text) + 2
    if kind == "a":
        colon = raw.index(":", at + 2)
        count = int(raw[at + 2 : colon])
        position, items = colon + 2, {}
        for _ in range(count):
            key, position = _unserialize(raw, position)
            items[key], position = _unserialize(raw, position)
        return items, position + 1
    raise ValueError(f"PHP serialized value of type {kind!r} is not supported here")
