"""Where a run is stored (schema revision 0010): its events, one row each, in a fresh
table `runs.events_<run>_new` (the run *hot*); its test names and hit, field and body
tallies in fresh tables, one per summary; all swapped in for the run's old tables at
the end of the load's transaction (`audit_run_publish`), which also rewrites the
`audit_event` view. Older runs of a job are later stored *compact* (chunks of 1,000
events) by `audit_run_compact`; see commands/runs.py.

Imported coverage (apisnoop's published files, loaders/history.py) is a run in state
`imported`: test names and hits, no events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from snoopdb.core import copytext
from snoopdb.core.errors import NoSpecLoaded
from snoopdb.db import locks
from snoopdb.db.queries import query

# runs.events_<run> in the order EventRows.numbered_row writes them
EVENT_COLUMNS = ("n", "audit_id", "endpoint", "error", "useragent", "test", "test_hit",
                 "conf_test_hit", "data")
HOT, COMPACT, IMPORTED = "hot", "compact", "imported"


def _fresh(kind: str, run: int) -> sql.Composed:
    """The run's fresh table of `kind` (audit_run_prepare creates it)."""
    return sql.SQL("runs.{}").format(sql.Identifier(f"{kind}_{run}_new"))


SPEC_LOADED = "SELECT EXISTS (SELECT FROM open_api WHERE release = %s)"


def spec_loaded(conn: psycopg.Connection, release: str) -> bool:
    """Whether a spec of `release` is loaded."""
    return bool(conn.execute(SPEC_LOADED, (release,)).fetchone()[0])  # type: ignore[index]


def hold_release(conn: psycopg.Connection, release: str, had_spec: bool) -> None:
    """Inside the caller's transaction, before a run of `release` is prepared: wait for
    any drop of the release, and make any drop wait for this transaction; NoSpecLoaded
    when the release's spec, loaded when the load began (`had_spec`), is gone."""
    # `releases drop` holds this lock alone (commands.releases): it waits for the loads
    # under way, which it then drops, or they wait for it and find no spec; a load never
    # brings back a run of a release dropped meanwhile.
    locks.share(conn, f"release {release}")
    if had_spec and not spec_loaded(conn, release):
        raise NoSpecLoaded(release, "the release was dropped while this run was being "
                                    "loaded (nothing of the run was kept)")


def prepare(conn: psycopg.Connection, source: str, release: str, state: str = HOT) -> int:
    """Start storing run `source` inside the caller's transaction: waits for any other
    load of the same run, creates the run's fresh tables; returns the run id."""
    row = conn.execute("SELECT audit_run_prepare(%s, %s, %s)",
                       (source, release, state)).fetchone()
    assert row is not None
    return int(row[0])


def copy_events(conn: psycopg.Connection, run: int) -> AbstractContextManager[psycopg.Copy]:
    """COPY (text format) into the run's fresh events table, in EVENT_COLUMNS order.
    FREEZE: the table was created in this transaction, so no vacuum rewrites it later."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        _fresh("events", run), sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS)))
    return conn.cursor().copy(statement)


class TestNumbers:
    """Numbers the test names of one run (run_test), in the order first asked for."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def __call__(self, name: str | None) -> int | None:
        if name is None:
            return None
        number = self.numbers.get(name)
        if number is None:
            number = self.numbers[name] = len(self.numbers) + 1
        return number


def store_summaries(conn: psycopg.Connection, run: int,
                    hits: Iterable[tuple[str, str | None, bool, bool, int]],
                    fields: Iterable[tuple[str, str, bool, str | None, bool, bool, int]],
                    bodies: Iterable[tuple[str, str | None, bool, bool, int]],
                    params: Iterable[tuple[str, str, str | None, str | None, bool, bool, int]]
                    = (),
                    codes: Iterable[tuple[str, str, str | None, bool, bool, int]] = ()) -> None:
    """Write the run's fresh summary tables: hits (endpoint, test, test_hit,
    conf_test_hit, hits), field tallies (endpoint, field, known, test, test_hit,
    conf_test_hit, hits), body tallies (endpoint, test, test_hit, conf_test_hit,
    bodies), query parameter tallies (endpoint, parameter, value, test, test_hit,
    conf_test_hit, hits) and status code tallies (endpoint, code, test, test_hit,
    conf_test_hit, hits), tests named by text; the names go to the run's test table,
    numbered."""
    number = TestNumbers()
    head = (run,)
    _copy(conn, "hit", run, ((*head, e, number(t), th, c, n) for e, t, th, c, n in hits))
    _copy(conn, "field_hit", run, ((*head, e, f, k, number(t), th, c, n)
                                   for e, f, k, t, th, c, n in fields))
    _copy(conn, "body_hit", run, ((*head, e, number(t), th, c, n)
                                  for e, t, th, c, n in bodies))
    _copy(conn, "param_hit", run, ((*head, e, p, v, number(t), th, c, n)
                                   for e, p, v, t, th, c, n in params))
    _copy(conn, "status_hit", run, ((*head, e, code, number(t), th, c, n)
                                    for e, code, t, th, c, n in codes))
    _copy(conn, "test", run, ((run, n, name) for name, n in number.numbers.items()))


