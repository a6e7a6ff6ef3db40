"""Text from outside printed on a terminal: control characters in a pull request's file
names, an audit log's test names or a server's answer are shown as escapes, so none
can rewrite a line (`[FAIL]` into `[PASS]`), forge one, or blank the rest."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_pull_request import TITLE, PullRequestMaker, fake, git, pull_request  # noqa: F401
from test_submission import (  # noqa: F401 (fixtures)
    github,
    make_submission,
    raw_1_35,
    run,
    tests_1_35,
)

from snoopdb.cli import main
from snoopdb.commands import gate
from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import spec
from testkit.hits import insert_hits

# what an attacker writes: erase the line and go back to its start, then a verdict; a
# newline and a forged line; a bidirectional override
FORGED = "x\x1b[2K\r[PASS] all good\n[PASS] forged line\u202e"
ESCAPED = "x\\x1b[2K\\r[PASS] all good\\n[PASS] forged line\\u202e"


def assert_safe(text: str) -> None:
    """No character in `text` acts on a terminal but the newlines ending its lines, and
    no line is a forged one."""
    from snoopdb.core.terminal import shown

    for line in text.splitlines():
        assert shown(line) == line, line
        # the bot's comment is printed quoted ("> …"): no forged line there either
        assert not line.removeprefix("> ").startswith("[PASS] forged"), line


def add_forged_file(root: Path, tests: list[str]) -> None:
    make_submission(root, tests)
    (root / "v1.35" / "coolkube" / FORGED).write_text("an extra file\n")


def assert_named_safely(code: int, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = capsys.readouterr()
    assert code == 1, err
    assert_safe(out)
    assert_safe(err)
    assert ("  - it appears that there are 1 non-required file(s) included in the submission:"
            f" {ESCAPED}") in out.splitlines()
    # and as the comment quotes it: the name on its hint's one line
    assert (">   - it appears that there are 1 non-required file(s) included in the"
            f" submission: {ESCAPED}") in out.splitlines()


@pytest.mark.parametrize("mode", ["folder", "github"])
def test_a_pull_request_file_name_cannot_forge_a_check(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str],  # noqa: F811
    mode: str,
) -> None:
    argv = pull_request(mode, lambda root: add_forged_file(root, tests_1_35))
    assert_named_safely(main(["verify-submission", *argv]), capsys)


def test_a_git_file_name_cannot_forge_a_check(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "k8s-conformance"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "The repository before")
    git(root, "checkout", "-q", "-b", "submission")
    add_forged_file(root, tests_1_35)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The submission")
    assert_named_safely(main(["verify-submission", "--pr", str(root), "--base", "main",
                              "--title", TITLE]), capsys)


def test_a_test_name_cannot_forge_a_line_of_runs_diff(
    settings: object, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str],
) -> None:
    insert_hits(conn, [
        ("1.36.0", "run-a", "readCoreV1Namespace", None, False, False, 1),
        ("1.36.0", "run-b", "readCoreV1Namespace", FORGED, True, False, 1)])
    assert main(["runs", "diff", "run-a", "run-b"]) == 0
    out = capsys.readouterr().out
    assert_safe(out)
    assert f"  + {ESCAPED} (1 endpoint)" in out.splitlines()


def test_a_test_name_cannot_forge_a_line_of_the_gate() -> None:
    verdict = gate.Verdict(
        endpoint="createWidgetsV1Widget", method="post", path="/apis/w/v1/widgets",
        level="stable", verdict="untested", pending=False, conformance_tests=(),
        other_tests=(FORGED,), ineligible_reason=None, ineligible_link=None, api_group=None,
        group_versions=())
    result = gate.GateResult(
        release="1.36.0", earlier_releases=("1.35.0",), sources=(f"run-{FORGED}",),
        conformance_tests=1, pending=gate.PendingList("pending.yaml", frozenset(), False),
        verdicts=(verdict,))
    text = gate.render(result)
    assert_safe(text)
    assert f'hit only by tests not in conformance.yaml: "{ESCAPED}"' in text


def test_an_error_line_from_outside_stays_one_line(
    conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    log = tmp_path / f"audit{FORGED}.log"
    log.write_text("not json\n")
    assert main(["load", "--release", "1.36", "--only", "audit", "--audit-log", str(log)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert_safe(err)
    assert ESCAPED in err


@given(st.text())
def test_shown_text_holds_no_control_character(text: str) -> None:
    from snoopdb.core.terminal import shown

    seen = shown(text)
    assert all(not (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f) for c in seen)
    assert not set(seen) & set("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d"
                               "\u202e\u2066\u2067\u2068\u2069")
    if text.isprintable():
        assert seen == text
