"""The loaded CI runs: list them, drop some, prune each job to its newest N.

Each run is a partition of the audit event tables (schema revision 0008), so a drop
is a DROP TABLE, not a delete of its rows. Drops and the refresh of the coverage
summaries happen in one transaction: views never show a half-dropped set of runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from snoopdb.core.errors import InputError, NotFound
from snoopdb.db.queries import query


@dataclass(frozen=True)
class Run:
    """A loaded run: where its logs are, its release, events and size on disk."""

    source: str
    release: str
    events: int
    bytes: int
    loaded_at: dt.datetime
    job: str


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


def _ranked(conn: psycopg.Connection) -> list[tuple[Run, int]]:
    return [(Run(*row[:6]), row[6]) for row in conn.execute(query("runs/list.sql"))]


def list_runs(conn: psycopg.Connection) -> list[Run]:
    """Every loaded run, by job, newest first within a job."""
    return [run for run, _ in _ranked(conn)]


def _drop(conn: psycopg.Connection, runs: Sequence[Run]) -> None:
    """Drop `runs` and refresh the summaries, inside the caller's transaction."""
    for run in runs:
        conn.execute("SELECT audit_run_drop(%s)", (run.source,))
    conn.execute("SELECT refresh_coverage()")


def drop_runs(conn: psycopg.Connection, sources: Sequence[str]) -> DropReport:
    """Drop the runs loaded from `sources`, all or none: a source that is not a
    loaded run is NotFound and nothing is dropped."""
    started = time.monotonic()
    report = DropReport()
    with conn.transaction():
        loaded = {run.source: run for run in list_runs(conn)}
        missing = [s for s in sources if s not in loaded]
        if missing:
            raise NotFound(f"no loaded run has source {missing[0]}")
        report.dropped = [loaded[s] for s in dict.fromkeys(sources)]
        report.kept = [run for s, run in loaded.items() if s not in sources]
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
