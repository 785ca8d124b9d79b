"""A lab server in a daemon thread of this process, as pytest-httpserver runs one.

Werkzeug's server is bound to port 0 (the kernel picks a free port), served from a daemon
thread, shut down and joined on ``stop()``. Its access log and the security events its app
logs are kept on the runner instead of in cell output.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections import deque
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..errors import PortInUseError
from .processes import HOST

ACCESS_LOG_LINES = 10_000


def listen(port: int, host: str = HOST) -> socket.socket:
    """A listening socket on 127.0.0.1 (or ``host``); a busy port gets a message naming the fix.

    Bound here rather than by Werkzeug, which prints and exits on a busy port. SO_REUSEADDR
    lets a server restart on the port it just left while old connections linger (TIME_WAIT).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise PortInUseError(
            f"cannot listen on {host}:{port} ({error.strerror}): "
            "pass port=0 to let the system pick a free port",
        ) from error
    return listening


class ThreadRunner:
    """Werkzeug's threaded server for ``app`` in a daemon thread, on ``port`` (0: any free).

    ``events_from``: the logger name whose records become this server's events.
    """

    pids: list[int] = []  # requests are served by threads of this process

    def __init__(
        self,
        app: Flask,
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        events_from: str | None = None,
        host: str = HOST,
    ) -> None:
        self.host = host
        listening = listen(port, host)
        try:
            self._server: BaseWSGIServer = make_server(
                host,
                listening.getsockname()[1],
                app,
                threaded=True,
                request_handler=_QuietHandler,
                ssl_context=tls,
                fd=listening.fileno(),
            )
        finally:
            listening.close()  # Werkzeug holds its own duplicate of the socket
        self.access_log: deque[str] = deque(maxlen=ACCESS_LOG_LINES)
        self._server.access_log = self.access_log  # type: ignore[attr-defined]  # read by the handler
        self.scheme = "https" if tls else "http"
        self.port: int = self._server.port
        self._events: list[str] = []
        self._events_handler = _ListHandler(self._events)
        self._logger = logging.getLogger(events_from) if events_from else None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() is noticed
            name=f"sessionlab:{port or self.port}",
            daemon=True,
        )

    def start(self) -> ThreadRunner:
        if self._logger is not None:
            self._logger.addHandler(self._events_handler)
        self._thread.start()  # the socket already listens: requests queue until it accepts
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def events(self) -> list[str]:
        return list(self._events)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        if self._logger is not None:
            self._logger.removeHandler(self._events_handler)


class _QuietHandler(WSGIRequestHandler):
    """Keeps Werkzeug's access log on the runner instead of printing it."""

    def log(self, type: str, message: str, *args: Any) -> None:
        line = f"{self.address_string()} {message % args}"
        self.server.access_log.append(line)  # type: ignore[attr-defined]


class _ListHandler(logging.Handler):
    """Collects the server's security events (rejected cookies) into a list."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())
