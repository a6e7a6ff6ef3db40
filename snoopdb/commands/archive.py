"""The archive tier (schema revision 0017, docs/archive.md): runs archived as Parquet
files to a folder or a GCS prefix, brought back hot from them, and the keep-compact
policy that archives each job's runs beyond its newest N; the BigQuery DDL over an
archive in GCS.

Archiving a run never loses it. Under the run's lock, in one transaction: its events
are written to a new file (in the archive folder's `.incoming/`, or a temporary folder
before a GCS upload), read back and compared with what PostgreSQL holds (events,
checksum, source); the file is moved into place in one rename (or uploaded, an object
GCS stores whole or not at all, and described back with the file's size and MD5);
only then is the run's events table dropped, and the transaction commits. A folder
that cannot be written, a disk that fills, a process killed half way: the run stays
as it was, and what a killed process left in `.incoming/` is swept by the next
archive. Archiving a run again replaces its file the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from snoopdb.core import bounds, gcs_objects, nofollow
from snoopdb.core.config import Settings
from snoopdb.core.errors import ArchiveError, UsageError
from snoopdb.db import archive, run_store
from snoopdb.db.queries import query
from snoopdb.db.runs import Run, find_runs, list_runs

KEEP_COMPACT_SETTING = "snoopdb.keep_compact"
ARCHIVE_SETTING = "snoopdb.archive"
# keep_compact_setting() reads at most six digits
MAX_KEEP_COMPACT = 100_000
INCOMING = ".incoming"
# a staging folder in .incoming/ whose process is gone, or this old, is a killed one's
STALE_SECONDS = 24 * 3600
_STAGING = re.compile(r"(\d{1,10})-[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Target:
    """Where runs are archived: a local folder (absolute), or a GCS place."""

    folder: Path | None = None
    place: gcs_objects.Place | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """A folder (made absolute), or gs://BUCKET/PREFIX."""
        if text.startswith(gcs_objects.SCHEME):
            return cls(place=gcs_objects.Place.parse(text))
        if not text.strip() or "\n" in text:
            raise UsageError(f"{text!r}: not a folder")
        return cls(folder=Path(text).expanduser().absolute())

    def __str__(self) -> str:
        return str(self.folder) if self.folder is not None else self.uri("")

    def uri(self, relative: str) -> str:
        if self.place is not None:
            return self.place.uri(relative)
        assert self.folder is not None
        return str(self.folder / relative) if relative else str(self.folder)


@dataclass
class ArchiveReport:
    """Runs archived or brought back: each before and after; those left as they were."""

    moved: list[tuple[Run, Run]] = field(default_factory=list)
    unchanged: list[Run] = field(default_factory=list)
    seconds: float = 0.0


def archive_setting(conn: psycopg.Connection) -> Target | None:
    """The database's archive folder (snoopdb.archive), None when none is set."""
    row = conn.execute("SELECT archive_setting()").fetchone()
    return Target.parse(row[0]) if row and row[0] else None


def keep_compact_setting(conn: psycopg.Connection) -> int | None:
    """How many runs of each job loads keep in the database (hot or compact) before
    archiving older ones; None: no policy."""
    row = conn.execute("SELECT keep_compact_setting()").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _set(conn: psycopg.Connection, setting: str, value: str | None) -> None:
    """Set (None: reset) `setting` for this database, for sessions from now on."""
    database = conn.info.dbname
    if value is None:
        conn.execute(sql.SQL("ALTER DATABASE {} RESET " + setting).format(
            sql.Identifier(database)))
    else:
        conn.execute(sql.SQL("ALTER DATABASE {} SET " + setting + " = {}").format(
            sql.Identifier(database), sql.Literal(value)))


def archive_runs(conn: psycopg.Connection, settings: Settings, names: list[str],
                 to: str | None = None) -> ArchiveReport:
    """Archive the runs `names` name (db.runs.named) to `to`, else to the database's
    archive folder, each in a transaction of its own; a run already archived is left
    as it is. A name that is no loaded run's is NotFound and nothing is archived."""
    started = time.monotonic()
    target = Target.parse(to) if to else archive_setting(conn)
    if target is None:
        raise UsageError("archive where? Give --to FOLDER (or gs://BUCKET/PREFIX), or set "
                         "the database's folder: snoopdb runs keep-compact N --to FOLDER")
    report = ArchiveReport()
    for run in find_runs(conn, names):
        after = archive_run(conn, settings, run, target)
        if after is None:
            report.unchanged.append(run)
        else:
            report.moved.append((run, after))
    report.seconds = time.monotonic() - started
    return report


