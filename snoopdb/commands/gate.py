"""The release gate: do the stable, conformance-eligible endpoints new in a release
have a conformance test? The verdicts come from `sql/gate.sql`; this module gathers
what it needs (the pending list among them) and renders the result as text or JUnit.
Every stable, eligible endpoint of the release, new or not, that conformance tests hit
in only some of its runs is named too (`sql/gate_flaky.sql`): a warning, never a
failure of its own.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import psycopg

from snoopdb.core import bounds
from snoopdb.core.errors import InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, parse_release
from snoopdb.core.terminal import shown
from snoopdb.db.queries import query
from snoopdb.loaders import pending as pending_list
from snoopdb.loaders.github import Sources

# The verdicts of endpoints conformance tests must cover; the others do not count.
ELIGIBLE = ("untested", "pending", "tested")
EXIT_CODES = {"pass": 0, "fail": 1, "undecided": 3}


@dataclasses.dataclass(frozen=True)
class ConformanceHit:
    """A conformance test that hit an endpoint in the release's runs."""

    codename: str
    testname: str
    promotion_release: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The gate's verdict on one new endpoint, and the facts behind it.

    `verdict` is one of untested (fails the gate), pending, tested, ineligible,
    deprecated, not stable. `api_group` is set for a group's versionless discovery
    operation, whose `level` is that of the most mature of `group_versions`.
    `conformance_runs` of the release's `runs` had a conformance test hit it.
    """

    endpoint: str
    method: str
    path: str
    level: str
    verdict: str
    pending: bool
    conformance_tests: tuple[ConformanceHit, ...]
    other_tests: tuple[str, ...]
    ineligible_reason: str | None
    ineligible_link: str | None
    api_group: str | None
    group_versions: tuple[str, ...]
    conformance_runs: int = 0
    runs: int = 0

    @property
    def eligible(self) -> bool:
        return self.verdict in ELIGIBLE

    @property
    def flaky(self) -> bool:
        """A conformance test hit it in some of the release's runs, not all."""
        return 0 < self.conformance_runs < self.runs

    def _runs(self) -> str:
        return f"{self.conformance_runs} of {_count(self.runs, 'run')}"

    def why(self, release: str) -> str:
        """One sentence saying why the endpoint got its verdict."""
        if self.verdict == "not stable":
            if self.api_group is not None:
                return (f"API group discovery; {self.api_group} serves only {self.level} "
                        f"versions ({', '.join(self.group_versions)})")
            return f"{self.level} (its path says so)"
        if self.verdict == "deprecated":
            return "deprecated (its description says so)"
        if self.verdict == "ineligible":
            return "ineligible: " + (self.ineligible_reason or "no reason given") + (
                f" ({self.ineligible_link})" if self.ineligible_link else "")
        group = (f"; API group discovery, stable as {self.api_group} serves "
                 f"{', '.join(self.group_versions)}" if self.api_group is not None else "")
        flaky = f"; flaky: a conformance test hit it in {self._runs()}" if self.flaky else ""
        if self.verdict == "tested":
            first, more = self.conformance_tests[0], len(self.conformance_tests) - 1
            return (f'tested by "{first.codename}" ({first.testname}, conformance since '
                    f"{first.promotion_release})"
                    + (f" and {_count(more, 'more conformance test')}" if more else "")
                    + flaky
                    + ("; still listed as pending: the entry can go" if self.pending else "")
                    + group)
        untested = f"no conformance test hit it in the {release} runs"
        if self.conformance_tests:
            first, more = self.conformance_tests[0], len(self.conformance_tests) - 1
            untested = (f'conformance tests hit it in only {self._runs()} ("{first.codename}"'
                        + (f" and {more} more" if more else "") + "), under --min-share")
        if self.other_tests:
            more = len(self.other_tests) - 1
            untested += (f'; hit only by tests not in conformance.yaml: "{self.other_tests[0]}"'
                         + (f" and {more} more" if more else ""))
        if self.verdict == "pending":
            return f"{untested}; pending: allowed to wait for a test{group}"
        return untested + group


@dataclasses.dataclass(frozen=True)
class FlakyEndpoint:
    """A stable, eligible endpoint of the release that conformance tests hit in
    `conformance_runs` of its `runs`, not all; `new` when it is new in the release."""

    endpoint: str
    method: str
    path: str
    conformance_runs: int
    runs: int
    new: bool

    @property
    def share(self) -> float:
        return self.conformance_runs / self.runs

    def why(self) -> str:
        return (f"hit by conformance tests in only {self.conformance_runs} of "
                f"{_count(self.runs, 'run')} ({self.share:.0%})")


@dataclasses.dataclass(frozen=True)
class PendingList:
    """Endpoints allowed to wait for a conformance test, and where the list came from
    (`found` is false when the release has no such file)."""

    source: str
    endpoints: frozenset[str]
    found: bool


@dataclasses.dataclass(frozen=True)
class LoadedPending:
    """The pending list loaded in the database, which endpoint_eligibility and so the
    coverage numbers read: where from, for which release, its endpoints."""

    source: str
    release: str | None
    endpoints: frozenset[str]


@dataclasses.dataclass(frozen=True)
class GateResult:
    """Everything the gate decided for a release. `problem` says why it could not
    decide (then `verdicts` is empty)."""

    release: Release | None
    earlier_releases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    conformance_tests: int = 0
    pending: PendingList | None = None
    # the list the numbers read; None when no pending list was ever loaded
    loaded_pending: LoadedPending | None = None
    verdicts: tuple[Verdict, ...] = ()
    problem: str | None = None
    # an endpoint is tested only when hit in at least this share of the runs (None: any)
    min_share: float | None = None
    # every stable, eligible endpoint conformance tests hit in only some of the runs
    flaky: tuple[FlakyEndpoint, ...] = ()

    @property
    def eligible(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.eligible)

    @property
    def untested(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict == "untested")

    @property
    def pending_differs(self) -> bool:
        """The gate's pending list is not the one the coverage numbers read."""
        loaded = frozenset() if self.loaded_pending is None else self.loaded_pending.endpoints
        return self.pending is not None and self.pending.endpoints != loaded

    @property
    def status(self) -> str:
        """pass, fail or undecided."""
        if self.problem is not None:
            return "undecided"
        return "fail" if self.untested else "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON values (`snoopdb gate --json`)."""
        pending = self.pending
        return {
            "release": None if self.release is None else str(self.release),
            "status": self.status, "exit_code": self.exit_code,
            "problem": self.problem, "earlier_releases": list(self.earlier_releases),
            "sources": list(self.sources), "conformance_tests": self.conformance_tests,
            "pending": None if pending is None else {
                "source": pending.source, "found": pending.found,
                "endpoints": sorted(pending.endpoints)},
            "loaded_pending": None if self.loaded_pending is None else {
                "source": self.loaded_pending.source, "release": self.loaded_pending.release,
                "endpoints": sorted(self.loaded_pending.endpoints)},
            "pending_differs": self.pending_differs,
            "verdicts": [{
                "endpoint": v.endpoint, "method": v.method, "path": v.path, "level": v.level,
                "verdict": v.verdict, "eligible": v.eligible, "pending": v.pending,
                "why": v.why(str(self.release)),
                "conformance_tests": [dataclasses.asdict(hit) for hit in v.conformance_tests],
                "other_tests": list(v.other_tests)} for v in self.verdicts],
            "flaky": [{**dataclasses.asdict(f), "share": round(f.share, 3)} for f in self.flaky],
        }


def load_pending(fetcher: Fetcher, sources: Sources, release: Release,
                 pending_file: Path | None = None) -> PendingList:
    """`pending_file` if given, else the release's pending_eligible_endpoints.yaml from
    the GitHub raw base URL (or local mirror); a 404 there means nothing is pending."""
    if pending_file is not None:
        location = str(pending_file)
        content = fetcher.read_bytes(location, bound=bounds.YAML)
        return PendingList(location, pending_list.parse(content, location), True)
    location = sources.location(release, pending_list.PATH)
    try:
        content = fetcher.read_bytes(location, bound=bounds.YAML,
                                     cache=sources.immutable(release))
    except NotFound:
        return PendingList(location, frozenset(), False)
    return PendingList(location, pending_list.parse(content, location), True)


