"""Benchmark: what grows with the number of runs a database holds (issue #31, cases 20,
21 and 27): planning `audit_event`, the locks a query takes, concurrent readers, a
tiny load, drops and prunes, and a writer held up by an open reader.

    python -m bench.many_runs [--database-url URL] [--runs 100 300 1000] [--events 20]
                              [--data ../shared/data]

For each N, a database of its own on the server (created and dropped here): the real
1.36 spec, then N runs of one job, each of `--events` events of the test kit's
generator (testkit.auditgen), loaded as `snoopdb load` loads a run
(loaders.audit.load_run) and all kept hot (`--keep-hot N`, at most 1,000), as in the
issue's 800 hot runs. Then, with N runs:

- the planning time (EXPLAIN (SUMMARY)) of `select count(*) from audit_event` and of
  the same restricted to one run's source, median of 5, and the relation locks each
  query holds (pg_locks of its session, in its transaction);
- 6 readers at once, each reading `count(*)` of `audit_event` (then of one run each)
  in a transaction held until all have read: how many read (the lock table is shared);
- a tiny load (one more run of `--events` events), end to end;
- an open reader (a session idle in a transaction that read all of `audit_event`,
  then one that read one other run of the same release): a `runs drop` of one run
  with SNOOPDB_LOCK_WAIT=5, how long until it gives up and its line, and how a
  one-run `count(*)` and the dashboard's `/api/overview` (served here on a loopback
  port) fared meanwhile: the longest each took, and any failure (20 tries each);
- on copies of the database (CREATE DATABASE … TEMPLATE): `runs prune --keep 1`
  (drops N) and `releases drop 1.36`, time and result.

The floor printed beside each is the same figure with one run (the planning) or two
(the tiny load: the second run's, the first reading the spec's body schemas cold), in
the first N's database.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import psycopg
import requests

from bench.dashboard import serving
from snoopdb.commands import releases, runs
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release
from snoopdb.coverage.matching import Matcher
from snoopdb.db import connection, locks, run_store, schema
from snoopdb.loaders import audit, spec
from snoopdb.loaders.events import EventRows
from snoopdb.loaders.logs import LogFile
from snoopdb.loaders.spec import read_operations
from testkit.auditgen import AuditLogGenerator
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
RELEASE = "1.36.0"
SOURCE = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-bench-many/{build}"
READERS = 6
TESTS = [f"[sig-bench] test {n} [Conformance]" for n in range(40)]


def planning_ms(conn: psycopg.Connection, statement: str) -> float:
    """Median of 5 planning times of `statement`, in ms."""
    times = []
    for _ in range(5):
        plan = conn.execute("EXPLAIN (SUMMARY) " + statement).fetchall()
        line = next(row[0] for row in plan if row[0].startswith("Planning Time"))
        times.append(float(line.split(":")[1].split()[0]))
    return statistics.median(times)


def locks_held(url: str, statement: str) -> int:
    """Relation locks a session holds after `statement`, in its transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(statement).fetchall()
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                           " AND locktype = 'relation'").fetchone()
        assert row is not None
        return int(row[0])


def concurrent_readers(url: str, statements: list[str]) -> tuple[int, str]:
    """One session per statement, each reading it and holding its locks until all have
    read: (how many read, the first error)."""
    barrier = threading.Barrier(len(statements), timeout=600)
    errors: list[str] = []

    def read(statement: str) -> None:
        try:
            with psycopg.connect(url) as conn:
                try:
                    conn.execute(statement).fetchall()
                except psycopg.Error as exc:
                    errors.append(" ".join(str(exc).split())[:120])
                    barrier.abort()
                    return
                barrier.wait()
        except threading.BrokenBarrierError:
            pass  # another reader failed: this one had read

    threads = [threading.Thread(target=read, args=(s,)) for s in statements]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(statements) - len(errors), errors[0] if errors else ""


