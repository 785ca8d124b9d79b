"""The picture of a load run: latency over time, one dot per request, faults marked."""

from __future__ import annotations

from typing import Any

STYLE = {  # outcome: (colour, marker, label)
    "ok": ("#1f77b4", ".", "answered as it should"),
    "error": ("#d62728", "x", "failed (503 or no answer)"),
    "lost": ("black", "o", "lost: an acknowledged write is gone"),
    "crossed": ("#9467bd", "s", "crossed: another client's session"),
}


def plot_run(run: Any, ax: Any = None, title: str = "") -> Any:
    """Draw ``run`` (a :class:`sessionlab.load.LoadRun`: its frame, faults, seconds and
    clients) on ``ax``, a new figure by default; return the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    frame = run.frame
    for outcome, (colour, marker, label) in STYLE.items():
        rows = frame[frame["outcome"] == outcome]
        if len(rows):
            ax.scatter(
                rows["t"], rows["latency_ms"].clip(lower=0.1), s=10 if outcome == "ok" else 24,
                c=colour, marker=marker, label=f"{label} ({len(rows)})", linewidths=1,
            )  # fmt: skip
    for fault in run.faults.itertuples():
        ax.axvline(fault.at, color="#ff7f0e", linestyle="--", linewidth=1)
        ax.annotate(
            fault.fault, (fault.at, 1), xycoords=("data", "axes fraction"),
            xytext=(3, -12), textcoords="offset points", color="#ff7f0e", fontsize=8,
        )  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the start")
    ax.set_ylabel("latency (ms)")
    ax.set_xlim(0, max(run.seconds, 0.1))
    ax.set_title(title or f"{len(frame)} requests from {run.clients} clients")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8)
    figure = ax.get_figure()
    figure.tight_layout()
    return figure
