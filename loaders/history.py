"""apisnoop's published per-release coverage → `endpoint_hit`, `open_api` and
`conformance.test`, for releases whose CI logs are gone from the buckets.

apisnoop publishes `resources/coverage/<release>.json` (`1.20.0.json`; old ones
were once named like `1.15.json`, the name tried second): a release's
`endpoint_coverage` rows (`endpoint, level, category, path, description, kind,
version, group, action, tested, conf_tested, tests`), its `audit_event_test` rows
(`test, testname, file, conformance_test, promotion_release`), `spec` and `sources`.

An import stores the file as a run in state `imported` (run_store): no events,
and for each endpoint hit rows chosen so that the coverage views give back exactly
the file's tested, conf_tested and tests (see `hit_rows`); `source` = the file's URL.
Raw events always win: a release with CI runs is not imported, and loading a run
drops the imported coverage of its release (loaders/audit.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg

from snoopdb.core import bounds, progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import InputError, NotFound, ReleaseError, SnoopError
from snoopdb.core.fetch import Fetcher, is_url
from snoopdb.core.releases import Release, Releases, normalise_conformance_release, parse_release
from snoopdb.db import loadlog, run_store
from snoopdb.loaders.github import apisnoop_base

COVERAGE_FOLDER = "resources/coverage"
OPEN_API_COLUMNS = (
    "release", "release_date", "endpoint", "level", "category", "path", "k8s_group",
    "k8s_version", "k8s_kind", "k8s_action", "deprecated", "description", "spec", "method",
    "imported",
)
CONFORMANCE_TAG = "[Conformance]"

# x-kubernetes-action → HTTP method; connect and proxy operations name theirs in the
# operationId (connectCoreV1GetNamespacedPodExec, proxyCoreV1GETNode), and operations
# without an action (getCoreAPIVersions, logFileHandler) are all GETs.
ACTION_METHODS = {
    "get": "get", "list": "get", "watch": "get", "watchlist": "get", "post": "post",
    "put": "put", "patch": "patch", "delete": "delete", "deletecollection": "delete",
}
_NAMED_METHOD = re.compile(
    r"^(?:connect|proxy)[A-Z][a-z]*V\d+(?:(?:alpha|beta)\d+)?"
    r"(?i:(delete|get|head|options|patch|post|put))")

# Historical conformance tests complete conformance.test; rows loaded from
# conformance.yaml (historical = false) are never overwritten.
UPSERT_HISTORICAL_TESTS = """
INSERT INTO conformance.test (codename, testname, release, file, historical)
SELECT codename, testname, release, file, true
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(codename, testname, release, file)
ON CONFLICT (codename) DO UPDATE
  SET testname = excluded.testname, release = excluded.release, file = excluded.file
  WHERE conformance.test.historical
