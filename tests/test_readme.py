"""The README's promises: its Python example runs as written, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_the_api_example_runs_and_gives_the_documented_timeline():
    namespace: dict = {}
    exec(python_blocks()[0], namespace)
    timeline = namespace["sl"].timeline(namespace["client"])
    assert isinstance(timeline, pd.DataFrame)
    assert timeline["changed"].tolist()[0] == "cookie set; record created"
    assert not namespace["lab"].running
    for row in timeline.itertuples():
        assert f"| {row.step} | {row.request} | {row.status} | {row._4} |" in README


def test_the_notebooks_listed_are_the_notebooks_shipped():
    shipped = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    listed = sorted(re.findall(r"^\| `(\d\d-[\w-]+)` \|", README, flags=re.MULTILINE))
    assert listed == shipped


def test_the_two_commands_are_the_ones_ci_runs():
    assert "./dev.sh lab" in README and "./dev.sh test" in README
    assert "./dev.sh test" in (ROOT / ".ci" / "run").read_text()
    lab_target = re.search(r"jupyter\" lab (\S+)", (ROOT / "dev.sh").read_text()).group(1)
    assert (ROOT / lab_target).exists()
