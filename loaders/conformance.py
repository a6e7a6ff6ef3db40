"""conformance.yaml → `conformance.test` (the newest list, as snoopDB keeps it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from snoopdb.core import bounds
from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import normalise_conformance_release
from snoopdb.core.safeyaml import load_bounded
from snoopdb.db import loadlog, locks, refresh

PATH = "test/conformance/testdata/conformance.yaml"


@dataclass(frozen=True)
class ConformanceTest:
    testname: str
    codename: str
    release: str
    description: str
    file: str


def parse(content: bytes, origin: str,
          release_of: Callable[[object], str] = normalise_conformance_release,
          ) -> list[ConformanceTest]:
    """The tests of a conformance.yaml, releases normalised by `release_of` (default:
    normalise_conformance_release; a ReleaseError it raises names the test).

    Every field is text (a release may also be written as a number, `1.9`); a
    codename listed twice is an error, since codename is the table's key."""
    entries = load_bounded(content, source=origin)
    if not isinstance(entries, list):
        raise InputError(f"{origin}: expected a list of tests")
    tests = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("codename"):
            raise InputError(f"{origin}: test #{number} has no codename")
        for name in ("testname", "codename", "description", "file"):
            if not isinstance(entry.get(name) or "", str):
                raise InputError(f"{origin}: test #{number}: {name} is a "
                                 f"{type(entry[name]).__name__}, not text")
            if "\x00" in (entry.get(name) or ""):
                raise InputError(f"{origin}: test #{number}: {name} holds a NUL character")
        if not isinstance(entry.get("release") or "", (str, int, float)):
            raise InputError(f"{origin}: test #{number}: release is a "
                             f"{type(entry['release']).__name__}, not text")
        codename = entry["codename"].strip()
        if codename in seen:
            raise InputError(f"{origin}: test #{number}: codename {codename!r} is already "
                             f"test #{seen[codename]}'s")
        seen[codename] = number
        try:
            release = release_of(entry.get("release"))
        except ReleaseError as exc:
            raise InputError(f"{origin}: test #{number}: {exc}") from exc
        tests.append(ConformanceTest(
            testname=entry.get("testname") or "",
            codename=codename,
            release=release,
            description=(entry.get("description") or "").strip(),
            file=entry.get("file") or "",
        ))
    return tests


def load(conn: psycopg.Connection, fetcher: Fetcher, location: str, release: str) -> int:
    """Replace `conformance.test` with the list at `location`; returns the row count.

    Historical tests (named by imported coverage files, absent from conformance.yaml)
    stay, unless this list has them again.
    """
    started = dt.datetime.now(dt.timezone.utc)
    tests = parse(fetcher.read_bytes(location, bound=bounds.YAML, cache=False), location)
    with conn.transaction():
        locks.serialise(conn, "conformance")
        conn.execute("DELETE FROM conformance.test WHERE NOT historical OR codename = ANY(%s)",
                     ([t.codename for t in tests],))
        with conn.cursor().copy(
            "COPY conformance.test (testname, codename, release, description, file) FROM STDIN"
        ) as copy:
            for t in tests:
                copy.write_row((t.testname, t.codename, t.release, t.description, t.file))
        loadlog.record(conn, "conformance", release, location, started, len(tests))
        refresh.eligible_coverage(conn)
    return len(tests)