def run(conn: psycopg.Connection, fetcher: Fetcher, sources: Sources,
        release: Release | None = None, pending_file: Path | None = None,
        min_share: float | None = None) -> GateResult:
    """Judge every endpoint new in `release` (default: the latest loaded release).

    With `min_share`, an endpoint counts as tested only when a conformance test hit it
    in at least that share of the release's runs (0 < min_share <= 1); without, in
    any. Undecided (see GateResult.problem) when the release has no spec, no earlier
    release is loaded to compare it with, it has no audit data, or no conformance
    test is known.
    """
    if min_share is not None and not 0 < min_share <= 1:
        raise InputError(f"--min-share must be above 0 and at most 1, not {min_share}")
    row = conn.execute(query("gate_context.sql"),
                       {"release": None if release is None else str(release)}).fetchone()
    assert row is not None  # one row, whatever the data
    name, has_spec, earlier, sources_loaded, tests, loaded_source, loaded_release, loaded = row
    # the release asked for, else the views' latest (X.Y.Z, as they store it)
    context = GateResult(None if name is None else parse_release(name), tuple(earlier),
                         tuple(sources_loaded), tests, min_share=min_share,
                         loaded_pending=None if loaded_source is None else LoadedPending(
                             loaded_source, loaded_release, frozenset(loaded)))
    problem = _problem(context, has_spec)
    if problem is not None:
        return dataclasses.replace(context, problem=problem)
    assert context.release is not None  # a release is known once there is no problem
    pending = load_pending(fetcher, sources, context.release, pending_file)
    rows = conn.execute(query("gate.sql"), {"release": name, "pending": sorted(pending.endpoints),
                                            "min_share": min_share}).fetchall()
    verdicts = tuple(
        Verdict(endpoint=endpoint, method=method, path=path, level=level, verdict=verdict,
                pending=is_pending,
                conformance_tests=tuple(ConformanceHit(*hit) for hit in conformance_tests),
                other_tests=tuple(other_tests), ineligible_reason=reason,
                ineligible_link=link, api_group=api_group, group_versions=tuple(versions),
                conformance_runs=conformance_runs, runs=runs)
        for (endpoint, method, path, level, api_group, versions, reason, link, is_pending,
             conformance_tests, other_tests, conformance_runs, runs, verdict) in rows)
    return dataclasses.replace(context, pending=pending, verdicts=verdicts,
                               flaky=_flaky(conn, name, {v.endpoint for v in verdicts}))


def _flaky(conn: psycopg.Connection, release: str, new: set[str]) -> tuple[FlakyEndpoint, ...]:
    """The release's flaky stable, eligible endpoints (gate_flaky.sql); `new` names the
    release's new endpoints."""
    return tuple(FlakyEndpoint(endpoint, method, path, conformance_runs, runs, endpoint in new)
                 for endpoint, method, path, conformance_runs, runs in conn.execute(
                     query("gate_flaky.sql"), {"release": release}))


def _problem(context: GateResult, has_spec: bool) -> str | None:
    release = context.release
    if release is None:
        return "no spec is loaded: run `snoopdb load --release X` first"
    load = f"snoopdb load --release {release.minor_name}"
    if not has_spec:
        return f"no spec loaded for release {release}: run `{load}`"
    if not context.earlier_releases:
        return (f"no release before {release} is loaded, so nothing tells which endpoints "
                f"are new: run `{load} --only spec` (it loads every earlier spec)")
    if not context.sources:
        return (f"no audit data for release {release}: load a run "
                f"(`{load} --only audit` with --job/--build or --audit-log)")
    if not context.conformance_tests:
        return f"no conformance tests loaded: run `{load} --only tests`"
    return None


LABELS = {"untested": "UNTESTED", "pending": "PENDING", "tested": "TESTED",
          "ineligible": "INELIGIBLE", "deprecated": "DEPRECATED", "not stable": "NOT STABLE"}


