"""What loaded runs say next to each other: a run named by its source or `job#build`,
and what changed between two runs (`snoopdb runs diff`, the dashboard's Runs page) —
endpoints, tests and body fields gained and lost, with the tests responsible. Read
from the runs' own summaries (run_hit, run_test, run_field_hit), never events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from snoopdb.core.errors import InputError, NotFound
from snoopdb.db.queries import query

# An endpoint's state in a run, by rank (diff_endpoints.sql).
STATES = ("not hit", "hit", "tested", "conformance")


@dataclass(frozen=True)
class RunRef:
    """A loaded run: its id, source, job, build, release, start, state and events."""

    run: int
    source: str
    job: str
    build: str | None
    release: str
    started: dt.datetime | None
    state: str
    events: int

    @property
    def name(self) -> str:
        """`job#build` where the run has a build, else its source."""
        if self.build is None:
            return self.source
        return f"{self.job.rsplit('/', 1)[-1]}#{self.build}"

    def as_json(self) -> dict[str, Any]:
        return {"run": self.run, "source": self.source, "job": self.job, "build": self.build,
                "release": self.release, "started": iso_time(self.started),
                "state": self.state, "events": self.events}


def iso_time(when: dt.datetime | None) -> str | None:
    """A time as ISO 8601 in UTC (`2026-06-11T12:00:00Z`), None for None."""
    if when is None:
        return None
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_run(conn: psycopg.Connection, name: str) -> RunRef:
    """The loaded run `name` names: its source (as `snoopdb runs` lists it), or
    `job#build` (the job's name or audit_run.job, and the build id). NotFound when
    none does; InputError when `job#build` fits runs of several jobs."""
    job, _, build = name.rpartition("#")
    rows = conn.execute(query("runs/find.sql"),
                        {"source": name, "job": job or None, "build": build if job else None}
                        ).fetchall()
    if not rows:
        if job:
            raise NotFound(f"no loaded run of job {job} has build {build}")
        raise NotFound(f"no loaded run has source {name} (name a run by its source or as "
                       "job#build)")
    exact = [row for row in rows if row[1] == name]
    if len(exact) == 1 or len(rows) == 1:
        return RunRef(*(exact or rows)[0])
    raise InputError(f"{name} names {len(rows)} runs ({', '.join(row[1] for row in rows)}): "
                     "name one by its source")


@dataclass(frozen=True)
class EndpointChange:
    """An endpoint whose state (STATES) differs between the runs; `tests` brought it
    to the higher state in the run that has it."""

    endpoint: str
    was: str
    now: str
    tests: tuple[str, ...]

    @property
    def gained(self) -> bool:
        return STATES.index(self.now) > STATES.index(self.was)


@dataclass(frozen=True)
class TestChange:
    """A test that ran in one run only (`gained`: the second), and how many endpoints
    it hit there."""

    test: str
    gained: bool
    endpoints: int


@dataclass(frozen=True)
class FieldChange:
    """A body field a test set in one run only (`gained`: the second), and the tests
    that set it there."""

    endpoint: str
    field: str
    gained: bool
    tests: tuple[str, ...]


@dataclass(frozen=True)
class FieldGroup:
    """Body fields of one endpoint that the same tests set in one run only: one line
    of a diff, each test named once (per field, a test setting a hundred fields of a
    body was named a hundred times)."""

    endpoint: str
    fields: tuple[str, ...]
    gained: bool
    tests: tuple[str, ...]


def group_fields(changes: Iterable[FieldChange]) -> list[FieldGroup]:
    """`changes` grouped by endpoint, side and tests, in the order of each group's
    first field."""
    groups: dict[tuple[str, bool, tuple[str, ...]], list[str]] = {}
    for change in changes:
        groups.setdefault((change.endpoint, change.gained, change.tests), []).append(change.field)
    return [FieldGroup(endpoint, tuple(fields), gained, tests)
            for (endpoint, gained, tests), fields in groups.items()]


@dataclass(frozen=True)
class RunDiff:
    """What changed from run `a` to run `b`."""

    a: RunRef
    b: RunRef
    endpoints: tuple[EndpointChange, ...]
    tests: tuple[TestChange, ...]
    fields: tuple[FieldChange, ...]

    def as_json(self) -> dict[str, Any]:
        """The diff as `snoopdb runs diff --json` prints it."""
        def split(changes: tuple[Any, ...], row: Any) -> dict[str, list[dict[str, Any]]]:
            return {"gained": [row(c) for c in changes if c.gained],
                    "lost": [row(c) for c in changes if not c.gained]}

        return {
            "a": self.a.as_json(), "b": self.b.as_json(),
            "endpoints": split(self.endpoints, lambda c: {
                "endpoint": c.endpoint, "was": c.was, "now": c.now, "tests": list(c.tests)}),
            "tests": split(self.tests, lambda c: {"test": c.test, "endpoints": c.endpoints}),
            "fields": split(self.fields, lambda c: {
                "endpoint": c.endpoint, "field": c.field, "tests": list(c.tests)}),
        }


def diff_runs(conn: psycopg.Connection, a: RunRef, b: RunRef) -> RunDiff:
    """What changed from run `a` to run `b`: endpoints whose state differs, tests that
    ran in one only, body fields a test set in one only."""
    runs = {"a": a.run, "b": b.run}
    endpoints = tuple(EndpointChange(endpoint, STATES[was], STATES[now], tuple(tests))
                      for endpoint, was, now, tests in conn.execute(
                          query("runs/diff_endpoints.sql"), runs))
    tests = tuple(TestChange(*row) for row in conn.execute(query("runs/diff_tests.sql"), runs))
    fields = tuple(FieldChange(endpoint, field, gained, tuple(names))
                   for endpoint, field, gained, names in conn.execute(
                       query("runs/diff_fields.sql"), runs))
    return RunDiff(a, b, endpoints, tests, fields)
