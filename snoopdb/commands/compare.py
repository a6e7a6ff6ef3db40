"""`snoopdb compare-published`: the coverage in the database against apisnoop's
published files, loading nothing: each release's endpoints against `<release>.json`,
then the totals of conformance-progress.json and conformance-coverage-per-release.json
(which apisnoop computes from the newest release's coverage and every release's spec:
a release whose earlier specs are missing cannot be compared)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson
import psycopg

from snoopdb.commands.export import PROGRESS_FILE, progress_totals
from snoopdb.core import bounds
from snoopdb.core.errors import InputError, NotFound, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, parse_release
from snoopdb.db.queries import rows
from snoopdb.loaders import history, spec
from snoopdb.loaders.history import PublishedCoverage

PER_RELEASE_FILE = "conformance-coverage-per-release.json"

OUR_COVERAGE = """
SELECT endpoint, tested, conf_tested, tests FROM endpoint_coverage WHERE release = %s
"""
PROGRESS_TOTALS = ("endpoints", "tested", "new", "new_with_tests", "old_tested", "new_tested",
                   "still_untested")
# release → total → value, as a file or a view gives them
Totals = Mapping[str, Mapping[str, int | None]]
PER_RELEASE_TOTALS = ("new endpoints", "tested", "untested", "total tested", "total untested",
                      "total endpoints")


@dataclass(frozen=True)
class EndpointCoverage:
    tested: bool
    conf_tested: bool
    tests: frozenset[str]


@dataclass(frozen=True)
class EndpointDifference:
    """An endpoint whose coverage differs; None on the side that does not list it."""

    endpoint: str
    ours: EndpointCoverage | None
    published: EndpointCoverage | None


@dataclass(frozen=True)
class ReleaseComparison:
    release: str
    source: str
    endpoints: int
    differences: tuple[EndpointDifference, ...]


@dataclass(frozen=True)
class ProgressDifference:
    """A total of a release that differs (None: release not listed on that side), in
    conformance-progress.json or (`file`) conformance-coverage-per-release.json."""

    release: str
    total: str
    ours: int | None
    published: int | None
    file: str = PROGRESS_FILE


@dataclass
class CompareReport:
    """Per release compared: its comparison, or why it could not be compared; then the
    totals: those that differ, the releases whose totals are the same, and those that
    cannot be compared, with the reason (`progress_source`, `per_release_source` None:
    that file is not published)."""

    releases: list[Release] = field(default_factory=list)
    comparisons: list[ReleaseComparison] = field(default_factory=list)
    not_published: dict[str, str] = field(default_factory=dict)
    progress_source: str | None = None
    per_release_source: str | None = None
    progress: list[ProgressDifference] = field(default_factory=list)
    totals_same: list[str] = field(default_factory=list)
    not_comparable: dict[str, str] = field(default_factory=dict)

    @property
    def differing(self) -> int:
        return sum(bool(c.differences) for c in self.comparisons)

    @property
    def compared(self) -> bool:
        """Whether anything was compared: a release's endpoints, or a release's totals."""
        return bool(self.comparisons or self.totals_same or self.progress)

    @property
    def same(self) -> bool:
        return not self.differing and not self.progress


def compare_published(
    conn: psycopg.Connection, fetcher: Fetcher, releases: Releases, folder: str,
    release: Release | None = None,
) -> CompareReport:
    """Compare every release with a loaded spec (or only `release`) with the published
    `<release>.json`, then conformance.progress with conformance-progress.json. Published
    files are never cached: the point is to compare with what is published now."""
    report = CompareReport()
    loaded = sorted(parse_release(r) for r in spec.loaded_releases(conn))
    if release is not None:
        wanted = releases.resolve(release)
        if wanted not in loaded:
            raise ReleaseError(f"release {wanted} is not loaded: nothing to compare")
        loaded = [wanted]
    report.releases = loaded
    for rel in loaded:
        try:
            coverage, source = history.fetch(fetcher, folder, rel, cache=False)
        except NotFound as exc:
            report.not_published[str(rel)] = str(exc)
            continue
        report.comparisons.append(compare_release(conn, coverage, source))
    compare_totals(conn, fetcher, releases, folder, loaded, report)
    return report


def compare_totals(conn: psycopg.Connection, fetcher: Fetcher, releases: Releases,
                   folder: str, loaded: list[Release], report: CompareReport) -> None:
    """conformance.progress and conformance.coverage_per_release against the published
    files, for the `loaded` releases whose earlier specs are all loaded (or imported)."""
    published: dict[str, Totals] = {}
    for name, parse in ((PROGRESS_FILE, parse_progress), (PER_RELEASE_FILE, parse_per_release)):
        source = history.location(folder, name)
        try:
            published[name] = parse(
                fetcher.read_bytes(source, bound=bounds.PUBLISHED, cache=False), source)
        except NotFound:
            continue
        if name == PROGRESS_FILE:
            report.progress_source = source
        else:
            report.per_release_source = source
    if not published:
        return
    present = {parse_release(r) for r in spec.loaded_releases(conn)}
    comparable = []
    for rel in loaded:
        missing = [r for r in releases.up_to(rel) if r not in present]
        if missing:
            report.not_comparable[str(rel)] = (
                f"no spec of {', '.join(str(r) for r in missing)} loaded or imported: the"
                " endpoints those releases added cannot be told apart")
        else:
            comparable.append(str(rel))
    ours: dict[str, Totals] = {PROGRESS_FILE: progress_totals(conn),
                               PER_RELEASE_FILE: per_release_totals(conn)}
    for name, theirs in published.items():
        keys = PROGRESS_TOTALS if name == PROGRESS_FILE else PER_RELEASE_TOTALS
        report.progress += compare_progress(ours[name], theirs, comparable, keys, name)
    differing = {d.release for d in report.progress}
    report.totals_same = [r for r in comparable if r not in differing
                          and any(r in theirs for theirs in published.values())]


def compare_release(conn: psycopg.Connection, coverage: PublishedCoverage,
                    source: str) -> ReleaseComparison:
    """Our endpoint_coverage of the file's release against the file, endpoint by endpoint."""
    ours = {endpoint: EndpointCoverage(tested, conf, frozenset(tests))
            for endpoint, tested, conf, tests in conn.execute(OUR_COVERAGE, (coverage.release,))}
    published = {e.endpoint: EndpointCoverage(e.tested, e.conf_tested, frozenset(e.tests))
                 for e in coverage.endpoints}
    differences = tuple(
        EndpointDifference(endpoint, ours.get(endpoint), published.get(endpoint))
        for endpoint in sorted(ours.keys() | published.keys())
        if ours.get(endpoint) != published.get(endpoint))
    return ReleaseComparison(coverage.release, source, len(ours.keys() | published.keys()),
                             differences)