def archive_run(conn: psycopg.Connection, settings: Settings, run: Run,
                target: Target) -> Run | None:
    """Archive hot or compact run `run` to `target` (see the module's docstring); the run
    as it is then, None when it was in another state."""
    relative = archive.relative_path(run)
    with conn.transaction():
        run_store.lock(conn, run.source)
        now = _now(conn, run)
        if now is None or now.state not in (run_store.HOT, run_store.COMPACT):
            return None
        if target.folder is not None:
            size = _into_folder(conn, now, target.folder, relative)
        else:
            assert target.place is not None
            size = _into_bucket(conn, settings, now, target.place, relative)
        run_store.archived(conn, now.source, target.uri(relative), size)
    return _now(conn, run)


def _now(conn: psycopg.Connection, run: Run) -> Run | None:
    return next((r for r in list_runs(conn) if r.run == run.run), None)


def _into_folder(conn: psycopg.Connection, run: Run, folder: Path, relative: str) -> int:
    """Write, check and place `run`'s file at `folder`/`relative`; its size."""
    with _staging(folder) as staging:
        written = staging / archive.FILE
        content = archive.write(conn, run, written)
        _durable(written)
        final = folder / relative
        if final.is_file() and not final.is_symlink():
            try:
                there = archive.content(final)
            except ArchiveError:
                there = None  # not a whole file: replaced
            if there is not None and there.source not in (None, run.source):
                raise ArchiveError(f"{final}: holds the events of another run, "
                                   f"{there.source!r}; {run.name} was not archived")
        try:
            nofollow.place(folder, relative, written)
        except OSError as exc:
            raise ArchiveError(f"{final}: {exc.strerror or exc}; the run was not archived"
                               ) from None
        placed = archive.content(final)
        if placed != content:
            raise ArchiveError(f"{final}: holds {placed} once in place, not {content}")
        return final.stat().st_size


@contextlib.contextmanager
def _staging(folder: Path) -> Iterator[Path]:
    """A private folder in `folder`/.incoming (same file system: the finished file is
    renamed into place), removed afterwards; stale ones of killed processes swept."""
    incoming = folder / INCOMING
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        _sweep(incoming)
        staging = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=incoming))
    except OSError as exc:
        raise ArchiveError(f"{incoming}: cannot write there ({exc.strerror or exc}); "
                           "nothing was archived") from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sweep(incoming: Path) -> None:
    """Remove staging folders of archiving processes that are gone (killed half way)."""
    for entry in incoming.iterdir():
        found = _STAGING.fullmatch(entry.name)
        if found is None or entry.is_symlink() or not entry.is_dir():
            continue
        with contextlib.suppress(OSError):
            stale = time.time() - entry.stat().st_mtime > STALE_SECONDS
            if stale or not _alive(int(found.group(1))):
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def _durable(path: Path) -> None:
    """The file's bytes on disk before the table they replace is dropped."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _into_bucket(conn: psycopg.Connection, settings: Settings, run: Run,
                 place: gcs_objects.Place, relative: str) -> int:
    """Write and check `run`'s file, then upload it to `place`/`relative`; its size."""
    bucket = gcs_objects.Bucket(settings.gcs_url, place.bucket, gcs_objects.token(),
                                settings.deadlines)
    with tempfile.TemporaryDirectory(prefix="snoopdb-archive-") as staging:
        written = Path(staging) / archive.FILE
        archive.write(conn, run, written)
        return bucket.upload(place.name(relative), written).size


def restore_run(conn: psycopg.Connection, settings: Settings, run: Run) -> Run | None:
    """Bring archived run `run` back hot from its file, in one transaction; the run as
    it is then, None when it was not archived. Its file stays where it is."""
    with conn.transaction():
        run_store.lock(conn, run.source)
        now = _now(conn, run)
        if now is None or now.state != run_store.ARCHIVED or now.archive is None:
            return None
        with _local_copy(settings, now.archive) as path:
            archive.restore(conn, now, path)
        run_store.swap_in_hot(conn, now.run)
    return _now(conn, run)


