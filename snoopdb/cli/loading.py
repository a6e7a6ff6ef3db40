"""`load`, with the printer of its progress, and `compare-published`, which checks what
was loaded against apisnoop's published coverage; both read the published files from
the history options."""

from __future__ import annotations

import argparse
from pathlib import Path

from snoopdb.cli.context import Context, say, show
from snoopdb.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_UNDECIDED
from snoopdb.cli.parsing import (
    add_command,
    from_option,
    hot_runs,
    positive_number,
    release_number,
    utc_time,
)
from snoopdb.commands import compare
from snoopdb.commands.load import (
    LOAD_PARTS,
    PARTS,
    LoadListener,
    LoadOptions,
    LoadReport,
    Step,
    load,
)
from snoopdb.core.errors import ReleaseError, UsageError
from snoopdb.core.releases import Release, Releases
from snoopdb.core.wording import plural
from snoopdb.db.runs import Run
from snoopdb.loaders import history
from snoopdb.loaders.ci_runs import DEFAULT_BUCKET, DEFAULT_JOBS, Skipped
from snoopdb.loaders.events import AuditReport


def cmd_load(args: argparse.Namespace, ctx: Context) -> int:
    """Load a release's specs, conformance tests, ineligible and pending endpoints and
    audit events.

    The specs of every release up to it that are not loaded yet, its conformance.yaml,
    ineligible and pending endpoint lists, and audit events — local logs
    (--audit-log), a named CI run (--job/--build), the newest finished builds of a
    job, each a run of its own (--last N and/or --since DATE; builds loaded before
    are passed over), or, for the newest release, the latest successful runs of the
    default CI jobs (or with --last/--since their newest builds). For a past release with no run
    named, whose CI logs are gone, apisnoop's published coverage of it and of every
    release before it is imported instead (unless --no-history); --history imports
    it whatever the release (default: up to the newest). Raw events always win over
    published coverage.

    Example: snoopdb load --release 1.20
    Example: snoopdb load --release 1.36 --only audit --job ci-kubernetes-e2e-gci-gce --last 10
    """
    parts = args.only or PARTS
    if args.release is None and not (args.history or "history" in parts):
        raise UsageError("--release is required (with --history it defaults to the newest)")
    if args.testing and not args.audit_log:
        raise UsageError("--testing applies to local logs: name them with --audit-log")
    if args.build and len(args.job or []) != 1:
        raise UsageError("--build needs exactly one --job")
    if (args.last is not None or args.since is not None) and args.build:
        raise UsageError("--last and --since load a job's newest builds, --build one build: "
                         "choose one")
    history_folder = _history_folder(args)
    releases = ctx.releases(args.from_dir)
    release = _resolve(releases, args.release) if args.release else None
    if release is not None and release > releases.newest:
        say(f"note: release {release.minor_name} is newer than every release {releases.origin}"
            f" lists: loading it as the release in development (its files at master)")
    options = LoadOptions(
        release=release, parts=parts,
        from_dir=args.from_dir, audit_logs=args.audit_log or (), testing=args.testing,
        jobs=args.job or (), build=args.build, last=args.last, since=args.since,
        bucket=args.bucket,
        skip_bad_lines=args.skip_bad_lines, history=args.history, no_history=args.no_history,
        history_folder=history_folder, keep_hot=args.keep_hot, keep_compact=args.keep_compact)
    with ctx.connect(migrate=True) as conn:
        report = load(conn, ctx.fetcher(), ctx.settings, releases, options, _LoadPrinter())
    if report.view_runs is not None:
        say(f"note: audit_event holds {report.view_runs:,} runs (hot or compact): a query of "
            "all of it locks and plans each one, one restricted to a run or a release only "
            "those (docs/scale.md); archive older runs (snoopdb runs keep-compact N --to DIR) "
            "or prune them (snoopdb runs prune --keep N)")
    if report.no_ci_source:
        say(f"note: release {report.release}: no CI runs loaded: a mirror (--from "
            f"{args.from_dir}) holds none; load local audit logs with --audit-log FILE, or "
            "leave them out with --only spec,tests,ineligible,pending")
    if report.no_audit_data:
        say(f"release {report.release}: CI runs of past releases are gone from the buckets; "
            "no audit data loaded (name a run with --job/--build, or local logs with "
            "--audit-log, or leave out --no-history to import apisnoop's published coverage)")
    return 0


