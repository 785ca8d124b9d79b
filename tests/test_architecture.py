"""The plan of the house, checked: arrows point one way, the client side stays client side,
modules stay small. Read from the source with ast, so a lazy import inside a function counts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sessionlab"
# Given only a URL, these work against any app: they never import the lab's server.
CLIENT_SIDE = (
    "sessionlab.auditing",
    "sessionlab.browser",
    "sessionlab.capture",
    "sessionlab.chromium",
    "sessionlab.client",
    "sessionlab.cookies",
    "sessionlab.crack",
    "sessionlab.diagrams",
    "sessionlab.load",
    "sessionlab.load_plot",
    "sessionlab.recording",
    "sessionlab.routes",
    "sessionlab.tables",
    "sessionlab.transport",
    "sessionlab.wordlist",
)
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The sessionlab modules a file imports, resolved to module names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in MODULES}


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in GRAPH[node]:
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def without_packages(component: list[str]) -> list[str]:
    """A package's __init__ re-exports its modules; a cycle through it alone is no cycle."""
    return [m for m in component if not any(other.startswith(m + ".") for other in component)]


def test_no_import_cycles_inside_the_package():
    real = [component for component in cycles() if len(without_packages(component)) > 1]
    assert real == []


def test_the_client_side_never_imports_the_server():
    reaches = {
        name: sorted(target for target in targets if target.startswith("sessionlab.server"))
        for name, targets in GRAPH.items()
        if name.startswith(CLIENT_SIDE)
    }
    assert {name: found for name, found in reaches.items() if found} == {}


def test_stores_import_neither_flask_nor_the_rest_of_the_server():
    for name, path in MODULES.items():
        if name.startswith("sessionlab.server.stores"):
            text = path.read_text()
            assert "import flask" not in text and "from flask" not in text, name
            assert all(
                target.startswith(("sessionlab.server.stores", "sessionlab.errors"))
                for target in GRAPH[name]
            ), (name, GRAPH[name])


def test_modules_stay_under_400_lines():
    long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_a_worker_process_starts_without_the_client_sides_heavy_imports():
    """Each worker of start(workers=N) imports sessionlab.server; the face loads lazily, so
    it does not pay for pandas, requests or Playwright (about 2 s each on a busy machine)."""
    code = (
        "import sys, sessionlab.server.workers; "
        "print(sorted({'pandas', 'requests', 'playwright'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_face_names_functions_even_after_their_modules_are_imported():
    code = (
        "import sessionlab.crack, sessionlab.inspector, sessionlab as sl; "
        "print(callable(sl.crack), callable(sl.inspector), set(sl.__all__) <= set(dir(sl)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr
