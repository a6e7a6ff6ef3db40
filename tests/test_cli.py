"""CLI manners: help with a summary and an example everywhere, exit codes, and one clean
line (no traceback, no library warning) for the mistakes users make."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from snoopdb.cli import build_parser, main


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found = [("snoopdb", build_parser())]
    for name, parser in found:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found += [(f"{name} {sub}", child) for sub, child in action.choices.items()]
    return found


def test_every_command_and_subcommand_has_an_example() -> None:
    parsers = _parsers()
    names = {name for name, _ in parsers}
    assert {"snoopdb load", "snoopdb db", "snoopdb db upgrade", "snoopdb db current",
            "snoopdb db history", "snoopdb gate"} <= names
    for name, parser in parsers[1:]:
        assert "\nExample: " in (parser.description or ""), name


def test_top_level_help_gives_whole_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    for name, parser in _parsers():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    summary = choice.help or ""
                    assert summary.endswith((".", "?")), f"{name} {choice.dest}: {summary!r}"
                    assert "\n" not in summary


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["load", "--bogus"])
    assert exit_info.value.code == 2


def test_missing_audit_log_is_one_line(settings: object, conn: object, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.log"
    assert main(["load", "--release", "1.36", "--only", "audit", "--no-history",
                 "--audit-log", str(missing)]) == 1
    assert capsys.readouterr().err == f"snoopdb: error: {missing}: no such file\n"


def test_busy_port_is_one_line(settings: object, conn: object,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert capsys.readouterr().err.endswith(
        f"snoopdb: error: cannot listen on 127.0.0.1:{port}: already in use\n")


def test_unreachable_source_names_its_setting_and_the_flag_that_skips_it(
    settings: object, conn: object, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SNOOPDB_APISNOOP_RAW_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", f"http://127.0.0.1:{port}/raw")
    assert main(["load", "--only", "history"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"snoopdb: error: http://127.0.0.1:{port}/")
    assert err.endswith("(SNOOPDB_APISNOOP_RAW_URL points there: set it to a reachable mirror, "
                        "or use --no-history)\n")
