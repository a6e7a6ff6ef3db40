"""Prow CI builds on GCS: which build to load, where its audit logs are, which version it
ran and when, and loading its logs as one run; or a job's newest builds, each a run of
its own."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.core import numbers, progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import FetchError, NoSpecLoaded, NotFound, ReleaseError, SnoopError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, commit_of_version, release_of_version
from snoopdb.db import run_store
from snoopdb.loaders import audit, spec
from snoopdb.loaders.events import AuditReport
from snoopdb.loaders.gcs import Blob, Bucket, json_object
from snoopdb.loaders.github import KUBERNETES, SPEC_PATH, Sources
from snoopdb.loaders.logs import LogFile

DEFAULT_BUCKET = "kubernetes-ci-logs"
DEFAULT_JOBS = (
    "ci-kubernetes-e2e-gci-gce",
    "ci-kubernetes-gce-conformance-latest",
    "ci-kubernetes-audit-kind-conformance",
)
PROW_VIEW = "https://prow.k8s.io/view/gs"
MAX_BUILDS_BACK = 50
DOWNLOAD_THREADS = 4
# A start or finish time before prow existed, or past the year 9999, is no time.
EARLIEST_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
LATEST_TIME = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)
# started.json and finished.json values kept as text: a result, a commit.
MAX_FACT_LENGTH = 200


@dataclass(frozen=True)
class Build:
    """One build of a job on GCS: its audit logs (oldest first), the version it tested,
    and what its started.json and finished.json say of it. Loaded, it is a run
    (db.runs.Run) whose source is its prow URL."""

    bucket: str
    job: str
    id: str
    version: str
    commit: str | None
    logs: tuple[Blob, ...]
    started: dt.datetime | None = None
    result: str | None = None

    @property
    def source(self) -> str:
        return source_of(self.bucket, self.job, self.id)

    @property
    def facts(self) -> run_store.BuildFacts:
        return run_store.BuildFacts(self.id, self.started, self.commit, self.result)


def source_of(bucket: str, job: str, build: str) -> str:
    """The source a run of `job` at `build` is stored under: its prow URL."""
    return f"{PROW_VIEW}/{bucket}/logs/{job}/{build}"


def prow_time(value: object) -> dt.datetime | None:
    """A started.json or finished.json `timestamp` (seconds since the epoch) as a UTC
    time; None for anything else (a string, a boolean, a time before 2000 or after 9999)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not EARLIEST_TIME.timestamp() <= value <= LATEST_TIME.timestamp():
        return None
    return dt.datetime.fromtimestamp(value, dt.timezone.utc)


