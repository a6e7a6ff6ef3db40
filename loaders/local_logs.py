"""Local audit log files (plain or gzipped, rotated copies read oldest first), loaded as
one run of a release, or as live events (`load --testing`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg

from snoopdb.core import progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import NotFound, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases
from snoopdb.loaders import audit, live
from snoopdb.loaders.ci_runs import rotation_key
from snoopdb.loaders.events import AuditReport
from snoopdb.loaders.logs import LogFile, log_size


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
    keep_hot: int | None = None,
) -> AuditReport:
    """Load local audit logs (rotated copies read oldest first) as one run.

    CI logs count towards `release` and are mapped with its spec; with `testing` they
    are live events (loaders/live.py: testing.audit_event, release `live`, mapped and
    tallied against the newest loaded spec), whatever `release` says.
    """
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise NotFound(f"{missing[0]}: no such file")
    ordered = sorted((p.resolve() for p in paths), key=lambda p: rotation_key(p.name))
    source = ",".join(p.as_uri() for p in ordered)
    logs = [LogFile(p, str(p)) for p in ordered]
    if testing:
        with progress.bar(total=sum(log_size(p) for p in ordered), desc="live events",
                          unit="B", unit_scale=True) as bar:
            return live.load_logs(conn, logs, source, skip_bad_lines=skip_bad_lines,
                                  on_progress=bar.update)
    if release is None:
        raise ReleaseError("local audit logs need the release they count towards")
    matcher, _ = audit.matcher_for(conn, fetcher, settings, str(release))
    return audit.store_run(conn, logs, matcher, release, releases, source, skip_bad_lines,
                           keep_hot)
