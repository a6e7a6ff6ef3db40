"""Local audit log files (plain or gzipped, rotated copies read oldest first), loaded as one run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg

from snoopdb.core.config import Settings
from snoopdb.core.errors import NotFound, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases
from snoopdb.loaders import audit
from snoopdb.loaders.ci_runs import rotation_key


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
) -> audit.AuditReport:
    """Load local audit logs (rotated copies read oldest first) as one run.

    CI logs count towards `release` and are mapped with its spec; with `testing` they
    go to testing.audit_event as release `live`, mapped with the newest spec.
    """
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise NotFound(f"{missing[0]}: no such file")
    ordered = sorted((p.resolve() for p in paths), key=lambda p: rotation_key(p.name))
    source = ",".join(p.as_uri() for p in ordered)
    logs = [audit.LogFile(p, str(p)) for p in ordered]
    if not testing and release is None:
        raise ReleaseError("local audit logs need the release they count towards")
    named = audit.newest_loaded_release(conn) if testing else str(release)
    matcher, _ = audit.matcher_for(conn, fetcher, settings, named)
    return audit.store_run(conn, logs, matcher, release, releases, source, testing,
                           skip_bad_lines, keep_hot)