class Runs:
    """Loads runs of one job, each of `events` generated events."""

    def __init__(self, conn: psycopg.Connection, data: Path, events: int, folder: Path):
        self.conn, self.events, self.folder = conn, events, folder
        with gzip.open(data / "openapi" / "swagger-1.36.json.gz") as stream:
            self.operations = list(read_operations(stream, "swagger-1.36.json.gz"))  # type: ignore[arg-type]
        self.matcher = Matcher.for_release(conn, RELEASE)
        self.count = 0

    def _lines(self) -> list[bytes]:
        self.count += 1
        generator = AuditLogGenerator(self.operations, TESTS, version="v1.36.0",
                                      seed=self.count)
        return list(generator.lines(self.events))

    def load(self) -> float:
        """Load the next run as `snoopdb load` does (loaders.audit.load_run, kept hot);
        seconds it took."""
        path = self.folder / "run.log"
        path.write_bytes(b"".join(self._lines()))
        started = time.monotonic()
        audit.load_run(self.conn, [LogFile(path, path.name)], self.matcher,
                       release=RELEASE, release_date="2026-04-22",
                       source=SOURCE.format(build=self.count), keep_hot=1000)
        return time.monotonic() - started

    def store(self) -> None:
        """Store the next run as a load stores it, its events mapped and its hits
        tallied, without the body fields a load tallies (the many runs are made faster)."""
        lines = self._lines()
        source = SOURCE.format(build=self.count)
        rows = EventRows(self.matcher, RELEASE, "2026-04-22", source)
        with self.conn.transaction():
            run = run_store.prepare(self.conn, source, RELEASE)
            with run_store.copy_events(self.conn, run) as copy:
                for line in lines:
                    copy.write(rows.numbered_row(line.rstrip(b"\n"), orjson.loads(line)))
            run_store.store_summaries(self.conn, run, rows.hit_rows(), (), ())
            run_store.publish(self.conn, run, RELEASE, "2026-04-22", rows.report.events)
            run_store.add_to_summaries(self.conn, run)


def open_reader_waits(url: str, conn: psycopg.Connection, dashboard: str,
                      reading: str) -> tuple[float, str, str, str]:
    """A session idle in a transaction that ran `reading` on audit_event; a `runs drop`
    of the oldest run meanwhile (SNOOPDB_LOCK_WAIT=5): (seconds until it gave up, its
    line, and how a one-run count(*) and the dashboard at `dashboard` answering
    /api/overview fared during it: the longest each took, and its failures)."""
    os.environ["SNOOPDB_LOCK_WAIT"] = "5"
    outcome: list[tuple[float, str]] = []
    with psycopg.connect(url, application_name="an open reader") as holder:
        holder.execute(reading).fetchall()

        def drop() -> None:
            with connection.connect(url) as writer:
                started = time.monotonic()
                try:
                    runs.drop_runs(writer, [SOURCE.format(build=1)])
                    outcome.append((time.monotonic() - started, "dropped"))
                except (locks.LockWaitExceeded, psycopg.Error) as exc:
                    outcome.append((time.monotonic() - started, " ".join(str(exc).split())))

        def read() -> None:
            conn.execute("SELECT count(*) FROM audit_event WHERE source = %s",
                         (SOURCE.format(build=2),)).fetchall()

        def overview() -> None:
            answer = requests.get(dashboard + "/api/overview", timeout=60)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code} {answer.text[:100]}")

        writer = threading.Thread(target=drop)
        writer.start()
        time.sleep(0.5)
        tries: dict[str, list[tuple[float, str]]] = {"read": [], "overview": []}
        for _ in range(20):
            for name, action in (("read", read), ("overview", overview)):
                started = time.monotonic()
                try:
                    action()
                    failure = ""
                except (psycopg.Error, RuntimeError) as exc:
                    failure = " ".join(str(exc).split())[:120]
                tries[name].append(((time.monotonic() - started) * 1000, failure))
            time.sleep(0.1)
        writer.join()
    del os.environ["SNOOPDB_LOCK_WAIT"]

    def fared(done: list[tuple[float, str]]) -> str:
        failed = [failure for _, failure in done if failure]
        return (f"longest {max(ms for ms, _ in done):.0f} ms"
                + (f", {len(failed)} of {len(done)} failed: {failed[0]}" if failed else ""))

    return outcome[0][0], outcome[0][1], fared(tries["read"]), fared(tries["overview"])


def copy_of(url: str, name: str) -> str:
    """A copy of the database of `url` (no session may be connected to it)."""
    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url.replace(f"dbname={source}", "dbname=postgres"),
                         autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return url.replace(f"dbname={source}", f"dbname={name}")


def drop_database(url: str, name: str) -> None:
    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url.replace(f"dbname={source}", "dbname=postgres"),
                         autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(action: Callable[[], str]) -> tuple[float, str]:
    started = time.monotonic()
    try:
        result = action()
    except (psycopg.Error, locks.LockWaitExceeded) as exc:
        return time.monotonic() - started, "failed: " + " ".join(str(exc).split())[:160]
    return time.monotonic() - started, f"ok ({result})"


