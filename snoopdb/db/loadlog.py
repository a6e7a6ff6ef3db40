"""The `load_log` table: one row per load, so every load is auditable."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection,
    kind: str,
    release: str | None,
    source: str,
    started: dt.datetime,
    rows: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Append a load to `load_log`, inside the caller's transaction."""
    conn.execute(
        "INSERT INTO load_log (kind, release, source, started_at, rows, details)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (kind, release, source, started, rows, Jsonb(details or {})),
    )
