"""A run's events as one Parquet file: the files of the archive tier (revision 0017,
docs/archive.md).

An archive is a folder (or a GCS prefix) laid out as Hive partitions, one file a run:
`release=<release>/job=<job>/run=<build>/events.parquet`. The file holds the columns
of `audit_event` but release (its folder), the fields people filter on pulled out of
`data`, and `data` whole, as JSON text (sql/queries/archive/write.sql).

Writing: PostgreSQL's COPY text of the run's events (audit_run_events_query) streams
through a FIFO into DuckDB, which pulls the fields out and writes the file: the rows
never pass through Python, nor through a temporary copy on disk. Then the file is read
back and compared with what PostgreSQL holds — its events, a checksum of their ids and
auditIDs, and its source: `Content`. Reading back (`snoopdb runs hot`) goes the other
way: DuckDB writes the file's rows as CSV into a FIFO PostgreSQL's COPY reads from.

The caller holds the run's lock (run_store.lock) throughout, so that what the file is
compared with is what it was written from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from snoopdb.core import duck
from snoopdb.core.errors import ArchiveError
from snoopdb.db import run_store
from snoopdb.db.queries import query
from snoopdb.db.runs import Run, job_name

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

FILE = "events.parquet"
# a folder name's value as it is (jobs, builds, releases are such), else its digest
_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,100}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Content:
    """What a run's events are: how many, the sum over them of the first 60 bits of
    md5(id || '/' || auditID) — the same whether PostgreSQL or a file holds them — and
    the run's source (None: no event says it)."""

    events: int
    checksum: int
    source: str | None

    def __str__(self) -> str:
        return f"{self.events:,} events of {self.source!r} (checksum {self.checksum})"


def folder_value(value: str) -> str:
    """`value` as the value of a `key=value` folder: as it is when it is plain (letters,
    digits, `.`, `_`, `-`), else `x-` and 16 hex digits of its SHA-256 (a local folder's
    name may hold anything, and DuckDB, BigQuery and a shell should all read it alike)."""
    if _PLAIN.fullmatch(value) and value not in (".", ".."):
        return value
    return "x-" + hashlib.sha256(value.encode()).hexdigest()[:16]


def relative_path(run: Run) -> str:
    """Where run `run`'s file goes in an archive: release=…/job=…/run=…/events.parquet,
    run being its build (prow), else a digest of its source (local logs)."""
    key = run.build or hashlib.sha256(run.source.encode()).hexdigest()[:16]
    return (f"release={folder_value(run.release)}/job={folder_value(job_name(run.job))}/"
            f"run={folder_value(key)}/{FILE}")


def held(conn: psycopg.Connection, run: Run) -> Content:
    """What PostgreSQL holds of hot or compact run `run` (see `Content`)."""
    events = run_store.events_query(conn, run.run)
    if events is None:
        raise ArchiveError(f"run {run.name} is {run.state}: it has no events in the database")
    row = conn.execute(query("archive/checksum_events.sql").replace("{events}", events),
                       {"run": run.run}).fetchone()
    assert row is not None
    return Content(int(row[0]), int(row[1]), run.source if row[0] else None)


def content(path: Path, db: DuckDBPyConnection | None = None) -> Content:
    """What the file at `path` holds (read with `db`, else a connection of its own);
    ArchiveError naming it when it is not a whole Parquet file of one run's events."""
    if db is None:
        with contextlib.closing(duck.writer("reading an archive")) as own:
            return content(path, own)
    try:
        row = db.execute(query("archive/checksum.sql"), {"file": str(path)}).fetchone()
    except duck.module("reading an archive").Error as exc:
        raise ArchiveError(f"{path}: not a whole archive file ({_said(exc)})") from None
    assert row is not None
    events, checksum, sources, source = row
    if sources > 1:
        raise ArchiveError(f"{path}: holds the events of {sources} runs, not of one")
    return Content(int(events), int(checksum), source)


def write(conn: psycopg.Connection, run: Run, path: Path) -> Content:
    """Write hot or compact run `run`'s events to the new file `path` and read it back;
    ArchiveError when it could not be written or does not hold what PostgreSQL holds
    (the file is left for the caller to remove). Inside the caller's transaction, under
    the run's lock."""
    events = run_store.events_query(conn, run.run)
    if events is None:
        raise ArchiveError(f"run {run.name} is {run.state}: it has no events to archive")
    expected = held(conn, run)
    release_date = conn.execute("SELECT release_date FROM audit_run WHERE run = %s",
                                (run.run,)).fetchone()
    copy = sql.SQL("COPY ({}) TO STDOUT").format(sql.SQL(events))
    with contextlib.closing(duck.writer("snoopdb runs archive")) as db, _fifo() as fifo:
        db.execute(query("archive/copy_text.sql"))
        statement = (query("archive/write.sql").replace("{rows}", _literal(fifo))
                     .replace("{file}", _literal(path)))
        _through(fifo, _Feed(conn, copy, fifo), db, statement, {
            "run": run.run, "release_date": release_date[0] if release_date else None,
            "source": run.source,
            "ingested_at": run.loaded_at}, path)
        written = content(path, db)
    if written != expected:
        raise ArchiveError(f"{path}: holds {written}, PostgreSQL {expected}; the run was "
                           "not archived")
    return written


