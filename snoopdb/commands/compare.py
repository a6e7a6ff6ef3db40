"""`snoopdb compare-published`: the coverage in the database against apisnoop's
published files, loading nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
import psycopg

from snoopdb.commands.export import PROGRESS_FILE, progress_totals
from snoopdb.core.errors import InputError, NotFound, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, parse_release
from snoopdb.loaders import history, spec
from snoopdb.loaders.history import PublishedCoverage

OUR_COVERAGE = """
SELECT endpoint, tested, conf_tested, tests FROM endpoint_coverage WHERE release = %s
"""
PROGRESS_TOTALS = ("endpoints", "tested", "new", "new_with_tests", "old_tested", "new_tested",
                   "still_untested")


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
    """A conformance-progress total of a release that differs (None: release not listed)."""

    release: str
    total: str
    ours: int | None
    published: int | None


@dataclass
class CompareReport:
    """Per release compared: its comparison, or why it could not be compared; then the
    progress totals that differ (`progress_source` None: no progress file published)."""

    releases: list[Release] = field(default_factory=list)
    comparisons: list[ReleaseComparison] = field(default_factory=list)
    not_published: dict[str, str] = field(default_factory=dict)
    progress_source: str | None = None
    progress: list[ProgressDifference] = field(default_factory=list)

    @property
    def differing(self) -> int:
        return sum(bool(c.differences) for c in self.comparisons)

    @property
    def same(self) -> bool:
        return not self.differing and not self.progress


def compare_published(
    conn: psycopg.Connection, fetcher: Fetcher, releases: Releases, folder: str,
    release: str | None = None,
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
    progress_source = history.location(folder, PROGRESS_FILE)
    try:
        published = parse_progress(fetcher.read_bytes(progress_source, cache=False),
                                   progress_source)
    except NotFound:
        return report
    report.progress_source = progress_source
    report.progress = compare_progress(conn, published, [str(r) for r in loaded])
    return report


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


def compare_progress(conn: psycopg.Connection, published: dict[str, dict[str, int]],
                     releases: Iterable[str]) -> list[ProgressDifference]:
    """Our conformance.progress totals (as `snoopdb export` writes them) against the
    published ones, for `releases`."""
    ours = progress_totals(conn)
    differences = []
    for release in releases:
        mine, theirs = ours.get(release), published.get(release)
        if mine is None and theirs is None:
            continue
        for total in PROGRESS_TOTALS:
            value = None if mine is None else mine[total]
            other = None if theirs is None else theirs.get(total)
            if value != other:
                differences.append(ProgressDifference(release, total, value, other))
    return differences
