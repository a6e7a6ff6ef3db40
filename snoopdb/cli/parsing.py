"""The argparse pieces every command shares: the global options, accepted before and after
the command name, and `add_command`, which makes a subcommand's help from its handler's
docstring."""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import math
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


def positive_number(text: str) -> int:
    """argparse type: a whole number, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number (1 or more), not {text!r}")
    return int(text)


def share(text: str) -> float:
    """argparse type: a share of runs, above 0 and at most 1 (0.8, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1, not {text!r}")
    return value


def utc_time(text: str) -> dt.datetime:
    """argparse type: a date (midnight UTC) or an ISO 8601 time (UTC unless it says)."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or time such as 2026-06-01 or 2026-06-01T12:00:00Z, not {text!r}"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)