"""




@dataclass(frozen=True)
class PublishedEndpoint:
    """One endpoint_coverage row of a published file; `tests` without the nulls."""

    endpoint: str
    level: str
    category: str | None
    path: str
    description: str
    kind: str | None
    version: str | None
    group: str | None
    action: str | None
    tested: bool
    conf_tested: bool
    tests: tuple[str, ...]


@dataclass(frozen=True)
class PublishedTest:
    """A conformance test a published file names (its `tests` entry with conformance_test)."""

    codename: str
    testname: str
    file: str | None
    release: str


@dataclass(frozen=True)
class PublishedCoverage:
    """A published file: its release (X.Y.Z), spec URL, the CI runs it was computed
    from, its endpoints and the conformance tests it names. (Its `release_date` is
    not kept: it is the date of the runs, not of the release.)"""

    release: str
    spec: str | None
    sources: tuple[str, ...]
    endpoints: tuple[PublishedEndpoint, ...]
    conformance_tests: tuple[PublishedTest, ...]


@dataclass(frozen=True)
class ImportedRelease:
    """What the import of one release wrote."""

    release: str
    source: str
    endpoints: int
    hit_rows: int
    open_api_rows: int
    historical_tests: int
    seconds: float


@dataclass
class HistoryReport:
    """Releases imported, kept (raw events loaded) and not published (404)."""

    imported: list[ImportedRelease] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0


def default_folder(settings: Settings, mirror: Path | None = None) -> str:
    """Where apisnoop publishes the files: `{SNOOPDB_APISNOOP_RAW_URL}/resources/coverage`,
    or that folder in a mirror (loaders/github.py)."""
    return location(apisnoop_base(settings, mirror), COVERAGE_FOLDER)


def location(folder: str, name: str) -> str:
    """The URL or path of file `name` in `folder` (a URL or a local directory)."""
    if is_url(folder):
        return f"{folder.rstrip('/')}/{name}"
    return os.path.join(folder, name)


def method_of(endpoint: str, action: str | None) -> str:
    """The HTTP method of an operation known only by operationId and x-kubernetes-action
    (published files do not carry the method; open_api needs it to map events)."""
    named = _NAMED_METHOD.match(endpoint)
    if named:
        return named.group(1).lower()
    return ACTION_METHODS.get(action or "", "get")


def parse(content: bytes, origin: str) -> PublishedCoverage:
    """A published coverage file; InputError naming `origin` when it is not one."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{origin}: not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("endpoints"), list):
        raise InputError(f"{origin}: not a published coverage file (no `endpoints` list)")
    try:
        coverage = PublishedCoverage(
            release=str(parse_release(_text(document, "release", required=True))),
            spec=_text(document, "spec"),
            sources=tuple(s for s in _strings(document, "sources") if s is not None),
            endpoints=tuple(_endpoint(entry) for entry in document["endpoints"]),
            conformance_tests=_conformance_tests(document.get("tests") or []))
    except (TypeError, ValueError, ReleaseError) as exc:
        raise InputError(f"{origin}: {exc}") from exc
    seen: set[str] = set()
    for e in coverage.endpoints:
        if e.endpoint in seen:
            raise InputError(f"{origin}: endpoint {e.endpoint} is listed twice")
        seen.add(e.endpoint)
    return coverage


def _text(entry: dict, key: str, *, required: bool = False) -> Any:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise TypeError(f"`{key}` is {'missing' if value is None else 'not a string'}")
    return value


def _strings(entry: dict, key: str) -> Iterator[str | None]:
    values = entry.get(key) or []
    if not isinstance(values, list) or not all(v is None or isinstance(v, str) for v in values):
        raise TypeError(f"`{key}` is not a list of strings")
    return iter(values)


def _flag(entry: dict, key: str) -> bool:
    value = entry.get(key)
    if not isinstance(value, bool):
        raise TypeError(f"`{key}` is not true or false")
    return value


def _endpoint(entry: object) -> PublishedEndpoint:
    if not isinstance(entry, dict):
        raise TypeError("an `endpoints` entry is not an object")
    try:
        name = _text(entry, "endpoint", required=True)
        path = _text(entry, "path", required=True)
        tests = tuple(dict.fromkeys(t for t in _strings(entry, "tests") if t is not None))
        return PublishedEndpoint(
            endpoint=name, level=_text(entry, "level", required=True),
            category=_text(entry, "category"), path=path,
            description=_text(entry, "description") or "", kind=_text(entry, "kind"),
            version=_text(entry, "version"), group=_text(entry, "group"),
            action=_text(entry, "action"), tested=_flag(entry, "tested"),
            conf_tested=_flag(entry, "conf_tested"), tests=tests)
    except TypeError as exc:
        raise TypeError(f"endpoint {entry.get('endpoint')!r}: {exc}") from exc


