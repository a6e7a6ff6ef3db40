"""`snoopdb query`: one SQL statement for scripts, run read-only."""

from __future__ import annotations

from typing import Any

import psycopg


def run_query(conn: psycopg.Connection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of `sql`, run in a read-only transaction, as
    sqlite-utils' `query` does: a statement that writes fails and leaves nothing behind.
    A statement that returns no rows (SET, an empty statement) gives no columns."""
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        cursor = conn.execute(sql)
        columns = [c.name for c in cursor.description or ()]
        rows = cursor.fetchall() if cursor.description else []
    return columns, rows
