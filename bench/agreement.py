"""How right is the audit? Agreement with a careful reviewer over every real configuration.

    python bench/agreement.py

Starts each configuration of tests/zoo.py (Express, Django, PHP, Starlette in default and
hardened settings), audits it, and compares every decidable verdict with the reviewer's
table (written from each framework's documentation, checked by hand probes), timeouts
included. Prints the agreement, the false positives (the audit fails or advises where the
reviewer passes), the "could not test" rows, then the start time of the seed's Express app
with a warm npm cache and the time of one audit of each target without timeouts or the
wordlist. Targets: >= 98% agreement, no false positive, no "could not test"; Express ready
in < 3 s; one audit < 2 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from zoo import CONFIGS, TIMEOUTS  # noqa: E402

import sessionlab as sl  # noqa: E402

FAILING = {"fail", "advice"}


def audit(name: str, options: dict, **audit_options) -> dict[str, str]:
    try:
        with sl.start(name=f"bench-{name}", **options) as lab:
            report = sl.audit(lab, **audit_options)
    except sl.ServiceMissingError as error:
        print(f"  {name}: skipped ({error})")
        return {}
    return dict(zip(report["check"], report["verdict"], strict=True))


def main() -> None:
    pairs: list[tuple[str, str, str, str]] = []  # config, check, audit, reviewer
    for name, (options, expected) in CONFIGS.items():
        verdicts = audit(name, options)
        pairs += [
            (name, check, verdicts[check], want) for check, want in expected.items() if verdicts
        ]
    with ThreadPoolExecutor(max_workers=len(TIMEOUTS)) as pool:
        futures = {
            name: pool.submit(audit, f"t-{name}", o, idle=i, absolute=a, wordlist=False, samples=3)
            for name, (o, i, a, _, _) in TIMEOUTS.items()
        }
        for name, (_, _, _, idle, absolute) in TIMEOUTS.items():
            verdicts = futures[name].result()
            if verdicts:
                pairs.append((name, "idle timeout", verdicts["idle timeout"], idle))
                pairs.append((name, "absolute timeout", verdicts["absolute timeout"], absolute))
    agree = [p for p in pairs if p[2] == p[3]]
    false_positives = [p for p in pairs if p[2] in FAILING and p[3] not in FAILING]
    untested = [p for p in pairs if p[2] == "could not test"]
    configs = len({p[0] for p in pairs})
    print(
        f"agreement: {len(agree)}/{len(pairs)} decidable verdicts "
        f"({100 * len(agree) / max(len(pairs), 1):.1f}%) over {configs} configurations"
    )
    print(f"false positives: {len(false_positives)}; could not test: {len(untested)}")
    for config, check, got, want in sorted(set(pairs) - set(agree)):
        print(f"  differs: {config} / {check}: audit {got}, reviewer {want}")

    starts = []
    for _ in range(5):
        began = time.perf_counter()
        lab = sl.start(server="express", name="bench-express-start")
        starts.append(time.perf_counter() - began)
        lab.stop()
    print(f"express start (warm npm cache), median of 5: {statistics.median(starts):.2f} s")
    for name, (options, _) in CONFIGS.items():
        if "secret" in options:
            continue
        try:
            with sl.start(name=f"bench-time-{name}", **options) as lab:
                began = time.perf_counter()
                sl.audit(lab, wordlist=False)
                print(f"one audit of {name}: {time.perf_counter() - began:.2f} s")
        except sl.ServiceMissingError:
            pass


if __name__ == "__main__":
    main()
