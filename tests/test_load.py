"""sl.load: bounded concurrent cycles that judge every answer, faults on a schedule."""

from __future__ import annotations

import matplotlib
import pytest

import sessionlab as sl
from sessionlab.load import Client, judge

matplotlib.use("Agg")


def test_a_steady_run_on_a_thread_server_is_clean_and_bounded():
    with sl.start(store="sqlite", name="t-load-steady") as lab:
        run = sl.load(lab, clients=4, cycles=5, progress=False)
    summary = run.summary()
    assert summary["requests"] == 4 * 5 * 4
    assert (summary["errors"], summary["lost"], summary["crossed"]) == (0, 0, 0)
    assert list(run.frame.columns) == [
        "client", "cycle", "step", "t", "latency_ms", "status", "worker", "saw", "expected",
        "outcome",
    ]  # fmt: skip
    view = run.frame[run.frame["step"] == "view"].iloc[0]
    assert view["saw"] == view["expected"] == f"c{view['client']}-{view['cycle']}"
    assert run.plot().axes[0].get_ylabel() == "latency (ms)"


def test_the_duration_bounds_a_run_that_would_go_on():
    with sl.start(store="memory", name="t-load-duration") as lab:
        run = sl.load(lab, clients=2, cycles=10_000, duration=0.5, progress=False)
    assert run.seconds < 0.5 + 5  # the last requests finish within their deadline
    assert 0 < run.summary()["requests"] < 2 * 10_000 * 4


def test_faults_run_on_schedule_and_a_failing_one_is_recorded():
    def broken() -> None:
        raise RuntimeError("no such fault")

    with sl.start(store="memory", name="t-load-faults") as lab:
        run = sl.load(
            lab, clients=2, cycles=10_000, duration=0.6, faults={0.2: broken}, progress=False
        )
    [fault] = run.faults.itertuples()
    assert fault.fault == "broken" and fault.result == "RuntimeError: no such fault"
    assert 0.15 < fault.at < 0.6


def test_a_memory_store_across_workers_loses_sessions_and_load_counts_them():
    with pytest.warns(sl.StoreNotSharedWarning):
        lab = sl.start(store="memory", name="t-load-lossy", workers=2)
    with lab:
        run = sl.load(lab, clients=4, cycles=10, keep_alive=False, progress=False)
    assert run.summary()["lost"] > 0
    lost = run.frame[run.frame["outcome"] == "lost"].iloc[0]
    assert lost["saw"] == "nobody" and lost["expected"].startswith("c")
    assert len(set(run.frame["worker"])) == 2  # both workers answered


def test_judge_names_a_crossed_session_and_an_unknown_write():
    client = Client(1, "http://127.0.0.1:1", True, 1.0)
    judge(client, "set", "c1-1", 200, "<p>Session Set</p>")
    assert judge(client, "view", "c1-1", 200, "c2-7<br />") == ("c2-7", "c1-1", "crossed")
    judge(client, "set", "c1-2", 0, "ConnectionError")  # no answer: it may have been stored
    assert judge(client, "view", "c1-2", 200, "user logged out!") == (
        "nobody",
        "c1-2 or nobody",
        "ok",
    )


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        ("http://example.com", {}, "only against 127.0.0.1"),
        ("http://127.0.0.1:1", {"clients": 0}, "clients must be"),
        ("http://127.0.0.1:1", {"clients": 1000}, "clients must be"),
        ("http://127.0.0.1:1", {"cycles": 0}, "cycles must be"),
        ("http://127.0.0.1:1", {"duration": 0}, "duration must be"),
        ("http://127.0.0.1:1", {"duration": 10_000}, "duration must be"),
    ],
)
def test_unbounded_or_remote_runs_are_refused(target, options, message):
    with pytest.raises(sl.ConfigError, match=message):
        sl.load(target, **options)