def bench(url: str, data: Path, count: int, events: int, floor: dict[str, float]) -> None:
    schema.migrate(url)
    with connection.connect(url) as conn, tempfile.TemporaryDirectory() as folder:
        spec.load(conn, Fetcher(Path(folder) / "cache"),
                  str(data / "openapi" / "swagger-1.36.json.gz"), RELEASE, None)
        made = Runs(conn, data, events, Path(folder))
        started = time.monotonic()
        made.load()  # the first load reads the spec's body schemas into the server's cache
        one_run = f"SELECT count(*) FROM audit_event WHERE source = '{SOURCE.format(build=1)}'"
        if not floor:
            floor.update(plan_one=planning_ms(conn, one_run),
                         plan_all=planning_ms(conn, "SELECT count(*) FROM audit_event"))
        second = made.load()
        floor.setdefault("load", second)
        for stored in range(3, count + 1):
            made.store()
            if stored % 100 == 0:
                print(f"  ({stored} runs stored, {time.monotonic() - started:.0f} s)",
                      flush=True)
        print(f"N={count}: {count} runs of {events} events stored in "
              f"{time.monotonic() - started:.1f} s")
        plan_all = planning_ms(conn, "SELECT count(*) FROM audit_event")
        plan_one = planning_ms(conn, one_run)
        print(f"  planning count(*) of audit_event: {plan_all:.1f} ms "
              f"(1 run: {floor['plan_all']:.2f} ms); restricted to one run: {plan_one:.1f} ms "
              f"(1 run: {floor['plan_one']:.2f} ms)")
        every = locks_held(url, "SELECT count(*) FROM audit_event")
        print(f"  relation locks held: count(*) {every}, one run's count(*) "
              f"{locks_held(url, one_run)}")
        for what, statements in (
                ("count(*)", ["SELECT count(*) FROM audit_event"] * READERS),
                ("one run's count(*), each another run", [
                    f"SELECT count(*) FROM audit_event WHERE source = '{SOURCE.format(build=b)}'"
                    for b in range(1, READERS + 1)])):
            ok, error = concurrent_readers(url, statements)
            print(f"  {READERS} concurrent readers of {what}: {ok} read"
                  + (f"; first error: {error}" if error else ""))
        tiny = made.load()
        print(f"  a tiny load ({events} events) at {count + 1} runs: {tiny:.2f} s "
              f"(at 2 runs: {floor['load']:.2f} s)")
        with serving(url) as dashboard:
            requests.get(dashboard + "/api/overview", timeout=60).raise_for_status()
            for what, reading in (("every run", "SELECT count(*) FROM audit_event"),
                                  ("one run", "SELECT count(*) FROM audit_event WHERE source ="
                                   f" '{SOURCE.format(build=3)}'")):
                gave_up, line, read, answered = open_reader_waits(url, conn, dashboard,
                                                                  reading)
                print(f"  an open reader of {what}: runs drop ended after {gave_up:.1f} s: "
                      f"{line}")
                print(f"    meanwhile a one-run count(*): {read}; the dashboard's "
                      f"/api/overview: {answered}")
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    def prune(conn: psycopg.Connection) -> str:
        return f"{len(runs.prune_runs(conn, 1).dropped)} dropped"

    def drop(conn: psycopg.Connection) -> str:
        return f"{len(releases.drop_release(conn, Release(1, 36)).runs)} runs dropped"

    for what, action in (("runs prune --keep 1", prune), ("releases drop 1.36", drop)):
        copy = f"{name}_copy"
        copied = copy_of(url, copy)
        try:
            with connection.connect(copied) as conn:
                seconds, result = timed(functools.partial(action, conn))
            print(f"  {what} of {count + 1} runs: {seconds:.1f} s, {result}")
        finally:
            drop_database(url, copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=SERVER, help="server to create the databases on")
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--events", type=int, default=20, help="audit events per run")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    with psycopg.connect(args.database_url) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('max_locks_per_transaction', 'max_connections', 'server_version')").fetchall())
    print(f"PostgreSQL {settings['server_version']}, max_locks_per_transaction "
          f"{settings['max_locks_per_transaction']}, max_connections "
          f"{settings['max_connections']}; {os.cpu_count()} CPUs")
    floor: dict[str, float] = {}
    for count in args.runs:
        with scratch_database(args.database_url, "snoopdb_bench_many") as url:
            bench(url, args.data, count, args.events, floor)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