def _conformance_tests(entries: object) -> tuple[PublishedTest, ...]:
    if not isinstance(entries, list):
        raise TypeError("`tests` is not a list")
    tests: dict[str, PublishedTest] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise TypeError("a `tests` entry is not an object")
        if entry.get("conformance_test") is not True:
            continue
        codename = _text(entry, "test", required=True)
        try:
            release = normalise_conformance_release(entry.get("promotion_release"))
        except ReleaseError as exc:
            raise ValueError(f"test {codename!r}: {exc}") from exc
        tests[codename] = PublishedTest(codename, _text(entry, "testname") or "",
                                        _text(entry, "file"), release)
    return tuple(tests.values())


def hit_rows(endpoint: PublishedEndpoint) -> list[tuple[str | None, bool, bool]]:
    """The (test, test_hit, conf_test_hit) rows that make the views' aggregation
    (tested = any test_hit, conf_tested = any conf_test_hit, tests = the non-null
    tests) give back exactly the endpoint's tested, conf_tested and tests:

    - each listed test: test_hit = tested (always true in apisnoop's files, where only
      e2e.test user agents name a test); conf_test_hit = conf_tested and the name
      carries [Conformance], the raw rule (conformance user agents end in the name);
    - tested, but no test listed: (null, true, conf_tested), a test of unknown name;
    - conf_tested, but no listed test carries the tag (apisnoop cut names at "--"):
      (null, false, true), a conformance hit whose test is unknown.

    An endpoint nobody tested gets no row; the files' `null` entries (hits from
    non-test user agents) are not kept, as the views leave them out.
    """
    rows: list[tuple[str | None, bool, bool]] = [
        (test, endpoint.tested, endpoint.conf_tested and CONFORMANCE_TAG in test)
        for test in endpoint.tests]
    if endpoint.tested and not endpoint.tests:
        rows.append((None, True, endpoint.conf_tested))
    if endpoint.conf_tested and not any(conf for _, _, conf in rows):
        rows.append((None, False, True))
    return rows


def has_raw_events(conn: psycopg.Connection, release: str) -> bool:
    """True when `release` has CI runs (audit events) loaded, archived ones included."""
    return conn.execute("SELECT EXISTS (SELECT FROM audit_run WHERE release = %s"
                        " AND state IN ('hot', 'compact', 'archived'))",
                        (release,)).fetchone() == (True,)


def load(
    conn: psycopg.Connection,
    coverage: PublishedCoverage,
    source: str,
    release_date: dt.date | None = None,
) -> ImportedRelease | None:
    """Replace the imported coverage of `coverage.release` with `coverage`, in one
    transaction; None (and nothing written) when the release has raw events.

    open_api rows come from the file only when the release's spec is not loaded;
    their release_date is `release_date` (the releases file's, as for specs).
    """
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    release = coverage.release
    with conn.transaction():
        if has_raw_events(conn, release):
            return None
        for (other,) in conn.execute(
                "SELECT source FROM audit_run WHERE release = %s AND state = 'imported'"
                " AND source <> %s", (release, source)).fetchall():
            run_store.drop(conn, other)
        conn.execute("DELETE FROM open_api WHERE release = %s AND imported", (release,))
        spec_loaded = conn.execute("SELECT EXISTS (SELECT FROM open_api WHERE release = %s)",
                                   (release,)).fetchone() == (True,)
        open_api_rows = 0 if spec_loaded else _copy_open_api(conn, coverage, source, release_date)
        rows = [(endpoint.endpoint, test, test_hit, conf, 0)
                for endpoint in coverage.endpoints
                for test, test_hit, conf in hit_rows(endpoint)]
        hits = len(rows)
        run = run_store.prepare(conn, source, release, run_store.IMPORTED)
        run_store.store_summaries(conn, run, rows, (), ())
        run_store.publish(conn, run, release,
                          release_date.isoformat() if release_date else None, 0,
                          run_store.IMPORTED)
        tests = coverage.conformance_tests
        if tests:
            conn.execute(UPSERT_HISTORICAL_TESTS, (
                [t.codename for t in tests], [t.testname for t in tests],
                [t.release for t in tests], [t.file for t in tests]))
        (historical,) = conn.execute(
            "SELECT count(*) FROM conformance.test WHERE historical AND codename = ANY(%s)",
            ([t.codename for t in tests],)).fetchone() or (0,)
        loadlog.record(conn, "history", release, source, started_at, hits + open_api_rows, {
            "endpoints": len(coverage.endpoints), "hit_rows": hits,
            "open_api_rows": open_api_rows, "historical_tests": historical,
            "sources": list(coverage.sources)})
    return ImportedRelease(release, source, len(coverage.endpoints), hits, open_api_rows,
                           historical, time.monotonic() - started)


