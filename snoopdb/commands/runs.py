"""The loaded CI runs: list them, drop some, prune each job to its newest N, move them
between the two storage states (schema revision 0010): hot (one indexed row per
event) and compact (chunks of 1,000 events); compare two of them; and the settings
of the database that govern runs (how many stay hot, the share of runs in which an
endpoint must be conformance-tested).

Each run's events and summaries are tables of their own, so a drop is a DROP TABLE
and a change of state a swap of tables, never a delete of rows. Drops and the
refresh of the coverage summaries happen in one transaction: views never show a
half-dropped set of runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from snoopdb.core.errors import InputError, NotFound
from snoopdb.db import runs as stored_runs
from snoopdb.db.queries import query
from snoopdb.loaders import audit_store

KEEP_HOT_SETTING = "snoopdb.keep_hot"
# The most runs of a job loads may keep hot: far more than anyone keeps, and the
# setting is read as a PostgreSQL integer (99999999999 was accepted, and every load
# failed after committing).
MAX_KEEP_HOT = 1000
MIN_SHARE_SETTING = "snoopdb.min_share"


@dataclass(frozen=True)
class Run:
    """A loaded run: where its logs are, its release, events, size on disk and state."""

    source: str
    release: str
    events: int
    bytes: int
    loaded_at: dt.datetime
    job: str
    state: str


@dataclass
class DropReport:
    """The runs a drop or prune removed (and, for a prune, those it kept)."""

    dropped: list[Run] = field(default_factory=list)
    kept: list[Run] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(run.events for run in self.dropped)

    @property
    def bytes(self) -> int:
        return sum(run.bytes for run in self.dropped)


@dataclass
class MoveReport:
    """Runs moved to another storage state: each before and after, and how long it took."""

    moved: list[tuple[Run, Run]] = field(default_factory=list)
    unchanged: list[Run] = field(default_factory=list)
    seconds: float = 0.0


def _ranked(conn: psycopg.Connection) -> list[tuple[Run, int]]:
    return [(Run(*row[:7]), row[7]) for row in conn.execute(query("runs/list.sql"))]


def list_runs(conn: psycopg.Connection) -> list[Run]:
    """Every loaded run, by job, newest first within a job."""
    return [run for run, _ in _ranked(conn)]


def _named(conn: psycopg.Connection, sources: Sequence[str]) -> list[Run]:
    """The loaded runs of `sources`, in that order; NotFound for a source that is none."""
    loaded = {run.source: run for run in list_runs(conn)}
    missing = [s for s in sources if s not in loaded]
    if missing:
        raise NotFound(f"no loaded run has source {missing[0]}")
    return [loaded[s] for s in dict.fromkeys(sources)]


def _drop(conn: psycopg.Connection, runs: Sequence[Run]) -> None:
    """Drop `runs` and refresh their releases' summaries, in the caller's transaction."""
    for run in runs:
        audit_store.drop(conn, run.source)
    audit_store.refresh(conn, *(run.release for run in runs))


def drop_runs(conn: psycopg.Connection, sources: Sequence[str]) -> DropReport:
    """Drop the runs loaded from `sources`, all or none: a source that is not a
    loaded run is NotFound and nothing is dropped."""
    started = time.monotonic()
    report = DropReport()
    with conn.transaction():
        report.dropped = _named(conn, sources)
        report.kept = [run for run in list_runs(conn) if run not in report.dropped]
        _drop(conn, report.dropped)
    report.seconds = time.monotonic() - started
    return report


def prune_runs(conn: psycopg.Connection, keep: int) -> DropReport:
    """Keep the newest `keep` runs of each job (by build number, else load time) and
    drop the others."""
    if keep < 1:
        raise InputError(f"runs to keep per job must be at least 1, not {keep}")
    started = time.monotonic()
    report = DropReport()
    with conn.transaction():
        for run, rank in _ranked(conn):
            (report.kept if rank <= keep else report.dropped).append(run)
        if report.dropped:
            _drop(conn, report.dropped)
    report.seconds = time.monotonic() - started
    return report


def move_runs(conn: psycopg.Connection, sources: Sequence[str], state: str) -> MoveReport:
    """Store the runs of `sources` in `state` (hot or compact), each swapped in its own
    transaction; a run already in that state is left as it is. A source that is not
    a loaded run is NotFound and nothing is moved."""
    started = time.monotonic()
    report = MoveReport()
    move = audit_store.heat if state == audit_store.HOT else audit_store.compact
    for run in _named(conn, sources):
        if run.state == state:
            report.unchanged.append(run)
            continue
        move(conn, run.source)
        after = next(r for r in list_runs(conn) if r.source == run.source)
        report.moved.append((run, after))
    report.seconds = time.monotonic() - started
    return report


def keep_hot_setting(conn: psycopg.Connection) -> int:
    """How many runs of each job loads keep hot in this database (default 1)."""
    row = conn.execute("SELECT keep_hot_setting()").fetchone()
    assert row is not None
    return int(row[0])


def _set_database(conn: psycopg.Connection, setting: str, value: str) -> None:
    """Set `setting` for this database (ALTER DATABASE … SET): sessions started from now
    on see it; the settings' SQL functions read it from the catalog for older ones."""
    database = conn.execute("SELECT current_database()").fetchone()
    assert database is not None
    conn.execute(sql.SQL("ALTER DATABASE {} SET " + setting + " = {}").format(
        sql.Identifier(database[0]), sql.Literal(value)))


def set_keep_hot(conn: psycopg.Connection, keep: int) -> MoveReport:
    """Keep the newest `keep` runs of each job hot in this database from now on (a
    database setting), and compact the hot runs beyond them at once."""
    if not 0 <= keep <= MAX_KEEP_HOT:
        raise InputError(f"runs to keep hot per job must be 0 to {MAX_KEEP_HOT:,}, not {keep}")
    started = time.monotonic()
    _set_database(conn, KEEP_HOT_SETTING, str(keep))
    report = MoveReport()
    for run, rank in _ranked(conn):
        if run.state == audit_store.HOT and rank > keep:
            audit_store.compact(conn, run.source)
            after = next(r for r in list_runs(conn) if r.source == run.source)
            report.moved.append((run, after))
    report.seconds = time.monotonic() - started
    return report


def min_share_setting(conn: psycopg.Connection) -> float:
    """The share of runs in which a conformance test must hit an endpoint for
    conformance.stable_coverage and stable_progress to count it (default 1.0)."""
    row = conn.execute("SELECT min_share_setting()").fetchone()
    assert row is not None
    return float(row[0])


def set_min_share(conn: psycopg.Connection, share: float) -> None:
    """Set the database's min_share (above 0, at most 1) for sessions from now on."""
    if not 0 < share <= 1:
        raise InputError(f"the share of runs must be above 0 and at most 1, not {share}")
    _set_database(conn, MIN_SHARE_SETTING, repr(share))


def diff_runs(conn: psycopg.Connection, a: str, b: str) -> stored_runs.RunDiff:
    """What changed from run `a` to run `b`, each named by its source or as job#build:
    endpoints, tests and body fields gained and lost, with the tests responsible. Read
    in one snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return stored_runs.diff_runs(conn, stored_runs.find_run(conn, a),
                                     stored_runs.find_run(conn, b))
