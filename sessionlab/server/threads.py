"""A lab server in a daemon thread of this process, as pytest-httpserver runs one.

Werkzeug's server is bound to port 0 (the kernel picks a free port), served from a daemon
thread, shut down and joined on ``stop()``. Its access log and the security events its app
logs are kept on the runner instead of in cell output. Its connections are bounded
(connections.py): idle ones wait without a thread, a fixed pool of threads serves requests,
and a TLS handshake happens on that pool, with a timeout, never in the accept loop.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import socket
import ssl
import threading
from collections import deque
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from ..errors import PortInUseError
from .connections import Address, DaemonPool, WaitingRoom
from .events import EventList, one_line
from .limits import Limits
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
    """Werkzeug's server for ``app`` in a daemon thread, on ``port`` (0: any free).

    ``events_from``: the logger name whose records become this server's events.
    ``limits``: the bounds on its threads and connections (see limits.py).
    """

    pids: list[int] = []  # requests are served by threads of this process

    def __init__(
        self,
        app: Flask,
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        events_from: str | None = None,
        limits: Limits | None = None,
        host: str = HOST,
    ) -> None:
        self.app, self.tls, self.limits, self.host = app, tls, limits or Limits(), host
        self.access_log: deque[str] = deque(maxlen=ACCESS_LOG_LINES)
        self._server, self._thread = self._serve_on(port)
        self.scheme = "https" if tls else "http"
        self.port: int = self._server.port
        self._events: list[str] = []
        self._events_handler = EventList(self._events)
        self._logger = logging.getLogger(events_from) if events_from else None

    def _serve_on(self, port: int) -> tuple[BoundedServer, threading.Thread]:
        listening = listen(port, self.host)
        try:
            server = BoundedServer(self.app, listening, tls=self.tls, limits=self.limits)
        finally:
            listening.close()  # Werkzeug holds its own duplicate of the socket
        server.access_log = self.access_log
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() is noticed
            name=f"sessionlab:{server.port}",
            daemon=True,
        )
        return server, thread

    def start(self) -> ThreadRunner:
        if self._logger is not None:
            self._logger.addHandler(self._events_handler)
            self._logger.propagate = False  # kept here, not printed into a notebook's cells
        self._thread.start()  # the socket already listens: requests queue until it accepts
        return self

    def restart(self) -> None:
        """Stop serving, then serve the same app on the same port again."""
        self._shutdown()
        self._server, self._thread = self._serve_on(self.port)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def events(self) -> list[str]:
        return list(self._events)

    def note(self, message: str) -> None:
        """Add an event of the handle's own (a fault it caused) in its place in time."""
        self._events.append(one_line(message))

    def stop(self) -> None:
        self._shutdown()
        if self._logger is not None:
            self._logger.removeHandler(self._events_handler)

    def _shutdown(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


class BoundedServer(BaseWSGIServer):
    """Werkzeug's WSGI server with bounded connections and threads (see connections.py)."""

    multithread = True  # what the app reads in wsgi.multithread; HTTP/1.1 keep-alive

    def __init__(
        self, app: Flask, listening: socket.socket, *, tls: ssl.SSLContext | None, limits: Limits
    ) -> None:
        handler = type("Handler", (_QuietHandler,), {"timeout": limits.idle})
        host, port = listening.getsockname()[:2]
        super().__init__(host, port, app, handler=handler, fd=listening.fileno())
        if tls is not None:  # the handshake happens on a pool thread, not in accept()
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
            self.ssl_context = tls
        self.access_log: deque[str] = deque(maxlen=ACCESS_LOG_LINES)
        self._serving: set[socket.socket] = set()  # connections a thread is serving now
        self._serving_lock = threading.Lock()
        name = f"sessionlab:{port}"
        self._pool = DaemonPool(limits.threads, name)
        self._room = WaitingRoom(
            self._dispatch, most=waiting_most(limits), idle=limits.idle, name=name
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        """Called by the accept loop: the connection waits for its first bytes, no thread."""
        self._room.add(request, client_address)

    def _dispatch(self, request: socket.socket, address: Address) -> None:
        self._pool.submit(lambda: self._serve(request, address))

    def _serve(self, request: socket.socket, address: Address) -> None:
        with self._serving_lock:
            self._serving.add(request)
        try:
            self.finish_request(request, address)
        except Exception:
            self.handle_error(request, address)
        finally:
            with self._serving_lock:
                self._serving.discard(request)
            self.shutdown_request(request)

    def server_close(self) -> None:
        """Stop accepting, close waiting connections, and end the ones being served (a
        stopped server must not go on answering kept-alive connections)."""
        super().server_close()
        if not hasattr(self, "_room"):  # Werkzeug's __init__ closes a first socket of its own
            return
        self._room.close()
        self._pool.close()
        with self._serving_lock:
            serving = list(self._serving)
        for connection in serving:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def waiting_most(limits: Limits) -> int:
    """Connections allowed to wait: the setting, within half the process's file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, min(limits.connections, soft // 2 if soft > 0 else limits.connections))


class _QuietHandler(WSGIRequestHandler):
    """Keeps Werkzeug's access log on the runner instead of printing it; over TLS, does the
    handshake here, under the socket's timeout (``Limits.idle``)."""

    handshake_failed = False

    def setup(self) -> None:
        super().setup()  # applies the timeout
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ValueError) as error:  # a timeout, a reset, not TLS at all
                self.handshake_failed = True
                self.log("info", "TLS handshake failed: %s", error)

    def handle(self) -> None:
        if not self.handshake_failed:
            super().handle()

    def log(self, type: str, message: str, *args: Any) -> None:
        line = one_line(f"{self.address_string()} {message % args}")
        self.server.access_log.append(line)  # type: ignore[attr-defined]
