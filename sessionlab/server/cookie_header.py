"""The two HTTP details the session interface touches on every request, kept cheap: reading
the session cookie's values and adding ``Vary: Cookie``."""

from __future__ import annotations

import functools

from flask import Request, Response
from werkzeug.sansio.http import parse_cookie

SPACE = " \t"  # the whitespace Werkzeug's cookie parser ignores around names and values


def request_cookies(request: Request, name: str) -> list[str]:
    """Every value of the request's cookie ``name``, as ``request.cookies`` has them.

    Unless something has read ``request.cookies`` already, the header is read straight from
    the environ (``request.cookies`` first builds a view of every header), and a plain one,
    ASCII without quotes, is split on ``;`` and ``=`` by Werkzeug's rules (space and tab
    around a name or value are dropped; a pair with either inside is skipped), in a fifth of
    its parser's time; tests/test_cookie_header.py checks it against random headers.

    >>> from werkzeug.test import EnvironBuilder
    >>> request = EnvironBuilder(headers={"Cookie": "a=1; sid = x.y ;b; sid=p q"}).get_request()
    >>> request_cookies(request, "sid"), request_cookies(request, "b")
    (['x.y'], [''])
    """
    cookies = request.__dict__.get("cookies")  # werkzeug's cached_property, when read
    if cookies is not None:
        values: list[str] = cookies.getlist(name)
        return values
    header = request.environ.get("HTTP_COOKIE", "")
    if name not in header:
        return []
    # Quoted values, WSGI's Latin-1 to decode, a name Werkzeug's parser would never match:
    if '"' in header or not header.isascii() or not plain_name(name):
        return parse_cookie(header).getlist(name)
    found = []
    for pair in header.split(";"):
        key, _, value = pair.partition("=")
        if key.strip(SPACE) == name:
            value = value.strip(SPACE)
            if " " not in value and "\t" not in value:
                found.append(value)
    return found


@functools.lru_cache(maxsize=64)
def plain_name(name: str) -> bool:
    """A cookie name the split finds as Werkzeug does: not empty, and none of space, tab,
    ``=``, ``;`` or ``"`` (Werkzeug's parser never yields such a name).

    >>> plain_name("session"), plain_name("s id"), plain_name("")
    (True, False, False)
    """
    return bool(name) and not any(c in name for c in ' \t=;"')


def vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to ``Vary``, once. Most responses have no Vary yet, and setting the
    header then costs three quarters of going through ``response.vary``, on every
    request that reads the session. ``"Vary" in headers`` would raise and catch a
    KeyError when it is absent: a loop over the few headers costs less."""
    for key, _ in response.headers:
        if key.lower() == "vary":
            response.vary.add("Cookie")
            return
    response.headers.add("Vary", "Cookie")  # none yet: no need for set()'s search