def render(result: GateResult) -> str:
    """The gate's report for people: context, one line per new endpoint, the verdict."""
    release = result.release
    assert release is not None and result.pending is not None, "render a decided result"
    pending = result.pending
    compared = result.earlier_releases[-1] + (
        f" and {_count(len(result.earlier_releases) - 1, 'earlier release')}"
        if len(result.earlier_releases) > 1 else "")
    lines = [
        (f"release {release}: {_count(len(result.verdicts), 'new endpoint')} "
         f"(compared with {compared})"),
        (f"audit data: {_count(len(result.sources), 'run')} ({', '.join(result.sources)}); "
         f"{_count(result.conformance_tests, 'conformance test')}"
         + (f"; tested means hit by a conformance test in at least {result.min_share:g} of "
            "the runs" if result.min_share is not None else "")),
        f"pending list: {pending.source} "
        + (f"({_count(len(pending.endpoints), 'endpoint')})" if pending.found
           else "(none: not found)"),
    ]
    if result.pending_differs:
        lines.append(_pending_note(result))
    width = max((len(LABELS[v.verdict]) for v in result.verdicts), default=0)
    for v in result.verdicts:
        lines.append(f"{LABELS[v.verdict].ljust(width)}  {v.endpoint} "
                     f"({v.method.upper()} {v.path}): {v.why(str(release))}")
    eligible = result.eligible
    counts = ", ".join(f"{n} {verdict}" for verdict in ELIGIBLE
                       if (n := sum(v.verdict == verdict for v in eligible)))
    summary = _count(len(eligible), "new eligible endpoint") + (f": {counts}" if counts else "")
    lines += _flaky_lines(result)
    if result.status == "fail":
        names = ", ".join(v.endpoint for v in result.untested)
        lines.append(f"FAIL: {summary}; no conformance test for {names}")
    else:
        lines.append(f"PASS: {summary}")
    # test names come from audit logs, sources from listings: each line shown as one
    return "\n".join(map(shown, lines))


def _pending_note(result: GateResult) -> str:
    """The gate's pending list is not the database's: the coverage numbers, the
    dashboard and the export count those endpoints otherwise (kubernetes#141065)."""
    assert result.pending is not None and result.release is not None
    loaded = result.loaded_pending
    endpoints = frozenset() if loaded is None else loaded.endpoints
    here, there = result.pending.endpoints - endpoints, endpoints - result.pending.endpoints
    where = ("no pending list is loaded" if loaded is None else
             f"the pending list loaded ({loaded.source}, release {loaded.release}) differs")
    return (f"NOTE: {where}: {_count(len(here), 'endpoint')} only in the gate's, "
            f"{_count(len(there), 'endpoint')} only in the loaded one; coverage numbers read "
            f"the loaded one (`snoopdb load --release {result.release.minor_name} --only "
            "pending` loads the release's)")


def _flaky_lines(result: GateResult) -> list[str]:
    """The warning: each flaky stable, eligible endpoint, its share and runs."""
    if not result.flaky:
        return []
    runs = result.flaky[0].runs
    return [f"WARNING: {_count(len(result.flaky), 'stable, eligible endpoint')} hit by "
            f"conformance tests in only some of the {_count(runs, 'run')} of {result.release} "
            "(flaky coverage):"] + [
        f"  {f.endpoint} ({f.method.upper()} {f.path}): {f.conformance_runs} of "
        f"{_count(f.runs, 'run')} ({f.share:.0%})" + (f"; new in {result.release}" if f.new
                                                        else "")
        for f in result.flaky]


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'s' * (n != 1)}"


def junit(result: GateResult) -> str:
    """JUnit XML for CI dashboards: one testcase per new eligible endpoint, a failure
    for each untested one, pending ones skipped; and in a suite of warnings, one
    testcase per flaky stable, eligible endpoint, the warning in its system-err."""
    release = result.release
    assert release is not None, "JUnit of a decided result"
    eligible = result.eligible
    counts = {"tests": str(len(eligible)),
              "failures": str(sum(v.verdict == "untested" for v in eligible)),
              "errors": "0",
              "skipped": str(sum(v.verdict == "pending" for v in eligible))}
    total = {**counts, "tests": str(len(eligible) + len(result.flaky))}
    suites = ET.Element("testsuites", {"name": "snoopdb gate", **total})
    suite = ET.SubElement(suites, "testsuite", {"name": f"conformance gate {release}", **counts})
    for v in eligible:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"snoopdb.gate.{release}", "name": v.endpoint})
        why = v.why(str(release))
        if v.verdict == "untested":
            failure = ET.SubElement(case, "failure", {"type": "untested", "message": why})
            failure.text = f"{v.method.upper()} {v.path}"
        elif v.verdict == "pending":
            ET.SubElement(case, "skipped", {"message": why})
        else:
            ET.SubElement(case, "system-out").text = why
    if result.flaky:
        warnings = ET.SubElement(suites, "testsuite", {
            "name": f"flaky conformance coverage {release} (warnings)",
            "tests": str(len(result.flaky)), "failures": "0", "errors": "0", "skipped": "0"})
        for f in result.flaky:
            case = ET.SubElement(warnings, "testcase", {
                "classname": f"snoopdb.gate.{release}.flaky", "name": f.endpoint})
            ET.SubElement(case, "system-err").text = f"warning: {f.why()}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
