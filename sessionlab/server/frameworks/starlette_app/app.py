"""The seed's three routes on Starlette's SessionMiddleware (a signed cookie, no server store).

SESSIONLAB_SECRET_FILE: a 0600 JSON file holding the secret_key. Everything else is
SessionMiddleware's default: cookie "session", Max-Age 14 days, path=/, httponly,
samesite=lax, no secure. Served by granian (ASGI): ``app:app``. The name is echoed
unescaped, as the seed does.
"""

import json
import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import HTMLResponse
from starlette.routing import Route

with open(os.environ["SESSIONLAB_SECRET_FILE"], encoding="utf-8") as file:
    SECRET = json.load(file)


async def set_user(request):
    request.session["name"] = request.path_params["user"]
    return HTMLResponse('<p>Session Set: <a href="/user">View Here</a></p>')


async def show_user(request):
    name = request.session.get("name")
    if name:
        return HTMLResponse(name + '<br /><a href="/logout">Logout</a>')
    return HTMLResponse("user logged out!")


async def logout(request):
    request.session.clear()
    return HTMLResponse('<br />logged out!<br /><a href="/user">Check Session</a>')


app = Starlette(
    routes=[
        Route("/user/{user}", set_user),
        Route("/user", show_user),
        Route("/logout", logout),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
)
