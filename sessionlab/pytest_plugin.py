"""sessionlab's pytest plugin (loaded through the ``pytest11`` entry point).

Fixtures that start a lab server, or one of the real frameworks, for a test and stop it
after; and :func:`assert_session_audit`, which audits an app inside a test and fails it
with the table of what failed::

    def test_my_app_sessions(sessionlab_start):
        lab = sessionlab_start(server="django", mode="hardened")
        assert_session_audit(lab, allow={"idle timeout", "absolute timeout"})

``sessionlab_start(**options)`` takes ``sl.start``'s options and stops the server at the
end of the test; ``sessionlab_zoo(**options)`` does the same but keeps one server per set
of options for the whole session (starting Django or Express once, not per test). A missing
runtime (node, php, Django) skips the test with the install command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from .auditing.finding import FAIL
from .auditing.output import to_table
from .auditing.report import audit
from .errors import ServiceMissingError


def assert_session_audit(app: Any, *, allow: Iterable[str] = (), **audit_options: Any) -> Any:
    """Audit ``app`` (a lab handle or a URL); fail with the failed rows unless every failed
    check is in ``allow``. Advice never fails. Returns the report.

    >>> import sessionlab as sl
    >>> with sl.start(store="memory", profile="hardened", name="doc-plugin") as lab:
    ...     _ = assert_session_audit(lab, wordlist=False, samples=5)
    """
    audit_options.setdefault("wordlist", False)
    report = audit(app, **audit_options)
    unexpected = report[(report["verdict"] == FAIL) & ~report["check"].isin(set(allow))]
    if not unexpected.empty:
        raise AssertionError("session audit failed:\n" + to_table(unexpected, evidence=True))
    return report


def _start(options: dict[str, Any]) -> Any:
    from .server.launch import start  # the plugin is loaded by every pytest run: stay light

    try:
        return start(**options)
    except ServiceMissingError as error:
        pytest.skip(str(error))


@pytest.fixture
def sessionlab_start() -> Iterator[Callable[..., Any]]:
    """Start lab servers (``sl.start`` options) for one test; all stopped after it."""
    started: list[Any] = []

    def start(**options: Any) -> Any:
        lab = _start(options)
        started.append(lab)
        return lab

    yield start
    for lab in started:
        lab.stop()


@pytest.fixture(scope="session")
def sessionlab_zoo() -> Iterator[Callable[..., Any]]:
    """Start a framework once per test session and set of options (``sl.start`` options);
    the same options give the same running server to every test that asks."""
    running: dict[str, Any] = {}

    def start(**options: Any) -> Any:
        key = json.dumps(options, sort_keys=True, default=str)
        if key not in running or not running[key].running:
            options.setdefault("name", f"zoo-{len(running)}-{options.get('server', 'flask')}")
            running[key] = _start(options)
        return running[key]

    yield start
    for lab in running.values():
        lab.stop()
