"""The seed's other uses of a session: a shopping cart, and the way back after logging in.

* ``/cart/add/<item>`` puts an item in the cart, ``/cart`` shows it. Adding reads the cart,
  looks the item up, and writes the cart back: two such requests of one session at once
  race, and without ``lock=True`` one item can be lost.
* ``/private`` needs a logged-in user; without one it redirects to ``/login?next=/private``,
  and logging in sends you back there. ``next`` is followed only to a path on this site, never
  to another host (an open redirect would let a phishing link borrow this site's name).

>>> from sessionlab.server.app import create_app
>>> client = create_app(store="memory", secret="x" * 64).test_client()
>>> client.get("/private").headers["Location"]
'/login?next=/private'
>>> client.post("/login?next=/private", data={"user": "alice"}).headers["Location"]
'/private'
>>> client.get("/private").get_data(as_text=True)
'<p>Welcome to your private page, alice.</p>'
"""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from flask import Flask, redirect, request, session, url_for
from markupsafe import escape
from werkzeug.wrappers import Response

from .sessions import ServerSession

# A real shop looks the item up (price, stock) between reading and writing the cart; this
# pause stands in for that query, and is what gives two concurrent additions time to race.
CATALOGUE_LOOKUP_SECONDS = 0.005

LOGIN_FORM = (
    '<form method="post" action="{action}">'
    '<label>Name <input name="user" autofocus></label> <button>Log in</button></form>'
)


def register_shop_routes(app: Flask) -> None:
    """Add the cart and the login-redirect routes to a session server."""

    @app.get("/cart/add/<item>", endpoint="shop_cart_add")
    def cart_add(item: str) -> str:
        cart = list(session.get("cart", []))
        time.sleep(CATALOGUE_LOOKUP_SECONDS)
        session["cart"] = [*cart, item]
        return f'<p>Added {escape(item)}: {len(cart) + 1} in your <a href="/cart">cart</a></p>'

    @app.get("/cart", endpoint="shop_cart")
    def cart() -> str:
        items = session.get("cart", [])
        if not items:
            return "<p>Your cart is empty.</p>"
        listed = "".join(f"<li>{escape(item)}</li>" for item in items)
        return f"<p>{len(items)} in your cart:</p><ul>{listed}</ul>"

    @app.get("/private", endpoint="shop_private")
    def private() -> str | Response:
        if "name" not in session:
            return redirect(
                f"{url_for('shop_login')}?{urlencode({'next': request.path}, safe='/')}"
            )
        return f"<p>Welcome to your private page, {escape(session['name'])}.</p>"

    @app.route("/login", methods=["GET", "POST"], endpoint="shop_login")
    def login() -> str | Response | tuple[str, int]:
        back = safe_next(request.args.get("next"))
        if request.method == "GET":
            return LOGIN_FORM.format(action=escape(request.full_path.rstrip("?")))
        name = request.form.get("user", "").strip()  # the field 05's hardened login uses
        if not name:
            return LOGIN_FORM.format(action=escape(request.full_path.rstrip("?"))), 400
        if isinstance(session, ServerSession):
            session.regenerate()  # a new id at login: an id planted before it is worth nothing
        session["name"] = name
        return redirect(back)


def safe_next(target: str | None, default: str = "/user") -> str:
    """``target`` when it is a path on this site, else ``default``.

    >>> safe_next("/private")
    '/private'
    >>> safe_next("//evil.example/x"), safe_next("https://evil.example/"), safe_next(None)
    ('/user', '/user', '/user')
    >>> safe_next("/a" + chr(13) + chr(10) + "Set-Cookie: evil=1")  # CR LF: a new header
    '/user'
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if not target.isprintable():  # CR/LF would split the Location header (and be a 500)
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target
