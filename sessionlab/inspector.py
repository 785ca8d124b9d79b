"""A live session inspector for JupyterLab: click through the cycle, watch both halves change.

``sl.inspector(lab)`` shows buttons for the seed's steps (set, view, logout), two attacks
(replay the cookie kept before the last logout; tamper with one character of it) and
toggles that restart the lab with other options (store, HttpOnly, SameSite, rolling).
After each click it redraws three things: the client's jar, the server's records and the
last exchange as HTTP text. It is built on ipywidgets, so it works in JupyterLab and VS Code;
where no widget can be drawn (nbconvert, a plain terminal) it shows the same three things as
static tables.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-inspector") as lab:
...     panel = sl.inspector(lab)
...     panel.click("set")
...     panel.client.exchanges[-1].path, len(panel.lab.store.all())
('/user/alice', 1)
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pandas as pd

from .cookies import decode_cookie
from .crack import tamper
from .diagrams import wire
from .errors import ConfigError, ServiceMissingError
from .labframe import LabFrame
from .routes import Routes
from .server.config import CookieOptions, LabConfig
from .server.handle import LabServer
from .server.launch import start
from .tables import cookies_frame, store_frame

STORES = ["memory", "sqlite", "redis", "cookie"]
SAMESITE = ["Lax", "Strict", "None", "(none)"]
ACTIONS = ("set", "view", "logout", "replay", "tamper")
VALUE_CHARS = 14  # a cookie value shown this long: its start names it, the rest is noise


def inspector(lab: LabServer, user: str = "alice") -> Inspector:
    """A live inspector of ``lab`` (a server started by ``sl.start`` on the seed's routes)."""
    return Inspector(lab, user)


class Inspector:
    """The widget and what it drives: a lab, a recording client, the last exchange."""

    def __init__(self, lab: LabServer, user: str = "alice") -> None:
        if lab.routes.login != Routes().login:
            raise ConfigError(
                "the inspector drives the seed's routes (GET /user/NAME, /user, /logout): "
                "start the lab with profile='seed'"
            )
        self.lab = lab
        self.user = user
        self.client = lab.client()
        self.kept: str | None = None  # the session cookie as it was before the last logout
        self.message = ""
        self._widgets: Any = None

    # -- what the buttons do -----------------------------------------------------------

    def click(self, action: str) -> None:
        """Do what a button does ("set", "view", "logout", "replay", "tamper"), redraw."""
        steps: dict[str, Callable[[], None]] = {
            "set": lambda: self._get(f"/user/{quote(self.user, safe='')}", "set"),
            "view": lambda: self._get("/user", "view"),
            "logout": self._logout,
            "replay": self._replay,
            "tamper": self._tamper,
        }
        if action not in steps:
            raise ConfigError(f"unknown action {action!r}: choose one of {', '.join(ACTIONS)}")
        self.message = ""
        steps[action]()
        self.redraw()

    def _get(self, path: str, label: str) -> None:
        self.client.get(path, label=label)

    def _session_cookie(self) -> str | None:
        return next((c.value for c in self.client.jar() if c.name == self.lab.cookie_name), None)

    def _logout(self) -> None:
        self.kept = self._session_cookie() or self.kept
        self._get("/logout", "logout")

    def _replay(self) -> None:
        """Send the cookie kept before the last logout, as a thief who copied it would."""
        if self.kept is None:
            self.message = "nothing to replay: set a name, then log out first"
            return
        self._plant(self.kept)
        self._get("/user", "replay")
        self.message = "replayed the cookie from before the logout"

    def _tamper(self) -> None:
        """Change one character of the session cookie (its id or payload), then view."""
        current = self._session_cookie()
        if current is None:
            self.message = "no session cookie to tamper with: set a name first"
            return
        self._plant(tamper(current))
        self._get("/user", "tamper")
        self.message = "changed one character of the cookie"

    def _plant(self, value: str) -> None:
        self.client.cookies.set(self.lab.cookie_name, value, domain="127.0.0.1", path="/")

    # -- the toggles -----------------------------------------------------------------

    def restart(
        self,
        *,
        store: str | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
        rolling: bool | None = None,
    ) -> None:
        """Start the lab again under the same name with other options; a new visitor."""
        config = self._config()
        cookie = config.cookie
        site = cookie.samesite if samesite is None else None if samesite == "(none)" else samesite
        options = CookieOptions(
            httponly=cookie.httponly if httponly is None else httponly,
            secure=cookie.secure or site == "None",  # browsers drop SameSite=None without it
            samesite=site,  # type: ignore[arg-type]  # one of SAMESITE
            path=cookie.path,
            max_age=cookie.max_age,
        )
        kind = store or str(config.store)
        self.lab = start(
            kind,
            name=self.lab.name,
            secret=list(config.secrets),
            cookie=options,
            rolling=(config.rolling if rolling is None else rolling) and kind != "cookie",
        )
        self.client = self.lab.client()
        self.kept = None
        self.message = f"restarted: {self.lab!r}"
        self.redraw()

    def _config(self) -> LabConfig:
        state = getattr(self.lab.app, "extensions", {}).get("sessionlab")
        if state is None:
            raise ConfigError("the inspector restarts labs started by sl.start() in this kernel")
        config: LabConfig = state.config
        return config

    # -- what it shows ---------------------------------------------------------------

    def jar(self) -> pd.DataFrame:
        """The client's cookies, values shortened (``panel.client.jar()`` has them whole)."""
        frame = cookies_frame(self.client)[["name", "value", "HttpOnly", "SameSite", "expires"]]
        return frame.assign(value=frame["value"].map(short))

    def records(self) -> pd.DataFrame:
        """The server's records, ids shortened; what a cookie session holds, decoded."""
        if self.lab.store.kind == "cookie":
            value = self._session_cookie()
            payload = decode_cookie(value).payload if value else ""
            note = "(nothing: the session is in the cookie)"
            return pd.DataFrame({"id": [note], "data": [payload], "expires_in": [""]})
        frame = store_frame(self.lab.store)[["id", "data", "expires_in"]]
        return frame.assign(id=frame["id"].map(short))

    def last_exchange(self) -> str:
        return (
            str(wire(self.client.exchanges[-1])) if self.client.exchanges else "(no request yet)"
        )

    def _repr_html_(self) -> str:
        """The three views as static HTML, for where no widget can be drawn."""
        return (
            f"<p>{html.escape(repr(self.lab))}</p>"
            f"<h4>client holds</h4>{table(self.jar(), '(no cookie)')}"
            f"<h4>server holds</h4>{table(self.records(), '(nothing)')}"
            f"<h4>last exchange</h4><pre>{html.escape(self.last_exchange())}</pre>"
        )

    def __repr__(self) -> str:
        return f"<Inspector of {self.lab!r}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget where a frontend draws widgets, the static tables as well."""
        bundle = {"text/plain": repr(self), "text/html": self._repr_html_()}
        try:
            widget = self.widget()
        except ServiceMissingError:
            return bundle
        return {**widget._repr_mimebundle_(**kwargs), **bundle}

    # -- the widget ------------------------------------------------------------------

    def widget(self) -> Any:
        """The ipywidgets box (made once): buttons, toggles and three live views."""
        if self._widgets is None:
            self._widgets = _Widgets(self)
        return self._widgets.box

    def redraw(self) -> None:
        if self._widgets is not None:
            self._widgets.redraw()


def short(value: str) -> str:
    """A long random value cut to its start, so the columns beside it stay on screen.

    >>> short("Mi53kzSQjXEehvcDH1p5rtQr95DAlPP1ShvDLkCBkgU.xqRLllFQhUm0iByuofwnIA")
    'Mi53kzSQjXEehv…'
    """
    return value if len(value) <= VALUE_CHARS else value[:VALUE_CHARS] + "…"


def table(frame: pd.DataFrame, empty: str) -> str:
    """A view's HTML: the frame as LabFrame shows it (durations in words, no index)."""
    return LabFrame(frame)._repr_html_() if len(frame) else f"<i>{html.escape(empty)}</i>"


class _Widgets:
    """The ipywidgets side: built only when a frontend asks for the widget."""

    def __init__(self, panel: Inspector) -> None:
        try:
            import ipywidgets as w
        except ImportError as error:
            raise ServiceMissingError(
                "the live inspector needs ipywidgets: pip install 'sessionlab[lab]'"
            ) from error
        self.panel = panel
        self.name = w.Text(value=panel.user, description="name", layout={"width": "220px"})
        self.name.observe(lambda change: setattr(panel, "user", change["new"]), names="value")
        buttons = []
        for action in ACTIONS:
            button = w.Button(description=action, layout={"width": "90px"})
            button.on_click(lambda _button, action=action: panel.click(action))
            buttons.append(button)
        config = panel._config()
        self.store = w.Dropdown(options=STORES, value=str(config.store), description="store")
        self.httponly = w.Checkbox(value=config.cookie.httponly, description="HttpOnly")
        samesite = config.cookie.samesite or "(none)"
        self.samesite = w.Dropdown(options=SAMESITE, value=samesite, description="SameSite")
        self.rolling = w.Checkbox(value=config.rolling, description="rolling")
        for toggle in (self.store, self.httponly, self.samesite, self.rolling):
            toggle.observe(self._restart, names="value")
        self.views = [w.HTML() for _ in range(3)]
        self.status = w.HTML()
        titles = ["client holds (the jar)", "server holds (the store)", "last exchange"]
        jar, records, last = (
            w.VBox([w.HTML(f"<b>{t}</b>"), view], layout={"margin": "0 32px 8px 0"})
            for t, view in zip(titles, self.views, strict=True)
        )
        # The two halves side by side, the exchange under them: all three side by side would
        # not fit beside JupyterLab's file browser on a laptop screen.
        self.box = w.VBox(
            [
                w.HBox([self.name, *buttons]),
                w.HBox([self.store, self.samesite, self.httponly, self.rolling]),
                self.status,
                w.HBox([jar, records], layout={"flex_flow": "row wrap"}),
                last,
            ]
        )
        self.redraw()

    def _restart(self, _change: dict[str, Any]) -> None:
        self.panel.restart(
            store=self.store.value,
            httponly=self.httponly.value,
            samesite=self.samesite.value,
            rolling=self.rolling.value,
        )

    def redraw(self) -> None:
        panel = self.panel
        jar, records = panel.jar(), panel.records()
        self.views[0].value = table(jar, "(no cookie)")
        self.views[1].value = table(records, "(nothing)")
        self.views[2].value = f"<pre>{html.escape(panel.last_exchange())}</pre>"
        self.status.value = f"<i>{html.escape(panel.message)}</i>" if panel.message else ""
