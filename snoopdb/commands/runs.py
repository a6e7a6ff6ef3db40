"""The loaded CI runs: list them, drop some, prune each job to its newest N, move them
between the storage states (schema revision 0010): hot (one indexed row per event)
and compact (chunks of 1,000 events), and back from the third, archived (revision
0017, commands/archive.py); compare two of them; and the settings of the database
that govern runs (how many stay hot, the share of runs in which an endpoint must be
conformance-tested).

Each run's events and summaries are tables of their own, so a drop is a DROP TABLE
and a change of state a swap of tables, never a delete of rows. Drops and the
refresh of the coverage summaries happen in one transaction: views never show a
half-dropped set of runs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from snoopdb.commands import archive
from snoopdb.core.config import Settings
from snoopdb.core.errors import DatabaseError, InputError
from snoopdb.core.wording import plural
from snoopdb.db import connection, locks, run_store
from snoopdb.db.run_diff import RunDiff, diff_runs
from snoopdb.db.runs import Run, find_runs, list_runs, ranked_runs

KEEP_HOT_SETTING = "snoopdb.keep_hot"
# The most runs of a job loads may keep hot: far more than anyone keeps, and the
# setting is read as a PostgreSQL integer (99999999999 was accepted, and every load
# failed after committing).
MAX_KEEP_HOT = 1000
MIN_SHARE_SETTING = "snoopdb.min_share"
# The most runs of each job a prune keeps: any more is a typo (as keep-compact's bound)
MAX_KEEP_RUNS = 100_000


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


def _drop(conn: psycopg.Connection, runs: Sequence[Run]) -> None:
    """Drop `runs` in batches of run_store.DROP_BATCH, each in a transaction of its own,
    then rewrite their releases' coverage summaries once, from the runs left (a rewrite
    reads every run of a release: after each batch, it locked them all while most were
    still there, more than PostgreSQL's lock table holds at 1,000 runs). A failure keeps
    the batches dropped before it, rewrites the summaries of what was dropped, and says
    so; running the command again goes on from there."""
    done: list[Run] = []
    try:
        for start in range(0, len(runs), run_store.DROP_BATCH):
            batch = runs[start:start + run_store.DROP_BATCH]

            def drop(batch: Sequence[Run] = batch) -> None:
                run_store.drop_many(conn, [run.source for run in batch])

            with conn.transaction():
                locks.patiently(conn, f"dropping {plural(len(batch), 'run')}", drop)
            done += batch
    except (psycopg.Error, locks.LockWaitExceeded) as exc:
        if not done:
            raise
        # the batches before stay dropped: an error must not read as if none were
        said = connection.describe(exc) if isinstance(exc, psycopg.Error) else str(exc)
        raise DatabaseError(f"{len(done)} of {plural(len(runs), 'run')} dropped, in batches "
                            f"each committed; then {said}{_refresh(conn, done)}") from exc
    refused = _refresh(conn, runs)
    if refused:
        raise DatabaseError(f"{plural(len(runs), 'run')} dropped{refused}")


def _refresh(conn: psycopg.Connection, dropped: Sequence[Run]) -> str:
    """Rewrite the coverage summaries of the releases of the `dropped` runs; what to add
    to an error's line when that failed too, else ''."""
    try:
        with conn.transaction():
            locks.patiently(conn, "rewriting the coverage summaries", lambda: run_store.refresh(
                conn, *(run.release for run in dropped)))
    except (psycopg.Error, locks.LockWaitExceeded) as exc:
        said = connection.describe(exc) if isinstance(exc, psycopg.Error) else str(exc)
        return (f"; rewriting their releases' coverage summaries failed ({said}): the "
                "coverage views count them until `SELECT refresh_coverage()` is run")
    return ""


def drop_runs(conn: psycopg.Connection, names: Sequence[str]) -> DropReport:
    """Drop the runs `names` name (by source or name, see db.runs.named): a name that is
    no loaded run's is NotFound and nothing is dropped; else they are dropped in
    batches, each committed (see _drop)."""
    started = time.monotonic()
    report = DropReport()
    report.dropped = find_runs(conn, names)
    report.kept = [run for run in list_runs(conn) if run not in report.dropped]
    _drop(conn, report.dropped)
    report.seconds = time.monotonic() - started
    return report


def prune_runs(conn: psycopg.Connection, keep: int) -> DropReport:
    """Keep the newest `keep` runs of each job (by build number, else load time) and
    drop the others, in batches, each committed (see _drop)."""
    if not 1 <= keep <= MAX_KEEP_RUNS:
        raise InputError(f"runs to keep per job must be 1 to {MAX_KEEP_RUNS:,}, not {keep}")
    started = time.monotonic()
    report = DropReport()
    for run, rank in ranked_runs(conn):
        (report.kept if rank <= keep else report.dropped).append(run)
    _drop(conn, report.dropped)
    report.seconds = time.monotonic() - started
    return report


def _moved(conn: psycopg.Connection, run: Run) -> tuple[Run, Run]:
    """`run` as it was and as it is now."""
    return run, next(r for r in list_runs(conn) if r.run == run.run)


def move_runs(conn: psycopg.Connection, names: Sequence[str], state: str,
              settings: Settings | None = None) -> MoveReport:
    """Store the runs `names` name (by source or name) in `state` (hot or compact), each
    swapped in its own transaction; a run already in that state is left as it is, and
    so is an archived run asked to be compact. An archived run is brought back hot from
    its file (`settings`: where GCS is). A name that is no loaded run's is NotFound and
    nothing is moved."""
    started = time.monotonic()
    report = MoveReport()
    move = run_store.heat if state == run_store.HOT else run_store.compact
    for run in find_runs(conn, names):
        if run.state == run_store.ARCHIVED and state == run_store.HOT:
            if archive.restore_run(conn, settings or Settings(), run) is None:
                report.unchanged.append(run)
            else:
                report.moved.append(_moved(conn, run))
            continue
        if run.state in (state, run_store.ARCHIVED):
            report.unchanged.append(run)
            continue
        move(conn, run.source)
        report.moved.append(_moved(conn, run))
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
    in_database: Counter[str] = Counter()  # a job's runs so far, newest first, archived aside
    for run, _ in ranked_runs(conn):
        if run.state == run_store.ARCHIVED:
            continue
        in_database[run.job] += 1
        if run.state == run_store.HOT and in_database[run.job] > keep:
            run_store.compact(conn, run.source)
            report.moved.append(_moved(conn, run))
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


def diff(conn: psycopg.Connection, a: str, b: str) -> RunDiff:
    """What changed from run `a` to run `b`, each named by its source or name (see
    db.run_diff.diff_runs), read in one snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return diff_runs(conn, a, b)
