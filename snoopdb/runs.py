"""Loading audit events: CI runs from GCS, or local log files, each as one run."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

from snoopdb import progress
from snoopdb.config import Settings
from snoopdb.errors import FetchError, InputError, SnoopError
from snoopdb.fetch import Fetcher
from snoopdb.gcs import Bucket
from snoopdb.load import KUBERNETES, SPEC_PATH
from snoopdb.loaders import audit, spec
from snoopdb.loaders.prow import resolve_run, rotation_key
from snoopdb.matching import Matcher
from snoopdb.releases import Release, Releases, release_of_version

DOWNLOAD_THREADS = 4
LIVE_RELEASE = "live"


def matcher_for(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, release: str,
    commit: str | None = None,
) -> tuple[Matcher, str]:
    """The matcher of the spec at `commit` (downloaded once, cached), falling back to
    the loaded spec of `release`; and where that spec came from."""
    if commit:
        url = settings.github_raw(KUBERNETES, commit, SPEC_PATH)
        try:
            with fetcher.open(url) as stream:
                operations = [(op.method, op.path, op.endpoint)
                              for op in spec.read_operations(stream, url)]
            return Matcher.from_operations(operations), url
        except (FetchError, InputError):
            pass  # an abbreviated or unknown commit: the release's spec will do
    loaded = conn.execute("SELECT 1 FROM open_api WHERE release = %s LIMIT 1",
                          (release,)).fetchone()
    if not loaded:
        raise SnoopError(f"no spec loaded for release {release}: "
                         f"run `snoopdb load --release {release} --only spec` first")
    return Matcher.for_release(conn, release), f"open_api release {release}"


def newest_loaded_release(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT release FROM open_api ORDER BY release_key(release) DESC LIMIT 1").fetchone()
    if row is None:
        raise SnoopError("no spec is loaded: run `snoopdb load --release X` first")
    return row[0]


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
    """Load one prow run (default: the job's latest successful build); replaces it if loaded."""
    bucket = Bucket(fetcher, settings.gcs_url, bucket_name)
    run = resolve_run(bucket, job, build)
    release = releases.cap(release_of_version(run.version))
    total = sum(blob.size for blob in run.logs)
    with progress.bar(total=total, desc=f"download {job}", unit="B", unit_scale=True) as bar, \
            concurrent.futures.ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        def fetch(blob):  # type: ignore[no-untyped-def]
            path = bucket.download(blob)
            bar.update(blob.size)
            return path
        paths = list(pool.map(fetch, run.logs))
    matcher, _ = matcher_for(conn, fetcher, settings, str(release), run.commit)
    logs = [audit.LogFile(path, bucket.url(blob.name)) for path, blob in zip(paths, run.logs)]
    return _load(conn, logs, matcher, release, releases, run.source, False, skip_bad_lines)


def load_log_files(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    settings: Settings,
    releases: Releases,
    paths: Sequence[Path],
    release: Release | None,
    *,
    testing: bool = False,
    skip_bad_lines: bool = False,
) -> audit.AuditReport:
    """Load local audit logs (rotated copies read oldest first) as one run.

    CI logs count towards `release` and are mapped with its spec; with `testing`
    they go to testing.audit_event as release `live`, mapped with the newest spec.
    """
    ordered = sorted((p.resolve() for p in paths), key=lambda p: rotation_key(p.name))
    source = ",".join(p.as_uri() for p in ordered)
    logs = [audit.LogFile(p, str(p)) for p in ordered]
    if testing:
        matcher, _ = matcher_for(conn, fetcher, settings, newest_loaded_release(conn))
    else:
        if release is None:
            raise SnoopError("--audit-log needs --release (the release the logs count towards)")
        matcher, _ = matcher_for(conn, fetcher, settings, str(release))
    return _load(conn, logs, matcher, release, releases, source, testing, skip_bad_lines)


def _load(
    conn: psycopg.Connection, logs: list[audit.LogFile], matcher: Matcher,
    release: Release | None, releases: Releases, source: str, testing: bool,
    skip_bad_lines: bool,
) -> audit.AuditReport:
    total = sum(log.path.stat().st_size for log in logs)
    date: str | None
    if testing or release is None:
        # as the webhook does: the time received, in epoch milliseconds (apisnoop's
        # live queries filter on release_date::bigint)
        name, date = LIVE_RELEASE, str(int(time.time() * 1000))
    else:
        known = releases.date(release)
        name, date = str(release), known.isoformat() if known else None
    with progress.bar(total=total, desc="audit events", unit="B", unit_scale=True) as bar:
        return audit.load_run(conn, logs, matcher, release=name, release_date=date,
                              source=source, testing=testing, skip_bad_lines=skip_bad_lines,
                              on_progress=bar.update)
