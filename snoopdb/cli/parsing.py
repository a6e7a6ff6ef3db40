"""The argparse pieces every command shares: the global options, accepted before and after
the command name; `add_command`, which makes a subcommand's help from its handler's
docstring; and the types of the values several commands take (release, port). A
`--release` is parsed here once, into a Release; commands take it as it is."""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import inspect
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from snoopdb.cli.context import Context, say
from snoopdb.cli.exits import Instead
from snoopdb.commands.mirror import incomplete
from snoopdb.commands.runs import MAX_KEEP_HOT, MAX_KEEP_RUNS
from snoopdb.core import numbers
from snoopdb.core.errors import ReleaseError
from snoopdb.core.releases import Release, parse_release
from snoopdb.core.terminal import shown
from snoopdb.db import connection

Handler = Callable[[argparse.Namespace, Context], int]


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line, as snoopdb's other errors are:
    `snoopdb: error: argument --port: 99999 is not a port … (see snoopdb serve --help)`;
    a misspelt command or option is named with the one meant (`did you mean load?`);
    its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, shown(f"snoopdb: error: {message} (see `{self.prog} --help`)") + "\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            meant = closest(str(value), [str(choice) for choice in action.choices])
            if meant is not None:
                raise argparse.ArgumentError(
                    action, f"invalid choice: {value!r}: did you mean {meant}?")
        super()._check_value(action, value)

    def unrecognized(self, extra: list[str]) -> NoReturn:
        """A usage error naming the arguments this parser does not know, and the option
        the first unknown one resembles."""
        message = f"unrecognized arguments: {' '.join(extra)}"
        for word in extra:
            if word.startswith("--"):
                meant = closest(word.split("=", 1)[0], list(self._option_string_actions))
                if meant is not None:
                    message += f"; did you mean {meant}?"
                break
        self.error(message)


def closest(word: str, known: list[str]) -> str | None:
    """The one of `known` that `word` is most likely a misspelling of, if any is close."""
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return found[0] if found else None


def database_url(text: str) -> str:
    """An argparse type: a connection string libpq can read (URL or key=value)."""
    problem = connection.url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument("--database-url", default=default, type=database_url,
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


def add_command(sub: argparse._SubParsersAction, name: str, handler: Handler, *,
                instead: Instead | None = None,
                aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    """A subcommand running `handler` (also called by its older names, `aliases`);
    `instead` names, for each source's variable (SNOOPDB_GITHUB_RAW_URL, ...), the flags
    of this command that do without that source: the advice when it cannot be reached."""
    doc = inspect.cleandoc(handler.__doc__ or "")
    summary = " ".join(doc.split("\n\n")[0].split())
    parser = sub.add_parser(name, help=summary, description=doc, parents=[_COMMON],
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            aliases=list(aliases))
    parser.set_defaults(handler=handler, instead=instead or {})
    return parser


def hot_runs(text: str) -> int:
    """An argparse type: runs of each job to keep hot, 0 to MAX_KEEP_HOT."""
    number = numbers.whole_number(text)
    if number is None or number > MAX_KEEP_HOT:
        raise argparse.ArgumentTypeError(f"{text if number is not None else repr(text)}: "
                                          f"expected 0 to {MAX_KEEP_HOT:,} runs of each job "
                                          "kept hot")
    return number


def kept_runs(text: str) -> int:
    """An argparse type: runs of each job a prune keeps, 1 to MAX_KEEP_RUNS."""
    number = numbers.whole_number(text)
    if number is None or not 1 <= number <= MAX_KEEP_RUNS:
        raise argparse.ArgumentTypeError(f"{text if number is not None else repr(text)}: "
                                          f"expected 1 to {MAX_KEEP_RUNS:,} runs of each job "
                                          "kept")
    return number


def release_number(text: str) -> Release:
    """An argparse type: `1.20`, `1.20.0` or `v1.20.0` (see `minor_releases`); anything
    else is a usage error."""
    try:
        return parse_release(text)
    except ReleaseError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def minor_releases(args: argparse.Namespace) -> None:
    """Read a `--release` naming a patch release as its minor release, and say so:
    snoopdb keeps one spec, one list of tests and one coverage per minor release."""
    named: Release | None = getattr(args, "release", None)
    if named is not None and named.patch:
        args.release = Release(named.major, named.minor)
        say(f"note: release {named} is read as {named.minor_name}: snoopdb keeps one spec "
            "and one coverage per minor release (X.Y.0)")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: expected 0 (any free "
                                         "port) to 65535")
    return port


def from_option(parser: argparse.ArgumentParser) -> None:
    """--from DIR: a mirror (what `snoopdb mirror` writes) instead of the network."""
    parser.add_argument("--from", dest="from_dir", type=mirror_folder, metavar="DIR",
                        help="read the Kubernetes and apisnoop files (releases list and "
                             "published coverage included) from DIR, a mirror made by `snoopdb "
                             "mirror`, instead of the network: DIR/kubernetes/kubernetes/<ref>/"
                             "<path>, DIR/kubernetes-sigs/apisnoop/main/resources/coverage/")


def mirror_folder(text: str) -> Path:
    """argparse type: an existing folder (a mistyped mirror would read as an empty one),
    and a whole mirror (one a `snoopdb mirror` stopped before its end would read as
    one without the files it did not write)."""
    folder = Path(text)
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text!r}")
    writing = incomplete(folder)
    if writing is not None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is an incomplete mirror: `{writing}` did not finish writing it "
            "(interrupted, failed, or still running); run it again")
    return folder


def positive_number(text: str) -> int:
    """argparse type: a whole number, 1 or more."""
    number = numbers.whole_number(text)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number (1 or more), not {text!r}")
    return number


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