@contextlib.contextmanager
def _local_copy(settings: Settings, location: str) -> Iterator[Path]:
    """The file at `location`: itself, or a downloaded copy of a gs:// object."""
    if not location.startswith(gcs_objects.SCHEME):
        yield Path(location)
        return
    bucket_name, _, name = location[len(gcs_objects.SCHEME):].partition("/")
    bucket = gcs_objects.Bucket(settings.gcs_url, bucket_name, gcs_objects.token(),
                                settings.deadlines)
    with tempfile.TemporaryDirectory(prefix="snoopdb-archive-") as staging:
        path = Path(staging) / archive.FILE
        bucket.download(name, path, bounds.ARCHIVE_FILE)
        yield path


def keep_compact(conn: psycopg.Connection, settings: Settings, source: str,
                 keep: int | None = None) -> list[tuple[Run, Run]]:
    """Archive the runs of `source`'s job beyond its newest `keep` in the database (None:
    the database's keep-compact setting; no setting, no archiving) to the database's
    archive folder, each in a transaction of its own."""
    keep = keep if keep is not None else keep_compact_setting(conn)
    if keep is None:
        return []
    target = archive_setting(conn)
    if target is None:
        raise UsageError(f"no archive folder is set for this database, so runs beyond the "
                         f"newest {keep} cannot be archived: snoopdb runs keep-compact {keep} "
                         "--to FOLDER")
    runs = {run.source: run for run in list_runs(conn)}
    moved = []
    for (other,) in conn.execute(query("runs/beyond.sql"), {
            "source": source, "keep": keep,
            "states": [run_store.HOT, run_store.COMPACT]}).fetchall():
        after = archive_run(conn, settings, runs[other], target)
        if after is not None:
            moved.append((runs[other], after))
    return moved


def set_keep_compact(conn: psycopg.Connection, settings: Settings, keep: int | None,
                     to: str | None = None) -> ArchiveReport:
    """Keep the newest `keep` runs of each job in the database from now on and archive
    older ones to `to` (else the folder set before), applied at once; None: no policy
    (the folder stays set)."""
    started = time.monotonic()
    report = ArchiveReport()
    if to is not None:
        _set(conn, ARCHIVE_SETTING, str(Target.parse(to)))
    if keep is None:
        _set(conn, KEEP_COMPACT_SETTING, None)
        return report
    if not 1 <= keep <= MAX_KEEP_COMPACT:
        raise UsageError(f"runs to keep per job must be 1 to {MAX_KEEP_COMPACT:,}, not {keep}")
    if archive_setting(conn) is None:
        raise UsageError("archive where? Give --to FOLDER (or gs://BUCKET/PREFIX) once: "
                         f"snoopdb runs keep-compact {keep} --to FOLDER")
    _set(conn, KEEP_COMPACT_SETTING, str(keep))
    for source in {run.job: run.source for run in list_runs(conn)}.values():
        report.moved += keep_compact(conn, settings, source, keep)
    report.seconds = time.monotonic() - started
    return report


# BigQuery names: a dataset (optionally project.dataset), a table
_DATASET = re.compile(r"([a-z][a-z0-9-]{4,28}[a-z0-9]\.)?[A-Za-z0-9_]{1,1024}")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,500}")


def bigquery_ddl(uri: str, dataset: str, table: str = "audit_event") -> str:
    """The BigQuery statements that read the archive at gs://BUCKET/PREFIX: an external
    table over its Parquet files, partitioned by their folders, and the audit_event view
    over it (sql/queries/archive/bigquery.sql)."""
    place = gcs_objects.Place.parse(uri)
    if not _DATASET.fullmatch(dataset):
        raise UsageError(f"{dataset!r}: not a BigQuery dataset (DATASET or PROJECT.DATASET)")
    if not _TABLE.fullmatch(table):
        raise UsageError(f"{table!r}: not a BigQuery table name")
    text = query("archive/bigquery.sql")
    statements = text[text.index("CREATE"):]
    return (statements.replace("{dataset}", dataset).replace("{table}", table)
            .replace("{prefix}", place.uri()).rstrip("\n"))