def _resolve(releases: Releases, named: Release) -> Release:
    """The release named by --release, known to the list or newer than all of it."""
    try:
        return releases.resolve(named)
    except ReleaseError as exc:
        raise UsageError(str(exc)) from exc


def _history_folder(args: argparse.Namespace) -> str | None:
    if args.history_dir is not None:
        if not args.history_dir.is_dir():
            raise UsageError(f"--history-dir {args.history_dir}: not a directory")
        return str(args.history_dir)
    return str(args.history_url) if args.history_url else None


class _LoadPrinter(LoadListener):
    def step(self, step: Step) -> None:
        show(f"{step.what} {step.release}: {step.rows} rows from {step.source} "
              f"({step.seconds:.2f}s)")

    def files(self, report: LoadReport) -> None:
        for warning in report.warnings:
            say(f"warning: {warning}")
        rows = sum(step.rows for step in report.steps)
        for release, date in report.dated:
            show(f"spec {release}: released on {date}; its release_date is filled in")
        show(f"loaded {plural(len(report.steps), 'file')} ({plural(rows, 'row')}) for release"
              f" {report.release} in {report.seconds:.1f}s"
              + (f"; {plural(len(report.skipped), 'spec')} already loaded" if report.skipped
                 else ""))

    def imported(self, imported: history.ImportedRelease) -> None:
        show(f"history {imported.release}: {imported.endpoints} endpoints, "
              f"{imported.hit_rows} hit rows, {imported.open_api_rows} open_api rows, "
              f"{imported.historical_tests} historical tests from {imported.source} "
              f"({imported.seconds:.2f}s)")

    def history(self, report: LoadReport) -> None:
        assert report.history is not None
        imported, folder, release = report.history, report.history_folder, str(report.release)
        if imported.missing:
            say(f"warning: no published coverage in {folder} for {', '.join(imported.missing)}")
        hits = sum(r.hit_rows for r in imported.imported)
        show(f"history up to {release} from {folder}: {len(imported.imported)} releases "
              f"imported ({hits} hit rows), {len(imported.raw)} kept their raw audit events, "
              f"{len(imported.missing)} not published; {imported.seconds:.1f}s")
        source = {r.release: r.source for r in imported.imported}.get(release)
        if source:
            show(f"coverage of {release}: apisnoop's published coverage, imported from {source}")
        elif release in imported.raw:
            show(f"coverage of {release}: its raw audit events, loaded before (they win over "
                  "published coverage)")

    def audit(self, report: AuditReport) -> None:
        unmatched = ", ".join(f"{count} {reason}"
                              for reason, count in report.unmatched.most_common())
        bad = "; ".join(f"{count} {reason}" for reason, count in report.bad_reasons.most_common())
        show(f"audit {report.release} from {report.source}: {plural(report.events, 'event')}, "
              f"{report.matched} matched, {sum(report.unmatched.values())} unmatched"
              + (f" ({unmatched})" if unmatched else "")
              + (f"; release spec from {report.spec}" if report.spec else "")
              + (f", {plural(report.bad_lines, 'bad line')} skipped ({bad})"
                 if report.bad_lines else "")
              + f"; {report.seconds:.1f}s, {report.events_per_second:,.0f} events/s")
        for source, events in report.compacted:
            show(f"compacted {source} ({events:,} events): an older run of the same job")

    def archived(self, moved: list[tuple[Run, Run]]) -> None:
        for before, after in moved:
            show(f"archived {before.source} ({before.events:,} events) to {after.archive}: "
                 "an older run of the same job")

    def skipped(self, skipped: Skipped) -> None:
        show(f"build {skipped.build} of {skipped.job}: skipped, {skipped.why}")


