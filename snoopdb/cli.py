"""The `snoopdb` command line: parses options and calls library functions."""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb import __version__
from snoopdb.commands import compare, gate, runs
from snoopdb.commands.export import export
from snoopdb.commands.load import (
    LOAD_PARTS,
    PARTS,
    LoadListener,
    LoadOptions,
    LoadReport,
    Step,
    load,
)
from snoopdb.commands.ticket import ticket as mock_ticket
from snoopdb.commands.verify import Verification, verify_submission
from snoopdb.core.config import Settings
from snoopdb.core.errors import (
    ConfigError,
    FetchError,
    NoSchema,
    NoSpecLoaded,
    NotFound,
    SchemaOutdated,
    SnoopError,
)
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases
from snoopdb.db import connection, schema
from snoopdb.loaders import audit, history
from snoopdb.loaders.audit import AuditReport
from snoopdb.loaders.ci_runs import DEFAULT_BUCKET, DEFAULT_JOBS
from snoopdb.loaders.github import Sources

# Exit statuses (README, "Exit codes"): 2 is argparse's for usage errors.
EXIT_OK, EXIT_FAILED, EXIT_UNDECIDED = 0, 1, 3


@dataclass
class Context:
    """What every command needs, resolved lazily from the global options."""

    settings: Settings
    url_option: str | None = None
    releases_file: Path | None = None
    _url: str | None = field(default=None, repr=False)
    _releases: Releases | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = connection.database_url(self.settings, self.url_option)
        return self._url

    def connect(self, *, migrate: bool = False) -> psycopg.Connection:
        """A connection to a database whose schema is at head: migrated first by commands
        that write (`migrate`), checked by those that only read, which never migrate."""
        if migrate:
            schema.migrate(self.url)
        conn = connection.connect(self.url)
        if not migrate:
            try:
                schema.require_current(conn)
            except SchemaOutdated as exc:
                conn.close()
                if exc.current is None:
                    raise NoSchema(connection.redact(self.url)) from None
                raise
        return conn

    def releases(self) -> Releases:
        """apisnoop's releases list (or --releases-file), read once per command; says on
        stderr when it falls back to a cached or the shipped copy."""
        if self._releases is None:
            self._releases = Releases.upstream(self.fetcher(), self.settings.apisnoop_raw_url,
                                              self.settings.cache_dir, self.releases_file)
            if self._releases.warning:
                say(f"warning: {self._releases.warning}")
        return self._releases

    def fetcher(self) -> Fetcher:
        return Fetcher(self.settings.cache_dir, self.settings.deadlines)


