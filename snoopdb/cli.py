"""The `snoopdb` command line: parses options and calls library functions."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb import __version__, database, gate, runs
from snoopdb.config import Settings
from snoopdb.errors import ConfigError, NotFound, SnoopError
from snoopdb.export import export
from snoopdb.fetch import Fetcher
from snoopdb.load import PARTS, Sources, Step, load_release, loaded_spec_releases
from snoopdb.loaders import history
from snoopdb.loaders.audit import AuditReport
from snoopdb.loaders.prow import DEFAULT_BUCKET, DEFAULT_JOBS
from snoopdb.releases import Release, Releases, parse_release
from snoopdb.submission import Verification
from snoopdb.submission_store import Verifier
from snoopdb.ticket import ticket as mock_ticket


@dataclass
class Context:
    """What every command needs, resolved lazily from the global options."""

    settings: Settings
    url_option: str | None = None
    releases_file: Path | None = None
    _url: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = database.database_url(self.settings, self.url_option)
        return self._url

    def connect(self, *, migrate: bool = True) -> psycopg.Connection:
        """A connection to a database whose schema is at head (migrated if needed)."""
        if migrate:
            database.migrate(self.url)
        return database.connect(self.url)

    def releases(self) -> Releases:
        return Releases.load(self.releases_file)

    def fetcher(self) -> Fetcher:
        return Fetcher(self.settings.cache_dir)


def say(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create or upgrade the schema (Alembic migrations and views).

    Example: snoopdb init
    """
    database.migrate(ctx.url)
    with database.connect(ctx.url) as conn:
        print(f"schema at revision {database.schema_revision(conn)} in {database.redact(ctx.url)}")
    return 0


def cmd_load(args: argparse.Namespace, ctx: Context) -> int:
    """Load a release: the specs of every release up to it that are not loaded yet,
    its conformance.yaml and ineligible endpoints, and audit events — local logs
    (--audit-log), a named CI run (--job/--build), or, for the newest release, the
    latest successful runs of the default CI jobs. For a past release with no run
    named, whose CI logs are gone, apisnoop's published coverage of it and of every
    release before it is imported instead (unless --no-history); --history imports
    it whatever the release (default: up to the newest). Raw events always win over
    published coverage.

    Example: snoopdb load --release 1.20
    """
    releases = ctx.releases()
    parts = _parts(args.only)
    asked = args.history or "history" in parts
    if args.release is None and not asked:
        raise ConfigError("--release is required (with --history it defaults to the newest)")
    release = releases.resolve(args.release) if args.release else releases.newest
    named_run = bool(args.job or args.audit_log)
    wants_history = not args.no_history and (
        asked or ("audit" in parts and release != releases.newest and not named_run))
    folder = _history_folder(args, ctx) if wants_history else None
    sources = Sources(ctx.settings, releases, args.from_dir)
    started = time.monotonic()
    with ctx.connect() as conn:
        report = load_release(conn, ctx.fetcher(), sources, release,
                              tuple(p for p in parts if p in PARTS and p != "audit"),
                              on_step=_print_step)
        for warning in report.warnings:
            say(f"warning: {warning}")
        rows = sum(step.rows for step in report.steps)
        print(f"loaded {len(report.steps)} files ({rows} rows) for release {release} "
              f"in {time.monotonic() - started:.1f}s"
              + (f"; {len(report.skipped)} specs already loaded" if report.skipped else ""))
        if folder is not None:
            _load_history(args, ctx, conn, releases, release, folder)
        if "audit" in parts:
            _load_audit(args, ctx, conn, releases, release, folder is not None)
    return 0


def _history_folder(args: argparse.Namespace, ctx: Context) -> str:
    if args.history_dir is not None:
        if not args.history_dir.is_dir():
            raise ConfigError(f"--history-dir {args.history_dir}: not a directory")
        return str(args.history_dir)
    return args.history_url or history.default_folder(ctx.settings)


