"""`snoopdb db duckdb --archive DIR`: a small DuckDB shell over an archive folder, on
the read-only connection `snoopdb query --archive` uses (commands/archive_query.py).

Statements end with `;` and may span lines; each result is printed as DuckDB draws it,
what came from the files escaped (core/terminal). On a terminal, lines are edited with
readline where Python has it (no history file is written); from a pipe, the
statements read are run in turn, and the exit status says whether one failed. Dot
commands: .help, .tables, .quit (or .exit, or Ctrl-D).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from snoopdb.cli.context import say, show
from snoopdb.commands.archive_query import Archive, opened, rendered, statements
from snoopdb.core.errors import SnoopError
from snoopdb.core.wording import plural

PROMPT, MORE = "D ", "· "
HELP = """statements end with ';' and may span lines; one statement at a time, each one that
only reads (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)
  audit_event     the archived events: PostgreSQL's columns, the fields pulled out of
                  data (verb, resource, namespace, name, code, username, ...), job, run
  .tables         the views
  .quit           leave (also .exit, Ctrl-D)"""


def run(folder: Path, timeout: float) -> int:
    """The shell's loop; 1 when a statement read from a pipe failed, else 0."""
    with opened(folder, "snoopdb db duckdb") as archive:
        interactive = sys.stdin.isatty()
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401 (line editing and recall for input())
            say(f"snoopdb's DuckDB shell on {folder}: {plural(archive.runs, 'run')} "
                f"({plural(len(archive.files), 'file')}), audit_event as in PostgreSQL, "
                "read-only; .help for help")
        failed = False
        for text in _input(interactive):
            command = text.strip()
            if command in (".quit", ".exit"):
                break
            if command == ".help":
                for line in HELP.split("\n"):
                    show(line)
                continue
            failed |= not _answer(archive, "SHOW TABLES" if command == ".tables" else text,
                                  timeout)
        return 1 if failed and not interactive else 0


def _answer(archive: Archive, text: str, timeout: float) -> bool:
    """Run and print each statement of `text`; False when one failed."""
    try:
        for statement in statements(archive, text):
            for line in rendered(archive, statement, timeout).rstrip("\n").split("\n"):
                show(line)
    except SnoopError as exc:
        say(f"error: {exc}")
        return False
    except KeyboardInterrupt:
        say("interrupted")
        return False
    return True


def _input(interactive: bool) -> Iterator[str]:
    """What the user typed, a statement (up to a `;` ending a line) or a dot command at
    a time."""
    lines: list[str] = []
    while True:
        try:
            line = input(MORE if lines else PROMPT) if interactive else _line()
        except EOFError:
            break
        except KeyboardInterrupt:
            say("")
            lines.clear()
            continue
        if not lines and line.strip().startswith("."):
            yield line
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(lines)
            lines.clear()
    if any(line.strip() for line in lines):
        yield "\n".join(lines)


def _line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")
