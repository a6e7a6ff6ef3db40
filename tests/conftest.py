"""The shared fixtures live in snoopdb.testkit.plugin, which the benchmarks use too."""

from pathlib import Path

pytest_plugins = ["snoopdb.testkit.plugin"]

REPO = Path(__file__).resolve().parent.parent
