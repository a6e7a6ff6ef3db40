"""`snoopdb presubmit`: the coverage of a Kubernetes pull request, for its reviewer.

The pull request is a checkout (its head) and a base (a git revision of the checkout,
or a loaded release). Its spec, and its base's when read from git, are stored as
pseudo-releases (HEAD_RELEASE, BASE_RELEASE) in one transaction that is always rolled
back: the eligibility query reads them as it reads any release, the pull request's
run is mapped with the pull request's own spec, and no other session — the
dashboard, the coverage views, an export — ever sees either. The pull request's run
is read, mapped and counted in memory, never stored. Only the baseline, the newest
runs of a periodic job, is loaded (when missing) as every run is, for good.

Four answers: (1) the operations the pull request adds, removes or changes in level,
each with its eligibility and whether a conformance test of the run hits it; (2) the
operations the run's conformance tests reach that the baseline's do not, and the
reverse; (3) the conformance tests the pull request adds; (4) eligible coverage
before and after. The verdict fails on a new stable, eligible operation no
conformance test hits and the pending list does not name, or on an operation lost.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import psycopg

from snoopdb.certification.pullrequest import file_at
from snoopdb.core import bounds
from snoopdb.core.config import Settings
from snoopdb.core.errors import ConfigError, InputError, NoSpecLoaded, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases
from snoopdb.coverage.matching import Matcher
from snoopdb.db.queries import query
from snoopdb.db.runs import Run, job_name, list_runs, named
from snoopdb.loaders import ci_runs, conformance, ineligible, pending, spec
from snoopdb.loaders.events import EventRows
from snoopdb.loaders.gcs import Bucket
from snoopdb.loaders.github import SPEC_PATH
from snoopdb.loaders.logs import LogFile, read_logs

HEAD_RELEASE = "presubmit-head"
BASE_RELEASE = "presubmit-base"
EXIT_CODES = {"pass": 0, "fail": 1, "undecided": 3}
DEFAULT_LAST = 3
# A prow run named by its page: https://prow.k8s.io/view/gs/BUCKET/PATH, where PATH is
# a periodic's logs/JOB/BUILD or a presubmit's pr-logs/pull/ORG_REPO/PR/JOB/BUILD
_PROW_RUN = re.compile(re.escape(ci_runs.PROW_VIEW) + r"/([^/]+)/((?:logs|pr-logs/pull/[^/]+/"
                       r"[0-9]{1,10})/([^/]+)/([0-9]{1,20}))/?")
_BUILD = re.compile("[0-9]{1,20}")


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What `snoopdb presubmit` is asked: the checkout and its base (a git revision
    `base_ref`, or a loaded `release`); the pull request's run (`run`: a loaded run's
    name or source, JOB#BUILD or a prow URL on GCS; or `audit_logs`); the baseline
    (the newest `last` runs of job `baseline`, counted reached at `min_share`)."""

    checkout: Path
    base_ref: str | None = None
    release: Release | None = None
    run: str | None = None
    audit_logs: tuple[Path, ...] = ()
    baseline: str | None = None
    last: int = DEFAULT_LAST
    min_share: float = 1.0
    bucket: str = ci_runs.DEFAULT_BUCKET
    skip_bad_lines: bool = False


@dataclasses.dataclass(frozen=True)
class Lists:
    """A side's test/conformance/testdata: conformance tests by codename, ineligible
    endpoints with their reasons, pending endpoints."""

    conformance: Mapping[str, conformance.ConformanceTest]
    ineligible: Mapping[str, str]
    pending: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Eligibility:
    """An operation of a spec: its level and, when not eligible, why (None: eligible)."""

    endpoint: str
    method: str
    path: str
    level: str
    reason: str | None


@dataclasses.dataclass(frozen=True)
class OperationChange:
    """An operation the pull request adds, removes or changes in level, with its
    eligibility (the head's; the base's for a removed one) and the tests of the pull
    request's run that hit it (conformance ones, and others)."""

    endpoint: str
    method: str
    path: str
    change: str  # added, removed, level
    was_level: str | None
    level: str | None
    reason: str | None
    tests: tuple[str, ...] = ()
    other_tests: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return self.change != "removed" and self.reason is None

    @property
    def state(self) -> str:
        """tested, untested, pending, tested (still pending), removed or not eligible."""
        if self.change == "removed":
            return "removed"
        if self.reason == "pending":
            return "tested, still pending" if self.tests else "pending"
        if self.reason is not None:
            return f"not eligible: {self.reason}"
        return "tested" if self.tests else "untested"

    @property
    def fails(self) -> bool:
        return self.state == "untested"