def prow_text(value: object) -> str | None:
    """A started.json or finished.json text value (a result, a commit); None when it is
    not text, empty, longer than MAX_FACT_LENGTH or holds a control character."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_FACT_LENGTH or any(ord(c) < 32 or c == "\x7f" for c in text):
        return None
    return text


def rotation_key(name: str) -> tuple[bool, str]:
    """Sort key putting rotated logs oldest first: suffixed copies (their timestamps
    sort as text) before the live file, whose name ends in `.log`."""
    return name.endswith(".log"), name


def rotation_order(blobs: list[Blob]) -> tuple[Blob, ...]:
    return tuple(sorted(blobs, key=lambda b: rotation_key(b.name)))


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _master_dir(bucket: Bucket, prefix: str) -> str:
    _, dirs = bucket.list(prefix, delimiter="/")
    masters = [d for d in dirs if "master" in d[len(prefix):]]
    if not masters:
        raise NotFound(f"{bucket.url(prefix)}: no directory named like *master* among "
                       f"{len(dirs)} artifact directories")
    return min(masters)


def _gce_logs(bucket: Bucket, build_prefix: str) -> list[Blob]:
    blobs, _ = bucket.list(_master_dir(bucket, build_prefix + "artifacts/"))
    return [b for b in blobs if _basename(b.name).startswith("kube-apiserver-audit.log")]


def _gce_conformance_logs(bucket: Bucket, build_prefix: str) -> list[Blob]:
    blobs, _ = bucket.list(_master_dir(bucket, build_prefix + "artifacts/cluster-logs/"))
    return [b for b in blobs if "audit.log" in _basename(b.name)]


def _kind_logs(bucket: Bucket, build_prefix: str) -> list[Blob]:
    blobs, _ = bucket.list(build_prefix + "artifacts/audit/")
    return [b for b in blobs if b.name.endswith(".log")]


def _any_audit_logs(bucket: Bucket, build_prefix: str) -> list[Blob]:
    blobs, _ = bucket.list(build_prefix + "artifacts/")
    return [b for b in blobs if "audit.log" in _basename(b.name)]


LAYOUTS: dict[str, Callable[[Bucket, str], list[Blob]]] = {
    "ci-kubernetes-e2e-gci-gce": _gce_logs,
    "ci-kubernetes-gce-conformance-latest": _gce_conformance_logs,
    "ci-kubernetes-audit-kind-conformance": _kind_logs,
    # the presubmit twin of the periodic above (kubernetes/test-infra#35358)
    "pull-kubernetes-audit-kind-conformance": _kind_logs,
}


def audit_logs(bucket: Bucket, job: str, build_prefix: str) -> tuple[Blob, ...]:
    """The audit logs of the build of `job` under `build_prefix` (a periodic's
    `logs/JOB/BUILD/`, a presubmit's `pr-logs/pull/ORG_REPO/PR/JOB/BUILD/`), oldest
    first, where the job's layout puts them."""
    logs = LAYOUTS.get(job, _any_audit_logs)(bucket, build_prefix)
    if not logs:
        raise NotFound(f"{bucket.url(build_prefix)}: no audit logs in the artifacts of this "
                       "build")
    return rotation_order(logs)


def _json(bucket: Bucket, name: str) -> dict:
    return json_object(bucket.read(name), bucket.url(name))


def _optional_json(bucket: Bucket, name: str) -> dict | None:
    """A build's JSON file, None when it has none (finished.json: still running)."""
    try:
        return _json(bucket, name)
    except NotFound:
        return None


@dataclass(frozen=True)
class BuildFiles:
    """A build's started.json and finished.json (None: it has none)."""

    started: dict | None
    finished: dict | None

    @classmethod
    def read(cls, bucket: Bucket, build_prefix: str) -> BuildFiles:
        return cls(_optional_json(bucket, build_prefix + "started.json"),
                   _optional_json(bucket, build_prefix + "finished.json"))

    @property
    def start(self) -> dt.datetime | None:
        """When the build started, as its started.json says."""
        return prow_time((self.started or {}).get("timestamp"))

    @property
    def result(self) -> str | None:
        """SUCCESS, FAILURE, … as its finished.json says; None while it runs."""
        return prow_text((self.finished or {}).get("result"))

    @property
    def repo_commit(self) -> str | None:
        return prow_text((self.started or {}).get("repo-commit"))


def _version_and_commit(bucket: Bucket, job: str, build_prefix: str,
                        files: BuildFiles) -> tuple[str, str | None]:
    """The build's version (`v1.37.0-alpha.1.123+1b23e20abc`) and the commit it ran."""
    if job == "ci-kubernetes-audit-kind-conformance":
        version = bucket.read(
            build_prefix + "artifacts/logs/kind-control-plane/kubernetes-version.txt"
        ).decode().strip()
        return version, files.repo_commit or commit_of_version(version)
    name = build_prefix + "finished.json"
    if files.finished is None:
        raise NotFound(f"{bucket.url(name)}: not found (404): the build has not finished")
    metadata = files.finished.get("metadata") or {}
    found = (metadata.get("job-version") if isinstance(metadata, dict) else None) \
        or files.finished.get("job-version") or files.finished.get("version")
    if not found:
        raise FetchError(f"{bucket.url(name)}: no job-version")
    return str(found), commit_of_version(str(found))


def _result(bucket: Bucket, build_prefix: str) -> str | None:
    finished = _optional_json(bucket, build_prefix + "finished.json")
    return prow_text((finished or {}).get("result"))


def job_builds(bucket: Bucket, job: str) -> list[int]:
    """The build ids of `job` in the bucket, newest first."""
    _, prefixes = bucket.list(f"logs/{job}/", delimiter="/")
    # a folder whose name is no build id (`latest`, `²`, 5,000 digits) holds no build
    builds = (numbers.whole_number(p.rstrip("/").rsplit("/", 1)[-1]) for p in prefixes)
    return sorted((build for build in builds if build is not None), reverse=True)


def latest_successful_build(bucket: Bucket, job: str) -> str:
    """The newest build of `job` whose finished.json says SUCCESS."""
    name = f"logs/{job}/latest-build.txt"
    latest = bucket.read(name).decode(errors="replace").strip()
    newest = numbers.whole_number(latest)
    if newest is None:
        raise FetchError(f"{bucket.url(name)}: {latest[:40]!r} is not a build id")
    if _result(bucket, f"logs/{job}/{latest}/") == "SUCCESS":
        return latest
    older = [b for b in job_builds(bucket, job) if b < newest]
    for build in older[:MAX_BUILDS_BACK]:
        if _result(bucket, f"logs/{job}/{build}/") == "SUCCESS":
            return str(build)
    searched = min(len(older), MAX_BUILDS_BACK) + 1
    raise SnoopError(f"job {job}: no successful build among the {searched}"
                     f" newest in gs://{bucket.name}")


def find_build(bucket: Bucket, job: str, build: str | None = None) -> Build:
    """Build `build` of `job` (default: its latest successful one)."""
    build = build or latest_successful_build(bucket, job)
    prefix = f"logs/{job}/{build}/"
    files = BuildFiles.read(bucket, prefix)
    version, commit = _version_and_commit(bucket, job, prefix, files)
    return Build(bucket.name, job, build, version, commit, audit_logs(bucket, job, prefix),
                 files.start,
                 files.result)


def load_ci_run(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    settings: Settings,
    releases: Releases,
    bucket_name: str,
    job: str,
    build: str | None = None,
    *,
    skip_bad_lines: bool = False,
    keep_hot: int | None = None,
) -> AuditReport:
    """Load one prow run (default: the job's latest successful build); replaces it if loaded.

    The run counts towards the X.Y.0 of its version, never an older release: a run of a
    release no list names yet is a run of the release in development, whose spec is
    loaded (from the run's commit, else master) if it is not loaded yet.
    """
    bucket = Bucket(fetcher, settings.gcs_url, bucket_name)
    return _load(conn, fetcher, settings, releases, bucket, find_build(bucket, job, build),
                 skip_bad_lines, keep_hot)


def _load(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, releases: Releases,
          bucket: Bucket, build: Build, skip_bad_lines: bool,
          keep_hot: int | None) -> AuditReport:
    """Download the logs of `build` (four at a time, cached) and load them as one run."""
    try:
        release = release_of_version(build.version)
    except ReleaseError as exc:
        raise ReleaseError(f"{build.source}: {exc}") from None
    job = build.job
    total = sum(blob.size for blob in build.logs)
    with progress.bar(total=total, desc=f"download {job}", unit="B", unit_scale=True) as bar, \
            concurrent.futures.ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        def fetch(blob: Blob) -> Path:
            path = bucket.download(blob)
            bar.update(blob.size)
            return path
        paths = list(pool.map(fetch, build.logs))
    release_spec = ensure_spec(conn, fetcher, Sources(settings, releases), release, build.commit)
    matcher, _ = audit.matcher_for(conn, fetcher, settings, str(release), build.commit)
    logs = [LogFile(path, bucket.url(blob.name))
            for path, blob in zip(paths, build.logs, strict=True)]
    report = audit.store_run(conn, logs, matcher, release, releases, build.source,
                             skip_bad_lines, keep_hot, build.facts)
    report.spec = release_spec
    return report


@dataclass(frozen=True)
class Skipped:
    """A build of a job a load of its newest builds did not load, and why."""

    job: str
    build: str
    why: str


@dataclass
class BuildsReport:
    """What a load of a job's newest builds did: the runs loaded (oldest first), the
    builds passed over, and the builds it looked at."""

    job: str
    audits: list[AuditReport] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)


