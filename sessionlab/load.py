"""load(): many clients running the seed's cycle at once, with faults injected on a schedule.

Each client is a thread with its own cookie jar that runs the tutorial's cycle (set a name,
view it, log out, view again) under its own names, and checks every answer against what it
should be, given what the server acknowledged before:

* after a set answered 200, the view must show that name; after a logout answered 200, it
  must show nobody. A view that shows nobody after an acknowledged set is a **lost** write
  (and so is a session that comes back after an acknowledged logout);
* a view that shows another client's name is a **crossed** session;
* a request that got no answer, or an answer that is not 2xx, is an **error**; a request
  that failed leaves the client unsure of what the server holds, so the next view may show
  either.

A run is bounded twice: in count (``cycles`` per client) and in time (no step starts after
``duration`` seconds, and each request has a ``deadline``); and it runs only against
``127.0.0.1``, the lab's own machine. ``faults`` run on a schedule during the run, from
another thread (``lab.kill_store``, ``lab.kill_worker``, ...): their moments are marked on
the plot.

>>> import sessionlab as sl
>>> with sl.start(store="memory", name="doc-load") as lab:
...     run = sl.load(lab, clients=2, cycles=3, progress=False)
>>> run.summary()[["requests", "errors", "lost", "crossed"]].tolist()
[24, 0, 0, 0]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd
import requests
from tqdm import tqdm

from .errors import ConfigError
from .transport import BoundedAdapter, Deadline

WORKER_HEADER = "X-Sessionlab-Worker"  # the lab's workers name themselves in each answer
MAX_CLIENTS = 64
MAX_CYCLES = 10_000
MAX_DURATION = 600.0
LOGGED_OUT = "user logged out!"
PAUSE_AFTER_ERROR = 0.1  # seconds a client waits after a request that failed
MAX_PAUSE = 2.0  # at most this long, whatever Retry-After asks
BAR = "{desc}: {percentage:3.0f}%|{bar:20}| {elapsed}{postfix}"
COLUMNS = [
    "client", "cycle", "step", "t", "latency_ms", "status", "worker", "saw", "expected",
    "outcome",
]  # fmt: skip

Fault = Callable[[], object]


@dataclass
class Client:
    """One simulated visitor: its session (cookie jar), and what it believes the server holds."""

    number: int
    url: str
    verify: bool | str
    deadline: float
    http: requests.Session = field(default_factory=requests.Session)
    holds: str | None = None  # the name the server should show; None: nobody
    sure: bool = True  # False after a request whose effect is unknown
    requests: int = 0  # sent so far, for the progress bar
    errors: int = 0
    cycles_done: int = 0

    def __post_init__(self) -> None:
        adapter = BoundedAdapter(max_body=64 * 1024)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.verify = self.verify


@dataclass
class LoadRun:
    """What a load run saw: ``frame`` (one row per request), ``faults`` (one row per fault),
    ``summary()`` and ``plot()``."""

    frame: pd.DataFrame
    faults: pd.DataFrame
    seconds: float
    clients: int

    def summary(self) -> pd.Series:
        """Throughput, latency percentiles and what went wrong, over the whole run."""
        return summarize(self.frame, self.seconds)

    def between(self, start: float, end: float) -> pd.Series:
        """The summary of the requests that ended (answered or failed) between ``start``
        and ``end`` seconds: a request cut short by a fault counts when it failed."""
        ended = self.frame["t"] + self.frame["latency_ms"] / 1000
        return summarize(self.frame[(ended >= start) & (ended < end)], end - start)

    def plot(self, ax: Any = None, title: str = "") -> Any:
        """Latency over time, one dot per request (coloured by outcome), faults marked."""
        from .load_plot import plot_run  # matplotlib only when a plot is asked for

        return plot_run(self, ax=ax, title=title)


def load(
    target: Any,
    *,
    clients: int = 8,
    cycles: int = 50,
    duration: float = 10.0,
    faults: Iterable[tuple[float, Fault]] | Mapping[float, Fault] = (),
    deadline: float = 5.0,
    verify: bool | str | None = None,
    keep_alive: bool = True,
    think: float = 0.0,
    progress: bool = True,
) -> LoadRun:
    """Run ``cycles`` seed cycles from each of ``clients`` concurrent clients against
    ``target`` (a lab, or a URL on 127.0.0.1), stopping after ``duration`` seconds at most.

    ``faults``: (seconds after the start, callable) pairs, run in order on another thread;
    ``deadline``: seconds one request may take; ``verify``: a CA bundle (a lab's own is
    used by default). ``keep_alive=False`` opens a new connection for every request, so
    that any worker may answer any request (as behind a load balancer). ``think``: seconds
    each client pauses between its requests, as a person does between clicks.
    """
    url = str(getattr(target, "url", target)).rstrip("/")
    check_load(url, clients, cycles, duration, deadline)
    if not 0 <= think <= duration:
        raise ConfigError(f"think must be from 0 to the duration, not {think!r}")
    if verify is None:
        verify = getattr(target, "ca_path", None) or True
    schedule = sorted(faults.items() if isinstance(faults, Mapping) else faults, key=first)
    visitors = [Client(n + 1, url, verify, deadline) for n in range(clients)]
    if not keep_alive:
        for visitor in visitors:
            visitor.http.headers["Connection"] = "close"
    started = time.monotonic()
    stop_at = started + duration
    fault_rows: list[dict[str, Any]] = []
    injector = threading.Thread(
        target=inject, args=(schedule, started, stop_at, fault_rows), name="sessionlab:faults"
    )
    injector.start()
    with ThreadPoolExecutor(clients, thread_name_prefix="sessionlab:load") as pool:
        runs = [pool.submit(run_client, c, cycles, started, stop_at, think) for c in visitors]
        if progress:
            show_progress(runs, visitors, cycles, started, duration)
        rows = [row for run in runs for row in run.result()]
    injector.join()
    for visitor in visitors:
        visitor.http.close()
    seconds = time.monotonic() - started
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values("t", ignore_index=True)
    faults_frame = pd.DataFrame(fault_rows, columns=["fault", "at", "took", "result"])
    return LoadRun(frame, faults_frame, seconds, clients)


def first(pair: tuple[float, Fault]) -> float:
    return float(pair[0])


def check_load(url: str, clients: int, cycles: int, duration: float, deadline: float) -> None:
    """Refuse a run that could reach another machine, or that is not bounded.

    >>> check_load("http://example.com", 1, 1, 1, 1)
    Traceback (most recent call last):
    sessionlab.errors.ConfigError: load() runs only against 127.0.0.1, not example.com: ...
    """
    host = urlsplit(url).hostname
    if host != "127.0.0.1":
        raise ConfigError(
            f"load() runs only against 127.0.0.1, not {host}: load another machine only "
            "with its owner's consent, and a tool made for it"
        )
    for name, value, most in (("clients", clients, MAX_CLIENTS), ("cycles", cycles, MAX_CYCLES)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise ConfigError(f"{name} must be an integer from 1 to {most}, not {value!r}")
    if not 0 < duration <= MAX_DURATION:
        raise ConfigError(f"duration must be above 0 and at most {MAX_DURATION:g} s")
    if not deadline > 0:
        raise ConfigError(f"deadline must be above 0 seconds, not {deadline!r}")


def inject(
    schedule: list[tuple[float, Fault]], started: float, stop_at: float, rows: list[dict]
) -> None:
    """Run each fault at its moment (none after the run's end); record when, and how long."""
    for at, fault in schedule:
        wait = started + at - time.monotonic()
        if started + at > stop_at:
            break
        if wait > 0:
            time.sleep(wait)
        begun = time.monotonic()
        try:
            fault()
            result = "done"
        except Exception as error:  # the run goes on; the table says what happened
            result = f"{type(error).__name__}: {error}"
        name = getattr(fault, "__name__", repr(fault))
        rows.append(
            {
                "fault": name,
                "at": begun - started,
                "took": time.monotonic() - begun,
                "result": result,
            }
        )


def show_progress(
    runs: list[Any], clients: list[Client], cycles: int, started: float, duration: float
) -> None:
    """A bar that fills with whichever bound is nearer (cycles done, or time), and counts
    what went wrong so far."""
    with tqdm(total=100, desc="sl.load", bar_format=BAR) as bar:
        while not all(run.done() for run in runs):
            time.sleep(0.1)
            done = sum(c.cycles_done for c in clients) / (cycles * len(clients))
            elapsed = (time.monotonic() - started) / duration
            bar.n = min(100, round(100 * max(done, elapsed)))
            bar.set_postfix(
                requests=sum(c.requests for c in clients),
                errors=sum(c.errors for c in clients),
                refresh=False,
            )
            bar.refresh()
        bar.n = 100


def run_client(
    client: Client, cycles: int, started: float, stop_at: float, think: float = 0.0
) -> list[dict]:
    """Run the cycles; a step that failed is sent again, after the pause a person would
    take (the server's Retry-After), until it is answered or the run is over."""
    rows: list[dict[str, Any]] = []
    for cycle in range(1, cycles + 1):
        name = f"c{client.number}-{cycle}"
        for step, path in (
            ("set", f"/user/{quote(name)}"),
            ("view", "/user"),
            ("logout", "/logout"),
            ("view again", "/user"),
        ):
            while True:
                if time.monotonic() >= stop_at:
                    return rows
                row = request(client, cycle, step, path, name, started)
                rows.append(row)
                client.requests += 1
                failed = row["outcome"] == "error"
                client.errors += failed
                retry_after = row.pop("retry_after")  # not a column: how long to wait
                pause = max(think, retry_after if failed else 0.0)
                if pause:
                    time.sleep(min(pause, max(stop_at - time.monotonic(), 0)))
                if not failed:
                    break
        client.cycles_done += 1
    return rows


def request(
    client: Client, cycle: int, step: str, path: str, name: str, started: float
) -> dict[str, Any]:
    """One step of the cycle: send it, read what it saw, judge it against what it should."""
    begun = time.monotonic()
    status, body, worker, retry_after = 0, "", "", PAUSE_AFTER_ERROR
    try:
        with Deadline(client.deadline):
            response = client.http.get(client.url + path, timeout=client.deadline)
        status, body = response.status_code, response.text
        worker = response.headers.get(WORKER_HEADER, "")
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    except (requests.RequestException, OSError) as error:
        body = f"{type(error).__name__}"
    latency = (time.monotonic() - begun) * 1000
    saw, expected, outcome = judge(client, step, name, status, body)
    return {
        "client": client.number, "cycle": cycle, "step": step, "t": begun - started,
        "latency_ms": latency, "status": status, "worker": worker, "saw": saw,
        "expected": expected, "outcome": outcome, "retry_after": retry_after,
    }  # fmt: skip


def retry_after_seconds(header: str | None) -> float:
    """How long to wait after a failed request: the server's Retry-After, within bounds.

    >>> retry_after_seconds("1"), retry_after_seconds(None), retry_after_seconds("3600")
    (1.0, 0.1, 2.0)
    """
    if header is None or not header.strip().isdigit():
        return PAUSE_AFTER_ERROR
    return min(float(header), MAX_PAUSE)


def judge(client: Client, step: str, name: str, status: int, body: str) -> tuple[str, str, str]:
    """What the client saw, what it should have seen, and the outcome; updates its belief.

    >>> c = Client(1, "http://127.0.0.1:1", True, 1.0)
    >>> judge(c, "set", "c1-1", 200, "<p>Session Set</p>")
    ('set', 'set', 'ok')
    >>> judge(c, "view", "c1-1", 200, "user logged out!")
    ('nobody', 'c1-1', 'lost')
    """
    if not 200 <= status < 300:
        expected = expected_of(client, step, name)
        # No answer, or a 5xx other than the lab's 503 ("nothing was saved"): the write
        # may or may not have happened.
        if step in ("set", "logout") and (status == 0 or (status >= 500 and status != 503)):
            client.sure = False
        saw = status_line(status, body) if status else f"no answer ({body})"
        return saw, expected, "error"
    if step in ("set", "logout"):
        client.holds, client.sure = (name if step == "set" else None), True
        return step, step, "ok"
    shown = body.split("<br", 1)[0] if body != LOGGED_OUT else None
    saw = shown or "nobody"
    expected = expected_of(client, step, name)
    if shown is not None and shown != name:
        outcome = "crossed"
    elif client.sure and shown != client.holds:
        outcome = "lost"
    else:
        outcome = "ok"
    client.holds, client.sure = shown, True
    return saw, expected, outcome


def expected_of(client: Client, step: str, name: str) -> str:
    if step in ("set", "logout"):
        return step
    if not client.sure:
        return f"{name} or nobody"
    return client.holds or "nobody"


def status_line(status: int, body: str, chars: int = 160) -> str:
    """The status and the first line of the body, once.

    >>> status_line(503, "503: the session store (redis) is unavailable"), status_line(500, "")
    ('503: the session store (redis) is unavailable', '500')
    """
    text = body.strip().splitlines()[0][:chars] if body.strip() else ""
    if text.startswith(f"{status}"):
        return text
    return f"{status}: {text}" if text else str(status)


def summarize(frame: pd.DataFrame, seconds: float) -> pd.Series:
    """Requests, throughput, latency percentiles, errors, lost and crossed of some requests.

    >>> summarize(pd.DataFrame(columns=COLUMNS), 1.0)["requests"]
    0
    """
    latency = frame.loc[frame["outcome"] != "error", "latency_ms"].astype(float)
    answered = frame[frame["status"] > 0]
    return pd.Series(
        {
            "requests": len(frame),
            "seconds": round(seconds, 2),
            "requests/s": round(len(frame) / seconds, 1) if seconds > 0 else 0.0,
            "p50 ms": round(latency.quantile(0.5), 1) if len(latency) else float("nan"),
            "p95 ms": round(latency.quantile(0.95), 1) if len(latency) else float("nan"),
            "p99 ms": round(latency.quantile(0.99), 1) if len(latency) else float("nan"),
            "errors": int((frame["outcome"] == "error").sum()),
            "503s": int((answered["status"] == 503).sum()),
            "no answer": int((frame["status"] == 0).sum()),
            "lost": int((frame["outcome"] == "lost").sum()),
            "crossed": int((frame["outcome"] == "crossed").sum()),
        },
        dtype=object,
    )
