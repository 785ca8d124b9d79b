"""The Binder configuration (binder/, read by repo2docker) agrees with the package: what can
be checked without Docker. Installing it is checked by hand (binder/README.md)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def lines(name: str) -> list[str]:
    text = (BINDER / name).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_binder_runs_the_oldest_python_the_package_accepts():
    (runtime,) = lines("runtime.txt")
    oldest = re.fullmatch(r">=(3\.\d+)", PROJECT["requires-python"])
    assert oldest and runtime == f"python-{oldest[1]}"


def test_binder_installs_what_dev_sh_lab_installs():
    assert lines("requirements.txt") == [".[lab]"]
    assert "lab" in PROJECT["optional-dependencies"]
    assert "setup lab" in (ROOT / "dev.sh").read_text()


def test_binder_apt_packages_are_the_ones_ci_installs():
    ci = (ROOT / ".ci" / "run").read_text()
    for package in lines("apt.txt"):
        assert re.search(rf"\b{re.escape(package)}\b", ci), package
