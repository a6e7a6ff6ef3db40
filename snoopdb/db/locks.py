"""Transaction-level advisory locks: loads of the same thing wait for each other."""

from __future__ import annotations

import psycopg


def serialise(conn: psycopg.Connection, name: str) -> None:
    """Wait until no other transaction holds lock `name`, then hold it until this
    transaction ends. Two loads of one file at once then run one after the other
    (the second replacing the first's rows) instead of colliding on a key."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("snoopdb " + name,))


def share(conn: psycopg.Connection, name: str) -> None:
    """Wait until no other transaction holds lock `name` alone (`serialise`), then hold
    it, shared with others that `share` it, until this transaction ends: loads of runs
    of one release go on together, a drop of the release waits for them all."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", ("snoopdb " + name,))
