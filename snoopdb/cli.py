"""The `snoopdb` command line: parses options and calls library functions."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb import __version__, database
from snoopdb.config import Settings
from snoopdb.errors import SnoopError
from snoopdb.fetch import Fetcher
from snoopdb.load import PARTS, Sources, Step, load_release
from snoopdb.releases import Releases


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
    its conformance.yaml and its ineligible endpoints.

    Example: snoopdb load --release 1.20
    """
    releases = ctx.releases()
    release = releases.resolve(args.release)
    parts = _parts(args.only)
    sources = Sources(ctx.settings, releases, args.from_dir)
    started = time.monotonic()
    with ctx.connect() as conn:
        report = load_release(conn, ctx.fetcher(), sources, release, parts, on_step=_print_step)
    for warning in report.warnings:
        say(f"warning: {warning}")
    rows = sum(step.rows for step in report.steps)
    print(f"loaded {len(report.steps)} files ({rows} rows) for release {release} "
          f"in {time.monotonic() - started:.1f}s"
          + (f"; {len(report.skipped)} specs already loaded" if report.skipped else ""))
    return 0


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


def _command(sub: argparse._SubParsersAction, name: str, handler: Handler) -> argparse.ArgumentParser:
    doc = handler.__doc__ or ""
    parser = sub.add_parser(name, help=doc.split("\n")[0], description=doc,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snoopdb",
        description="Which parts of the Kubernetes API do tests exercise, release by release.",
    )
    parser.add_argument("--version", action="version", version=f"snoopdb {__version__}")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL, PG* "
                        "variables, else an embedded server under the user's data directory)")
    parser.add_argument("--releases-file", type=Path,
                        help="releases.yaml to use instead of the shipped one")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    _command(sub, "init", cmd_init)

    load = _command(sub, "load", cmd_load)
    load.add_argument("--release", required=True, help="1.20, 1.20.0 or v1.20.0")
    load.add_argument("--only", help=f"comma-separated parts to load: {','.join(PARTS)}")
    load.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                      help="read files from DIR/kubernetes/kubernetes/<ref>/<path> "
                           "(a local mirror of the GitHub raw layout) instead of the network")

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