def say(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create or upgrade the schema (Alembic migrations and views).

    Example: snoopdb init
    """
    schema.migrate(ctx.url)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)} in "
              f"{connection.redact(ctx.url)}")
    return 0


def cmd_load(args: argparse.Namespace, ctx: Context) -> int:
    """Load a release's specs, conformance tests, ineligible endpoints and audit events.

    The specs of every release up to it that are not loaded yet,
    its conformance.yaml and ineligible endpoints, and audit events — local logs
    (--audit-log), a named CI run (--job/--build), or, for the newest release, the
    latest successful runs of the default CI jobs. For a past release with no run
    named, whose CI logs are gone, apisnoop's published coverage of it and of every
    release before it is imported instead (unless --no-history); --history imports
    it whatever the release (default: up to the newest). Raw events always win over
    published coverage.

    Example: snoopdb load --release 1.20
    """
    parts = _parts(args.only)
    if args.release is None and not (args.history or "history" in parts):
        raise ConfigError("--release is required (with --history it defaults to the newest)")
    if args.testing and not args.audit_log:
        raise ConfigError("--testing applies to local logs: name them with --audit-log")
    if args.build and len(args.job or []) != 1:
        raise ConfigError("--build needs exactly one --job")
    releases = ctx.releases()
    release = releases.resolve(args.release) if args.release else None
    if release is not None and release > releases.newest:
        say(f"note: release {release.minor_name} is newer than every release {releases.origin}"
            f" lists: loading it as the release in development (its files at master)")
    options = LoadOptions(
        release=release, parts=parts,
        from_dir=args.from_dir, audit_logs=args.audit_log or (), testing=args.testing,
        jobs=args.job or (), build=args.build, bucket=args.bucket,
        skip_bad_lines=args.skip_bad_lines, history=args.history, no_history=args.no_history,
        history_folder=_history_folder(args))
    with ctx.connect(migrate=True) as conn:
        report = load(conn, ctx.fetcher(), ctx.settings, releases, options, _LoadPrinter())
    if report.no_audit_data:
        say(f"release {report.release}: CI runs of past releases are gone from the buckets; "
            "no audit data loaded (name a run with --job/--build, or local logs with "
            "--audit-log, or leave out --no-history to import apisnoop's published coverage)")
    return 0


def _history_folder(args: argparse.Namespace) -> str | None:
    if args.history_dir is not None:
        if not args.history_dir.is_dir():
            raise ConfigError(f"--history-dir {args.history_dir}: not a directory")
        return str(args.history_dir)
    return str(args.history_url) if args.history_url else None


class _LoadPrinter(LoadListener):
    def step(self, step: Step) -> None:
        print(f"{step.what} {step.release}: {step.rows} rows from {step.source} "
              f"({step.seconds:.2f}s)")

    def files(self, report: LoadReport) -> None:
        for warning in report.warnings:
            say(f"warning: {warning}")
        rows = sum(step.rows for step in report.steps)
        for release, date in report.dated:
            print(f"spec {release}: released on {date}; its release_date is filled in")
        print(f"loaded {len(report.steps)} files ({rows} rows) for release {report.release} "
              f"in {report.seconds:.1f}s"
              + (f"; {len(report.skipped)} specs already loaded" if report.skipped else ""))

    def imported(self, imported: history.ImportedRelease) -> None:
        print(f"history {imported.release}: {imported.endpoints} endpoints, "
              f"{imported.hit_rows} hit rows, {imported.open_api_rows} open_api rows, "
              f"{imported.historical_tests} historical tests from {imported.source} "
              f"({imported.seconds:.2f}s)")

    def history(self, report: LoadReport) -> None:
        assert report.history is not None
        imported, folder, release = report.history, report.history_folder, str(report.release)
        if imported.missing:
            say(f"warning: no published coverage in {folder} for {', '.join(imported.missing)}")
        hits = sum(r.hit_rows for r in imported.imported)
        print(f"history up to {release} from {folder}: {len(imported.imported)} releases "
              f"imported ({hits} hit rows), {len(imported.raw)} kept their raw audit events, "
              f"{len(imported.missing)} not published; {imported.seconds:.1f}s")
        source = {r.release: r.source for r in imported.imported}.get(release)
        if source:
            print(f"coverage of {release}: apisnoop's published coverage, imported from {source}")
        elif release in imported.raw:
            print(f"coverage of {release}: its raw audit events, loaded before (they win over "
                  "published coverage)")

    def audit(self, report: AuditReport) -> None:
        unmatched = ", ".join(f"{count} {reason}"
                              for reason, count in report.unmatched.most_common())
        bad = "; ".join(f"{count} {reason}" for reason, count in report.bad_reasons.most_common())
        print(f"audit {report.release} from {report.source}: {report.events} events, "
              f"{report.matched} matched, {sum(report.unmatched.values())} unmatched"
              + (f" ({unmatched})" if unmatched else "")
              + (f"; release spec from {report.spec}" if report.spec else "")
              + (f", {report.bad_lines} bad lines skipped ({bad})" if report.bad_lines else "")
              + f"; {report.seconds:.1f}s, {report.events_per_second:,.0f} events/s")


def _parts(only: str | None) -> tuple[str, ...]:
    if not only:
        return PARTS
    parts = tuple(part.strip() for part in only.split(",") if part.strip())
    unknown = [part for part in parts if part not in LOAD_PARTS]
    if unknown or not parts:
        raise ConfigError(f"--only: unknown part {', '.join(unknown) or only!r}; "
                          f"choose from {','.join(LOAD_PARTS)}")
    return parts


def cmd_compare_published(args: argparse.Namespace, ctx: Context) -> int:
    """Compare the coverage in the database with apisnoop's published files.

    Loads nothing: for each release with a loaded spec (or --release), the endpoints whose
    tested, conf_tested or tests differ from <release>.json, then the totals that differ
    from conformance-progress.json and conformance-coverage-per-release.json (releases
    whose earlier specs are missing are named as not comparable). Exit status 1 when
    anything differs, 0 when the database gives the published coverage back.

    Example: snoopdb compare-published --release 1.20 --tests
    """
    folder = _history_folder(args) or history.default_folder(ctx.settings)
    with ctx.connect() as conn:
        report = compare.compare_published(conn, ctx.fetcher(), ctx.releases(), folder,
                                           args.release)
    for comparison in report.comparisons:
        _print_comparison(comparison, args.tests)
    for release, reason in report.not_published.items():
        print(f"{release}: not published ({reason})")
    for name, source in ((compare.PROGRESS_FILE, report.progress_source),
                         (compare.PER_RELEASE_FILE, report.per_release_source)):
        if source is None:
            print(f"{name}: not published ({history.location(folder, name)})")
    for (name, release), totals in _group_progress(report.progress):
        print(f"{name} {release}: " + ", ".join(
            f"{d.total} {_count(d.ours)} (published {_count(d.published)})" for d in totals))
    for release, reason in report.not_comparable.items():
        print(f"totals {release}: not comparable ({reason})")
    progress_releases = len({d.release for d in report.progress})
    print(f"{report.differing} of {len(report.releases)} releases differ from the published "
          f"coverage; progress and per-release totals: {len(report.totals_same)} releases same, "
          f"{progress_releases} differ, {len(report.not_comparable)} not comparable")
    return EXIT_OK if report.same else EXIT_FAILED


def _print_comparison(comparison: compare.ReleaseComparison, tests: bool) -> None:
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
    differences: list[compare.ProgressDifference],
) -> list[tuple[tuple[str, str], list[compare.ProgressDifference]]]:
    grouped: dict[tuple[str, str], list[compare.ProgressDifference]] = {}
    for d in differences:
        grouped.setdefault((d.file, d.release), []).append(d)
    return list(grouped.items())


def _count(value: int | None) -> str:
    return "none" if value is None else str(value)


def _size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return ""


def _print_runs(listed: list[runs.Run]) -> None:
    print(f"{'release':<10} {'events':>12} {'size':>10}  {'loaded at':<19}  source")
    for run in listed:
        print(f"{run.release:<10} {run.events:>12,} {_size(run.bytes):>10}  "
              f"{run.loaded_at:%Y-%m-%d %H:%M:%S}  {run.source}")


def cmd_runs(args: argparse.Namespace, ctx: Context) -> int:
    """List the loaded CI runs (by job, newest first), or drop or prune them.

    Each run's events are a table of their own: dropping a run drops that table
    (no rows deleted one by one) and the run's endpoint_hit rows, and refreshes the
    coverage views, in one transaction.

    Example: snoopdb runs
    """
    with ctx.connect() as conn:
        listed = runs.list_runs(conn)
    _print_runs(listed)
    print(f"{len(listed)} runs, {sum(r.events for r in listed):,} events, "
          f"{_size(sum(r.bytes for r in listed))}")
    return 0


def _print_drop(report: runs.DropReport) -> None:
    for run in report.dropped:
        print(f"dropped {run.source} ({run.release}, {run.events:,} events)")
    print(f"{len(report.dropped)} runs dropped ({report.events:,} events, "
          f"{_size(report.bytes)}), {len(report.kept)} kept, in {report.seconds:.2f}s")


def cmd_runs_drop(args: argparse.Namespace, ctx: Context) -> int:
    """Drop loaded runs, named by their source (as `snoopdb runs` lists it).

    All or none: a source that is not a loaded run is an error and nothing is dropped.

    Example: snoopdb runs drop https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/1800000000000000000
    """
    with ctx.connect() as conn:
        _print_drop(runs.drop_runs(conn, args.sources))
    return 0


def cmd_runs_prune(args: argparse.Namespace, ctx: Context) -> int:
    """Keep the newest N runs of each job (by build number, else by load time) and drop
    the others.

    Example: snoopdb runs prune --keep 3
    """
    with ctx.connect() as conn:
        _print_drop(runs.prune_runs(conn, args.keep))
    return 0


def cmd_db_url(args: argparse.Namespace, ctx: Context) -> int:
    """Print the database URL in use (starting the embedded server if that is the one).

    Example: psql "$(snoopdb db url)"
    """
    print(ctx.url)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    """Upgrade the schema to a revision (default: the newest), as `snoopdb init` does.

    Example: snoopdb db upgrade head
    """
    schema.migrate(ctx.url, args.revision)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)}")
    return 0


def cmd_db_current(args: argparse.Namespace, ctx: Context) -> int:
    """Print the schema revision of the database and whether it is this snoopdb's newest.

    Example: snoopdb db current
    """
    with connection.connect(ctx.url) as conn:
        current = schema.schema_revision(conn)
    head = schema.head_revision()
    state = ("not initialised (run `snoopdb init`)" if current is None else
             "head" if current == head else f"behind head {head} (run `snoopdb init`)")
    print(f"{current or 'none'}: {state}")
    return 0


def cmd_db_history(args: argparse.Namespace, ctx: Context) -> int:
    """List the schema revisions this snoopdb ships, newest first.

    Example: snoopdb db history
    """
    for revision, down, title in schema.revisions():
        print(f"{down or '<base>'} -> {revision}: {title}")
    return 0


def cmd_db_stop(args: argparse.Namespace, ctx: Context) -> int:
    """Stop the embedded PostgreSQL server, if it is running.

    Example: snoopdb db stop
    """
    stopped = connection.stop_embedded(ctx.settings)
    print("embedded server stopped" if stopped else "embedded server is not running")
    return 0


def cmd_verify_submission(args: argparse.Namespace, ctx: Context) -> int:
    """Check a certification submission as the CNCF bot does, and print its labels.

    A submission folder is vX.Y/<product>/ of cncf/k8s-conformance (README.md,
    PRODUCT.yaml, e2e.log, junit_01.xml). Prints the checklist and the labels the bot
    would apply, and keeps the results in the database (conformance.submission,
    conformance.submission_missing_test, ...).
    Checks the bot does not make are marked "beyond the bot"; they fail the run only
    with --strict. Exit status: 0 passed, 1 a check failed, 3 cannot be processed
    (the bot's unable-to-process: release out of the supported window, no conformance
    list for the release, a title that is not a submission's; or a download failed).

    Example: snoopdb verify-submission v1.35/coolkube --title "Conformance results for v1.35/cool"
    """
    if (args.dir is None) == (args.all is None):
        raise ConfigError("give either a submission folder DIR or --all ROOT")
    if args.all is not None and args.title is not None:
        raise ConfigError("--title is the title of one submission's pull request, not of --all")
    if args.all is not None and args.conformance_file is not None and args.release is None:
        raise ConfigError("--conformance-file with --all needs --release: a conformance"
                          " list belongs to one release")
    with ctx.connect(migrate=True) as conn:
        report = verify_submission(
            conn, ctx.fetcher(), ctx.settings, ctx.releases(), folder=args.dir, root=args.all,
            release=args.release, title=args.title, check_urls=args.check_urls,
            allow_private_urls=args.allow_private_urls, conformance_file=args.conformance_file)
    results = report.results
    if args.json:
        documents = [r.to_dict() for r in results]
        print(json.dumps(documents[0] if args.all is None else documents, indent=2))
    elif args.all is None:
        print(_checklist(results[0]))
    else:
        print(_summary_table(results))
        say(f"verified {len(results)} submissions in {report.seconds:.1f}s")
    return report.exit_status(args.strict)


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
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
             + "  " + row[3]
             for row in rows]
    counts = {result: sum(r.result == result for r in results)
              for result in ("passed", "failed", "unprocessable")}
    lines.append(f"{len(results)} submissions: " + ", ".join(f"{n} {result}"
                                                            for result, n in counts.items()))
    return "\n".join(line.rstrip() for line in lines)


def cmd_auditlogger(args: argparse.Namespace, ctx: Context) -> int:
    """Run the audit webhook server a cluster's API server sends its audit events to.

    Every event is stored in testing.audit_event (release live), mapped against the newest
    loaded spec, and acknowledged once committed. GET / says hello, GET /healthz reports
    whether the database is reachable; events older than --retain are deleted.

    Example: snoopdb auditlogger --host 0.0.0.0 --token-file token --retain 24h
    """
    # imported late: only the servers need the web stack
    from snoopdb.web import app, auditlogger

    token = auditlogger.read_token(args.token_file) if args.token_file else None
    exposure = auditlogger.token_file_exposure(args.token_file) if args.token_file else None
    if exposure:
        say(f"snoopdb: warning: {exposure}")
    max_body = auditlogger.parse_size(args.max_body)
    retain = auditlogger.parse_duration(args.retain)
    with ctx.connect(migrate=True) as conn:
        release = audit.newest_loaded_release(conn)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    say(f"auditlogger: POST http://{args.host}:{args.port}/events stores into "
        f"testing.audit_event of {connection.redact(ctx.url)}, mapped with the spec of {release}; "
        + ("bearer token required" if token else "no token required")
        + f"; bodies up to {max_body} bytes; "
        + (f"events kept for {args.retain}" if retain else "events kept forever"))
    app.serve(auditlogger.create_app(ctx.url, token, max_body, retain),
                      args.host, args.port, log_level=args.log_level)
    return 0


def cmd_ticket(args: argparse.Namespace, ctx: Context) -> int:
    """Write the mock test ticket (Markdown) of a test being written against a live cluster.

    It lists the endpoints its user agent hit and whether CI tests them today, the untested ones
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
    reason for every new endpoint. Exit status: 0 pass, 1 fail, 3 cannot decide (no
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
        say(f"snoopdb: gate cannot decide: {exc}{hint(exc, ctx.settings) or ''}")
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
    from snoopdb.web import app, dashboard

    with ctx.connect() as conn:
        loaded = dashboard.releases(conn)
    say(f"dashboard: http://{args.host}:{args.port}/ over {connection.redact(ctx.url)}; "
        + (f"releases {loaded[-1]} to {loaded[0]}" if loaded else
           "no spec loaded yet (run `snoopdb load --release X`)"))
    app.serve(dashboard.create_app(ctx.url), args.host, args.port,
                      log_level=args.log_level)
    return 0


Handler = Callable[[argparse.Namespace, Context], int]


def _global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument("--database-url", default=default,
                        help="PostgreSQL URL (default: DATABASE_URL, PG* variables, else an "
                             "embedded server under the user's data directory)")
    parser.add_argument("--releases-file", type=Path, default=default,
                        help="releases.yaml to use instead of apisnoop's list (read from "
                             "SNOOPDB_APISNOOP_RAW_URL, cached for a day; offline: the cached "
                             "copy, else the one shipped with snoopdb)")
    parser.add_argument("--debug", action="store_true", default=default or False,
                        help="show tracebacks on errors")


# Global options are accepted after the command name too (`snoopdb load --debug`);
# SUPPRESS keeps a subcommand from resetting a value given before it.
_COMMON = argparse.ArgumentParser(add_help=False)
_global_options(_COMMON, default=argparse.SUPPRESS)


def _command(sub: argparse._SubParsersAction, name: str,
             handler: Handler) -> argparse.ArgumentParser:
    doc = inspect.cleandoc(handler.__doc__ or "")
    summary = " ".join(doc.split("\n\n")[0].split())
    parser = sub.add_parser(name, help=summary, description=doc, parents=[_COMMON],
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
                        help="the live test's user agent (starts with live), "
                             "e.g. live-test-writing")
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

    runs_parser = _command(sub, "runs", cmd_runs)
    runs_sub = runs_parser.add_subparsers(dest="runs_command", metavar="COMMAND")
    drop = _command(runs_sub, "drop", cmd_runs_drop)
    drop.add_argument("sources", nargs="+", metavar="SOURCE", help="source of a run to drop")
    prune = _command(runs_sub, "prune", cmd_runs_prune)
    prune.add_argument("--keep", type=int, required=True, metavar="N",
                       help="runs to keep per job (at least 1)")

    db_parser = sub.add_parser(
        "db", help="The database in use: its URL, schema revision and embedded server.",
        description="The database in use: its URL, schema revision and embedded server.\n\n"
                    "Example: snoopdb db current",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    db = db_parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    _command(db, "url", cmd_db_url)
    upgrade = _command(db, "upgrade", cmd_db_upgrade)
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="revision to upgrade to (default: head)")
    _command(db, "current", cmd_db_current)
    _command(db, "history", cmd_db_history)
    _command(db, "stop", cmd_db_stop)
    return parser


def hint(exc: SnoopError, settings: Settings) -> str | None:
    """What the user can do about `exc`: the command to run, or the setting that points
    at an unreachable source and the flag that does without it."""
    if isinstance(exc, NoSpecLoaded):
        release = exc.release.rsplit(".", 1)[0] if exc.release else "X"
        return f": run `snoopdb load --release {release}` first"
    if isinstance(exc, (NoSchema, SchemaOutdated)):
        return ": run `snoopdb init`"
    if isinstance(exc, FetchError) and not isinstance(exc, NotFound):
        message = str(exc)
        for prefix, setting, flag in (
            (settings.apisnoop_raw_url, "SNOOPDB_APISNOOP_RAW_URL", "--no-history"),
            (settings.gcs_url, "SNOOPDB_GCS_URL", "--audit-log FILE"),
            (settings.github_raw_url, "SNOOPDB_GITHUB_RAW_URL", "--from DIR"),
        ):
            if message.startswith(prefix.rstrip("/")):
                return f" ({setting} points there: set it to a reachable mirror, or use {flag})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug:
        # psycopg logs a warning when it abandons a COPY on a lost connection; the
        # error that follows says it in one line
        logging.getLogger("psycopg").addHandler(logging.NullHandler())
        logging.getLogger("psycopg").propagate = False
    ctx = Context(Settings(), args.database_url, args.releases_file)
    try:
        return args.handler(args, ctx)
    except SnoopError as exc:
        if args.debug:
            raise
        advice = hint(exc, ctx.settings)
        say(f"snoopdb: error: {exc}{advice or ''}")
        return EXIT_FAILED
    except psycopg.Error as exc:
        if args.debug:
            raise
        say(f"snoopdb: error: {connection.describe(exc)}")
        return EXIT_FAILED
    except OSError as exc:  # a local file or the disk, outside what the library names
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"snoopdb: error: {where}{exc.strerror or exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        say("snoopdb: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
