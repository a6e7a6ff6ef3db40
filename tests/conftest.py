"""The shared fixtures live in testkit.plugin, which the benchmarks use too. The test kit
(testkit/) is no part of the installed package: tests import it from the checkout."""

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _installed_snoopdb() -> None:
    """`python -m pytest` from the checkout puts it first on the import path, and its
    snoopdb/ lacks the folders an install maps in (loaders/, migrations/, sql/): unless
    the install is an editable one, which maps them, test the installed package, as
    plain `pytest` does; with none installed, say what to do in one line."""
    if _found("snoopdb.loaders"):
        return
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO]
    for name in [m for m in sys.modules if m == "snoopdb" or m.startswith("snoopdb.")]:
        del sys.modules[name]
    if not _found("snoopdb.loaders"):
        sys.stderr.write("snoopdb is not installed: run `pip install -e '.[test]'` in a "
                         "virtualenv, then pytest\n")
        raise SystemExit(4)  # pytest's usage error


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is missing
        return False


_installed_snoopdb()
# After the installed snoopdb (imported above), so that the checkout adds the test kit
# and nothing else.
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
pytest_plugins = ["testkit.plugin"]
