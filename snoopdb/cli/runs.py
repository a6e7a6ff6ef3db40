"""`snoopdb runs`: the loaded CI runs, listed, dropped, pruned, compacted, archived and
heated, two of them compared; the database's settings for runs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from snoopdb.cli.context import Context, show
from snoopdb.cli.parsing import add_command, hot_runs, kept_runs, positive_number, share
from snoopdb.commands import archive, runs
from snoopdb.core.errors import UsageError
from snoopdb.core.wording import plural
from snoopdb.coverage.attribution import shown_test
from snoopdb.db.run_diff import (
    EndpointChange,
    FieldChange,
    RunDiff,
    TestChange,
    group_fields,
)
from snoopdb.db.runs import Run, iso_time


def _size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return ""


def _print_runs(listed: list[Run]) -> None:
    """A line per run; under an archived one, where its file is. An archived run's size
    is its file's (what stays in the database, its summaries, is a few bytes an event)."""
    width = max((len(run.name) for run in listed), default=0)
    show(f"{'run':<{width}}  {'release':<10} {'state':<8} {'events':>12} {'size':>10} "
         f"{'B/event':>8}  {'loaded at':<19}  source")
    for run in listed:
        size = (run.archive_bytes or 0) if run.state == "archived" else run.bytes
        per_event = f"{size / run.events:,.0f}" if run.events else "-"
        show(f"{run.name:<{width}}  {run.release:<10} {run.state:<8} {run.events:>12,} "
             f"{_size(size):>10} {per_event:>8}  {run.loaded_at:%Y-%m-%d %H:%M:%S}  "
             f"{run.source}")
        if run.state == "archived":
            show(f"{'':<{width}}  archived to {run.archive}")


def _states(listed: list[Run]) -> str:
    """`3 runs (1 hot, 1 compact, 1 archived)`; archived only when there are some."""
    counts = [f"{sum(run.state == state for run in listed)} {state}"
              for state in ("hot", "compact", "archived")
              if state != "archived" or any(run.state == state for run in listed)]
    return f"{plural(len(listed), 'run')} ({', '.join(counts)})"


def cmd_runs(args: argparse.Namespace, ctx: Context) -> int:
    """List the loaded CI runs (by job, newest first), or drop, prune, compact, archive or
    heat them.

    Each run is named as `job#build` (local logs: by their folder's name); drop,
    compact, archive, hot and diff take a run by that name or by its source.

    The newest run of each job is hot: one row per event, indexed on endpoint, test and
    auditID, as fast to query as a plain table. Older runs are compact: chunks of 1,000
    events, a few times smaller, read through the same audit_event view. Archived runs
    have their events in a Parquet file outside the database (`snoopdb runs archive`),
    read with `snoopdb query --archive DIR` or BigQuery; their summaries stay, so every
    coverage view still counts them. A load keeps the newest N runs of its job hot
    (`snoopdb runs keep-hot N`, default 1) and, with a folder set, archives those beyond
    the newest M (`snoopdb runs keep-compact M --to DIR`). Every change swaps whole
    tables: no row is deleted or left dead.

    Example: snoopdb runs --json
    """
    with ctx.connect() as conn:
        listed = runs.list_runs(conn)
        keep = runs.keep_hot_setting(conn)
        keep_compact = archive.keep_compact_setting(conn)
        folder = archive.archive_setting(conn)
    if args.json:
        print(json.dumps({"keep_hot": keep, "keep_compact": keep_compact,
                          "archive": str(folder) if folder else None,
                          "runs": [run.as_json() for run in listed]}, indent=2))
        return 0
    _print_runs(listed)
    in_database = sum(run.bytes for run in listed)
    archived = sum(run.archive_bytes or 0 for run in listed if run.state == "archived")
    show(f"{_states(listed)}, {sum(r.events for r in listed):,} events, "
         f"{_size(in_database)}" + (f" in the database, {_size(archived)} archived"
                                    if archived else "")
         + f"; {_kept_hot(keep)}"
         + (f"; {_kept_compact(keep_compact, folder)}" if keep_compact or folder else ""))
    return 0


def _print_drop(report: runs.DropReport) -> None:
    for run in report.dropped:
        show(f"dropped {run.source} ({run.release}, {run.events:,} events)"
             + (f"; its archive file stays: {run.archive}" if run.state == "archived" else ""))
    show(f"{plural(len(report.dropped), 'run')} dropped ({report.events:,} events, "
          f"{_size(report.bytes)}), {len(report.kept)} kept, in {report.seconds:.2f}s")


