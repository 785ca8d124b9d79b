"""Hostile and broken servers for the client's and the audit's bounds: raw sockets on 127.0.0.1
that answer with an endless body, one byte at a time, or bytes that are not HTTP."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
LOGIN_COOKIE = b"Set-Cookie: sid=abc; Path=/; HttpOnly\r\n"

Behaviour = Callable[[socket.socket, threading.Event], None]


@contextlib.contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[str]:
    """Serve ``behaviour(connection, stop)`` to every connection; yield the base URL.

    Every loop of a behaviour checks ``stop``, so leaving the block ends them all.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=serve, args=(connection,), daemon=True)
            thread.start()
            threads.append(thread)

    def serve(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.settimeout(1.0)
            with contextlib.suppress(OSError):
                connection.recv(65536)  # the request, whatever it is
            behaviour(connection, stop)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(2)
        for thread in threads:
            thread.join(2)
        listener.close()


def endless_body(connection: socket.socket, stop: threading.Event) -> None:
    """A chunked body that never ends, as fast as the client reads it."""
    connection.sendall(HEAD + LOGIN_COOKIE + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    while not stop.is_set():
        connection.sendall(chunk)


def slow_drip_body(connection: socket.socket, stop: threading.Event) -> None:
    """Headers at once, then a body of one byte every 0.2 s that would take minutes."""
    connection.sendall(HEAD + LOGIN_COOKIE + b"Content-Length: 100000\r\n\r\n")
    while not stop.is_set():
        connection.sendall(b"x")
        time.sleep(0.2)


def slow_drip_headers(connection: socket.socket, stop: threading.Event) -> None:
    """A status line, then one header byte every 0.2 s: the headers never end."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.is_set():
        connection.sendall(b"x")
        time.sleep(0.2)


def big_declared_body(connection: socket.socket, stop: threading.Event) -> None:
    """A Content-Length far over any sensible limit (the body itself never comes)."""
    connection.sendall(HEAD + b"Content-Length: 10000000000\r\n\r\n")
    stop.wait(5)


def garbage(connection: socket.socket, stop: threading.Event) -> None:
    """Bytes that are not HTTP at all (a different protocol on the port)."""
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02garbage\r\n\r\n")


def silent_close(connection: socket.socket, stop: threading.Event) -> None:
    """Read the request and close without a word."""
