"""conformance.yaml → `conformance.test` (the newest list, as snoopDB keeps it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
import yaml

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import normalise_conformance_release
from snoopdb.db import loadlog, refresh

PATH = "test/conformance/testdata/conformance.yaml"


@dataclass(frozen=True)
class ConformanceTest:
    testname: str
    codename: str
    release: str
    description: str
    file: str


def parse(content: bytes, origin: str) -> list[ConformanceTest]:
    """The tests of a conformance.yaml, releases normalised (see normalise_conformance_release)."""
    try:
        entries = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise InputError(f"{origin}: not YAML: {_one_line(exc)}") from exc
    if not isinstance(entries, list):
        raise InputError(f"{origin}: expected a list of tests")
    tests = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("codename"):
            raise InputError(f"{origin}: test #{number} has no codename")
        try:
            release = normalise_conformance_release(entry.get("release"))
        except ReleaseError as exc:
            raise InputError(f"{origin}: test #{number}: {exc}") from exc
        tests.append(ConformanceTest(
            testname=str(entry.get("testname") or ""),
            codename=str(entry["codename"]).strip(),
            release=release,
            description=str(entry.get("description") or "").strip(),
            file=str(entry.get("file") or ""),
        ))
    return tests


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def load(conn: psycopg.Connection, fetcher: Fetcher, location: str, release: str) -> int:
    """Replace `conformance.test` with the list at `location`; returns the row count.

    Historical tests (named by imported coverage files, absent from conformance.yaml)
    stay, unless this list has them again.
    """
    started = dt.datetime.now(dt.timezone.utc)
    tests = parse(fetcher.read_bytes(location, cache=False), location)
    with conn.transaction():
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
