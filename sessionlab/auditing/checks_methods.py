"""Checks on how login and logout are reached: not by GET, and not without a CSRF token.

A GET that logs in or out can be triggered by any site the victim visits, through a link
or a redirect: a cross-site top-level navigation carries a SameSite=Lax cookie (and one
without SameSite, which Chromium treats as Lax) and its Set-Cookie is stored. An ``<img>``
is *not* enough: a cross-site image request carries no Lax cookie and its Set-Cookie is
refused (REFERENCE.md section 4, checked in Chromium). A POST without an anti-forgery
token can be sent by any site's form; SameSite=Lax stops the cookie going with it, except
that Chromium sends a cookie without SameSite on a cross-site top-level POST during its
first 2 minutes.
"""

from __future__ import annotations

from .finding import Finding, verdict
from .target import Aliases, Route, Target, evidence


def _as_get(route: Route) -> Route:
    """The route sent as a GET, its form fields in the query string, no token fetched."""
    return Route("GET", route.path, route.form)


def check_login_not_get(target: Target) -> Finding:
    """A fresh visitor GETs the login URL: is anyone logged in afterwards?"""
    client = target.client()
    target.send(client, _as_get(target.routes.login))
    logged_in = target.logged_in(client)
    observed = f"GET {target.routes.login.fill(target.victim)[0]} " + (
        "logs the user in" if logged_in else "logs nobody in"
    )
    return Finding(
        "login not GET",
        verdict(not logged_in),
        observed,
        evidence(client.exchanges, target.cookie_name, Aliases()),
    )


def check_logout_not_get(target: Target) -> Finding:
    """A logged-in visitor GETs the logout URL: is the session still there?"""
    client = target.client()
    target.login(client)
    start = len(client.exchanges)
    target.send(client, _as_get(target.routes.logout))
    still_in = target.logged_in(client)
    observed = f"GET {target.routes.logout.path} " + (
        "leaves the session alone" if still_in else "logs the user out"
    )
    return Finding(
        "logout not GET",
        verdict(still_in),
        observed,
        evidence(client.exchanges[start:], target.cookie_name, Aliases()),
    )


def check_csrf_token(target: Target) -> Finding:
    """Send login and logout with every field but the CSRF token: both must be refused."""
    aliases = Aliases()
    visitor = target.client()
    if target.routes.login.token_from:
        visitor.get(target.routes.login.token_from)  # a visitor with a session, as a victim has
    start = len(visitor.exchanges)
    target.send(visitor, target.routes.login, token=False)
    login_forged = target.logged_in(visitor)
    shown = visitor.exchanges[start:]
    member = target.client()
    target.login(member)
    start = len(member.exchanges)
    target.send(member, target.routes.logout, token=False)
    logout_forged = not target.logged_in(member)
    if not login_forged:
        shown = member.exchanges[start:]
    forged = [what for what, done in (("login", login_forged), ("logout", logout_forged)) if done]
    observed = (
        "without a token, " + " and ".join(forged) + (" work" if len(forged) > 1 else " works")
        if forged
        else "without a token, login and logout are refused"
    )
    return Finding(
        "CSRF token",
        verdict(not forged),
        observed,
        evidence(shown, target.cookie_name, aliases),
    )