def finished_builds(bucket: Bucket, job: str, last: int | None = None,
                    since: dt.datetime | None = None) -> Iterator[tuple[str, BuildFiles]]:
    """The newest finished builds of `job` (their finished.json says a result), newest
    first: the `last` newest, those started since `since`, or both (at least one). A
    build without a start time counts from its finish. Builds still running are
    passed over; with `last`, at most MAX_BUILDS_BACK of them."""
    assert last is not None or since is not None
    builds = job_builds(bucket, job)
    if not builds:
        raise NotFound(f"{bucket.url(f'logs/{job}/')}: no builds of job {job}")
    found = running = 0
    for build in builds:
        if last is not None and (found >= last or running > MAX_BUILDS_BACK):
            return
        files = BuildFiles.read(bucket, f"logs/{job}/{build}/")
        if files.result is None:
            running += 1
            continue
        if since is not None:
            when = files.start or prow_time((files.finished or {}).get("timestamp"))
            if when is None:
                continue
            if when < since:
                return  # build ids grow with time: every older build is older still
        found += 1
        yield str(build), files


def load_ci_builds(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    settings: Settings,
    releases: Releases,
    bucket_name: str,
    job: str,
    *,
    last: int | None = None,
    since: dt.datetime | None = None,
    skip_bad_lines: bool = False,
    keep_hot: int | None = None,
    on_run: Callable[[AuditReport], None] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
) -> BuildsReport:
    """Load the newest finished builds of `job` (see finished_builds), each as a run of
    its own, oldest first; builds loaded before, and builds with no audit logs, are
    passed over. Each run is its own transaction, and the job's runs beyond the newest
    kept hot are compacted after each (audit.load_run): a failure keeps the runs
    loaded before it. `on_run` hears of each run loaded, `on_skip` of each build
    passed over."""
    bucket = Bucket(fetcher, settings.gcs_url, bucket_name)
    report = BuildsReport(job)

    def skip(build: str, why: str) -> None:
        report.skipped.append(Skipped(job, build, why))
        if on_skip:
            on_skip(report.skipped[-1])

    chosen = list(finished_builds(bucket, job, last, since))
    report.chosen = [build for build, _ in chosen]
    loaded = {row[0] for row in conn.execute(
        "SELECT source FROM audit_run WHERE source = ANY(%s)"
        " AND state IN ('hot', 'compact', 'archived')",
        ([source_of(bucket.name, job, build) for build, _ in chosen],))}
    for build, _ in reversed(chosen):
        if source_of(bucket.name, job, build) in loaded:
            skip(build, "already loaded")
            continue
        try:
            found = find_build(bucket, job, build)
        except NotFound as exc:
            skip(build, str(exc))
            continue
        report.audits.append(_load(conn, fetcher, settings, releases, bucket, found,
                                   skip_bad_lines, keep_hot))
        if on_run:
            on_run(report.audits[-1])
    return report


def ensure_spec(conn: psycopg.Connection, fetcher: Fetcher, sources: Sources,
                release: Release, commit: str | None) -> str:
    """Where open_api's spec of `release` comes from, loading it first when it is not
    loaded: a release in development from the run's commit, else `master`; a released
    one from its tag, else the run's commit."""
    row = conn.execute("SELECT min(spec) FROM open_api WHERE release = %s",
                       (str(release),)).fetchone()
    if row is not None and row[0] is not None:
        return str(row[0])
    usual = sources.location(release, SPEC_PATH)
    at_commit = sources.settings.github_raw(KUBERNETES, commit, SPEC_PATH) if commit else None
    # in development, the run's own commit is nearer than master; once released, the
    # release's tag is what open_api holds for every release, the commit a fallback
    candidates = [usual, at_commit] if sources.immutable(release) else [at_commit, usual]
    failures = []
    for location in filter(None, candidates):
        try:
            spec.load(conn, fetcher, location, str(release), sources.releases.date(release),
                      cache=location == at_commit or sources.immutable(release))
        except FetchError as exc:
            failures.append(str(exc))
            continue
        return location
    raise NoSpecLoaded(str(release), "; ".join(failures))