def _load_history(args: argparse.Namespace, ctx: Context, conn: psycopg.Connection,
                  releases: Releases, release: Release, folder: str) -> None:
    # A past release named by the user must have published coverage; the newest may
    # not have any yet (its coverage comes from CI runs).
    required = release if args.release and release != releases.newest else None
    report = history.import_history(conn, ctx.fetcher(), folder, releases, release,
                                    required=required, on_release=_print_imported)
    if report.missing:
        say(f"warning: no published coverage in {folder} for {', '.join(report.missing)}")
    hits = sum(r.hit_rows for r in report.imported)
    print(f"history up to {release} from {folder}: {len(report.imported)} releases imported "
          f"({hits} hit rows), {len(report.raw)} kept their raw audit events, "
          f"{len(report.missing)} not published; {report.seconds:.1f}s")
    source = {r.release: r.source for r in report.imported}.get(str(release))
    if source:
        print(f"coverage of {release}: apisnoop's published coverage, imported from {source}")
    elif str(release) in report.raw:
        print(f"coverage of {release}: its raw audit events, loaded before (they win over "
              "published coverage)")


def _print_imported(imported: history.ImportedRelease) -> None:
    print(f"history {imported.release}: {imported.endpoints} endpoints, {imported.hit_rows} hit "
          f"rows, {imported.open_api_rows} open_api rows, {imported.historical_tests} "
          f"historical tests from {imported.source} ({imported.seconds:.2f}s)")


def _load_audit(args: argparse.Namespace, ctx: Context, conn: psycopg.Connection,
                releases: Releases, release: Release, history_imported: bool) -> None:
    options = (ctx.fetcher(), ctx.settings, releases)
    if args.audit_log:
        _print_audit(runs.load_log_files(conn, *options, args.audit_log, release,
                                         testing=args.testing,
                                         skip_bad_lines=args.skip_bad_lines))
        return
    if args.testing:
        raise SnoopError("--testing applies to local logs: name them with --audit-log")
    jobs = args.job or (list(DEFAULT_JOBS) if release == releases.newest else [])
    if args.build and len(jobs) != 1:
        raise SnoopError("--build needs exactly one --job")
    if not jobs and not history_imported:
        say(f"release {release}: CI runs of past releases are gone from the buckets; no audit "
            "data loaded (name a run with --job/--build, or local logs with --audit-log, or "
            "leave out --no-history to import apisnoop's published coverage)")
    for job in jobs:
        _print_audit(runs.load_ci_run(conn, *options, args.bucket, job, args.build,
                                      skip_bad_lines=args.skip_bad_lines))


def _print_audit(report: AuditReport) -> None:
    unmatched = ", ".join(f"{count} {reason}" for reason, count in report.unmatched.most_common())
    print(f"audit {report.release} from {report.source}: {report.events} events, "
          f"{report.matched} matched, {sum(report.unmatched.values())} unmatched"
          + (f" ({unmatched})" if unmatched else "")
          + (f", {report.bad_lines} bad lines skipped" if report.bad_lines else "")
          + f"; {report.seconds:.1f}s, {report.events_per_second:,.0f} events/s")


def _print_step(step: Step) -> None:
    print(f"{step.what} {step.release}: {step.rows} rows from {step.source} "
          f"({step.seconds:.2f}s)")


# `history` is a part only when named: by default a load decides itself (see cmd_load).
LOAD_PARTS = (*PARTS, "history")


def _parts(only: str | None) -> tuple[str, ...]:
    if not only:
        return PARTS
    parts = tuple(part.strip() for part in only.split(",") if part.strip())
    unknown = [part for part in parts if part not in LOAD_PARTS]
    if unknown or not parts:
        raise SnoopError(f"--only: unknown part {', '.join(unknown) or only!r}; "
                         f"choose from {','.join(LOAD_PARTS)}")
    return parts