def _copy_open_api(conn: psycopg.Connection, coverage: PublishedCoverage, source: str,
                   release_date: dt.date | None) -> int:
    spec = coverage.spec or source
    with conn.cursor().copy(f"COPY open_api ({', '.join(OPEN_API_COLUMNS)}) FROM STDIN") as copy:
        for e in coverage.endpoints:
            copy.write_row((
                coverage.release, release_date, e.endpoint, e.level, e.category, e.path, e.group,
                e.version, e.kind, e.action, "deprecated" in e.description.lower(),
                e.description, spec, method_of(e.endpoint, e.action), True,
            ))
    return len(coverage.endpoints)


def fetch(fetcher: Fetcher, folder: str, release: Release, *,
          cache: bool = True) -> tuple[PublishedCoverage, str]:
    """The published coverage of `release` in `folder` and the location it was read
    from: `<X.Y.Z>.json`, else the older name `<X.Y>.json`; NotFound when neither exists."""
    primary = location(folder, f"{release}.json")
    candidates = (primary, location(folder, f"{release.minor_name}.json"))
    for candidate in candidates:
        try:
            content = fetcher.read_bytes(candidate, bound=bounds.PUBLISHED, cache=cache)
        except NotFound:
            continue
        coverage = parse(content, candidate)
        if coverage.release != str(release):
            raise InputError(f"{candidate}: is the coverage of release {coverage.release}, "
                             f"not {release}")
        return coverage, candidate
    raise NotFound(f"{primary}: not found (nor {release.minor_name}.json)")


def import_history(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    folder: str,
    releases: Releases,
    up_to: Release,
    *,
    required: Release | None = None,
    on_release: Callable[[ImportedRelease], None] | None = None,
) -> HistoryReport:
    """Import the published coverage of every known release up to `up_to` that has no
    raw events, oldest first, each release in its own transaction; then refresh the
    coverage summaries. A file missing for `required` is an error, for any other
    release a note in the report. Files of releases older than the newest are cached.
    """
    started = time.monotonic()
    report = HistoryReport()
    wanted = releases.up_to(up_to)
    # one step per release, done once it is imported, and one for the refresh of the
    # summaries that ends the import (a second or so): the bar's total is the whole work
    with progress.bar(total=len(wanted) + 1, desc="history", unit="step") as bar:
        try:
            for release in wanted:
                _import_one(conn, fetcher, folder, releases, release, required, report,
                            on_release)
                bar.update(1)
        finally:
            run_store.refresh(conn, *(imported.release for imported in report.imported))
            bar.update(1)
            report.seconds = time.monotonic() - started
    return report


def _import_one(conn: psycopg.Connection, fetcher: Fetcher, folder: str, releases: Releases,
                release: Release, required: Release | None, report: HistoryReport,
                on_release: Callable[[ImportedRelease], None] | None) -> None:
    """Import the published coverage of `release` into `report` (see import_history)."""
    if has_raw_events(conn, str(release)):
        report.raw.append(str(release))
        return
    try:
        coverage, source = fetch(fetcher, folder, release, cache=release != releases.newest)
    except NotFound as exc:
        if release == required:
            raise SnoopError(f"no published coverage for release {release}: {exc}") from exc
        report.missing.append(str(release))
        return
    imported = load(conn, coverage, source, releases.date(release))
    if imported is None:  # raw events arrived meanwhile
        report.raw.append(str(release))
        return
    report.imported.append(imported)
    if on_release:
        on_release(imported)
