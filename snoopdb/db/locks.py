"""Transaction-level advisory locks: loads of the same thing wait for each other."""

from __future__ import annotations

import psycopg


def serialise(conn: psycopg.Connection, name: str) -> None:
    """Wait until no other transaction holds lock `name`, then hold it until this
    transaction ends. Two loads of one file at once then run one after the other
    (the second replacing the first's rows) instead of colliding on a key."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("snoopdb " + name,))
