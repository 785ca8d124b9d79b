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


def test_the_flask_extension_example_runs_and_keeps_the_session_on_the_server(
    tmp_path, monkeypatch
):
    (block,) = [b for b in python_blocks() if "ServerSessions(app)" in b]
    monkeypatch.chdir(tmp_path)  # Flask puts an app it cannot import in the current folder
    namespace: dict = {"__name__": "readme_app"}
    exec(block, namespace)
    app = namespace["app"]
    store = namespace["session_store"](app)
    try:
        assert store.kind == "sqlite"
        assert store.path == tmp_path / "instance" / "sessionlab.sqlite3"
        assert [record.data for record in store.all()] == [{"name": "alice"}]
    finally:
        store.close()


def test_the_settings_table_lists_every_key_the_extension_reads():
    from sessionlab.flask import SETTINGS

    listed = re.findall(r"^\| `(SESSIONLAB_\w+)`(?:, `(SESSIONLAB_\w+)`)? \|", README, re.M)
    assert sorted(key for pair in listed for key in pair if key) == sorted(SETTINGS)


def test_the_notebooks_listed_are_the_notebooks_shipped():
    shipped = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    listed = sorted(re.findall(r"^\| `(\d\d-[\w-]+)` \|", README, flags=re.MULTILINE))
    assert listed == shipped


def test_the_two_commands_are_the_ones_ci_runs():
    assert "./dev.sh lab" in README and "./dev.sh test" in README
    assert "./dev.sh test" in (ROOT / ".ci" / "run").read_text()
    lab_target = re.search(r"jupyter\" lab (\S+)", (ROOT / "dev.sh").read_text()).group(1)
    assert (ROOT / lab_target).exists()


def test_every_picture_the_readme_shows_is_committed_and_small():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert pictures
    for picture in pictures:
        path = ROOT / picture
        assert path.is_file(), picture
        assert path.stat().st_size < 100_000, f"{picture}: keep pictures under 100 KB"