def cmd_runs_drop(args: argparse.Namespace, ctx: Context) -> int:
    """Drop loaded runs, each named by its source or as JOB#BUILD (as `snoopdb runs` lists them).

    All or none: a name that is no loaded run's is an error and nothing is dropped.
    Its events, its summaries and its row go; the coverage views forget it.

    Example: snoopdb runs drop ci-kubernetes-e2e-gci-gce#1800000000000000000
    """
    with ctx.connect() as conn:
        _print_drop(runs.drop_runs(conn, args.runs))
    return 0


def cmd_runs_prune(args: argparse.Namespace, ctx: Context) -> int:
    """Keep the newest N runs of each job (by build number, else by load time) and drop
    the others.

    Example: snoopdb runs prune --keep 3
    """
    with ctx.connect() as conn:
        _print_drop(runs.prune_runs(conn, args.keep))
    return 0


def _print_moves(report: runs.MoveReport | archive.ArchiveReport,
                 archiving: bool = False) -> None:
    for before, after in report.moved:
        if after.state == "archived":
            show(f"{before.source}: {before.state} → archived, {_size(before.bytes)} → "
                 f"{_size(after.archive_bytes or 0)} at {after.archive} ({after.events:,} "
                 "events)")
        else:
            show(f"{before.source}: {before.state} → {after.state}, {_size(before.bytes)} → "
                 f"{_size(after.bytes)} ({after.events:,} events)")
    for run in report.unchanged:
        show(f"{run.source}: archived (`snoopdb runs hot` brings it back)"
             if run.state == "archived" and not archiving else f"{run.source}: already {run.state}")
    show(f"{plural(len(report.moved), 'run')} moved in {report.seconds:.1f}s")


def cmd_runs_compact(args: argparse.Namespace, ctx: Context) -> int:
    """Store runs compact: their events in chunks of 1,000, a few times smaller.

    Each run's new table is written, then swapped in for the old one in one
    transaction; queries of audit_event see the run throughout. Each run is named by
    its source or as JOB#BUILD; a name that is no loaded run's is an error and nothing
    is moved.

    Example: snoopdb runs compact ci-kubernetes-e2e-gci-gce#1800000000000000000
    """
    with ctx.connect() as conn:
        _print_moves(runs.move_runs(conn, args.runs, "compact"))
    return 0


def cmd_runs_hot(args: argparse.Namespace, ctx: Context) -> int:
    """Store runs hot: one indexed row per event, as fast to query as a plain table.

    The runs stay hot until a newer run of their job loads beyond `keep-hot` or they
    are compacted by hand. An archived run is brought back from its file (checked
    against it: events, and a checksum of their ids and auditIDs), which stays where it
    is. Each run is named by its source or as JOB#BUILD; a name that is no loaded run's
    is an error.

    Example: snoopdb runs hot ci-kubernetes-e2e-gci-gce#1800000000000000000
    """
    with ctx.connect() as conn:
        _print_moves(runs.move_runs(conn, args.runs, "hot", ctx.settings))
    return 0


def cmd_runs_archive(args: argparse.Namespace, ctx: Context) -> int:
    """Archive runs: their events to a Parquet file each, outside the database, and
    their events table dropped; their summaries stay, so the coverage views, the
    dashboard and the export count them as before.

    The file goes to --to DIR (else the database's folder, `runs keep-compact --to`) as
    DIR/release=R/job=J/run=BUILD/events.parquet: the columns of audit_event, the fields
    people filter on pulled out of data (verb, resource, subresource, namespace, name,
    code, username, timestamps), data whole as JSON. --to gs://BUCKET/PREFIX uploads it
    there (SNOOPDB_GCS_TOKEN: an access token), for BigQuery (`snoopdb archive
    bigquery-ddl`). The table is dropped only once the file is in place and read back
    whole (its events, a checksum of their ids and auditIDs); archiving a run again
    replaces its file at once. Query archived events with `snoopdb query --archive DIR`;
    `snoopdb runs hot` brings a run back. Needs `pip install 'snoopdb[archive]'`.

    Example: snoopdb runs archive ci-kubernetes-e2e-gci-gce#1800000000000000000 --to /srv/archive
    """
    with ctx.connect() as conn:
        _print_moves(archive.archive_runs(conn, ctx.settings, args.runs, args.to),
                     archiving=True)
    return 0