def _parts(only: str) -> tuple[str, ...]:
    """An argparse type: the comma-separated parts of --only."""
    parts = tuple(part.strip() for part in only.split(",") if part.strip())
    unknown = [part for part in parts if part not in LOAD_PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"unknown part {', '.join(unknown) or only!r}; "
                                         f"choose from {','.join(LOAD_PARTS)}")
    return parts


def add_load(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "load", cmd_load, instead={
        "SNOOPDB_GITHUB_RAW_URL": ("--from DIR",),
        "SNOOPDB_APISNOOP_RAW_URL": ("--from DIR", "--no-history"),
        "SNOOPDB_GCS_URL": ("--audit-log FILE",)})
    parser.add_argument("--release", type=release_number,
                        help="1.20, 1.20.0 or v1.20.0 (required unless --history)")
    parser.add_argument("--only", type=_parts,
                        help=f"comma-separated parts to load: {','.join(LOAD_PARTS)}")
    from_option(parser)
    parser.add_argument("--audit-log", nargs="+", type=Path, metavar="FILE",
                        help="local audit logs (plain or gzipped; rotated copies are read "
                             "oldest first) to load as one run of --release")
    parser.add_argument("--testing", action="store_true",
                        help="send --audit-log events to testing.audit_event (release live)")
    parser.add_argument("--job", action="append", help="prow job to load (repeatable; default "
                        "for the newest release: " + ", ".join(DEFAULT_JOBS) + ")")
    parser.add_argument("--build", help="build ID of --job (default: its latest successful one)")
    parser.add_argument("--last", type=positive_number, metavar="N",
                        help="load the N newest finished builds of each --job (or default "
                             "job; any result), each a run of its own, oldest first; builds "
                             "loaded before are passed over")
    parser.add_argument("--since", type=utc_time, metavar="DATE",
                        help="load the finished builds of each --job started since DATE "
                             "(2026-06-01, or 2026-06-01T12:00:00Z; UTC), each a run of its own"
                             " (with --last: at most N of them)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="GCS bucket of the prow logs")
    parser.add_argument("--skip-bad-lines", action="store_true",
                        help="count malformed log lines instead of failing the run's load")
    parser.add_argument("--keep-hot", type=hot_runs, metavar="N",
                        help="after loading a run, keep the newest N runs (0 to 1,000) of its "
                             "job hot (indexed rows) and compact older ones (default: the "
                             "database's setting, `snoopdb runs keep-hot`, else 1)")
    parser.add_argument("--keep-compact", type=positive_number, metavar="N",
                        help="after loading a run, keep the newest N runs of its job in the "
                             "database and archive older ones to the database's archive "
                             "folder (default: the database's setting, `snoopdb runs "
                             "keep-compact N --to DIR`, which sets the folder; else none)")
    history_choice = parser.add_mutually_exclusive_group()
    history_choice.add_argument(
        "--history", action="store_true",
        help="import apisnoop's published coverage of every release up to --release that "
             "has no raw audit events (the default for a past release with no run named)")
    history_choice.add_argument("--no-history", action="store_true",
                                help="never import published coverage")
    _history_options(parser)


def cmd_compare_published(args: argparse.Namespace, ctx: Context) -> int:
    """Compare the coverage in the database with apisnoop's published files.

    Loads nothing: for each release with a loaded spec (or --release), the endpoints whose
    tested, conf_tested or tests differ from <release>.json, then the totals that differ
    from conformance-progress.json and conformance-coverage-per-release.json (releases
    whose earlier specs are missing are named as not comparable). Exit status 1 when
    anything differs, 0 when the database gives the published coverage back, 3 when
    nothing published could be compared (cannot decide).

    Example: snoopdb compare-published --release 1.20 --tests
    """
    folder = _history_folder(args) or history.default_folder(ctx.settings, args.from_dir)
    with ctx.connect() as conn:
        report = compare.compare_published(conn, ctx.fetcher(), ctx.releases(args.from_dir),
                                           folder, args.release)
    for comparison in report.comparisons:
        _print_comparison(comparison, args.tests)
    for release, reason in report.not_published.items():
        show(f"{release}: not published ({reason})")
    for name, source in ((compare.PROGRESS_FILE, report.progress_source),
                         (compare.PER_RELEASE_FILE, report.per_release_source)):
        if source is None:
            show(f"{name}: not published ({history.location(folder, name)})")
    for (name, release), totals in _group_progress(report.progress):
        show(f"{name} {release}: " + ", ".join(
            f"{d.total} {_count(d.ours)} (published {_count(d.published)})" for d in totals))
    for release, reason in report.not_comparable.items():
        show(f"totals {release}: not comparable ({reason})")
    if not report.compared:
        say(f"snoopdb: compare-published cannot decide: nothing published to compare with in "
            f"{folder} (no coverage file of a loaded release, no totals of one)")
        return EXIT_UNDECIDED
    progress_releases = len({d.release for d in report.progress})
    show(f"{report.differing} of {len(report.releases)} releases differ from the published "
          f"coverage; progress and per-release totals: {len(report.totals_same)} releases same, "
          f"{progress_releases} differ, {len(report.not_comparable)} not comparable")
    return EXIT_OK if report.same else EXIT_FAILED


def _print_comparison(comparison: compare.ReleaseComparison, tests: bool) -> None:
    if not comparison.differences:
        show(f"{comparison.release}: same as {comparison.source} "
              f"({comparison.endpoints} endpoints)")
        return
    show(f"{comparison.release}: {len(comparison.differences)} of {comparison.endpoints} "
          f"endpoints differ from {comparison.source}")
    for d in comparison.differences:
        if d.ours is None or d.published is None:
            side = "published file" if d.ours is None else "database"
            show(f"  {d.endpoint}: only in the {side}")
            continue
        ours, published = d.ours, d.published
        changes = [f"{name} {mine} (published {theirs})" for name, mine, theirs in (
            ("tested", ours.tested, published.tested),
            ("conf_tested", ours.conf_tested, published.conf_tested)) if mine != theirs]
        extra, lacking = sorted(ours.tests - published.tests), sorted(published.tests - ours.tests)
        if extra or lacking:
            changes.append(f"tests +{len(extra)} -{len(lacking)}")
        show(f"  {d.endpoint}: {', '.join(changes)}")
        if tests:
            for name in extra:
                show(f"    + {name}")
            for name in lacking:
                show(f"    - {name}")


def _group_progress(
    differences: list[compare.ProgressDifference],
) -> list[tuple[tuple[str, str], list[compare.ProgressDifference]]]:
    grouped: dict[tuple[str, str], list[compare.ProgressDifference]] = {}
    for d in differences:
        grouped.setdefault((d.file, d.release), []).append(d)
    return list(grouped.items())


def _count(value: int | None) -> str:
    return "none" if value is None else str(value)


def add_compare_published(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "compare-published", cmd_compare_published, instead={
        "SNOOPDB_APISNOOP_RAW_URL": ("--from DIR", "--history-dir DIR")})
    parser.add_argument("--release", type=release_number, help="compare only this release "
                        "(default: every release whose spec is loaded)")
    from_option(parser)
    parser.add_argument("--tests", action="store_true",
                        help="list the test names that differ (+ ours only, - published only)")
    _history_options(parser)


def _history_options(parser: argparse.ArgumentParser) -> None:
    folder = parser.add_mutually_exclusive_group()
    folder.add_argument("--history-url", metavar="URL",
                        help="folder URL of the published coverage files (default: "
                             "$SNOOPDB_APISNOOP_RAW_URL/resources/coverage)")
    folder.add_argument("--history-dir", type=Path, metavar="DIR",
                        help="read the published coverage files (<release>.json, "
                             "conformance-progress.json) from DIR instead")