def cmd_compare_published(args: argparse.Namespace, ctx: Context) -> int:
    """Compare the coverage in the database with apisnoop's published files, loading
    nothing: for each release with a loaded spec (or --release), the endpoints whose
    tested, conf_tested or tests differ from <release>.json, then the conformance
    progress totals that differ from conformance-progress.json. Exit status 1 when
    anything differs, 0 when the database gives the published coverage back.

    Example: snoopdb compare-published --release 1.20 --tests
    """
    releases = ctx.releases()
    folder = _history_folder(args, ctx)
    fetcher = ctx.fetcher()
    with ctx.connect() as conn:
        loaded = sorted(parse_release(r) for r in loaded_spec_releases(conn))
        if args.release:
            wanted = releases.resolve(args.release)
            if wanted not in loaded:
                raise ConfigError(f"release {wanted} is not loaded: nothing to compare")
            loaded = [wanted]
        differing = 0
        for release in loaded:
            try:
                # never cached: the point is to compare with what is published now
                coverage, source = history.fetch(fetcher, folder, release, cache=False)
            except NotFound as exc:
                print(f"{release}: not published ({exc})")
                continue
            comparison = history.compare_release(conn, coverage, source)
            differing += bool(comparison.differences)
            _print_comparison(comparison, args.tests)
        progress_source = history.location(folder, history.PROGRESS_FILE)
        try:
            published = history.parse_progress(fetcher.read_bytes(progress_source, cache=False),
                                               progress_source)
        except NotFound:
            print(f"progress: not published ({progress_source})")
            published = None
        progress = ([] if published is None else
                    history.compare_progress(conn, published, [str(r) for r in loaded]))
    for name, totals in _group_progress(progress):
        print(f"progress {name}: " + ", ".join(
            f"{d.total} {_count(d.ours)} (published {_count(d.published)})" for d in totals))
    progress_releases = len({d.release for d in progress})
    print(f"{differing} of {len(loaded)} releases differ from the published coverage; "
          f"progress totals differ for {progress_releases} releases")
    return 1 if differing or progress else 0


def _print_comparison(comparison: history.ReleaseComparison, tests: bool) -> None:
    if not comparison.differences:
        print(f"{comparison.release}: same as {comparison.source} "
              f"({comparison.endpoints} endpoints)")
        return
    print(f"{comparison.release}: {len(comparison.differences)} of {comparison.endpoints} "
          f"endpoints differ from {comparison.source}")
    for d in comparison.differences:
        if d.ours is None or d.published is None:
            side = "published file" if d.ours is None else "database"
            print(f"  {d.endpoint}: only in the {side}")
            continue
        ours, published = d.ours, d.published
        changes = [f"{name} {mine} (published {theirs})" for name, mine, theirs in (
            ("tested", ours.tested, published.tested),
            ("conf_tested", ours.conf_tested, published.conf_tested)) if mine != theirs]
        extra, lacking = sorted(ours.tests - published.tests), sorted(published.tests - ours.tests)
        if extra or lacking:
            changes.append(f"tests +{len(extra)} -{len(lacking)}")
        print(f"  {d.endpoint}: {', '.join(changes)}")
        if tests:
            for name in extra:
                print(f"    + {name}")
            for name in lacking:
                print(f"    - {name}")


def _group_progress(
    differences: list[history.ProgressDifference],
) -> list[tuple[str, list[history.ProgressDifference]]]:
    grouped: dict[str, list[history.ProgressDifference]] = {}
    for d in differences:
        grouped.setdefault(d.release, []).append(d)
    return list(grouped.items())


def _count(value: int | None) -> str:
    return "none" if value is None else str(value)


def cmd_db_url(args: argparse.Namespace, ctx: Context) -> int:
    """Print the database URL in use (starting the embedded server if that is the one).

    Example: psql "$(snoopdb db url)"
    """
    print(ctx.url)
    return 0