@dataclasses.dataclass(frozen=True)
class Reach:
    """An operation conformance tests reach in the pull request's run or in the
    baseline, not both: `baseline_runs` of the baseline's `runs` reached it; `tests`
    are the run's (gained) or the baseline's (lost). `kind`: gained, lost, flaky (the
    baseline reached it in fewer than --min-share of its runs: marked, not counted) or
    removed (the pull request removes it)."""

    endpoint: str
    kind: str
    baseline_runs: int
    runs: int
    tests: tuple[str, ...]

    @property
    def flaky(self) -> bool:
        return 0 < self.baseline_runs < self.runs


@dataclasses.dataclass(frozen=True)
class NewTest:
    """A conformance test of the pull request's conformance.yaml its base lacks, and the
    operations it hit in the run."""

    codename: str
    release: str
    endpoints: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Eligible operations, and those conformance tests reach: before (the base's, by
    the baseline) and after (the head's, by the baseline or the run)."""

    before_tested: int
    before_total: int
    after_tested: int
    after_total: int

    @property
    def change(self) -> int:
        return self.after_tested - self.before_tested


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything presubmit found; `problem` says why it could not decide."""

    base: str = ""
    head: str = ""
    run: str = ""
    baseline: tuple[str, ...] = ()
    min_share: float = 1.0
    changes: tuple[OperationChange, ...] = ()
    reach: tuple[Reach, ...] = ()
    tests: tuple[NewTest, ...] = ()
    coverage: Coverage | None = None
    events: int = 0
    problem: str | None = None

    @property
    def untested(self) -> tuple[OperationChange, ...]:
        return tuple(c for c in self.changes if c.fails)

    def reached(self, kind: str) -> tuple[Reach, ...]:
        return tuple(r for r in self.reach if r.kind == kind)

    @property
    def status(self) -> str:
        if self.problem is not None:
            return "undecided"
        return "fail" if self.untested or self.reached("lost") else "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON values (`snoopdb presubmit --json`)."""
        return {
            "status": self.status, "exit_code": self.exit_code, "problem": self.problem,
            "base": self.base, "head": self.head, "run": self.run, "events": self.events,
            "baseline": list(self.baseline), "min_share": self.min_share,
            "operations": [{**dataclasses.asdict(c), "tests": list(c.tests),
                            "other_tests": list(c.other_tests), "eligible": c.eligible,
                            "state": c.state} for c in self.changes],
            **{kind: [{**dataclasses.asdict(r), "tests": list(r.tests), "flaky": r.flaky}
                      for r in self.reached(kind)]
               for kind in ("gained", "lost", "flaky", "removed")},
            "conformance_tests": [{**dataclasses.asdict(t), "endpoints": list(t.endpoints)}
                                  for t in self.tests],
            "coverage": None if self.coverage is None else {
                **dataclasses.asdict(self.coverage), "change": self.coverage.change},
        }


def run(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, releases: Releases,
        inputs: Inputs) -> Result:
    """Judge the pull request `inputs` describe. Undecided (Result.problem) without a
    run of the pull request or without a baseline run; a base, a checkout or a run
    that cannot be read is an error."""
    if not 0 < inputs.min_share <= 1:
        raise InputError(f"--min-share must be above 0 and at most 1, not {inputs.min_share}")
    if (inputs.base_ref is None) == (inputs.release is None):
        raise ConfigError("give the pull request's base: --base-ref REF or --release X")
    if inputs.run is not None and inputs.audit_logs:
        raise ConfigError("give the pull request's run once: --run or --audit-log")
    head_spec = inputs.checkout / SPEC_PATH
    if not head_spec.is_file():
        raise InputError(f"{inputs.checkout}: no {SPEC_PATH}: not a Kubernetes checkout")
    head = read_lists(lambda path, bound: _checkout_file(fetcher, inputs.checkout, path, bound),
                      str(inputs.checkout))
    if inputs.base_ref is not None:
        base, base_spec = _base_from_git(inputs.checkout, inputs.base_ref)
    context = Result(base=inputs.base_ref or str(inputs.release), head=str(inputs.checkout),
                     min_share=inputs.min_share)
    if inputs.run is None and not inputs.audit_logs:
        return dataclasses.replace(context, problem=(
            "no run of the pull request: give --run SOURCE|JOB#BUILD or --audit-log FILE"))
    if inputs.baseline is None:
        return dataclasses.replace(context, problem="no baseline: give --baseline JOB")
    baseline = baseline_runs(conn, fetcher, settings, releases, inputs)
    if not baseline:
        return dataclasses.replace(context, problem=(
            f"no baseline: no finished run of job {inputs.baseline} is loaded or found in "
            f"gs://{inputs.bucket}"))
    context = dataclasses.replace(context, baseline=tuple(r.name for r in baseline))
    if inputs.release is not None and conn.execute(
            "SELECT FROM open_api WHERE release = %s LIMIT 1", (str(inputs.release),)
    ).fetchone() is None:
        raise NoSpecLoaded(str(inputs.release))
    with head_spec.open("rb") as stream:
        head_operations = operations_of(stream, str(head_spec))
    rows = EventRows(Matcher.from_operations((op.method, op.path, op.endpoint)
                                             for op in head_operations),
                     HEAD_RELEASE, None, inputs.run or "audit logs")
    name = read_run(conn, fetcher, settings, inputs, rows)
    # seconds, not the run's minutes: the lists it swaps are held only this long
    with conn.transaction(force_rollback=True):
        store_operations(conn, HEAD_RELEASE, head_operations, str(head_spec))
        if inputs.base_ref is not None:
            store_operations(conn, BASE_RELEASE, base_spec, f"{inputs.base_ref}: {SPEC_PATH}")
            was = eligibility(conn, BASE_RELEASE, base)
        else:
            base = lists_of_release(conn)
            was = eligibility(conn, str(inputs.release), None)
        now = eligibility(conn, HEAD_RELEASE, head)
        reached = conn.execute(query("presubmit/baseline.sql"), {
            "runs": [r.run for r in baseline], "codenames": sorted(base.conformance)}).fetchall()
    hits = conformance_hits(rows.hits, head.conformance)
    others = other_hits(rows.hits, head.conformance)
    baseline_reach = {endpoint: (runs, tuple(tests)) for endpoint, runs, tests in reached}
    return dataclasses.replace(
        context, run=name, events=rows.report.events,
        changes=changes(was, now, hits, others),
        reach=reach(baseline_reach, hits, len(baseline), inputs.min_share, now),
        tests=new_tests(base.conformance, head.conformance, hits),
        coverage=coverage(was, now, baseline_reach, hits, len(baseline), inputs.min_share))


# Reads one file of a side by its path in the repository, None when it is absent.
Reader = Callable[[str, bounds.Bound], "bytes | None"]


def read_lists(read: Reader, origin: str) -> Lists:
    """A side's conformance, ineligible and pending lists, each read by `read` (a
    missing file is an empty list) and parsed as the loaders parse them."""
    found = read(conformance.PATH, bounds.YAML)
    tests = conformance.parse(found, f"{origin}: {conformance.PATH}") if found else []
    found = read(ineligible.PATH, bounds.YAML)
    listed = ineligible.parse(found, f"{origin}: {ineligible.PATH}") if found else []
    found = read(pending.PATH, bounds.YAML)
    waiting = pending.parse(found, f"{origin}: {pending.PATH}") if found else frozenset()
    return Lists({t.codename: t for t in tests},
                 {endpoint: reason for endpoint, reason, _ in listed}, waiting)


def _checkout_file(fetcher: Fetcher, root: Path, path: str, bound: bounds.Bound) -> bytes | None:
    location = root / path
    if not location.is_file():
        return None
    return fetcher.read_bytes(str(location), bound=bound, cache=False)


def _base_from_git(root: Path, ref: str) -> tuple[Lists, list[spec.Operation]]:
    """The base's lists and spec operations at revision `ref`."""
    origin = f"{root} at {ref}"
    content = file_at(root, ref, SPEC_PATH, bounds.SPEC.size)
    if content is None:
        raise InputError(f"{origin}: no {SPEC_PATH}")
    operations = operations_of(io.BytesIO(content), f"{origin}: {SPEC_PATH}")
    return (read_lists(lambda path, bound: file_at(root, ref, path, bound.size), origin),
            operations)


def lists_of_release(conn: psycopg.Connection) -> Lists:
    """A loaded release's lists, as the database holds them: conformance.test,
    conformance.ineligible_endpoint, conformance.pending_eligible_endpoint."""
    tests = {codename: conformance.ConformanceTest(testname, codename, release, "", "")
             for testname, codename, release in conn.execute(
                 "SELECT testname, codename, release FROM conformance.test")}
    listed: dict[str, str] = dict(conn.execute(
        "SELECT endpoint, reason FROM conformance.ineligible_endpoint").fetchall())
    waiting = frozenset(endpoint for (endpoint,) in conn.execute(
        "SELECT endpoint FROM conformance.pending_eligible_endpoint"))
    return Lists(tests, listed, waiting)


def operations_of(stream: IO[bytes], origin: str) -> list[spec.Operation]:
    """The operations of the spec read from `stream` (a few thousand: held in memory,
    mapped with and stored from)."""
    operations = list(spec.read_operations(stream, origin))
    if not operations:
        raise InputError(f"{origin}: no operations under `paths`")
    return operations


def store_operations(conn: psycopg.Connection, release: str,
                     operations: Iterable[spec.Operation], origin: str) -> None:
    """`operations` stored in open_api as `release` (no body fields, no refresh: the
    caller's transaction is rolled back)."""
    with conn.cursor().copy(f"COPY open_api ({', '.join(spec.COLUMNS)}) FROM STDIN") as copy:
        for op in operations:
            copy.write_row(spec.row_of(op, release, None, origin))


def eligibility(conn: psycopg.Connection, release: str,
                lists: Lists | None) -> dict[str, Eligibility]:
    """Every operation of `release` with its eligibility, as endpoint_eligibility judges
    it under `lists`: put in the place of the loaded lists for the caller's transaction,
    which is rolled back (None: under the lists loaded)."""
    if lists is not None:
        conn.execute("DELETE FROM conformance.ineligible_endpoint")
        with conn.cursor().copy("COPY conformance.ineligible_endpoint (endpoint, reason, link)"
                                " FROM STDIN") as copy:
            for endpoint, reason in sorted(lists.ineligible.items()):
                copy.write_row((endpoint, reason, ""))
        conn.execute("DELETE FROM conformance.pending_eligible_endpoint")
        with conn.cursor().copy("COPY conformance.pending_eligible_endpoint (endpoint)"
                                " FROM STDIN") as copy:
            for endpoint in sorted(lists.pending):
                copy.write_row((endpoint,))
    return {row[0]: Eligibility(*row) for row in conn.execute(
        query("presubmit/eligibility.sql"), {"release": release})}


def baseline_runs(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
                  releases: Releases, inputs: Inputs) -> list[Run]:
    """The newest `last` runs of the baseline job in the database, its newest finished
    builds on GCS loaded first when fewer are (each a run of its own, for good)."""
    assert inputs.baseline is not None

    def loaded() -> list[Run]:
        return [r for r in list_runs(conn) if inputs.baseline in (job_name(r.job), r.job)
                and r.state != "imported"][:inputs.last]

    runs = loaded()
    if len(runs) < inputs.last:
        try:
            ci_runs.load_ci_builds(conn, fetcher, settings, releases, inputs.bucket,
                                   inputs.baseline, last=inputs.last,
                                   skip_bad_lines=inputs.skip_bad_lines)
        except NotFound:
            pass  # no such job on GCS: the runs loaded, if any, are the baseline
        runs = loaded()
    return runs


def read_run(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, inputs: Inputs,
             rows: EventRows) -> str:
    """Map the pull request's run with `rows` (the head's spec); its name. A loaded run
    whose events are in the database is read from there; any other is read from GCS."""
    if inputs.audit_logs:
        read_logs([LogFile(path, str(path)) for path in inputs.audit_logs], rows,
                  inputs.skip_bad_lines)
        return ", ".join(map(str, inputs.audit_logs))
    assert inputs.run is not None
    try:
        (loaded,) = named(list_runs(conn), [inputs.run])
    except NotFound:
        loaded = None
    if loaded is not None and loaded.state == "hot":
        with conn.transaction(), conn.cursor(name="presubmit_run") as cursor:
            cursor.itersize = 10_000
            for (event,) in cursor.execute("SELECT data FROM audit_event WHERE source = %s",
                                           (loaded.source,)):
                rows.map(event)
        return loaded.name
    bucket_name, prefix, job, build = _gcs_build(inputs.run, inputs.bucket)
    bucket = Bucket(fetcher, settings.gcs_url, bucket_name)
    read_logs([LogFile(bucket.download(blob), bucket.url(blob.name))
               for blob in ci_runs.audit_logs(bucket, job, prefix)], rows, inputs.skip_bad_lines)
    return f"{job}#{build}"


def _gcs_build(name: str, bucket: str) -> tuple[str, str, str, str]:
    """(bucket, build prefix, job, build) of a run named by its prow URL or as
    JOB#BUILD (a periodic's, in `bucket`)."""
    url = _PROW_RUN.fullmatch(name)
    if url is not None:
        return url[1], url[2] + "/", url[3], url[4]
    job, _, build = name.rpartition("#")
    if not job or not _BUILD.fullmatch(build) or "/" in job:
        raise InputError(f"--run {name!r}: no loaded run with events, and not JOB#BUILD or a "
                         f"prow URL ({ci_runs.PROW_VIEW}/BUCKET/logs/JOB/BUILD, or "
                         "…/pr-logs/pull/ORG_REPO/PR/JOB/BUILD)")
    return bucket, f"logs/{job}/{build}/", job, build


Hits = dict[str, tuple[str, ...]]


def conformance_hits(counted: Iterable[tuple[str, str | None, bool, bool]],
                     codenames: Mapping[str, object]) -> Hits:
    """The operations conformance tests (codenames of the head's list) hit, by test."""
    found: dict[str, set[str]] = {}
    for endpoint, test, test_hit, _ in counted:
        if test_hit and test is not None and test in codenames:
            found.setdefault(endpoint, set()).add(test)
    return {endpoint: tuple(sorted(tests)) for endpoint, tests in found.items()}


def other_hits(counted: Iterable[tuple[str, str | None, bool, bool]],
               codenames: Mapping[str, object]) -> Hits:
    """The operations other tests (e2e.test user agents naming no conformance test) hit."""
    found: dict[str, set[str]] = {}
    for endpoint, test, test_hit, _ in counted:
        if test_hit and test and test not in codenames:
            found.setdefault(endpoint, set()).add(test)
    return {endpoint: tuple(sorted(tests)) for endpoint, tests in found.items()}


def changes(was: Mapping[str, Eligibility], now: Mapping[str, Eligibility], hits: Hits,
            others: Hits) -> tuple[OperationChange, ...]:
    """Operations added, removed, or whose level changed, by change then name."""
    found = []
    for endpoint in sorted(was.keys() | now.keys()):
        before, after = was.get(endpoint), now.get(endpoint)
        if after is not None and before is not None and after.level == before.level:
            continue
        shown = after or before
        assert shown is not None
        change = "added" if before is None else "removed" if after is None else "level"
        found.append(OperationChange(
            endpoint, shown.method, shown.path, change,
            None if before is None else before.level, None if after is None else after.level,
            shown.reason, hits.get(endpoint, ()), others.get(endpoint, ())))
    order = {"added": 0, "level": 1, "removed": 2}
    return tuple(sorted(found, key=lambda c: order[c.change]))


def reach(baseline: Mapping[str, tuple[int, tuple[str, ...]]], hits: Hits, runs: int,
          min_share: float, now: Mapping[str, Eligibility]) -> tuple[Reach, ...]:
    """Operations the run's conformance tests reach and the baseline's do not (in at
    least `min_share` of its `runs`), and the reverse."""
    found = []
    for endpoint in sorted(baseline.keys() | hits.keys()):
        count, tests = baseline.get(endpoint, (0, ()))
        reached = count >= min_share * runs
        if endpoint in hits and not reached:
            found.append(Reach(endpoint, "gained", count, runs, hits[endpoint]))
        elif endpoint not in hits and endpoint not in now:
            found.append(Reach(endpoint, "removed", count, runs, tests))
        elif endpoint not in hits:
            found.append(Reach(endpoint, "lost" if reached else "flaky", count, runs, tests))
    return tuple(found)


def new_tests(was: Mapping[str, object], now: Mapping[str, conformance.ConformanceTest],
              hits: Hits) -> tuple[NewTest, ...]:
    """The head's conformance tests its base lacks, with the operations each hit."""
    by_test: dict[str, list[str]] = {}
    for endpoint, tests in sorted(hits.items()):
        for test in tests:
            by_test.setdefault(test, []).append(endpoint)
    return tuple(NewTest(codename, now[codename].release, tuple(by_test.get(codename, ())))
                 for codename in sorted(now.keys() - was.keys()))


def coverage(was: Mapping[str, Eligibility], now: Mapping[str, Eligibility],
             baseline: Mapping[str, tuple[int, tuple[str, ...]]], hits: Hits, runs: int,
             min_share: float) -> Coverage:
    """Eligible operations and those conformance tests reach, as
    testing.projected_change_in_coverage counts a change: before, the base's reached by
    the baseline (in at least `min_share` of its runs); after, the head's reached by
    the baseline or by the pull request's run."""
    reached = {e for e, (count, _) in baseline.items() if count >= min_share * runs}
    before = {e for e, op in was.items() if op.reason is None}
    after = {e for e, op in now.items() if op.reason is None}
    return Coverage(len(before & reached), len(before),
                    len(after & (reached | hits.keys())), len(after))
