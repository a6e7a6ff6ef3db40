"""What changed between two loaded runs (`snoopdb runs diff`, the dashboard's Runs
page): endpoints, tests and body fields gained and lost, with the tests responsible.
Read from the runs' own summaries (run_hit, run_test, run_field_hit), never events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from snoopdb.db.queries import query
from snoopdb.db.runs import Run, list_runs, named

# An endpoint's state in a run, by rank (diff_endpoints.sql).
STATES = ("not hit", "hit", "tested", "conformance")


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

    a: Run
    b: Run
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


def diff_runs(conn: psycopg.Connection, a: str, b: str) -> RunDiff:
    """What changed from run `a` to run `b`, each named by its source or name (see
    runs.named): endpoints whose state differs, tests that ran in one only, body fields
    a test set in one only. The caller reads it in one snapshot."""
    loaded = list_runs(conn)
    (run_a,), (run_b,) = named(loaded, [a]), named(loaded, [b])
    runs = {"a": run_a.run, "b": run_b.run}
    endpoints = tuple(EndpointChange(endpoint, STATES[was], STATES[now], tuple(tests))
                      for endpoint, was, now, tests in conn.execute(
                          query("runs/diff_endpoints.sql"), runs))
    tests = tuple(TestChange(*row) for row in conn.execute(query("runs/diff_tests.sql"), runs))
    fields = tuple(FieldChange(endpoint, field, gained, tuple(names))
                   for endpoint, field, gained, names in conn.execute(
                       query("runs/diff_fields.sql"), runs))
    return RunDiff(run_a, run_b, endpoints, tests, fields)
