"""Hand-made coverage rows stored as a load stores them: each source a run (schema
revision 0010), its hits, field and body tallies in its own partitions. Tests and
benchmarks write endpoint_hit-shaped rows; endpoint_hit itself is a view."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from snoopdb.db import run_store


def insert_hits(conn: psycopg.Connection, hits: Iterable[Sequence[Any]] = (),
                field_hits: Iterable[Sequence[Any]] = (),
                body_hits: Iterable[Sequence[Any]] = ()) -> None:
    """Store rows shaped like endpoint_hit (release, source, endpoint, test, test_hit,
    conf_test_hit, hits[, imported]), endpoint_field_hit (release, source, endpoint,
    field, known, test, test_hit, conf_test_hit, hits) and endpoint_body_hit (release,
    source, endpoint, test, test_hit, conf_test_hit, bodies): one run per source, with
    no events (imported when its hit rows say so), replacing a run of that source.
    The coverage summaries are not refreshed (call refresh_coverage())."""
    runs: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"release": None, "imported": False, "hits": [], "fields": [], "bodies": []})
    for release, source, *row in hits:
        run = runs[source]
        run["release"] = release
        run["imported"] = bool(row[5]) if len(row) > 5 else False
        run["hits"].append(tuple(row[:5]))
    for release, source, *row in field_hits:
        runs[source]["release"] = release
        runs[source]["fields"].append(tuple(row))
    for release, source, *row in body_hits:
        runs[source]["release"] = release
        runs[source]["bodies"].append(tuple(row))
    with conn.transaction():
        for source, run in runs.items():
            state = run_store.IMPORTED if run["imported"] else run_store.HOT
            number = run_store.prepare(conn, source, run["release"], state)
            run_store.store_summaries(conn, number, run["hits"], run["fields"],
                                      run["bodies"])
            run_store.publish(conn, number, run["release"], None, 0, state)


def drop_all_runs(conn: psycopg.Connection) -> None:
    """Drop every run and imported coverage file, as `snoopdb runs drop` drops one (the
    summaries are not refreshed)."""
    with conn.transaction():
        for (source,) in conn.execute("SELECT source FROM audit_run ORDER BY run").fetchall():
            run_store.drop(conn, source)
