"""Flask's tagged JSON as a store codec: the session data survives the store as it would
Flask's own cookie.

Plain JSON turns a tuple into a list and a Markup into a str, and cannot write bytes, a
datetime or a UUID at all. Flask's session cookie uses its tagged JSON serializer
(``flask.json.tag``), which writes such values as one-key objects (``{" t": [1, 2]}``) and
reads them back. The session interface gives every sessionlab store this codec, so a
server-side session holds what a cookie session holds. ``serializer`` is Flask's object:
``app.session_interface.serializer.register(MyTag)`` adds a type, as Flask's docs say.

>>> from datetime import datetime, timezone
>>> codec, new_year = TaggedCodec(), datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> text = codec.dumps({"t": (1, 2), "b": b"\\xff", "d": new_year})
>>> text
'{"b":{" b":"/w=="},"d":{" d":"Thu, 01 Jan 2026 00:00:00 GMT"},"t":{" t":[1,2]}}'
>>> codec.loads(text)["t"], codec.loads(text)["b"]
((1, 2), b'\\xff')
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer

from .stores.base import TAGGED_JSON


class TaggedCodec:
    """Flask's ``TaggedJSONSerializer`` behind the store's :class:`Codec` protocol."""

    format = TAGGED_JSON

    def __init__(self, serializer: TaggedJSONSerializer | None = None) -> None:
        self.serializer = serializer or TaggedJSONSerializer()
        # Made once: json.loads(text, object_hook=...) would build a decoder on every read.
        # The hook reads self.serializer's tags when called, so register() still works.
        self._decoder = json.JSONDecoder(object_hook=self.serializer.untag)

    def dumps(self, data: dict[str, Any]) -> str:
        # Flask's default for what has no tag (Decimal, dataclasses, dates): as its cookie.
        tagged = self.serializer.tag(data)
        default = DefaultJSONProvider.default
        return json.dumps(tagged, separators=(",", ":"), sort_keys=True, default=default)

    def loads(self, text: str | bytes) -> dict[str, Any]:
        # One pass: json calls the hook bottom-up on every object, as Flask's scan does.
        return self._decoder.decode(text if isinstance(text, str) else text.decode())

    def revive(self, parsed: Any) -> Any:
        """Untag JSON already parsed (Redis lists many records with one ``json.loads``)."""
        if isinstance(parsed, dict):
            return self.serializer.untag({key: self.revive(v) for key, v in parsed.items()})
        if isinstance(parsed, list):
            return [self.revive(item) for item in parsed]
        return parsed
