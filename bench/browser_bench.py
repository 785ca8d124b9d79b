"""sl.Browser's costs: start to first page, one cycle beside requests, processes left behind.

    python bench/browser_bench.py [--runs 5] [--cycles 20]

Prints, each measured in this run:

- ``Browser()`` to first page loaded, cold (a fresh interpreter: Playwright's driver and
  Chromium start) and warm (Chromium already up: a notebook cell run again). Target < 1.5 s.
- one cycle (GET /user/alice, /user, /logout, /user) with a Browser and with a Client against
  the same server, medians of ``--cycles``. Target < 150 ms for the Browser.
- Chromium processes left in a real Jupyter kernel: while a Browser is open, after its
  creation cell is run three times, after a failed cell is run again, after the notebook's last
  cell (``sl.close_browsers()``), and after the kernel shuts down. Target 0 after the last cell.

Needs Chromium (apt-get install chromium) and the [lab,browser] extras. The machine's load
moves the timings by ±30% or more; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time

import sessionlab as sl
from sessionlab.chromium import chromium_processes

COLD = """
import time, sessionlab as sl
lab = sl.start(store="memory", name="bench-cold")
started = time.perf_counter()
browser = sl.Browser(lab.url)
browser.goto("/user")
print(time.perf_counter() - started)
"""


def cold_start_s() -> float:
    """Browser() to first page, in a fresh interpreter (the lab's import excluded)."""
    result = subprocess.run(
        [sys.executable, "-c", COLD], capture_output=True, text=True, timeout=120, check=True
    )
    return float(result.stdout.split()[-1])


def warm_start_s(url: str) -> float:
    started = time.perf_counter()
    browser = sl.Browser(url, name="bench-warm")  # replaces the previous one, as a re-run cell
    browser.goto("/user")
    return time.perf_counter() - started


def cycle_ms(client: sl.Recorder) -> float:
    started = time.perf_counter()
    client.cycle("alice")  # type: ignore[attr-defined]
    return (time.perf_counter() - started) * 1000


def timings(runs: int, cycles: int) -> None:
    cold = [cold_start_s() for _ in range(runs)]
    with sl.start(store="memory", name="bench-browser") as lab:
        warm = [warm_start_s(lab.url) for _ in range(runs)]
        browser, client = sl.Browser(lab.url, name="bench-cycle"), sl.Client(lab.url)
        browser.cycle("alice")  # first cycle not counted
        pairs = [(cycle_ms(browser), cycle_ms(client)) for _ in range(cycles)]  # interleaved
        sl.close_browsers()
    in_browser, in_requests = zip(*pairs, strict=True)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; {runs} starts, {cycles} cycles each, medians (min)")
    print(f"{'measure':44} {'median':>10} {'min':>10}  target")
    rows = [
        ("Browser() to first page, cold (s)", cold, "< 1.5"),
        ("Browser() to first page, warm (s)", warm, ""),
        ("cycle, Browser (ms)", in_browser, "< 150"),
        ("cycle, Client on requests (ms)", in_requests, ""),
    ]
    for name, values, target in rows:
        print(f"{name:44} {statistics.median(values):10.3f} {min(values):10.3f}  {target}")
    ratio = statistics.median(in_browser) / statistics.median(in_requests)
    print(f"{'cycle, Browser / Client':44} {ratio:10.1f}")


KERNEL_CELLS = [
    ("setup", "import sessionlab as sl\nlab = sl.start(store='memory', name='bench-kernel')"),
    ("a Browser open", "browser = lab.browser()\nbrowser.goto('/user')"),
    ("its cell run 3 times", "browser = lab.browser()\nbrowser.goto('/user')\n" * 2),
    ("a failed cell, run again", "browser.goto('http://127.0.0.1:9/')"),
    ("after the failure, run again", "browser = lab.browser()\nbrowser.goto('/user')"),
    ("after the last cell", "sl.close_browsers()\nsl.stop()"),
]


def mine(before: set[int]) -> int:
    """Chromium and driver processes started since ``before`` (zombies are not counted)."""
    return len(set(chromium_processes()) - before)


def processes() -> None:
    from jupyter_client.manager import start_new_kernel

    before = set(chromium_processes())
    manager, kernel = start_new_kernel(kernel_name="python3")
    print(f"\n{'Chromium + driver processes in a real kernel':44} {'count':>10}")
    try:
        for label, source in KERNEL_CELLS:
            kernel.execute_interactive(textwrap.dedent(source), timeout=120, output_hook=_quiet)
            print(f"{label:44} {mine(before):10d}")
    finally:
        kernel.stop_channels()
        manager.shutdown_kernel(now=False)
    deadline = time.monotonic() + 10
    while mine(before) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"{'after the kernel shut down':44} {mine(before):10d}")


def _quiet(message: dict) -> None:
    """Cell output is not the point here; only errors other than the intended one are."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    timings(args.runs, args.cycles)
    processes()


if __name__ == "__main__":
    main()
