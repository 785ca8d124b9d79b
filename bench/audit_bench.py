"""Issue 5's targets: an audit without timeouts or wordlist < 5 s; the wordlist check < 3 s.

    .venv/bin/python bench/audit_bench.py [--repeat 3]

For each of the four targets of notebook 05 it prints the median wall time of a full audit
without timeouts or wordlist, and of the wordlist check alone. The baseline, measured in the
same run against the same server, is one login + view + logout round (what a person would do
by hand), so the ratio says how many such rounds the audit costs.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import sessionlab as sl
from sessionlab.auditing.checks_secrets import wordlist_check
from sessionlab.auditing.target import Target


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def one_round(target: Target) -> None:
    client = target.client()
    target.login(client)
    target.logged_in(client)
    target.logout(client)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.WeakSecretWarning)  # the seed's secret, on purpose
        labs = {
            "seed, cookie sessions": sl.start(
                store="cookie", secret="some secret key", name="bench-audit-cookie"
            ),
            "seed, server sessions": sl.start(store="memory", name="bench-audit-server"),
            "Flask-Session 0.8": sl.start_flask_session_app(name="bench-audit-fs"),
            "hardened": sl.start(store="memory", name="bench-audit-hardened", profile="hardened"),
        }
    header = f"{'target':24} {'round':>8} {'audit':>8} {'ratio':>7} {'wordlist':>9}"
    print(f"{header}  (median of {repeat})")
    try:
        for name, lab in labs.items():
            routes = "hardened" if name == "hardened" else "seed"
            verify = getattr(lab, "ca_path", None) or True
            target = Target(lab.url, routes, verify=verify)
            target.issued()
            baseline = timed(lambda target=target: one_round(target), repeat)
            audit = timed(
                lambda lab=lab, routes=routes, verify=verify: sl.audit(
                    lab.url, routes, verify=verify, wordlist=False
                ),
                repeat,
            )
            crack = timed(lambda target=target: wordlist_check(True)(target), repeat)
            print(
                f"{name:24} {baseline * 1000:6.1f}ms {audit:7.2f}s {audit / baseline:6.0f}x "
                f"{crack:8.2f}s"
            )
    finally:
        for lab in labs.values():
            lab.stop()
    print("targets: audit < 5 s, wordlist < 3 s")


if __name__ == "__main__":
    main()