def cmd_db_stop(args: argparse.Namespace, ctx: Context) -> int:
    """Stop the embedded PostgreSQL server, if it is running.

    Example: snoopdb db stop
    """
    stopped = database.stop_embedded(ctx.settings)
    print("embedded server stopped" if stopped else "embedded server is not running")
    return 0


def cmd_verify_submission(args: argparse.Namespace, ctx: Context) -> int:
    """Check a certification submission folder (vX.Y/<product>/ of cncf/k8s-conformance:
    README.md, PRODUCT.yaml, e2e.log, junit_01.xml) the way the CNCF bot does: print
    the checklist and the labels the bot would apply, and keep the results in the
    database (conformance.submission, conformance.submission_missing_test, ...).
    Checks the bot does not make are marked "beyond the bot"; they fail the run only
    with --strict. Exit status: 0 passed, 1 a check failed, 3 cannot be processed
    (the bot's unable-to-process: release out of the supported window, no conformance
    list for the release, a title that is not a submission's; or a download failed).

    Example: snoopdb verify-submission v1.35/coolkube --title "Conformance results for v1.35/coolkube"
    """
    if (args.dir is None) == (args.all is None):
        raise ConfigError("give either a submission folder DIR or --all ROOT")
    if args.all is not None and args.title is not None:
        raise ConfigError("--title is the title of one submission's pull request, not of --all")
    started = time.monotonic()
    with ctx.connect() as conn:
        verifier = Verifier(conn, ctx.fetcher(), ctx.settings, ctx.releases(), title=args.title,
                            check_urls=args.check_urls,
                            allow_private_urls=args.allow_private_urls,
                            conformance_file=args.conformance_file)
        if args.all is None:
            results = [verifier.verify_folder(args.dir, args.release)]
        else:
            results = list(verifier.verify_all(args.all, args.release))
    if args.json:
        documents = [r.to_dict() for r in results]
        print(json.dumps(documents[0] if args.all is None else documents, indent=2))
    elif args.all is None:
        print(_checklist(results[0]))
    else:
        print(_summary_table(results))
        say(f"verified {len(results)} submissions in {time.monotonic() - started:.1f}s")
    return max((r.exit_status(args.strict) for r in results), default=0)


def _checklist(result: Verification) -> str:
    name = result.submission.name
    if result.error is not None:
        lines = [f"{name}: cannot be processed: {result.error}"]
        if result.labels:
            lines.append(f"labels: {', '.join(result.labels)}")
        return "\n".join(lines)
    lines = [f"{name}: {result.passed_checks} of {len(result.checks)} requirements have passed"]
    for check in result.checks:
        lines.append(f"[{'PASS' if check.passed else 'FAIL'}] {check.title}")
        if not check.passed:
            lines.append(f"  - {check.hint}")
            lines += [f"    - {detail}" for detail in check.details]
    lines.append(f"labels: {', '.join(result.labels)}")
    return "\n".join(lines)


def _summary_table(results: list[Verification]) -> str:
    rows = [("SUBMISSION", "RESULT", "CHECKS", "FAILED CHECKS / ERROR")]
    for r in results:
        failed = r.error or ", ".join(c.name for c in r.checks if not c.passed)
        rows.append((r.submission.name, r.result, f"{r.passed_checks}/{len(r.checks)}", failed))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
             for row in rows]
    counts = {result: sum(r.result == result for r in results)
              for result in ("passed", "failed", "unprocessable")}
    lines.append(f"{len(results)} submissions: " + ", ".join(f"{n} {result}"
                                                            for result, n in counts.items()))
    return "\n".join(line.rstrip() for line in lines)


