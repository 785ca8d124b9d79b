"""The two HTTP details the session interface touches on every request, kept cheap: reading
the session cookie's values and adding ``Vary: Cookie``."""

from __future__ import annotations

from flask import Request, Response
from werkzeug.sansio.http import parse_cookie


def request_cookies(request: Request, name: str) -> list[str]:
    """Every value of the request's cookie ``name``, as ``request.cookies`` has them. Unless
    something has read ``request.cookies`` already, the header is parsed straight from the
    environ: ``request.cookies`` first builds a view of every header, which on the hot path
    cost more than verifying the cookie's signature."""
    cookies = request.__dict__.get("cookies")  # werkzeug's cached_property, when read
    if cookies is None:
        cookies = parse_cookie(request.environ.get("HTTP_COOKIE"))
    values: list[str] = cookies.getlist(name)
    return values


def vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to ``Vary``, once. Most responses have no Vary yet, and setting the
    header then costs three quarters of going through ``response.vary``, on every
    request that reads the session. ``"Vary" in headers`` would raise and catch a
    KeyError when it is absent: a loop over the few headers costs less."""
    for key, _ in response.headers:
        if key.lower() == "vary":
            response.vary.add("Cookie")
            return
    response.headers["Vary"] = "Cookie"
