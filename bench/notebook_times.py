"""How long each walkthrough's Run All takes, as a learner's kernel runs it.

    .venv/bin/python bench/notebook_times.py                 # every notebook, 2 runs each
    .venv/bin/python bench/notebook_times.py 03 05           # only notebooks naming these

Each notebook is executed in a fresh kernel with nbclient (what `./dev.sh notebooks` uses),
outputs discarded; the kernel's start is timed apart from the cells, since a learner pays it
once. Target (issue 13): every notebook's cells under 10 s on this machine. A bare notebook
(one `1 + 1` cell) is run in the same session as the baseline for the kernel start.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RUNS = 2
TARGET_SECONDS = 10.0


def run(notebook: nbformat.NotebookNode, folder: Path) -> tuple[float, float]:
    """Seconds to start the kernel, and seconds to run every cell."""
    client = NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(folder)}})
    started = time.perf_counter()
    with client.setup_kernel():
        ready = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        done = time.perf_counter()
    return ready - started, done - ready


def main() -> None:
    wanted = sys.argv[1:]
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    paths = [p for p in paths if not wanted or any(w in p.name for w in wanted)]
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    kernel, _ = run(bare, ROOT / "notebooks")
    print(f"kernel start (a bare notebook): {kernel:.1f} s\n")
    print(f"{'notebook':<40} {'cells, s (median of ' + str(RUNS) + ')':>26} {'target':>8}")
    for path in paths:
        times = [run(nbformat.read(path, as_version=4), path.parent)[1] for _ in range(RUNS)]
        seconds = statistics.median(times)
        verdict = "ok" if seconds < TARGET_SECONDS else "over"
        print(f"{path.stem:<40} {seconds:>26.1f} {verdict:>8}", flush=True)


if __name__ == "__main__":
    main()