def cmd_runs_keep_compact(args: argparse.Namespace, ctx: Context) -> int:
    """Show, or set for this database, how many runs of each job loads keep in the
    database (hot or compact) before archiving older ones, and where to.

    Setting it archives at once the runs beyond the newest N of their job to --to DIR
    (or gs://BUCKET/PREFIX), given once: the database keeps the folder; --off stops
    archiving (the folder stays set). The runs kept hot among the N are `keep-hot`'s.

    Example: snoopdb runs keep-compact 10 --to /srv/snoopdb-archive
    """
    if args.off and args.count is not None:
        raise UsageError("give N or --off, not both")
    with ctx.connect() as conn:
        if args.count is None and not args.off and args.to is None:
            show(_kept_compact(archive.keep_compact_setting(conn), archive.archive_setting(conn)))
            return 0
        report = archive.set_keep_compact(conn, ctx.settings, None if args.off else args.count,
                                          args.to)
        keep, folder = archive.keep_compact_setting(conn), archive.archive_setting(conn)
    show(f"{_kept_compact(keep, folder)} from now on")
    if report.moved:
        _print_moves(report, archiving=True)
    return 0


def _kept_compact(count: int | None, folder: archive.Target | None) -> str:
    """`loads archive runs beyond the newest 10 of each job to DIR`, or why they do not."""
    if count is None:
        return ("loads archive no run" + (f" (archive folder: {folder})" if folder else ""))
    return (f"loads keep the newest {'run' if count == 1 else plural(count, 'run')} of each "
            f"job in the database and archive older ones to {folder}")


def cmd_runs_keep_hot(args: argparse.Namespace, ctx: Context) -> int:
    """Show, or set for this database, how many runs of each job loads keep hot.

    Setting it compacts at once the hot runs beyond the newest N of their job; 0 keeps
    every run compact.

    Example: snoopdb runs keep-hot 2
    """
    with ctx.connect() as conn:
        if args.count is None:
            show(_kept_hot(runs.keep_hot_setting(conn)))
            return 0
        report = runs.set_keep_hot(conn, args.count)
    show(f"{_kept_hot(args.count)} from now on")
    if report.moved:
        _print_moves(report)
    return 0


def _kept_hot(count: int) -> str:
    """`loads keep the newest run of each job hot`, `... the newest 2 runs ...`."""
    if count == 0:
        return "loads keep every run compact"
    return f"loads keep the newest {'run' if count == 1 else plural(count, 'run')} of each job hot"


def cmd_runs_min_share(args: argparse.Namespace, ctx: Context) -> int:
    """Show, or set for this database, the share of runs in which a conformance test must
    hit an endpoint for conformance.stable_coverage and stable_progress to count it.

    1.0 (the default): in every run of the release. A session may override it with
    `SET snoopdb.min_share = 0.8`. The views that reproduce apisnoop's published pages
    keep apisnoop's rule.

    Example: snoopdb runs min-share 0.9
    """
    with ctx.connect() as conn:
        if args.share is not None:
            runs.set_min_share(conn, args.share)
        current = runs.min_share_setting(conn)
    show(f"an endpoint is conformance-tested when hit by a conformance test in at least "
          f"{current:g} of the runs" + (" from now on" if args.share is not None else ""))
    return 0


def _about(label: str, run: Run) -> str:
    started = iso_time(run.started)
    return (f"{label}: {run.name} ({run.release}, {plural(run.events, 'event')}"
            + (f", started {started}" if started else "") + f") {run.source}")


def _print_changes(title: str, changes: Sequence[EndpointChange | TestChange | FieldChange],
                   lines: list[tuple[bool, str, tuple[str, ...]]]) -> None:
    """How many of `changes` were gained and lost, then `lines` as (gained, what, the
    tests responsible), gained ones first: a line may hold several changes."""
    gained = sum(change.gained for change in changes)
    show(f"{title}: {gained} gained, {len(changes) - gained} lost")
    for is_gained, what, tests in sorted(lines, key=lambda line: not line[0]):
        show(f"  {'+' if is_gained else '-'} {what}"
              + (f"; by {', '.join(map(shown_test, tests))}" if tests else ""))