def restore(conn: psycopg.Connection, run: Run, path: Path) -> Content:
    """Put archived run `run`'s events back from the file at `path` into a fresh hot
    table, checked against the file; inside the caller's transaction, under the run's
    lock (the caller swaps the table in: run_store.swap_in_hot)."""
    with contextlib.closing(duck.writer("snoopdb runs hot")) as db:
        expected = content(path, db)
        if expected.source not in (run.source, None) or expected.events != run.events:
            raise ArchiveError(f"{path}: holds {expected}, not the {run.events:,} events of "
                               f"{run.source!r}; the run stays archived")
        table = run_store.fresh_events(conn, run.run)
        copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE)").format(
            table, sql.SQL(", ").join(map(sql.Identifier, run_store.EVENT_COLUMNS)))
        with _fifo() as fifo:
            statement = query("archive/restore.sql").replace("{rows}", _literal(fifo))
            _through(fifo, _Drain(conn, copy, fifo), db, statement, {"file": str(path)}, path)
    row = conn.execute(query("archive/checksum_events.sql").replace(
        "{events}", sql.SQL("SELECT n, audit_id FROM {}").format(table).as_string(conn)),
        {"run": run.run}).fetchone()
    assert row is not None
    back = Content(int(row[0]), int(row[1]), expected.source if row[0] else None)
    if back != expected:
        raise ArchiveError(f"{path}: {expected.events:,} events read, {back.events:,} stored "
                           "back; the run stays archived")
    return back


def _literal(path: Path) -> str:
    """`path` as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _said(exc: BaseException) -> str:
    """DuckDB's message on one line."""
    return " ".join(str(exc).split())


@contextlib.contextmanager
def _fifo() -> Iterator[Path]:
    """A FIFO in a private temporary folder, removed with it."""
    with tempfile.TemporaryDirectory(prefix="snoopdb-archive-") as folder:
        fifo = Path(folder) / "rows"
        os.mkfifo(fifo, 0o600)
        yield fifo


class _Pipe(threading.Thread):
    """One end of a FIFO, served in a thread while DuckDB serves the other; `error` is
    what ended it early. `abandon` lets it end when DuckDB has stopped."""

    def __init__(self, conn: psycopg.Connection, statement: sql.Composed, fifo: Path):
        super().__init__(daemon=True)
        self.conn, self.statement, self.fifo = conn, statement, fifo
        self.error: BaseException | None = None
        self.abandoned = False

    def run(self) -> None:
        try:
            self.serve()
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc

    def serve(self) -> None:
        raise NotImplementedError

    def abandon(self) -> None:
        raise NotImplementedError


class _Feed(_Pipe):
    """PostgreSQL's COPY … TO STDOUT, written into the FIFO DuckDB reads."""

    def serve(self) -> None:
        # PostgreSQL sends a message a row: gathered into writes of a megabyte, not a
        # write (and a wake-up of DuckDB's reader) a row
        with open(self.fifo, "wb", buffering=_CHUNK) as out, \
                self.conn.cursor().copy(self.statement) as copy:
            for chunk in copy:
                if self.abandoned:
                    raise ArchiveError("DuckDB stopped reading")
                out.write(chunk)

    def abandon(self) -> None:
        """Open the FIFO's reading end, so that the thread's own `open` returns, and
        empty it, so that its `write` does: its next chunk ends it (the COPY is
        cancelled)."""
        self.abandoned = True
        with contextlib.suppress(OSError):
            fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                while self.is_alive() and self.error is None:
                    try:
                        os.read(fd, _CHUNK)
                    except BlockingIOError:
                        self.join(0.01)
            finally:
                os.close(fd)


class _Drain(_Pipe):
    """What DuckDB writes into the FIFO, into PostgreSQL's COPY … FROM STDIN."""

    def serve(self) -> None:
        with open(self.fifo, "rb") as rows, self.conn.cursor().copy(self.statement) as copy:
            while chunk := rows.read(_CHUNK):
                copy.write(chunk)
            if self.abandoned:  # DuckDB stopped: what came is not the whole file
                raise ArchiveError("DuckDB stopped writing")

    def abandon(self) -> None:
        """Open and close the FIFO's writing end: the thread's `open` returns, and once
        DuckDB's end is closed too its reading ends (the COPY fails)."""
        self.abandoned = True
        with contextlib.suppress(OSError):
            os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))


def _through(fifo: Path, pipe: _Pipe, db: DuckDBPyConnection, statement: str,
             parameters: dict[str, Any], path: Path) -> None:
    """Run DuckDB's `statement` while `pipe` serves the FIFO's other end; ArchiveError
    naming `path` when either fails."""
    pipe.start()
    try:
        db.execute(statement, parameters)
    except BaseException as exc:
        pipe.abandon()
        pipe.join()
        if isinstance(exc, duck.module("the archive").Error):
            raise ArchiveError(f"{path}: {_said(exc)}") from None
        raise
    pipe.join()
    if pipe.error is not None:
        if isinstance(pipe.error, psycopg.Error):
            raise ArchiveError(f"{path}: reading the run from PostgreSQL failed: "
                               f"{_said(pipe.error)}") from pipe.error
        raise pipe.error
