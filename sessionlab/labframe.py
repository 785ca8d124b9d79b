"""LabFrame: a pandas DataFrame that shows itself the way a learner reads a table.

The data stay whole: ``frame["value"]`` is the full cookie value, ``frame["expires_in"]`` a
Timedelta. Only the display changes, in a notebook (HTML) and in a terminal (text):

* no index column (the tables carry their own ``step`` or ``name``);
* long random tokens (ids, signatures) cut to their start ("Mi53kzSQjXEe…") wherever they
  appear in a cell, so the attributes beside them stay on a laptop screen (in a terminal,
  long text is also cut after 100 characters; in a notebook it wraps);
* durations in words ("30 min", "7 days 2 h"), never ``0 days 00:30:00``;
* in HTML, a line may break after ``=``, ``+``, ``,`` and ``/`` inside a value
  (``sid=id1+signature``), so that columns narrow to fit the cell instead of pushing the
  table past the screen's edge (a ``<wbr>``, which copying the text leaves out).

>>> frame = LabFrame({"value": ["x" * 60], "left": [pd.Timedelta(minutes=30)]})
>>> print(frame)
value         left
xxxxxxxxxxxx… 30 min
>>> len(frame.loc[0, "value"])  # the data are whole
60
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd

# A run of token characters this long is a random value (an id, a signature, a payload):
# its first characters name it well enough, and the rest would push the columns off screen.
TOKEN = re.compile(r"[A-Za-z0-9_\-.%+/]{25,}")
TOKEN_SHOWN = 12
TEXT_SHOWN = 100
# In an HTML cell, after these characters and before anything but a space, a line may break.
BREAK_AFTER = re.compile(r"(?<=[=+,/])(?=[^\s<])")
CELL = re.compile(r"(<td>)(.*?)(</td>)", re.DOTALL)


class LabFrame(pd.DataFrame):
    """A DataFrame shown without its index, long values cut, durations in words.

    ``frame.plain()`` is the same data as a plain DataFrame, for pandas' own display.
    """

    @property
    def _constructor(self) -> Any:  # slices and copies stay LabFrames
        return LabFrame

    def plain(self) -> pd.DataFrame:
        """The same data as a plain DataFrame (pandas' own display, index and all)."""
        return pd.DataFrame(self)

    def shown(self, limit: int | None = TEXT_SHOWN) -> pd.DataFrame:
        """The frame as displayed: every cell as text (cut after ``limit`` characters);
        past pandas' ``display.max_rows``, the first and last rows only, as pandas shows a
        long frame."""
        rows: pd.DataFrame = self
        if len(self) > pd.get_option("display.max_rows"):
            half = max(1, (pd.get_option("display.min_rows") or 10) // 2)
            rows = pd.concat([self.head(half), self.tail(half)])
        columns = {
            name: [display_value(value, limit) for value in rows[name]] for name in self.columns
        }
        return pd.DataFrame(columns, columns=self.columns)

    def _rows_note(self) -> str:
        if len(self) <= pd.get_option("display.max_rows"):
            return ""
        return f"({len(self):,} rows; the first and last shown)"

    def __repr__(self) -> str:
        if self.empty:
            return f"(no rows; columns: {', '.join(map(str, self.columns))})"
        shown = self.shown()
        header = [str(name) for name in shown.columns]
        widths = [
            max([len(name), *(len(cell) for cell in shown[column])])
            for name, column in zip(header, shown.columns, strict=True)
        ]
        lines = [
            " ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
            for cells in [header, *shown.itertuples(index=False, name=None)]
        ]
        note = self._rows_note()
        return "\n".join([*lines, note] if note else lines)

    def _repr_html_(self) -> str:
        if self.empty:
            return f"<p><i>{html.escape(repr(self))}</i></p>"
        # In HTML long text wraps in its cell; only unbreakable tokens need cutting.
        table = with_breaks(self.shown(limit=None).to_html(index=False, border=0))
        note = self._rows_note()
        return table + (f"<p><i>{note}</i></p>" if note else "")


def with_breaks(table: str) -> str:
    """Break opportunities in the values of an HTML table (its headers wrap at spaces).

    >>> with_breaks("<tr><th>a=b</th><td>sid=id1+signature</td><td>x = 1</td></tr>")
    '<tr><th>a=b</th><td>sid=<wbr>id1+<wbr>signature</td><td>x = 1</td></tr>'
    """
    return CELL.sub(lambda m: m[1] + BREAK_AFTER.sub("<wbr>", m[2]) + m[3], table)


def display_value(value: Any, limit: int | None = TEXT_SHOWN) -> str:
    """One cell as text: durations in words, random tokens cut, text past ``limit`` cut.

    >>> display_value(pd.Timedelta(seconds=90)), display_value(pd.NaT), display_value(True)
    ('1 min 30 s', 'never', 'True')
    >>> display_value("s=" + "k" * 43 + "; Path=/; HttpOnly")
    's=kkkkkkkkkkkk…; Path=/; HttpOnly'
    """
    if isinstance(value, pd.Timedelta) or value is pd.NaT:
        return duration(value)
    text = value if isinstance(value, str) else str(value)
    text = TOKEN.sub(lambda token: token.group()[:TOKEN_SHOWN] + "…", text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def duration(value: pd.Timedelta | Any) -> str:
    """A duration in the two largest units a person would say.

    >>> duration(pd.Timedelta(minutes=30)), duration(pd.Timedelta(days=31, hours=2))
    ('30 min', '31 days 2 h')
    >>> duration(pd.Timedelta(seconds=-5)), duration(pd.Timedelta(0))
    ('-5 s', '0 s')
    """
    if value is pd.NaT or value is None:
        return "never"
    seconds = value.total_seconds()
    if not math.isfinite(seconds):
        return "never"
    sign, seconds = ("-" if seconds < 0 else ""), abs(round(seconds))
    parts = []
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {'day' if unit == 'days' and count == 1 else unit}")
    return sign + " ".join(parts[:2]) if parts else "0 s"
