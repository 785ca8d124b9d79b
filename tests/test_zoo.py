"""Every real implementation started for real and audited; each verdict must be the one a
careful reviewer gives (tests/zoo.py, written from each framework's documentation and
checked by hand probes). A change that flips any verdict fails here."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec

import pytest
from zoo import CHECKS, CONFIGS, TIMEOUTS

import sessionlab as sl
from conftest import need_service

RUNTIMES = {
    "express": (
        lambda: shutil.which("node") and shutil.which("npm"),
        "apt-get install nodejs npm",
    ),
    "php": (lambda: shutil.which("php"), "apt-get install php-cli"),
    "django": (lambda: find_spec("django"), "pip install 'sessionlab[frameworks]'"),
    "starlette": (lambda: find_spec("starlette"), "pip install 'sessionlab[frameworks]'"),
}


def need_runtime(server: str) -> None:
    available, install = RUNTIMES[server]
    need_service(bool(available()), f"server={server!r} needs its runtime: {install}")


def audit_config(name: str, options: dict, **audit_options) -> tuple[dict, str]:
    """Start one configuration, audit it, stop it: the verdicts and the table to show."""
    with sl.start(name=f"zoo-{name}", **options) as lab:
        report = sl.audit(lab, **audit_options)
    verdicts = dict(zip(report["check"], report["verdict"], strict=True))
    return verdicts, sl.to_table(report, evidence=True)


@pytest.fixture(scope="module")
def reports():
    """Each configuration audited once per run, lazily (a missing runtime skips its own)."""
    done: dict[str, tuple[dict, str]] = {}

    def report(name: str) -> tuple[dict, str]:
        if name not in done:
            options = CONFIGS[name][0]
            need_runtime(options["server"])
            done[name] = audit_config(name, options)
        return done[name]

    return report


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_verdict_is_the_reviewers(reports, name):
    verdicts, shown = reports(name)
    expected = CONFIGS[name][1]
    differ = {c: (verdicts[c], expected[c]) for c in CHECKS if verdicts[c] != expected[c]}
    assert differ == {}, f"(audit, reviewer) differ on {name}:\n{shown}"


@pytest.fixture(scope="module")
def timeout_reports():
    """The timeout configurations, audited side by side (each target's waits stay its own:
    the audit runs its timeout checks last and alone, so no other traffic reaches it)."""
    runnable = {}
    for name, (options, idle, absolute, *_) in TIMEOUTS.items():
        available, _ = RUNTIMES[options["server"]]
        if available():  # the test of a missing one skips (or fails in CI) by itself
            runnable[name] = (options, idle, absolute)
    with ThreadPoolExecutor(max_workers=max(len(runnable), 1)) as pool:
        futures = {
            name: pool.submit(
                audit_config,
                f"timeouts-{name}",
                options,
                idle=idle,
                absolute=absolute,
                wordlist=False,
                samples=3,
            )
            for name, (options, idle, absolute) in runnable.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(TIMEOUTS))
def test_timeouts_are_judged_on_what_the_server_accepts(timeout_reports, name):
    options, _, _, idle, absolute = TIMEOUTS[name]
    need_runtime(options["server"])
    verdicts, shown = timeout_reports[name]
    seen = (verdicts["idle timeout"], verdicts["absolute timeout"])
    assert seen == (idle, absolute), f"{name}:\n{shown}"
