"""The argparse pieces every command shares: the global options, accepted before and after
the command name, and `add_command`, which makes a subcommand's help from its handler's
docstring."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path

from snoopdb.cli.context import Context

Handler = Callable[[argparse.Namespace, Context], int]


def global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
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
global_options(_COMMON, default=argparse.SUPPRESS)


def add_command(sub: argparse._SubParsersAction, name: str,
                handler: Handler) -> argparse.ArgumentParser:
    doc = inspect.cleandoc(handler.__doc__ or "")
    summary = " ".join(doc.split("\n\n")[0].split())
    parser = sub.add_parser(name, help=summary, description=doc, parents=[_COMMON],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def whole_number(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number (0 or more), not {text!r}")
    return int(text)