def _print_diff(diff: RunDiff) -> None:
    show(_about("A", diff.a))
    show(_about("B", diff.b))
    _print_changes("endpoints", diff.endpoints,
                   [(c.gained, f"{c.endpoint}: {c.was} → {c.now}", c.tests)
                    for c in diff.endpoints])
    _print_changes("tests", diff.tests,
                   [(c.gained, f"{shown_test(c.test)} ({plural(c.endpoints, 'endpoint')})", ())
                    for c in diff.tests])
    _print_changes("body fields", diff.fields,
                   [(g.gained, f"{g.endpoint}: {', '.join(g.fields)}", g.tests)
                    for g in group_fields(diff.fields)])


def cmd_runs_diff(args: argparse.Namespace, ctx: Context) -> int:
    """What changed from run A to run B: endpoints, tests and body fields gained and lost.

    Each run is named by its source (as `snoopdb runs` lists it) or as JOB#BUILD. An
    endpoint is listed when its state differs — conformance (hit by a [Conformance]
    user agent), tested (by a test), hit (by other user agents only), not hit — with
    the tests that brought it to the higher state; tests that ran in one run only;
    body fields a test set in one run only, with those tests. The review aid for a
    test pull request's e2e run against the periodic job's.

    Example: snoopdb runs diff ci-kubernetes-e2e-gci-gce#2065 ci-kubernetes-e2e-gci-gce#2066
    """
    with ctx.connect() as conn:
        diff = runs.diff(conn, args.a, args.b)
    if args.json:
        print(json.dumps(diff.as_json(), indent=2))
    else:
        _print_diff(diff)
    return 0


def add_runs(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "runs", cmd_runs)
    parser.add_argument("--json", action="store_true", help="the runs as JSON")
    runs_sub = parser.add_subparsers(dest="runs_command", metavar="COMMAND")
    drop = add_command(runs_sub, "drop", cmd_runs_drop)
    drop.add_argument("runs", nargs="+", metavar="RUN",
                      help="a run to drop: its source or JOB#BUILD")
    prune = add_command(runs_sub, "prune", cmd_runs_prune)
    prune.add_argument("--keep", type=kept_runs, required=True, metavar="N",
                       help=f"runs to keep per job (1 to {runs.MAX_KEEP_RUNS:,})")
    compact = add_command(runs_sub, "compact", cmd_runs_compact)
    compact.add_argument("runs", nargs="+", metavar="RUN",
                         help="a run to store compact: its source or JOB#BUILD")
    hot = add_command(runs_sub, "hot", cmd_runs_hot)
    hot.add_argument("runs", nargs="+", metavar="RUN",
                     help="a run to store hot: its source or JOB#BUILD")
    archived = add_command(runs_sub, "archive", cmd_runs_archive)
    archived.add_argument("runs", nargs="+", metavar="RUN",
                          help="a run to archive: its source or JOB#BUILD")
    archived.add_argument("--to", metavar="DIR",
                          help="the archive: a folder, or gs://BUCKET/PREFIX (default: the "
                               "database's, set by `runs keep-compact --to`)")
    keep_hot = add_command(runs_sub, "keep-hot", cmd_runs_keep_hot)
    keep_hot.add_argument("count", nargs="?", type=hot_runs, metavar="N",
                          help="runs of each job to keep hot (0 to 1,000)")
    keep_compact = add_command(runs_sub, "keep-compact", cmd_runs_keep_compact)
    keep_compact.add_argument("count", nargs="?", type=positive_number, metavar="N",
                              help="runs of each job to keep in the database (1 to "
                                   f"{archive.MAX_KEEP_COMPACT:,})")
    keep_compact.add_argument("--to", metavar="DIR",
                              help="where to archive older runs: a folder, or "
                                   "gs://BUCKET/PREFIX (kept for the database)")
    keep_compact.add_argument("--off", action="store_true",
                              help="archive no run from now on")
    min_share = add_command(runs_sub, "min-share", cmd_runs_min_share)
    min_share.add_argument("share", nargs="?", type=share, metavar="S",
                           help="share of runs, above 0 and at most 1")
    diff = add_command(runs_sub, "diff", cmd_runs_diff)
    diff.add_argument("a", metavar="A", help="the run compared from: source or JOB#BUILD")
    diff.add_argument("b", metavar="B", help="the run compared to: source or JOB#BUILD")
    diff.add_argument("--json", action="store_true", help="the diff as JSON")
