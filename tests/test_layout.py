"""The shape of the tree, kept by tests: layers import only downwards, and no file has
two paths (no symbolic links)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parent.parent
# Top to bottom; a module imports only from layers below its own, or from its own
# subpackage. The test kit (testkit/) serves tests and benchmarks: it is not installed,
# and nothing installed imports it.
LAYERS = {
    "snoopdb.__main__": 7,
    "snoopdb.cli": 6,
    "snoopdb.commands": 5, "snoopdb.web": 5,
    "snoopdb.certification": 4,
    "snoopdb.loaders": 3, "snoopdb.migrations": 3,
    "snoopdb.coverage": 2, "snoopdb.db": 2,
    "snoopdb.core": 1, "snoopdb": 1,
}


def _group(module: str) -> str:
    parts = module.split(".")
    for length in (2, 1):
        name = ".".join(parts[:length])
        if name in LAYERS:
            return name
    raise AssertionError(f"{module} belongs to no layer")


# the roots whose imports are followed: the package, and the test kit beside it
ROOTS = ("snoopdb", "testkit")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.ImportFrom) and node.module
                and node.module.split(".")[0] in ROOTS):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] in ROOTS}
    return found


def import_graph() -> dict[str, set[str]]:
    """Each snoopdb module and the snoopdb modules (or names in them) it imports, over
    the packages pyproject.toml installs (the top-level folders it maps in included)."""
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]
    graph = {}
    for name in packages:
        package = importlib.import_module(name)
        for folder in package.__path__:
            graph[name] = _imports(Path(folder) / "__init__.py")
            for info in pkgutil.iter_modules([folder], f"{name}."):
                if not info.ispkg:
                    file = Path(folder) / f"{info.name.rsplit('.', 1)[1]}.py"
                    graph[info.name] = _imports(file)
    return graph


def test_no_import_runs_back_up() -> None:
    graph = import_graph()
    assert {"snoopdb.cli", "snoopdb.commands.load", "snoopdb.loaders.audit",
            "snoopdb.db.schema", "snoopdb.core.errors"} <= graph.keys()
    upward = []
    for module, imported in graph.items():
        mine = _group(module)
        for name in imported:
            theirs = _group(name) if name.startswith("snoopdb") else name
            if theirs != mine and LAYERS.get(theirs, len(LAYERS)) >= LAYERS[mine]:
                upward.append(f"{module} → {name}")
    assert upward == []


def test_the_test_kit_is_not_installed_and_nothing_installed_imports_it() -> None:
    graph = import_graph()
    assert not any(module.startswith("testkit") for module in graph)
    assert [f"{module} → {name}" for module, imported in graph.items() for name in imported
            if name.startswith("testkit")] == []


def test_no_symbolic_links_in_the_tree() -> None:
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    assert [line for line in listed.splitlines() if line.startswith("120000")] == []