def _copy(conn: psycopg.Connection, kind: str, run: int,
          rows: Iterable[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(_fresh(kind, run))) as copy:
        for chunk in copytext.rows(rows):
            copy.write(chunk)
    # statistics at once: the release's summaries are computed from these tables in
    # this transaction, and on a fresh table's default estimates the planner loops
    # over every hit row once per test (4 s instead of 0.1 at 1 M events)
    conn.execute(sql.SQL("ANALYZE {}").format(_fresh(kind, run)))


def publish(conn: psycopg.Connection, run: int, release: str, release_date: str | None,
            events: int, state: str = HOT) -> str | None:
    """Swap the run's fresh tables in for its old ones (visible at commit); returns the
    release the run counted towards before this load, if it was loaded before."""
    row = conn.execute("SELECT audit_run_publish(%s, %s, %s, %s, %s)",
                       (run, release, release_date, events, state)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class BuildFacts:
    """What a CI build's own files say of it (prow: started.json, finished.json); None
    where they do not say."""

    build: str | None = None
    started: dt.datetime | None = None
    commit: str | None = None
    result: str | None = None


def describe(conn: psycopg.Connection, run: int, facts: BuildFacts) -> None:
    """Record the build facts of run `run` (audit_run), in the caller's transaction."""
    conn.execute("UPDATE audit_run SET build = %s, started = %s, commit = %s, result = %s"
                 " WHERE run = %s", (facts.build, facts.started, facts.commit, facts.result, run))


def refresh(conn: psycopg.Connection, *releases: str | None) -> None:
    """Rewrite the coverage summaries of `releases` (each once; None skipped)."""
    named = list(dict.fromkeys(r for r in releases if r is not None))
    if named:
        conn.execute("SELECT refresh_release_coverage(VARIADIC %s::text[])", (named,))


def add_to_summaries(conn: psycopg.Connection, run: int) -> None:
    """Add newly loaded `run` to its release's coverage summaries (the rows a rewrite
    of the release would give, at the cost of one run rather than of all of them)."""
    conn.execute("SELECT add_run_coverage(%s)", (run,))


def drop(conn: psycopg.Connection, source: str) -> tuple[str, int] | None:
    """Drop run `source` (every table of it, and its row), in the caller's transaction;
    (its release, its events), or None when no such run. The caller refreshes."""
    row = conn.execute("SELECT (d).release, (d).events FROM audit_run_drop(%s) AS d",
                       (source,)).fetchone()
    if row is None or row[0] is None:
        return None
    return str(row[0]), int(row[1])


# Runs dropped per transaction (`runs drop`, `runs prune`, `releases drop`): a drop locks
# every table of each run (nine for a hot run, with its indexes), and rewriting
# audit_event each table it still names; PostgreSQL's lock table is shared by every
# session (max_locks_per_transaction × max_connections entries, 6,400 by default), so
# a thousand runs in one transaction ran out of it (docs/scale.md).
DROP_BATCH = 50


def drop_many(conn: psycopg.Connection, sources: list[str]) -> list[tuple[str, str, int]]:
    """Drop the runs `sources` name (every table of each, and its row), in the caller's
    transaction, audit_event rewritten once; (source, release, events) of each dropped.
    The caller refreshes."""
    return [(str(source), str(release), int(events or 0)) for source, release, events in
            conn.execute("SELECT source, release, events FROM audit_runs_drop(%s)",
                         (sources,)).fetchall()]


class CompactionFailed(Exception):
    """Compacting a job's older runs stopped at a database error: those compacted before
    it stay compact, the others hot."""

    def __init__(self, compacted: list[tuple[str, int]], hot: list[str],
                 cause: psycopg.Error | locks.LockWaitExceeded):
        said = (cause.diag.message_primary if isinstance(cause, psycopg.Error) else None
                ) or str(cause).strip().split("\n")[0]
        super().__init__(said or type(cause).__name__)
        self.compacted, self.hot = compacted, hot


def keep_hot(conn: psycopg.Connection, source: str,
             keep: int | None = None) -> list[tuple[str, int]]:
    """Compact the hot runs of `source`'s job beyond its newest `keep` (None: the
    database's setting `snoopdb.keep_hot`, else 1), each in a transaction of its own;
    (source, events) of each run compacted. CompactionFailed says what was done when a
    database error stops it."""
    compacted: list[tuple[str, int]] = []
    beyond: list[str] = []
    try:
        beyond = [other for (other,) in conn.execute(
            query("runs/beyond.sql"), {"source": source, "keep": keep, "states": [HOT]})]
        for other in beyond:
            compacted.append(compact(conn, other))
    except (psycopg.Error, locks.LockWaitExceeded) as exc:
        raise CompactionFailed(compacted, beyond[len(compacted):], exc) from exc
    return compacted


def compact(conn: psycopg.Connection, source: str) -> tuple[str, int]:
    """Store run `source` compact (a no-op when it is not hot), in a transaction."""
    with conn.transaction():
        row = locks.patiently(conn, f"compacting {source}", lambda: conn.execute(
            "SELECT (r).events FROM audit_run_compact(%s) AS r", (source,)).fetchone())
    return source, int(row[0]) if row and row[0] is not None else 0


def heat(conn: psycopg.Connection, source: str) -> tuple[str, int]:
    """Store run `source` hot (a no-op when it is not compact), in a transaction."""
    with conn.transaction():
        row = locks.patiently(conn, f"storing {source} hot", lambda: conn.execute(
            "SELECT (r).events FROM audit_run_heat(%s) AS r", (source,)).fetchone())
    return source, int(row[0]) if row and row[0] is not None else 0


# The archive tier (revision 0017; db/archive.py writes and reads the files): an
# archived run keeps everything but its events table.
ARCHIVED = "archived"


def lock(conn: psycopg.Connection, source: str) -> None:
    """Wait for any load, compaction or archiving of run `source`, and keep others
    waiting until the caller's transaction ends."""
    conn.execute("SELECT audit_run_lock(%s)", (source,))


def events_query(conn: psycopg.Connection, run: int) -> str | None:
    """A SELECT of hot or compact run `run`'s events (n, audit_id, endpoint, useragent,
    test, test_hit, conf_test_hit, data, error); None in another state."""
    row = conn.execute("SELECT audit_run_events_query(%s)", (run,)).fetchone()
    return row[0] if row else None


def archived(conn: psycopg.Connection, source: str, location: str, size: int) -> None:
    """Mark hot or compact run `source` archived to `location` (`size` bytes), which the
    caller wrote and checked under `lock`: its events table goes, its summaries stay.
    Its table is detached from what audit_event reads, which waits for readers of its
    release: bounded, as every such step (locks.patiently)."""
    locks.patiently(conn, f"archiving {source}", lambda: conn.execute(
        "SELECT audit_run_archive(%s, %s, %s)", (source, location, size)))


def fresh_events(conn: psycopg.Connection, run: int) -> sql.Composed:
    """Create run `run`'s fresh events table, as a load does (for an archived run brought
    back); returns its name, for COPY (EVENT_COLUMNS)."""
    conn.execute("SELECT audit_run_compression()")
    conn.execute("SELECT audit_run_create_table(%s, 'events', %s)", (run, f"events_{run}_new"))
    return _fresh("events", run)


def swap_in_hot(conn: psycopg.Connection, run: int) -> None:
    """Put run `run`'s fresh events table (fresh_events) in place, indexed: the run is
    hot again, in audit_event at commit."""
    conn.execute("SELECT coverage_lock()")
    conn.execute("SELECT audit_run_swap_events(%s, %s, 'hot')", (run, f"events_{run}_new"))