def parse_progress(content: bytes, origin: str) -> dict[str, dict[str, int]]:
    """conformance-progress.json: release → its totals."""
    try:
        entries = orjson.loads(content)
        return {str(parse_release(e["release"])): {k: int(v) for k, v in e["total"].items()}
                for e in entries}
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, ReleaseError) as exc:
        raise InputError(f"{origin}: not a conformance-progress file: {exc}") from exc


def parse_per_release(content: bytes, origin: str) -> dict[str, dict[str, int | None]]:
    """conformance-coverage-per-release.json: release → its totals."""
    try:
        entries = orjson.loads(content)
        return {str(parse_release(e["release"])): {k: e[k] for k in PER_RELEASE_TOTALS}
                for e in entries}
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, ReleaseError) as exc:
        raise InputError(f"{origin}: not a conformance-coverage-per-release file: {exc}") from exc


def per_release_totals(conn: psycopg.Connection) -> dict[str, dict[str, int | None]]:
    """conformance.coverage_per_release's totals by release, oldest first."""
    return {row.pop("release"): row for row in rows(conn, "coverage_per_release_totals.sql")}


def compare_progress(ours: Totals, published: Totals,
                     releases: Iterable[str], keys: tuple[str, ...] = PROGRESS_TOTALS,
                     file: str = PROGRESS_FILE) -> list[ProgressDifference]:
    """Our totals of one file (as `snoopdb export` writes them) against the published
    ones, for `releases`."""
    differences = []
    for release in releases:
        mine, theirs = ours.get(release), published.get(release)
        if mine is None and theirs is None:
            continue
        for total in keys:
            value = None if mine is None else mine[total]
            other = None if theirs is None else theirs.get(total)
            if value != other:
                differences.append(ProgressDifference(release, total, value, other, file))
    return differences
