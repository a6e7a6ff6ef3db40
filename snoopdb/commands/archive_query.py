"""`snoopdb query --archive DIR` and `snoopdb db duckdb --archive DIR`: SQL over an
archive folder's Parquet files, through DuckDB, as read-only as `snoopdb query` is.

What holds, whatever the statement (docs/archive.md):
- the files are DIR's release=*/job=*/run=*/*.parquet, found without following a link;
  `audit_event` is a view over them with the columns of PostgreSQL's audit_event
  (data as JSON: `data->>'verb'` runs as in psql), then the fields pulled out of data,
  then job and run;
- DuckDB runs in memory and may read those files and nothing else: external access is
  off, the configuration locked (core/duck.reader);
- one statement, which only reads: a SELECT (in DuckDB, WITH, FROM, VALUES, TABLE,
  SHOW, DESCRIBE and SUMMARIZE are SELECTs) or the EXPLAIN of one, parsed and refused
  before anything runs otherwise (COPY … TO, EXPORT, ATTACH, CREATE, SET …);
- it is interrupted after SNOOPDB_QUERY_TIMEOUT seconds;
- a file that is not whole Parquet is named.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snoopdb.commands.query import BATCH, QueryRows
from snoopdb.core import duck
from snoopdb.core.errors import ArchiveError, DatabaseError, UsageError
from snoopdb.db.queries import query

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

# a year of CI is about 9,000 runs; an archive of more files than this is no archive
MAX_FILES = 200_000
PARTITIONS = ("release", "job", "run")
_EXPLAIN = re.compile(r"\s*explain(\s+analy[sz]e)?\s+", re.IGNORECASE)
# DuckDB reads a path holding these as a glob pattern
_GLOB = re.compile(r"[*?\[\]{}]")


@dataclass
class Archive:
    """An archive folder opened read-only: its files, and the DuckDB connection whose
    audit_event reads them."""

    folder: Path
    files: list[Path]
    db: DuckDBPyConnection

    @property
    def runs(self) -> int:
        return len({path.parent for path in self.files})


def archive_files(folder: Path) -> list[Path]:
    """The Parquet files of the archive at `folder`, in its layout, sorted; no link is
    followed and no hidden entry (`.incoming/`) read. UsageError when `folder` is no
    folder."""
    if folder.as_posix().startswith("gs:/"):
        raise UsageError(f"{folder}: a GCS archive is read where it is, by BigQuery (snoopdb "
                         "archive bigquery-ddl); `--archive` reads a local folder (copy the "
                         "files: gcloud storage cp -r)")
    root = folder.absolute()
    if not root.is_dir():
        raise UsageError(f"{folder}: not a folder")
    files: list[Path] = []
    level = [root]
    for key in PARTITIONS:
        level = [entry for parent in level for entry in _entries(parent)
                 if entry.name.startswith(f"{key}=") and _is_folder(entry)]
    for parent in level:
        files += [entry for entry in _entries(parent)
                  if entry.name.endswith(".parquet") and _is_file(entry)]
        if len(files) > MAX_FILES:
            raise UsageError(f"{folder}: more than {MAX_FILES:,} Parquet files; query a part "
                             "of it (DIR/release=…)")
    for path in files:
        if _GLOB.search(str(path)) or "'" in str(path):
            raise UsageError(f"{path}: a path with * ? [ ] {{ }} or ' in it, which DuckDB "
                             "would read as a pattern; rename the folder")
    return sorted(files)


def _entries(folder: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(folder)
                if not entry.name.startswith(".")]
    except OSError as exc:
        raise UsageError(f"{folder}: cannot be read ({exc.strerror or exc})") from None


def _is_folder(path: Path) -> bool:
    return stat.S_ISDIR(os.lstat(path).st_mode)


def _is_file(path: Path) -> bool:
    return stat.S_ISREG(os.lstat(path).st_mode)


@contextlib.contextmanager
def opened(folder: Path, what: str) -> Iterator[Archive]:
    """The archive at `folder`, read-only, with its audit_event view (`what`: the
    command, for the error when DuckDB is not installed)."""
    files = archive_files(folder)
    with tempfile.TemporaryDirectory(prefix="snoopdb-duckdb-") as spill:
        db = duck.reader(what, files, Path(spill))
        try:
            archive = Archive(folder, files, db)
            if files:
                listed = "[" + ", ".join(f"'{path}'" for path in files) + "]"
                view = query("archive/audit_event.sql").replace("{files}", listed)
            else:
                view = query("archive/audit_event_empty.sql")
            with _said(archive):
                db.execute(view)
            yield archive
        finally:
            db.close()


def checked(archive: Archive, statement: str) -> str:
    """`statement`, once known to be one statement that only reads; UsageError else."""
    with _said(archive):
        parsed = archive.db.extract_statements(statement)
    if len(parsed) != 1:
        raise UsageError("SQL holds more than one statement: `--archive` runs one (run each "
                         "on its own)" if parsed else "SQL holds no statement")
    kind = str(parsed[0].type).rsplit(".", 1)[-1]
    if kind == "EXPLAIN":
        inner = _EXPLAIN.match(statement)
        if inner is not None:
            with _said(archive):
                explained = archive.db.extract_statements(statement[inner.end():])
            kind = ("SELECT" if len(explained) == 1
                    and str(explained[0].type).endswith("SELECT") else "")
    if kind != "SELECT":
        raise UsageError("SQL is not a query: `--archive` runs one statement that only reads "
                         "(SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, or the "
                         "EXPLAIN of one)")
    return statement


@contextlib.contextmanager
def deadline(archive: Archive, timeout: float) -> Iterator[None]:
    """Interrupt what runs on `archive` after `timeout` seconds (DatabaseError then)."""
    timer = threading.Timer(timeout, archive.db.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duck.module("the archive").InterruptException:
        if timer.is_alive():
            raise  # not ours: Ctrl-C
        raise DatabaseError(f"the query ran past {timeout:g}s (SNOOPDB_QUERY_TIMEOUT) and "
                            "was cancelled") from None
    finally:
        timer.cancel()


@contextlib.contextmanager
def archive_query(folder: Path, statement: str, timeout: float) -> Iterator[QueryRows]:
    """The rows of `statement` over the archive at `folder` (see the module's
    docstring), fetched BATCH at a time; JSON values as Python values."""
    with opened(folder, "snoopdb query --archive") as archive:
        text = checked(archive, statement)
        with deadline(archive, timeout), _said(archive):
            result = archive.db.execute(text)
            described = result.description or []
            columns = [column[0] for column in described]
            json_columns = [i for i, column in enumerate(described) if str(column[1]) == "JSON"]
            first = result.fetchmany(BATCH)
            yield QueryRows(columns, _rows(archive, result, first, json_columns))


def rendered(archive: Archive, statement: str, timeout: float) -> str:
    """The result of `statement` as DuckDB draws it (a box table, the middle rows of a
    long one left out), for a shell."""
    text = checked(archive, statement)
    with deadline(archive, timeout), _said(archive):
        return str(archive.db.sql(text))


def statements(archive: Archive, text: str) -> list[str]:
    """Each statement of `text` (a shell's input up to a `;`)."""
    with _said(archive):
        return [statement.query for statement in archive.db.extract_statements(text)]


def _rows(archive: Archive, result: Any, first: list[tuple[Any, ...]],
          json_columns: list[int]) -> Iterator[tuple[Any, ...]]:
    batch = first
    while batch:
        for row in batch:
            if json_columns:
                values = list(row)
                for i in json_columns:
                    if values[i] is not None:
                        values[i] = json.loads(values[i])
                row = tuple(values)
            yield row
        with _said(archive):
            batch = result.fetchmany(BATCH)


@contextlib.contextmanager
def _said(archive: Archive) -> Iterator[None]:
    """DuckDB's errors as one line: a file that is not whole Parquet named."""
    duckdb = duck.module("the archive")
    try:
        yield
    except duckdb.InterruptException:
        raise
    except duckdb.ParserException as exc:
        raise UsageError(f"SQL: {_line(exc)}") from None
    except duckdb.Error as exc:
        said = _line(exc)
        named = next((path for path in archive.files if str(path) in said), None)
        if named is None and isinstance(exc, (duckdb.InvalidInputException, duckdb.IOException)):
            named = _broken(archive)
        if named is not None:
            raise ArchiveError(f"{named}: not a whole Parquet file ({said}); archive its run "
                               f"again, or move it out of {archive.folder}") from None
        raise DatabaseError(f"archive query error: {said}") from None


def _broken(archive: Archive) -> Path | None:
    """The first of the archive's files whose footer cannot be read."""
    duckdb = duck.module("the archive")
    for path in archive.files:
        try:
            archive.db.execute("SELECT count(*) FROM parquet_file_metadata(?)",
                               [str(path)]).fetchall()
        except duckdb.Error:
            return path
    return None


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
