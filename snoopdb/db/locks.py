"""Locks: transaction-level advisory locks that make loads of the same thing wait for
each other, and the bounded wait of a writer for the locks readers hold."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg

from snoopdb.core.config import lock_wait
from snoopdb.core.errors import DatabaseError

T = TypeVar("T")

# A writer asking for a lock a reader holds makes every reader that comes after it
# queue behind it (PostgreSQL grants locks in order): it asks for a second at a time,
# then steps aside for a second, so that no reader waits longer than that.
ATTEMPT_MS = 1000
PAUSE = 1.0
# Who the waiting transaction waits for, asked from another connection meanwhile.
HOLDERS_SQL = """
SELECT a.pid, a.application_name, a.state, coalesce(a.xact_start, a.backend_start)
FROM pg_stat_activity a
WHERE a.pid = ANY (pg_blocking_pids(%s))
ORDER BY a.xact_start NULLS LAST, a.pid
"""


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


@dataclass(frozen=True)
class Holder:
    """A session holding a lock another waits for: as pg_stat_activity shows it."""

    pid: int
    application: str
    state: str | None
    since: dt.datetime | None

    def __str__(self) -> str:
        since = (f" since {self.since.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
                 if self.since else "")
        return (f"pid {self.pid} ({self.application or 'no application name'}, "
                f"{self.state or 'state unknown'}{since})")


class LockWaitExceeded(DatabaseError):
    """A writer gave up waiting for locks others held; its transaction is rolled back."""

    def __init__(self, doing: str, waited: float, holders: list[Holder]):
        self.holders = holders
        held = (", ".join(map(str, holders)) if holders
                else "sessions that ended before they could be named")
        super().__init__(
            f"{doing}: gave up after waiting {waited:.0f} s for locks held by {held}; nothing "
            "was changed (run it again once they are done; SNOOPDB_LOCK_WAIT sets the wait "
            "in seconds)")


class _Watch:
    """Another connection asking, while `conn` waits for a lock, whom it waits for."""

    def __init__(self, conn: psycopg.Connection):
        self.pid = conn.info.backend_pid
        self.dsn, self.password = conn.info.dsn, conn.info.password
        self.holders: list[Holder] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        try:
            with psycopg.connect(self.dsn, password=self.password, autocommit=True,
                                 application_name="snoopdb lock watch") as watch:
                while not self._stop.wait(0.1):
                    rows = watch.execute(HOLDERS_SQL, (self.pid,)).fetchall()
                    if rows:
                        self.holders = [Holder(*row) for row in rows]
        except psycopg.Error:
            pass  # unnamed: the error says so

    def stop(self) -> list[Holder]:
        self._stop.set()
        self._thread.join()
        return self.holders


def patiently(conn: psycopg.Connection, doing: str, step: Callable[[], T]) -> T:
    """`step()` (statements taking locks that readers hold: swapping or dropping a run's
    tables, detaching them from what `audit_event` reads) in a savepoint of the caller's
    transaction, each lock asked for ATTEMPT_MS at a time, retried after a pause until
    SNOOPDB_LOCK_WAIT seconds have passed; then LockWaitExceeded, naming who held them
    (`doing`: what the step is, for the message)."""
    started = time.monotonic()
    deadline = started + lock_wait()
    watch: _Watch | None = None
    try:
        while True:
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL lock_timeout = {ATTEMPT_MS}")
                    result = step()
                    conn.execute("SET LOCAL lock_timeout TO DEFAULT")
                return result
            except psycopg.errors.LockNotAvailable:
                if watch is None:
                    # watched from the second attempt on: an uncontended step opens no
                    # second connection, and a failure names whom it waited for
                    watch = _Watch(conn)
                elif time.monotonic() + PAUSE >= deadline:
                    raise LockWaitExceeded(doing, time.monotonic() - started,
                                           watch.stop()) from None
                time.sleep(PAUSE)
    finally:
        if watch is not None:
            watch.stop()
