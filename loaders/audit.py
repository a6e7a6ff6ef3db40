"""A CI run's audit logs → its own tables (db/run_store.py), read through `audit_event`
and summarised in `endpoint_hit` and the release's coverage.

A run (one CI job build, or a set of local files counted towards a release) is loaded
in one transaction: its events are streamed into a fresh table that replaces the run's
old one at the end (loaders/logs.py, loaders/events.py), and its hit and field counts,
tallied while streaming, go to the run's fresh summary tables. Memory stays flat
whatever the log size. (Live events, `load --testing`, are loaders/live.py's.)
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable

import psycopg

from snoopdb.core import bounds, progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import DatabaseError, FetchError, InputError, NoSpecLoaded
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases
from snoopdb.core.wording import plural
from snoopdb.coverage.depth import DepthTally
from snoopdb.coverage.fields import FieldTally
from snoopdb.coverage.matching import Matcher
from snoopdb.db import loadlog, locks, run_store
from snoopdb.loaders import spec
from snoopdb.loaders.events import AuditReport, EventRows
from snoopdb.loaders.github import KUBERNETES, SPEC_PATH
from snoopdb.loaders.logs import LogFile, copy_logs, log_size

# What a load does once its events are read, in the bar: its steps' share, about a
# quarter of the reading's time (bench.queries: 7-10 s of indexes and summaries after
# 30 s of reading 1 M events); what comes after each step (compaction: the job's older
# runs, after the load's commit, outside the bar's total).
FINISH_STEPS = ("summaries", "indexes", "coverage")
FINISH_SHARE = 0.25
NEXT_STEP = {"summaries": "indexing the events", "indexes": "summarising coverage",
             "coverage": "committing", "compaction": "compacting older runs of the job"}


def load_run(
    conn: psycopg.Connection,
    logs: Iterable[LogFile],
    matcher: Matcher,
    *,
    release: str,
    release_date: str | None,
    source: str,
    skip_bad_lines: bool = False,
    on_progress: Callable[[int], None] | None = None,
    keep_hot: int | None = None,
    on_step: Callable[[str], None] | None = None,
    facts: run_store.BuildFacts | None = None,
) -> AuditReport:
    """Replace the run `source` with the events of `logs` (read in the order given).

    The run is stored hot, swapped in for its old tables at the end, with its hit and
    field counts. One transaction: on any error nothing of the run changes. Loads of
    the same run wait for each other. Then, each in a transaction of its own, the
    job's hot runs beyond the newest `keep_hot` (default: the database's setting, else
    1) are compacted. `facts` (a CI build's id, start, commit, result) are recorded
    with the run. `on_progress` gets the number of bytes of events read (uncompressed)
    since its last call; `on_step` the name of each step done after the reading
    (FINISH_STEPS), and of the one that follows them: "compaction".
    """
    def done(step: str) -> None:
        if on_step is not None:
            on_step(step)

    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    tally = FieldTally(spec.body_schemas(conn, release))
    depth = DepthTally(spec.declared_parameters(conn, release))
    rows = EventRows(matcher, release, release_date, source, tally, depth)
    report = rows.report
    had_spec = run_store.spec_loaded(conn, release)
    with conn.transaction():
        run_store.hold_release(conn, release, had_spec)
        run = run_store.prepare(conn, source, release)
        with run_store.copy_events(conn, run) as copy:
            copy_logs(copy, logs, rows, rows.numbered_row, skip_bad_lines, on_progress)
        summary_started = time.monotonic()
        run_store.store_summaries(conn, run, rows.hit_rows(), tally.field_rows(),
                                  tally.body_rows(), depth.param_rows(), depth.status_rows())
        report.depth_bounded = depth.bounded
        done("summaries")

        def swap_in() -> None:
            # Raw events win: the release's imported published coverage goes.
            imported = conn.execute(
                "SELECT source FROM audit_run WHERE release = %s AND state = 'imported'",
                (release,)).fetchall()
            for (other,) in imported:
                run_store.drop(conn, other)
            loaded_before = run_store.publish(conn, run, release, release_date, report.events)
            if facts is not None:
                run_store.describe(conn, run, facts)
            done("indexes")
            if loaded_before is None and not imported:
                run_store.add_to_summaries(conn, run)  # the release's runs and one more
            else:
                run_store.refresh(conn, release, loaded_before)
            done("coverage")

        locks.patiently(conn, f"loading {source}", swap_in)
        report.summary_seconds = time.monotonic() - summary_started
        loadlog.record(conn, "audit", release, source, started_at, report.events,
                       report.details())
    report.seconds = time.monotonic() - started
    done("compaction")
    try:
        report.compacted = run_store.keep_hot(conn, source, keep_hot)
    except run_store.CompactionFailed as exc:
        # The run is in: an error here must not read as if the load had been undone.
        compacted = f", after compacting {len(exc.compacted)}" if exc.compacted else ""
        hot = (f"still hot beside it: {plural(len(exc.hot), 'older run')} ({', '.join(exc.hot)})"
               if exc.hot else "its older runs beyond keep-hot are still hot")
        raise DatabaseError(
            f"{source}: loaded and committed ({report.events:,} events); compacting the "
            f"job's older runs then failed{compacted} ({exc}); {hot}: `snoopdb runs compact "
            "RUN`, or the job's next load, compacts them") from exc
    return report


def matcher_for(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, release: str,
    commit: str | None = None,
) -> tuple[Matcher, str]:
    """The matcher of the spec at `commit` (downloaded once, cached), falling back to
    the loaded spec of `release`; and where that spec came from."""
    if commit:
        url = settings.github_raw(KUBERNETES, commit, SPEC_PATH)
        try:
            with fetcher.open(url, bound=bounds.SPEC) as stream:
                operations = [(op.method, op.path, op.endpoint)
                              for op in spec.read_operations(stream, url)]
            return Matcher.from_operations(operations), url
        except (FetchError, InputError):
            pass  # an abbreviated or unknown commit: the release's spec will do
    loaded = conn.execute("SELECT 1 FROM open_api WHERE release = %s LIMIT 1",
                          (release,)).fetchone()
    if not loaded:
        raise NoSpecLoaded(release)
    return Matcher.for_release(conn, release), f"open_api release {release}"


def store_run(
    conn: psycopg.Connection, logs: list[LogFile], matcher: Matcher, release: Release,
    releases: Releases, source: str, skip_bad_lines: bool, keep_hot: int | None = None,
    facts: run_store.BuildFacts | None = None,
) -> AuditReport:
    """Load one run's logs as a run of `release`, with a progress bar over their events'
    bytes and the steps that follow."""
    read = sum(log_size(log.path) for log in logs)
    step = int(read * FINISH_SHARE / len(FINISH_STEPS))
    known = releases.date(release)
    with progress.bar(total=read + step * len(FINISH_STEPS), desc="audit events", unit="B",
                      unit_scale=True) as bar:
        def on_step(name: str) -> None:
            if name in FINISH_STEPS:
                bar.update(step)
            bar.set_description(f"audit events: {NEXT_STEP[name]}")

        return load_run(conn, logs, matcher, release=str(release),
                        release_date=known.isoformat() if known else None, source=source,
                        skip_bad_lines=skip_bad_lines, on_progress=bar.update,
                        keep_hot=keep_hot, on_step=on_step, facts=facts)