def cmd_auditlogger(args: argparse.Namespace, ctx: Context) -> int:
    """Run the audit webhook server a cluster's API server sends its audit events to: every
    event is stored in testing.audit_event (release live), mapped against the newest
    loaded spec, and acknowledged once committed. GET / says hello, GET /healthz reports
    whether the database is reachable; events older than --retain are deleted.

    Example: snoopdb auditlogger --host 0.0.0.0 --token-file token --retain 24h
    """
    from snoopdb import auditlogger  # imported late: only this command needs the web stack

    token = auditlogger.read_token(args.token_file) if args.token_file else None
    max_body = auditlogger.parse_size(args.max_body)
    retain = auditlogger.parse_duration(args.retain)
    with ctx.connect() as conn:
        release = runs.newest_loaded_release(conn)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    say(f"auditlogger: POST http://{args.host}:{args.port}/events stores into "
        f"testing.audit_event of {database.redact(ctx.url)}, mapped with the spec of {release}; "
        + ("bearer token required" if token else "no token required")
        + f"; bodies up to {max_body} bytes; "
        + (f"events kept for {args.retain}" if retain else "events kept forever"))
    auditlogger.serve(auditlogger.create_app(ctx.url, token, max_body, retain),
                      args.host, args.port, log_level=args.log_level)
    return 0


def cmd_ticket(args: argparse.Namespace, ctx: Context) -> int:
    """Write the mock test ticket (Markdown) of a test being written against a live cluster:
    the endpoints its user agent hit and whether CI tests them today, the untested ones
    it newly covers, the projected change in coverage, and a test outline for their kinds.

    Example: snoopdb ticket --useragent live-test-writing --output ticket.md
    """
    with ctx.connect() as conn:
        text = mock_ticket(conn, args.useragent)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        say(f"wrote {args.output}")
    return 0


def cmd_gate(args: argparse.Namespace, ctx: Context) -> int:
    """Release-blocking check: do the stable endpoints new in a release have conformance tests?

    Fails when a stable, conformance-eligible endpoint new in the release (default: the
    latest loaded) is hit by no conformance test in the release's audit events; those in
    the release's pending_eligible_endpoints.yaml may wait. Prints a verdict and its
    reason for every new endpoint. Exit status: 0 pass, 1 fail, 2 cannot decide (no
    spec, no earlier release to compare with, no audit data, no conformance tests).

    Example: snoopdb gate --release 1.36 --junit junit_gate.xml
    """
    try:
        with ctx.connect() as conn:
            result = gate.run(conn, ctx.fetcher(), Sources(ctx.settings, ctx.releases()),
                              args.release, args.pending_file)
    except SnoopError as exc:
        if args.debug:
            raise
        say(f"snoopdb: gate cannot decide: {exc}")
        return gate.EXIT_CODES["undecided"]
    if result.problem is not None:
        say(f"snoopdb: gate cannot decide: {result.problem}")
        return result.exit_code
    print(gate.render(result))
    if args.junit is not None:
        args.junit.write_text(gate.junit(result))
        say(f"wrote {args.junit}")
    return result.exit_code


