"""The thread server's connections, bounded: a waiting room, then a fixed pool of threads.

Werkzeug's threaded server starts a thread for every connection the moment it is accepted,
and, over TLS, does the handshake in its one accept loop: 2,000 idle connections held 2,000
threads, and one idle connection (or three bytes of a ClientHello) stopped a TLS server
for as long as it stayed open. Here an accepted connection waits in a :class:`WaitingRoom`
(one selector, no thread) until its first bytes arrive; only then does a thread of a fixed
pool take it, and do the TLS handshake, with the socket's timeout. So:

* idle connections cost a file descriptor each, not a thread, and at most ``connections``
  wait at once (the oldest are closed to make room), each at most ``idle`` seconds;
* at most ``threads`` requests run at once; a request that cannot be read within ``idle``
  seconds (a slow client, an unfinished handshake) is dropped by the socket's timeout.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

Address = tuple[str, int]
Dispatch = Callable[[socket.socket, Address], None]


class WaitingRoom:
    """Connections that have not sent a byte yet, watched by one selector thread.

    >>> left, right = socket.socketpair()
    >>> taken = []
    >>> room = WaitingRoom(lambda conn, addr: taken.append(addr), most=8, idle=5)
    >>> room.add(left, ("127.0.0.1", 1)); _ = right.send(b"G")
    >>> time.sleep(0.2); taken
    [('127.0.0.1', 1)]
    >>> room.close(); left.close(); right.close()
    """

    def __init__(
        self, dispatch: Dispatch, *, most: int, idle: float, name: str = "sessionlab"
    ) -> None:
        self.dispatch = dispatch
        self.most = most
        self.idle = idle
        self._arrivals: queue.SimpleQueue[tuple[socket.socket, Address]] = queue.SimpleQueue()
        self._waiting: OrderedDict[socket.socket, tuple[Address, float]] = OrderedDict()
        self._selector = selectors.DefaultSelector()
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)
        self._selector.register(self._wake_in, selectors.EVENT_READ)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"{name}:waiting", daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, connection: socket.socket, address: Address) -> None:
        """Wait for the connection's first bytes, then hand it to ``dispatch``."""
        self._arrivals.put((connection, address))
        with contextlib.suppress(OSError):
            self._wake_out.send(b"\0")

    def close(self) -> None:
        """Stop watching; close every connection still waiting."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._wake_out.send(b"\0")
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._closed:
                for key, _ in self._selector.select(timeout=min(self.idle, 0.5)):
                    if key.fileobj is self._wake_in:
                        self._drain_wake()
                    else:
                        self._ready(key.fileobj)  # type: ignore[arg-type]
                self._admit()
                self._sweep(time.monotonic() - self.idle)
        finally:
            for connection in list(self._waiting):
                self._drop(connection)
            self._selector.close()
            self._wake_in.close()
            self._wake_out.close()

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_in.recv(4096):
                pass

    def _admit(self) -> None:
        while True:
            try:
                connection, address = self._arrivals.get_nowait()
            except queue.Empty:
                return
            while len(self._waiting) >= self.most:  # full: the longest-waiting goes
                self._drop(next(iter(self._waiting)))
            try:
                self._selector.register(connection, selectors.EVENT_READ)
            except (OSError, ValueError):  # closed by its client already
                connection.close()
                continue
            self._waiting[connection] = (address, time.monotonic())

    def _ready(self, connection: socket.socket) -> None:
        address, _ = self._waiting.pop(connection)
        self._selector.unregister(connection)
        self.dispatch(connection, address)

    def _sweep(self, arrived_before: float) -> None:
        """Close the connections that stayed silent longer than ``idle``."""
        while self._waiting:
            connection, (_, arrived) = next(iter(self._waiting.items()))
            if arrived > arrived_before:
                return
            self._drop(connection)

    def _drop(self, connection: socket.socket) -> None:
        self._waiting.pop(connection, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection)
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
        connection.close()


class DaemonPool:
    """At most ``size`` daemon threads, started as jobs need them.

    Daemons, as Werkzeug's are: a kernel or a test run never waits at exit for a client that
    keeps its connection open.

    >>> pool = DaemonPool(2, "doc")
    >>> done = threading.Event()
    >>> pool.submit(done.set); done.wait(2)
    True
    """

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = self._idle = self._pending = 0

    def submit(self, job: Callable[[], object]) -> None:
        with self._lock:
            self._pending += 1
            start = self._pending > self._idle and self._threads < self.size
            self._threads += start
        self._jobs.put(job)
        if start:
            name = f"{self.name}:{self._threads}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._pending -= job is not None
            if job is None:
                return
            job()

    def close(self) -> None:
        """Let every thread end once its current job is done."""
        with self._lock:
            threads = self._threads
            self._threads = 0
        for _ in range(threads):
            self._jobs.put(None)
