"""The SQL the application runs, kept in sql/queries/ rather than in Python strings."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row


@functools.cache
def query(name: str) -> str:
    """The text of sql/queries/<name>, e.g. `gate.sql` or `dashboard/overview.sql`."""
    return resources.files("snoopdb.sql").joinpath("queries", name).read_text()


def rows(conn: psycopg.Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows query `name` (see `query`) returns with `params`, each a dict by column."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query(name), params).fetchall()