def cmd_export(args: argparse.Namespace, ctx: Context) -> int:
    """Write the coverage files the apisnoop web app reads (its resources/coverage/ folder).

    <release>.json (default: the latest loaded release), conformance-progress.json,
    conformance-coverage-per-release.json, conformance-endpoints.json,
    ineligible_endpoints.json and untested-endpoints.txt, every number from the views.

    Example: snoopdb export --release 1.36 --out resources/coverage
    """
    with ctx.connect() as conn:
        written = export(conn, args.out, args.release)
    for file in written:
        print(f"{file.path} ({file.bytes:,} bytes)")
    return 0


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Serve the coverage dashboard (web pages and a JSON API) over the views.

    Pages: a release's totals and sunburst (/), conformance progress and debt charts
    (/progress), the endpoint table and a page per endpoint (/endpoints), and live
    testing (/live); each page's data as JSON under /api/ (/api/overview, ...).

    Example: snoopdb serve --port 8000
    """
    # imported late: only these commands need the web stack
    from snoopdb import auditlogger, dashboard

    with ctx.connect() as conn:
        loaded = dashboard.releases(conn)
    say(f"dashboard: http://{args.host}:{args.port}/ over {database.redact(ctx.url)}; "
        + (f"releases {loaded[-1]} to {loaded[0]}" if loaded else
           "no spec loaded yet (run `snoopdb load --release X`)"))
    auditlogger.serve(dashboard.create_app(ctx.url), args.host, args.port,
                      log_level=args.log_level)
    return 0


Handler = Callable[[argparse.Namespace, Context], int]


def _global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument("--database-url", default=default,
                        help="PostgreSQL URL (default: DATABASE_URL, PG* variables, else an "
                             "embedded server under the user's data directory)")
    parser.add_argument("--releases-file", type=Path, default=default,
                        help="releases.yaml to use instead of the shipped one")
    parser.add_argument("--debug", action="store_true", default=default or False,
                        help="show tracebacks on errors")


# Global options are accepted after the command name too (`snoopdb load --debug`);
# SUPPRESS keeps a subcommand from resetting a value given before it.
_COMMON = argparse.ArgumentParser(add_help=False)
_global_options(_COMMON, default=argparse.SUPPRESS)


def _command(sub: argparse._SubParsersAction, name: str, handler: Handler) -> argparse.ArgumentParser:
    doc = handler.__doc__ or ""
    parser = sub.add_parser(name, help=doc.split("\n")[0], description=doc, parents=[_COMMON],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def _history_options(parser: argparse.ArgumentParser) -> None:
    folder = parser.add_mutually_exclusive_group()
    folder.add_argument("--history-url", metavar="URL",
                        help="folder URL of the published coverage files (default: "
                             "$SNOOPDB_APISNOOP_RAW_URL/resources/coverage)")
    folder.add_argument("--history-dir", type=Path, metavar="DIR",
                        help="read the published coverage files (<release>.json, "
                             "conformance-progress.json) from DIR instead")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snoopdb",
        description="Which parts of the Kubernetes API do tests exercise, release by release.",
    )
    parser.add_argument("--version", action="version", version=f"snoopdb {__version__}")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    _command(sub, "init", cmd_init)

    load = _command(sub, "load", cmd_load)
    load.add_argument("--release", help="1.20, 1.20.0 or v1.20.0 (required unless --history)")
    load.add_argument("--only", help=f"comma-separated parts to load: {','.join(LOAD_PARTS)}")
    load.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                      help="read files from DIR/kubernetes/kubernetes/<ref>/<path> "
                           "(a local mirror of the GitHub raw layout) instead of the network")
    load.add_argument("--audit-log", nargs="+", type=Path, metavar="FILE",
                      help="local audit logs (plain or gzipped; rotated copies are read "
                           "oldest first) to load as one run of --release")
    load.add_argument("--testing", action="store_true",
                      help="send --audit-log events to testing.audit_event (release live)")
    load.add_argument("--job", action="append", help="prow job to load (repeatable; default "
                      "for the newest release: " + ", ".join(DEFAULT_JOBS) + ")")
    load.add_argument("--build", help="build ID of --job (default: its latest successful one)")
    load.add_argument("--bucket", default=DEFAULT_BUCKET, help="GCS bucket of the prow logs")
    load.add_argument("--skip-bad-lines", action="store_true",
                      help="count malformed log lines instead of failing the run's load")
    history_choice = load.add_mutually_exclusive_group()
    history_choice.add_argument(
        "--history", action="store_true",
        help="import apisnoop's published coverage of every release up to --release that "
             "has no raw audit events (the default for a past release with no run named)")
    history_choice.add_argument("--no-history", action="store_true",
                                help="never import published coverage")
    _history_options(load)

    compare = _command(sub, "compare-published", cmd_compare_published)
    compare.add_argument("--release", help="compare only this release (default: every "
                         "release whose spec is loaded)")
    compare.add_argument("--tests", action="store_true",
                         help="list the test names that differ (+ ours only, - published only)")
    _history_options(compare)

    verify = _command(sub, "verify-submission", cmd_verify_submission)
    verify.add_argument("dir", nargs="?", type=Path, metavar="DIR",
                        help="the submission folder, normally vX.Y/<product>")
    verify.add_argument("--all", type=Path, metavar="ROOT",
                        help="verify every vX.Y/<product> folder under ROOT (a checkout of "
                             "cncf/k8s-conformance) and print a summary table")
    verify.add_argument("--release", help="the release (v1.35) when DIR's parent folder does "
                        "not name it; with --all, verify only that release's folders")
    verify.add_argument("--title", help="the pull request's title, checked when given")
    verify.add_argument("--json", action="store_true", help="print the results as JSON")
    verify.add_argument("--check-urls", action="store_true",
                        help="also request PRODUCT.yaml's URLs and expect HTML pages (public "
                             "addresses only, no proxy)")
    verify.add_argument("--allow-private-urls", action="store_true",
                        help="with --check-urls, also request loopback, link-local and "
                             "private addresses (a mirror on your network, tests)")
    verify.add_argument("--strict", action="store_true",
                        help="exit 1 when a check beyond the bot fails too")
    verify.add_argument("--conformance-file", type=Path, metavar="FILE",
                        help="the release's conformance.yaml (default: the release-X.Y branch's, "
                             "from the GitHub raw base URL); replaces the stored list")

    logger = _command(sub, "auditlogger", cmd_auditlogger)
    logger.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0 for a cluster in containers)")
    logger.add_argument("--port", type=int, default=9900)
    logger.add_argument("--token-file", metavar="FILE",
                        help="require `Authorization: Bearer <the token in FILE>` of every request")
    logger.add_argument("--retain", default="24h",
                        help="delete live events older than this (90s, 30m, 24h, 7d; 0: never)")
    logger.add_argument("--max-body", default="10MB",
                        help="largest request body accepted (K, M, G are powers of 1024)")
    logger.add_argument("--log-level", default="info",
                        choices=("debug", "info", "warning", "error"),
                        help="info logs every request; warning only problems")

    ticket = _command(sub, "ticket", cmd_ticket)
    ticket.add_argument("--useragent", required=True,
                        help="the live test's user agent (starts with live), e.g. live-test-writing")
    ticket.add_argument("--output", type=Path, metavar="FILE",
                        help="write the Markdown to FILE instead of standard output")

    gate_parser = _command(sub, "gate", cmd_gate)
    gate_parser.add_argument("--release", help="1.36, 1.36.0 or v1.36.0 (default: the latest "
                             "loaded release)")
    gate_parser.add_argument("--junit", type=Path, metavar="FILE",
                             help="also write JUnit XML: one testcase per new eligible endpoint")
    gate_parser.add_argument("--pending-file", type=Path, metavar="FILE",
                             help="pending_eligible_endpoints.yaml to use instead of the "
                                  "release's from the GitHub raw base URL")

    export_parser = _command(sub, "export", cmd_export)
    export_parser.add_argument("--release", help="release of <release>.json and of the "
                               "untested list (default: the latest loaded release)")
    export_parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                               help="folder to write the files to (default: .)")

    serve = _command(sub, "serve", cmd_serve)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (0.0.0.0 to serve other machines)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info",
                       choices=("debug", "info", "warning", "error"),
                       help="info logs every request; warning only problems")

    db = sub.add_parser("db", help="the database in use").add_subparsers(
        dest="db_command", metavar="COMMAND", required=True)
    _command(db, "url", cmd_db_url)
    _command(db, "stop", cmd_db_stop)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(Settings(), args.database_url, args.releases_file)
    try:
        return args.handler(args, ctx)
    except SnoopError as exc:
        if args.debug:
            raise
        say(f"snoopdb: error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("snoopdb: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
