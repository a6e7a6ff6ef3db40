"""Prow CI runs on GCS: which build to load, where its audit logs are, which version it
ran, and loading its logs as one run."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from snoopdb.loaders import audit, spec
from snoopdb.loaders.gcs import Blob, Bucket, json_object
from snoopdb.loaders.github import KUBERNETES, SPEC_PATH, Sources

from snoopdb.core import progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import FetchError, NoSpecLoaded, NotFound, ReleaseError, SnoopError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, commit_of_version, release_of_version

DEFAULT_BUCKET = "kubernetes-ci-logs"
DEFAULT_JOBS = (
    "ci-kubernetes-e2e-gci-gce",
    "ci-kubernetes-gce-conformance-latest",
    "ci-kubernetes-audit-kind-conformance",
)
PROW_VIEW = "https://prow.k8s.io/view/gs"
MAX_BUILDS_BACK = 50
DOWNLOAD_THREADS = 4


@dataclass(frozen=True)
class Run:
    """One build of a job: its audit logs (oldest first) and the version it tested."""

    bucket: str
    job: str
    build: str
    version: str
    commit: str | None
    logs: tuple[Blob, ...]

    @property
    def source(self) -> str:
        return f"{PROW_VIEW}/{self.bucket}/logs/{self.job}/{self.build}"


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
}


def _json(bucket: Bucket, name: str) -> dict:
    return json_object(bucket.read(name), bucket.url(name))


def _version_and_commit(bucket: Bucket, job: str, build_prefix: str) -> tuple[str, str | None]:
    """The build's version (`v1.37.0-alpha.1.123+1b23e20abc`) and the commit it ran."""
    if job == "ci-kubernetes-audit-kind-conformance":
        version = bucket.read(
            build_prefix + "artifacts/logs/kind-control-plane/kubernetes-version.txt"
        ).decode().strip()
        commit: str | None
        try:
            commit = _json(bucket, build_prefix + "started.json").get("repo-commit")
        except NotFound:
            commit = None
        return version, commit or commit_of_version(version)
    finished = _json(bucket, build_prefix + "finished.json")
    metadata = finished.get("metadata") or {}
    found = metadata.get("job-version") or finished.get("job-version") or finished.get("version")
    if not found:
        raise FetchError(f"{bucket.url(build_prefix + 'finished.json')}: no job-version")
    return str(found), commit_of_version(str(found))


def _result(bucket: Bucket, build_prefix: str) -> str | None:
    try:
        return _json(bucket, build_prefix + "finished.json").get("result")
    except NotFound:
        return None  # still running


def latest_successful_build(bucket: Bucket, job: str) -> str:
    """The newest build of `job` whose finished.json says SUCCESS."""
    latest = bucket.read(f"logs/{job}/latest-build.txt").decode().strip()
    if _result(bucket, f"logs/{job}/{latest}/") == "SUCCESS":
        return latest
    _, prefixes = bucket.list(f"logs/{job}/", delimiter="/")
    builds = sorted((int(p.rstrip("/").rsplit("/", 1)[-1]) for p in prefixes
                     if p.rstrip("/").rsplit("/", 1)[-1].isdigit()), reverse=True)
    older = [b for b in builds if b < int(latest)] if latest.isdigit() else builds
    for build in older[:MAX_BUILDS_BACK]:
        if _result(bucket, f"logs/{job}/{build}/") == "SUCCESS":
            return str(build)
    searched = min(len(older), MAX_BUILDS_BACK) + 1
    raise SnoopError(f"job {job}: no successful build among the {searched}"
                     f" newest in gs://{bucket.name}")


def resolve_run(bucket: Bucket, job: str, build: str | None = None) -> Run:
    """The run of `job` at `build` (default: the latest successful one)."""
    build = build or latest_successful_build(bucket, job)
    prefix = f"logs/{job}/{build}/"
    version, commit = _version_and_commit(bucket, job, prefix)
    logs = LAYOUTS.get(job, _any_audit_logs)(bucket, prefix)
    if not logs:
        raise NotFound(f"{bucket.url(prefix)}: no audit logs in the artifacts of this build")
    return Run(bucket.name, job, build, version, commit, rotation_order(logs))


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
) -> audit.AuditReport:
    """Load one prow run (default: the job's latest successful build); replaces it if loaded.

    The run counts towards the X.Y.0 of its version, never an older release: a run of a
    release no list names yet is a run of the release in development, whose spec is
    loaded (from the run's commit, else master) if it is not loaded yet.
    """
    bucket = Bucket(fetcher, settings.gcs_url, bucket_name)
    run = resolve_run(bucket, job, build)
    try:
        release = release_of_version(run.version)
    except ReleaseError as exc:
        raise ReleaseError(f"{run.source}: {exc}") from None
    total = sum(blob.size for blob in run.logs)
    with progress.bar(total=total, desc=f"download {job}", unit="B", unit_scale=True) as bar, \
            concurrent.futures.ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        def fetch(blob: Blob) -> Path:
            path = bucket.download(blob)
            bar.update(blob.size)
            return path
        paths = list(pool.map(fetch, run.logs))
    release_spec = ensure_spec(conn, fetcher, Sources(settings, releases), release, run.commit)
    matcher, _ = audit.matcher_for(conn, fetcher, settings, str(release), run.commit)
    logs = [audit.LogFile(path, bucket.url(blob.name))
            for path, blob in zip(paths, run.logs, strict=True)]
    report = audit.store_run(conn, logs, matcher, release, releases, run.source, False,
                             skip_bad_lines)
    report.spec = release_spec
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
