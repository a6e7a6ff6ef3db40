"""The `snoopdb` command line: parses options and calls library functions.

Each module holds a group of commands, their handlers next to the options they take:
`database` (init, query, db), `loading` (load, compare-published), `mirroring` (mirror),
`certification` (verify-submission), `servers` (auditlogger, serve), `reports` (ticket,
gate, export), `runs` (runs, runs drop, runs prune, …), `archive` (archive
bigquery-ddl), `releases` (releases, releases drop).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

import psycopg

from snoopdb import __version__
from snoopdb.cli import (
    archive,
    certification,
    database,
    loading,
    mirroring,
    presubmit,
    releases,
    reports,
    runs,
    servers,
)
from snoopdb.cli.context import Context, say
from snoopdb.cli.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Terminated,
    hint,
)
from snoopdb.cli.parsing import Parser, global_options, minor_releases
from snoopdb.core.config import Settings
from snoopdb.core.errors import SnoopError, UsageError
from snoopdb.db import connection

# In the order `snoopdb --help` lists the commands.
_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    database.add_init, loading.add_load, mirroring.add_mirror, loading.add_compare_published,
    certification.add_verify_submission, servers.add_auditlogger, reports.add_ticket,
    reports.add_gate, presubmit.add_presubmit, reports.add_export, servers.add_serve, runs.add_runs,
    archive.add_archive, releases.add_releases, database.add_query, database.add_db,
)


def build_parser() -> Parser:
    parser = Parser(
        prog="snoopdb",
        description="Which parts of the Kubernetes API do tests exercise, release by release.",
    )
    parser.add_argument("--version", action="version", version=f"snoopdb {__version__}")
    global_options(parser)
    # not `required`: argparse would report a missing command before an unknown option
    # (`snoopdb --versoin`); main reports either, the unknown option first
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _COMMANDS:
        register(sub)
    return parser


def _command_parser(parser: Parser, args: argparse.Namespace) -> Parser:
    """The parser of the (sub)command given, so that an error points at its --help."""
    while True:
        chosen = next((action.choices[name] for action in parser._actions
                       if isinstance(action, argparse._SubParsersAction)
                       and (name := getattr(args, action.dest, None)) in action.choices), None)
        if chosen is None:
            return parser
        parser = chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # `db psql` hands what it does not know to psql; every other command refuses it
    passthrough = getattr(args, "passthrough", None)
    if passthrough is None:
        if extra:
            _command_parser(parser, args).unrecognized(extra)
    else:
        setattr(args, passthrough, extra[1:] if extra[:1] == ["--"] else extra)
    if "handler" not in args:
        _command_parser(parser, args).error("the following arguments are required: COMMAND")
    if not args.debug:
        # psycopg logs a warning when it abandons a COPY on a lost connection; the
        # error that follows says it in one line
        logging.getLogger("psycopg").addHandler(logging.NullHandler())
        logging.getLogger("psycopg").propagate = False
    ctx = None
    try:
        minor_releases(args)
        ctx = Context(Settings(), args.database_url, args.releases_file)
        return args.handler(args, ctx)
    except UsageError as exc:
        if args.debug:
            raise
        say(f"snoopdb: error: {exc}")
        return EXIT_USAGE
    except SnoopError as exc:
        if args.debug:
            raise
        advice = hint(exc, ctx.settings, args.instead) if ctx else None
        say(f"snoopdb: error: {exc}{advice or ''}")
        return EXIT_FAILED
    except psycopg.Error as exc:
        if args.debug:
            raise
        say(f"snoopdb: error: {connection.describe(exc)}")
        return EXIT_FAILED
    except BrokenPipeError:
        # whoever read stdout stopped (`| head`): quiet, as a pipe's reader expects;
        # stdout pointed at nothing so that the interpreter's last flush cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a local file or the disk, outside what the library names
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"snoopdb: error: {where}{exc.strerror or exc}")
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            say("snoopdb: terminated (SIGTERM)")
            return EXIT_TERMINATED
        say("snoopdb: interrupted")
        return EXIT_INTERRUPTED
