"""The `snoopdb` command line: parses options and calls library functions."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb import __version__, database, runs
from snoopdb.config import Settings
from snoopdb.errors import SnoopError
from snoopdb.fetch import Fetcher
from snoopdb.load import PARTS, Sources, Step, load_release
from snoopdb.loaders.audit import AuditReport
from snoopdb.loaders.prow import DEFAULT_BUCKET, DEFAULT_JOBS
from snoopdb.releases import Release, Releases


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
    latest successful runs of the default CI jobs.

    Example: snoopdb load --release 1.20
    """
    releases = ctx.releases()
    release = releases.resolve(args.release)
    parts = _parts(args.only)
    sources = Sources(ctx.settings, releases, args.from_dir)
    started = time.monotonic()
    with ctx.connect() as conn:
        report = load_release(conn, ctx.fetcher(), sources, release,
                              tuple(p for p in parts if p != "audit"), on_step=_print_step)
        for warning in report.warnings:
            say(f"warning: {warning}")
        rows = sum(step.rows for step in report.steps)
        print(f"loaded {len(report.steps)} files ({rows} rows) for release {release} "
              f"in {time.monotonic() - started:.1f}s"
              + (f"; {len(report.skipped)} specs already loaded" if report.skipped else ""))
        if "audit" in parts:
            _load_audit(args, ctx, conn, releases, release)
    return 0


def _load_audit(args: argparse.Namespace, ctx: Context, conn: psycopg.Connection,
                releases: Releases, release: Release) -> None:
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
    if not jobs:
        say(f"release {release}: CI runs of past releases are gone from the buckets; no audit "
            "data loaded (name a run with --job/--build, or local logs with --audit-log)")
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


def _parts(only: str | None) -> tuple[str, ...]:
    if not only:
        return PARTS
    parts = tuple(part.strip() for part in only.split(",") if part.strip())
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise SnoopError(f"--only: unknown part {', '.join(unknown) or only!r}; "
                         f"choose from {','.join(PARTS)}")
    return parts


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
    load.add_argument("--release", required=True, help="1.20, 1.20.0 or v1.20.0")
    load.add_argument("--only", help=f"comma-separated parts to load: {','.join(PARTS)}")
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
