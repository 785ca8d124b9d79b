"""A session cookie's parts side by side, as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formats import CookieAnatomy, Row
from .reading import decode_cookie

if TYPE_CHECKING:  # pandas loads with the first table: the server never draws one
    import pandas as pd

ANATOMY_COLUMNS = ["part", "raw", "decoded", "meaning"]


def anatomy_frame(value: str | CookieAnatomy) -> pd.DataFrame:
    """A cookie's parts side by side: the raw text, what it decodes to, what it is for.

    Each raw part keeps the separator before it, so the raw column joined is the value.

    >>> from sessionlab.cookies import sign_express
    >>> frame = anatomy_frame(sign_express("abc", "some secret key"))
    >>> frame["part"].tolist(), frame["raw"].tolist()[:2]
    (['prefix', 'session id', 'signature'], ['s:', 'abc'])
    """
    anatomy = value if isinstance(value, CookieAnatomy) else decode_cookie(value)
    cookie_format = anatomy.format
    rows: list[Row] = (
        cookie_format.rows(anatomy)
        if cookie_format is not None
        else [("value", anatomy.value, "", anatomy.problem)]
    )
    from ..labframe import LabFrame

    return LabFrame(rows, columns=ANATOMY_COLUMNS)
