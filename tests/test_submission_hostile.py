"""junit_01.xml testcases nobody writes on purpose: names of 9,000 characters and more,
attributes of megabytes, comments and CDATA sections larger than a tag may be, names
with characters XML cannot hold. Each gives a report (its checks, or "cannot be
processed" naming the bound), never a traceback, with the names stored whole; generated
by hypothesis, each example bounded in time (its deadline) and memory (tracemalloc)."""

from __future__ import annotations

import datetime as dt
import io
import random
import string
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_submission import (  # noqa: F401 (fixtures)
    CHECKS,
    PASSED_LABELS,
    github,
    go_escape,
    labels_line,
    make_submission,
    raw_1_35,
    rows,
    run,
    tests_1_35,
)

from snoopdb.certification.junit import MAX_MARKUP, TagTooLarge, _bot_name, read_junit
from snoopdb.cli import main
from snoopdb.core.errors import InputError

# Python's allocations while one junit_01.xml is read (expat's buffers included): a few
# times MAX_MARKUP, whatever the file holds; a 150 MB attribute used to take 857 MB.
MEMORY_BOUND = 32 << 20
DEADLINE = dt.timedelta(seconds=20)


def random_name(length: int, seed: int = 25) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + " -") for _ in range(length))


def test_a_9000_character_conformance_name_gets_a_report(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # it used to abort the verification: "index row requires 9040 bytes"
    long = f"[sig-x] {random_name(9000)} [Conformance]"
    folder = make_submission(tmp_path, tests_1_35, extra=(long,))
    assert run(capsys, str(folder)) == (0, [
        "v1.35/coolkube: 10 of 10 requirements have passed", *CHECKS, PASSED_LABELS])
    assert rows(conn, "SELECT length(name) FROM conformance.submission_testcase WHERE"
                " length(name) > 1000") == [(9022,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]

    # failed, it is listed cut after 500 characters; stored whole all the same
    failed = make_submission(tmp_path / "failed", tests_1_35, extra=(long,),
                             status={long: "failed"})
    code, out = run(capsys, str(failed))
    assert (code, out[-3:]) == (1, [
        "  - 1 [Conformance] testcase(s) failed or errored",
        f"    - {long[:500]}… (9022 characters)",
        labels_line("evidence-missing", "not-verifiable", "release-v1.35",
                    "tests-verified-v1.35")])
    assert rows(conn, "SELECT details FROM conformance.submission_check WHERE name ="
                " 'no-failed-tests'") == [([f"{long[:500]}… (9022 characters)"],)]
    assert rows(conn, "SELECT status FROM conformance.submission_testcase WHERE name = %s",
                long) == [("failed",)]


def test_markup_larger_than_the_bound_cannot_be_processed(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    junit = folder / "junit_01.xml"
    text = junit.read_text()
    # a CDATA section and text are streamed: megabytes of them are read
    head, _, tail = text.rpartition("</testsuite>")
    junit.write_text(f"{head}<!-- ok -->\n<system-out><![CDATA[{'<x ' * (MAX_MARKUP // 2)}]]>"
                     f"{'y' * 2 * MAX_MARKUP}</system-out>\n</testsuite>{tail}")
    assert run(capsys, str(folder))[0] == 0
    # a tag is not: one attribute of 150 MB cost minutes and gigabytes
    junit.write_text(text.replace('status="passed" time="8.3e-05"',
                                  f'status="{"p" * 3 * MAX_MARKUP}"', 1))
    assert run(capsys, str(folder)) == (3, [
        (f"v1.35/coolkube: cannot be processed: junit_01.xml: markup of more than {MAX_MARKUP}"
         " bytes from line 5 ('<testcase name=\"[ReportBeforeSuite]\" cla'…); snoopdb reads"
         " tags, comments and instructions up to 1 MiB")])
    assert rows(conn, "SELECT result, labels, checks_total FROM conformance.submission") == [
        ("unprocessable", [], 0)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_testcase") == [(0,)]
    # nor is a comment: one of MAX_MARKUP bytes is read, one more byte is not
    junit.write_text(text.replace("<testsuite ", f"<!--{' ' * (MAX_MARKUP - 7)}--><testsuite ",
                                  1))
    assert run(capsys, str(folder))[0] == 0
    junit.write_text(text.replace("<testsuite ", f"<!--{' ' * (MAX_MARKUP - 6)}--><testsuite ",
                                  1))
    assert run(capsys, str(folder))[1][0].endswith(
        "markup of more than 1048576 bytes from line 3 ('<!--                                    '…);"
        " snoopdb reads tags, comments and instructions up to 1 MiB")


# XML 1.0's characters: anything else in a name makes the file unreadable, for the bot too.
def xml_char(char: str) -> bool:
    code = ord(char)
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000)


def attribute(text: str) -> str:
    """Attribute text as Go's encoder writes it: whitespace as character references, so
    the XML reader gives it back as it was."""
    return (go_escape(text).replace("\t", "&#x9;").replace("\n", "&#xA;")
            .replace("\r", "&#xD;"))


SIZES = st.sampled_from([0, 1, 40, 9000, 300_000, MAX_MARKUP - 300, MAX_MARKUP + 1,
                         3 * MAX_MARKUP])


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """A piece of any text (NUL, surrogates, controls and all), repeated to a size."""
    unit = draw(st.text(min_size=1, max_size=8))
    return (unit * (draw(SIZES) // len(unit) + 1))[:max(draw(SIZES), 1)]


@dataclass
class Junit:
    names: list[str]
    content: bytes
    refused: bool  # a piece of markup is larger than MAX_MARKUP
    unreadable: bool  # a character XML cannot hold


@st.composite
def junits(draw: st.DrawFn) -> Junit:
    """A junit_01.xml of generated testcases: any names, extra attributes, children
    nested deep, comments and CDATA sections between them, of any size."""
    names = draw(st.lists(st.one_of(long_text(), st.text(max_size=30)), max_size=6))
    parts, refused = [b'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite>\n'], False
    for name in names:
        if draw(st.booleans()):
            comment = b"<!--" + b"c" * draw(SIZES) + b"-->"
            refused |= len(comment) > MAX_MARKUP
            parts.append(comment)
        if draw(st.booleans()):
            parts.append(b"<![CDATA[" + b"<d" * (draw(SIZES) // 2) + b"]]>")
        extra = "".join(f' a{n}="{n}"' for n in range(draw(st.integers(0, 2000))))
        tag = f'<testcase name="{attribute(name)}"{extra}>'.encode("utf-8", "surrogatepass")
        refused |= len(tag) > MAX_MARKUP
        depth = draw(st.integers(0, 3000))
        parts += [tag, b"<x>" * depth, b"</x>" * depth, b"<skipped/>" * draw(st.booleans()),
                  b"</testcase>\n"]
    parts.append(b"</testsuite>\n</testsuites>\n")
    unreadable = any(not xml_char(c) for name in names for c in name)
    return Junit(names, b"".join(parts), refused, unreadable)


@settings(max_examples=100, deadline=DEADLINE)
@given(junits())
def test_any_junit_is_read_whole_or_refused_in_one_line(junit: Junit) -> None:
    source = io.BytesIO(junit.content)
    tracemalloc.start()
    try:
        cases = list(read_junit(source))
    except TagTooLarge as exc:
        assert junit.refused, exc
        cases = None
    except InputError as exc:  # a character XML cannot hold, before any markup too large
        assert junit.unreadable, exc
        assert str(exc).startswith("junit_01.xml: not well-formed XML: "), exc
        cases = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak} bytes at the peak"
    event("read" if cases is not None else "refused: markup too large" if junit.refused
          and not junit.unreadable else "refused: not XML")
    if cases is not None:
        assert not junit.refused and not junit.unreadable
        assert [case.name for case in cases] == [_bot_name(name) for name in junit.names]


@settings(max_examples=20, deadline=DEADLINE,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junit=junits())
def test_any_junit_gives_a_report_and_stores_all_or_nothing(
    conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], junit: Junit,
) -> None:
    # a short conformance list: what is tested is the junit, not 441 names
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        listing = root / "conformance.yaml"
        listing.write_text(yaml.safe_dump([{"testname": "a", "codename": "a [Conformance]",
                                            "release": "v1.9", "description": "", "file": ""}]))
        folder = make_submission(root, [])
        (folder / "junit_01.xml").write_bytes(junit.content)
        code = main(["verify-submission", str(folder), "--conformance-file", str(listing)])
        out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and lines[0].startswith("v1.35/coolkube: "), (err, lines)
    if code == 1:  # the checklist, then what the bot would do: labels, status, comment
        at = next(n for n, line in enumerate(lines) if line.startswith("labels: "))
        assert lines[at + 1:at + 3] == [
            "status: failure (Please check failing requirements and update accordingly)",
            "comment:"], lines
        lines = lines[:at + 1]
    stored = rows(conn, "SELECT name FROM conformance.submission_testcase ORDER BY position")
    event(f"exit {code}")
    if code == 3:  # refused before anything is stored
        assert junit.refused and len(lines) == 1 and "markup of more than" in lines[0], lines
        assert stored == []
    elif junit.refused or junit.unreadable:  # unreadable: every test missing, no test label
        assert (code, stored) == (1, []), lines
        assert lines[-1] == labels_line("not-verifiable", "release-v1.35")
    else:
        assert code == 1 and lines[-1].startswith("labels: "), lines  # "a" is missing
        assert stored == [(_bot_name(name),) for name in junit.names]
