"""The loaded releases: what the database holds of each (spec, conformance tests, CI runs,
published coverage), and dropping one whole, as after a `--release` typed wrong."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from snoopdb.core.errors import DatabaseError, NotFound
from snoopdb.core.releases import Release
from snoopdb.core.wording import plural
from snoopdb.db import connection, loadlog, locks, run_store
from snoopdb.db.queries import query


@dataclass(frozen=True)
class LoadedRelease:
    """What the database holds of a release. `spec_imported`: its open_api rows come
    from a published coverage file, no spec was loaded; `conformance_tests`: the rows
    of the conformance.yaml loaded for it (None: none), `conformance_in_use` when that
    is the list in conformance.test; `runs`: CI runs counted towards it; `published`:
    the published coverage file imported for it; `latest`: the release the views call
    the latest (latest_release(): the newest with coverage data)."""

    release: str
    release_date: dt.date | None
    endpoints: int
    spec: str | None
    spec_imported: bool
    conformance_tests: int | None
    conformance_in_use: bool
    runs: int
    published: str | None
    latest: bool

    @property
    def coverage(self) -> str:
        """Where its coverage comes from: audit events, published coverage or no data."""
        if self.runs:
            return "audit events"
        return "published coverage" if self.published else "no data"

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["release_date"] = self.release_date.isoformat() if self.release_date else None
        document["coverage"] = self.coverage
        return document


def loaded_releases(conn: psycopg.Connection) -> list[LoadedRelease]:
    """Every release the database holds something of, newest first."""
    return [LoadedRelease(*row) for row in conn.execute(query("releases/list.sql"))]


@dataclass
class ReleaseDropReport:
    """What dropping a release removed."""

    release: LoadedRelease
    runs: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0


def drop_release(conn: psycopg.Connection, release: Release) -> ReleaseDropReport:
    """Remove everything of `release`: its CI runs, in batches, each in a transaction of
    its own (a thousand runs in one transaction exhaust PostgreSQL's lock table; see
    run_store.DROP_BATCH), then in one transaction any run left, its imported coverage
    and field tallies, its open_api rows and body schemas, the conformance tests,
    ineligible and pending endpoints when the lists in use were loaded for it, its conformance list
    for submissions, the coverage summaries refreshed. NotFound when the database holds
    nothing of it. An interrupted drop keeps the batches dropped; dropping it again
    goes on from there. The drop is kept in load_log."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    name = str(release)
    held = {r.release: r for r in loaded_releases(conn)}
    if name not in held:
        raise NotFound(f"release {name} is not loaded (`snoopdb releases` lists those "
                       "that are)")
    report = ReleaseDropReport(held[name])

    def drop_runs() -> list[tuple[str, str, int]]:
        locks.serialise(conn, f"release {name}")  # the loads of its runs share it
        sources = [source for (source,) in conn.execute(
            "SELECT source FROM audit_run WHERE release = %s ORDER BY run LIMIT %s",
            (name, run_store.DROP_BATCH))]
        # the coverage summaries are rewritten once, at the end (a rewrite reads every run
        # of the release left: after each batch, it locked them all)
        return run_store.drop_many(conn, sources)

    try:
        while True:
            with conn.transaction():
                batch = locks.patiently(conn, f"dropping release {name}", drop_runs)
            report.runs += [(source, events) for source, _, events in batch]
            if len(batch) < run_store.DROP_BATCH:
                break
    except (psycopg.Error, locks.LockWaitExceeded) as exc:
        if not report.runs:
            raise
        # the batches before stay dropped: an error must not read as if none were
        said = connection.describe(exc) if isinstance(exc, psycopg.Error) else str(exc)
        raise DatabaseError(f"release {name}: {plural(len(report.runs), 'run')} dropped, in "
                            f"batches each committed; then {said}; the release stays (drop it "
                            "again)") from exc

    def drop() -> None:
        # the locks its loads take: none of them runs meanwhile (loads of its runs
        # share the first: the drop waits for them, and removes their runs)
        locks.serialise(conn, f"release {name}")
        locks.serialise(conn, f"spec {name}")
        locks.serialise(conn, "conformance")
        report.runs += [(source, events or 0) for source, events in
                        conn.execute(query("releases/drop_runs.sql"), {"release": name})]
        psycopg.ClientCursor(conn).execute(query("releases/drop.sql"), {"release": name})
        conn.execute("SELECT refresh_coverage()")
        loadlog.record(conn, "drop", name, "snoopdb releases drop", started_at,
                       report.release.endpoints, {"runs": sorted(s for s, _ in report.runs)})

    with conn.transaction():
        locks.patiently(conn, f"dropping release {name}", drop)
    report.runs.sort()
    report.seconds = time.monotonic() - started
    return report
