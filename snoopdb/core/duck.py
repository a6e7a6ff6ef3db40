"""DuckDB, the engine of the archive tier (docs/archive.md): an optional dependency,
installed with `pip install 'snoopdb[archive]'`, imported only by the commands that
need it; and the two kinds of connection those commands open, both in memory.

- `writer()`: writes a run's Parquet file and reads it back (db/archive.py);
  extensions are never downloaded nor loaded on their own.
- `reader(files)`: runs people's SQL over an archive folder. It may read exactly
  `files` (allowed_paths) and nothing else: external access is off, so no other file,
  no URL, no ATTACH, no extension install; the configuration is locked, so no
  statement can turn that back on. It writes nothing either: nothing it holds is
  persistent, and the statements it is given are SELECTs (commands/archive_query.py),
  never COPY … TO, EXPORT or CREATE. Memory past its limit spills to `spill`, a
  private temporary folder the caller removes.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from snoopdb.core.errors import ConfigError

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

EXTRA = "archive"
INSTALL = f"pip install 'snoopdb[{EXTRA}]'"


class MissingExtra(ConfigError):
    """DuckDB is not installed: the archive tier's commands need it."""

    def __init__(self, what: str):
        super().__init__(f"{what} needs DuckDB, which is not installed: {INSTALL}")


def module(what: str) -> ModuleType:
    """The duckdb module; MissingExtra naming `what` (the command) and the extra to
    install when it cannot be imported."""
    try:
        return importlib.import_module("duckdb")
    except ImportError:
        raise MissingExtra(what) from None


def writer(what: str) -> DuckDBPyConnection:
    """An in-memory connection for writing and checking Parquet files: no extension
    downloaded or loaded on its own (json and parquet are built in)."""
    duckdb = module(what)
    return duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False})


def reader(what: str, files: Sequence[Path], spill: Path) -> DuckDBPyConnection:
    """An in-memory connection that can read `files` and nothing else, with its
    configuration locked (see the module's docstring); times in UTC."""
    conn = writer(what)
    conn.execute("SET allowed_paths = ?", [[str(path) for path in files]])
    # spilling is DuckDB's own doing, not a file access a statement makes
    conn.execute("SET temp_directory = ?", [str(spill)])
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")
    return conn
