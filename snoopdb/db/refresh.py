"""Keeping the materialized views current: what loaders call, in their own transaction,
after writing what a view reads."""

from __future__ import annotations

import psycopg


def eligible_coverage(conn: psycopg.Connection) -> None:
    """Recompute conformance.eligible_endpoint_coverage (materialized, as in snoopDB):
    after a load of a spec, conformance.yaml or the ineligible list, which it reads.
    Loads of endpoint_hit call refresh_coverage(), which refreshes it too."""
    conn.execute("REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage")
