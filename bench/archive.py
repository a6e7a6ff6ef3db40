"""Benchmark: the archive tier beside PostgreSQL — runs of one job archived as Parquet
(zstd, Hive layout) and queried with DuckDB, against the same events hot, compact and
in a plain one-row-per-event jsonb table; and the coverage views before and after.

    python -m bench.archive [--database-url URL] [--runs 30] [--events 1000000]
                            [--hot-runs 1] [--plain-runs 3] [--repeat 3]
                            [--folder DIR] [--data ../shared/data]

Builds its own database (created and dropped here) and archive folder (removed at the
end unless --folder is given). The runs are bench.history_runs's: builds of
ci-kubernetes-e2e-gci-gce with every conformance test, 1,600 other tests and the
system components, stored as a load stores them, each event as an API server logs it
(bench.views.audit_lines with `detailed`: objectRef, response codes, annotations, a
body on creates; about 0.8 kB).

1. Each run in turn: stored hot; its bytes; written to its Parquet file as `snoopdb
   runs archive` writes it (db/archive.write: PostgreSQL's COPY through a FIFO into
   DuckDB, the file read back and checked — everything but the DROP TABLE), beside
   PostgreSQL's COPY of the same rows alone (the floor: what the database must do to
   hand them out); the first --plain-runs copied into the plain table; compacted.
2. bench.queries's queries over every run: DuckDB over the files (read-only, as
   `snoopdb query --archive` runs them); PostgreSQL compact (every run); hot (the
   newest --hot-runs, heated); the plain table (--plain-runs). Each the median of
   --repeat after one that warms the cache; a time measured over fewer runs than all
   is scaled to all (a query over every run reads each run's events once) and marked
   `~`. Each answer is checked against DuckDB's over the same runs.
3. The coverage views read; every run but the newest two archived by `snoopdb runs
   archive`'s own path, from compact (speed end to end); the views read again: the
   same rows; `snoopdb runs` printed, runs in all three states.

Disk: at 30 × 1,000,000 a plain jsonb table of every run would be about 60 GB, and
every run hot about as much: more than the machine can hold beside others' work. So
every run is kept compact (about 0.3 kB an event), only --hot-runs hot and
--plain-runs in the plain table (about 2 kB an event each), and the files (under
0.1 kB); the bench says what that needs before it starts and stops if the disk has
less free. The scaled figures are honest for these queries: each reads every event of
every run it covers (or, for one auditID, probes every run), so its time grows with
the runs; the plain table's ratio to DuckDB is also given at equal data.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from bench.history_runs import FIRST_BUILD, JOB, RELEASE, job_model, store_run
from bench.queries import QUERIES
from bench.views import SERVER
from snoopdb.cli import main as cli
from snoopdb.commands import archive as archiving
from snoopdb.commands.archive_query import opened
from snoopdb.core.config import Settings
from snoopdb.core.fetch import Fetcher
from snoopdb.db import archive, connection, run_store, schema
from snoopdb.db.runs import Run, list_runs
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ("release, release_date, audit_id, endpoint, useragent, test, test_hit,"
           " conf_test_hit, data, source, id, ingested_at, error")
PLAIN = f"""
CREATE TABLE plain_event (
  release text, release_date text, audit_id text, endpoint text, useragent text, test text,
  test_hit boolean, conf_test_hit boolean, data jsonb, source text, id bigint PRIMARY KEY,
  ingested_at timestamp, error text);
COMMENT ON TABLE plain_event IS 'apisnoop''s layout: {COLUMNS}'
"""
RUN_TABLES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
         WHERE c.relname IN ('events_' || %(run)s, 'chunks_' || %(run)s)), 0)::bigint,
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
         WHERE c.relname NOT IN ('events_' || %(run)s, 'chunks_' || %(run)s)), 0)::bigint
FROM pg_class c
WHERE c.relnamespace = 'runs'::regnamespace
  AND c.relname ~ ('^[a-z_]+_' || %(run)s || '$')"""
VIEWS = ("endpoint_hit", "endpoint_field_hit", "endpoint_body_hit", "endpoint_coverage",
         "run_coverage", "endpoint_stability", "test_endpoint_stability",
         "conformance.stable_coverage", "conformance.stable_progress", "audit_event_test",
         "conformance.eligible_endpoint_coverage", "conformance.progress")
# answers compared by their counts only: a tie at the tenth place may name either
BY_COUNTS = ("top endpoints",)
# the questions of data asked of DuckDB through the fields pulled out of it: the same
# answers (checked) as the queries of data they stand for
PULLED_OUT = {
    "data->>'verb', count(*)": "SELECT verb, count(*) FROM {t} GROUP BY 1",
    "core resources (objectRef)": "SELECT resource, count(*) FROM {t}"
                                  " WHERE api_group IS NULL GROUP BY 1",
}
# bytes an event each storage takes, for the disk check before the first run
ESTIMATE = {"hot": 2_000, "compact": 350, "parquet": 120, "plain": 2_200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=SERVER, help="server to create the database on")
    parser.add_argument("--runs", type=int, default=30, help="builds of the job")
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events per run")
    parser.add_argument("--hot-runs", type=int, default=1, help="runs queried hot")
    parser.add_argument("--plain-runs", type=int, default=3,
                        help="runs copied into the plain jsonb table")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="the archive folder (kept)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    hot_runs, plain_runs = min(args.hot_runs, args.runs), min(args.plain_runs, args.runs)
    with contextlib.ExitStack() as stack:
        folder = args.folder or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="snoopdb-bench-archive-")))
        need = args.events * (args.runs * (ESTIMATE["compact"] + ESTIMATE["parquet"])
                              + (hot_runs + 1) * ESTIMATE["hot"]
                              + plain_runs * ESTIMATE["plain"])
        free = shutil.disk_usage(folder).free
        print(f"disk: about {need / 1e9:,.1f} GB needed at the peak, {free / 1e9:,.1f} GB free")
        if need > free - 5e9:
            sys.exit("not enough free disk (5 GB kept for others): fewer --runs, --events, "
                     "--hot-runs or --plain-runs")
        url = stack.enter_context(scratch_database(args.database_url, "snoopdb_bench_archive"))
        schema.migrate(url)
        conn = stack.enter_context(connection.connect(url))
        cache = stack.enter_context(tempfile.TemporaryDirectory())
        bench(conn, url, Fetcher(Path(cache)), args.data, folder, args.runs, args.events,
              hot_runs, plain_runs, args.repeat)


def bench(conn: psycopg.Connection, url: str, fetcher: Fetcher, data: Path, folder: Path,
          count: int, events: int, hot_runs: int, plain_runs: int, repeat: int) -> None:
    endpoints, actors, flaky, said = job_model(conn, fetcher, data)
    print(f"{count} runs of {JOB} ({RELEASE}), {events:,} events each; {said}; "
          f"{hot_runs} queried hot, {plain_runs} in the plain table")
    conn.execute(PLAIN)
    sizes: dict[str, list[int]] = {"hot": [], "compact": [], "summaries": [], "parquet": []}
    speeds: dict[str, list[float]] = {"store": [], "floor": [], "archive": [], "compact": []}
    print("\n| run | store | COPY out (floor) | archive (write, read back, check) | "
          "compact |")
    print("|---:|---:|---:|---:|---:|")
    for number in range(count):
        stored, _, _ = store_run(conn, number, endpoints, actors, flaky, events,
                                 detailed=True, keep_hot=None)
        run = _run(conn, number)
        sizes["hot"].append(_bytes(conn, run)[0])
        floor = _floor(conn, run)
        written, path = _write(conn, run, folder)
        sizes["parquet"].append(path.stat().st_size)
        if number < plain_runs:
            conn.execute(f"INSERT INTO plain_event SELECT {COLUMNS} FROM audit_event"
                         " WHERE source = %s", (run.source,))
        started = time.perf_counter()
        run_store.compact(conn, run.source)
        compacted = time.perf_counter() - started
        sizes["compact"].append(_bytes(conn, run)[0])
        sizes["summaries"].append(_bytes(conn, run)[1])
        for key, seconds in (("store", stored), ("floor", floor), ("archive", written),
                             ("compact", compacted)):
            speeds[key].append(events / seconds)
        print(f"| {number + 1} | {stored:.1f} s | {floor:.2f} s | {written:.2f} s "
              f"({events / written:,.0f} events/s) | {compacted:.1f} s |", flush=True)
    conn.execute("VACUUM ANALYZE")
    plain_bytes = conn.execute("SELECT pg_total_relation_size('plain_event')").fetchone()[0]

    print(f"\narchive speed from hot (median): {statistics.median(speeds['archive']):,.0f} "
          f"events/s (target 200,000); PostgreSQL's COPY of the same rows alone "
          f"{statistics.median(speeds['floor']):,.0f} events/s (ratio "
          f"{statistics.median(speeds['archive']) / statistics.median(speeds['floor']):.2f} "
          "of that floor)")
    total = count * events
    print("\n| storage of the events | bytes/event |\n|---|---:|")
    for name, size in (("Parquet (zstd), one file a run", sum(sizes["parquet"]) / total),
                       ("hot (rows, TOAST, 4 indexes)", sum(sizes["hot"]) / total),
                       ("compact (chunks of 1,000)", sum(sizes["compact"]) / total),
                       ("plain one-row-per-event jsonb table (primary key)",
                        plain_bytes / (plain_runs * events)),
                       ("what an archived run keeps in PostgreSQL (its summaries)",
                        sum(sizes["summaries"]) / total)):
        print(f"| {name} | {size:,.1f} |")

    queries(conn, folder, count, events, hot_runs, plain_runs, repeat)
    archive_for_real(conn, url, folder)


def _run(conn: psycopg.Connection, number: int) -> Run:
    build = str(FIRST_BUILD + number)
    return next(run for run in list_runs(conn) if run.build == build)


def _bytes(conn: psycopg.Connection, run: Run) -> tuple[int, int]:
    """(the run's events table with its indexes, its summary partitions), in bytes."""
    row = conn.execute(RUN_TABLES, {"run": str(run.run)}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _floor(conn: psycopg.Connection, run: Run) -> float:
    """Seconds for PostgreSQL's COPY of the run's rows, as archiving reads them, read and
    dropped."""
    statement = run_store.events_query(conn, run.run)
    assert statement is not None
    started = time.perf_counter()
    with conn.cursor().copy(f"COPY ({statement}) TO STDOUT") as copy:
        for _ in copy:
            pass
    return time.perf_counter() - started


def _write(conn: psycopg.Connection, run: Run, folder: Path) -> tuple[float, Path]:
    """Seconds to write the run's file where `snoopdb runs archive` puts it, and it."""
    path = folder / archive.relative_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    with conn.transaction():
        run_store.lock(conn, run.source)
        archive.write(conn, run, path)
    return time.perf_counter() - started, path


Runner = Callable[[str, dict[str, Any]], tuple[list[str], list[tuple[Any, ...]]]]


def queries(conn: psycopg.Connection, folder: Path, count: int, events: int, hot_runs: int,
            plain_runs: int, repeat: int) -> None:
    listed = sorted(list_runs(conn), key=lambda run: int(run.build or 0))
    audit_id = conn.execute("SELECT audit_id FROM audit_event WHERE source = %s"
                            f" ORDER BY id OFFSET {events * 2 // 3} LIMIT 1",
                            (listed[-1].source,)).fetchone()[0]
    compact, hot, plain = (listed[:len(listed) - hot_runs], listed[len(listed) - hot_runs:],
                           listed[:plain_runs])
    for run in hot:
        run_store.heat(conn, run.source)
    conn.execute("VACUUM ANALYZE")

    def pg(statement: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = conn.execute(statement, params if "%(" in statement else None)
        return [d.name for d in cursor.description or []], cursor.fetchall()

    with opened(folder, "bench.archive") as files:
        def duck(statement: str, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
            text = statement.replace("%(audit_id)s", "$audit_id")
            result = files.db.execute(text, params if "$audit_id" in text else None)
            described = result.description or []
            rows = result.fetchall()
            json_at = [i for i, d in enumerate(described) if str(d[1]) == "JSON"]
            return [d[0] for d in described], [
                tuple(json.loads(v) if i in json_at and v is not None else v
                      for i, v in enumerate(row)) for row in rows]

        engines: list[tuple[str, Runner, str, list[Run]]] = [
            ("DuckDB", duck, "audit_event", listed),
            ("PostgreSQL compact", pg, _of(compact, duckdb=False), compact),
            ("PostgreSQL hot", pg, _of(hot, duckdb=False), hot),
            ("plain jsonb table", pg, "plain_event", plain),
        ]
        print(f"\n{count} runs, {count * events:,} events; times over every run (`~`: "
              "measured over fewer, scaled to every run); each answer checked against "
              "DuckDB's over the same runs\n")
        print("| query | DuckDB | PostgreSQL compact | PostgreSQL hot | plain jsonb table | "
              "plain ÷ DuckDB, equal data |")
        print("|---|---:|---:|---:|---:|---:|")
        ratios = []
        for name, sql in QUERIES.items():
            cells, at_plain, duck_plain = [], 0.0, 0.0
            for engine, run, table, covered in engines:
                if not covered:
                    cells.append("-")
                    continue
                statement = sql.format(t=table)
                seconds, answer = _timed(run, statement, {"audit_id": audit_id}, repeat)
                expected = _timed(duck, sql.format(t=_of(covered, duckdb=True)),
                                  {"audit_id": audit_id}, 0)[1] if engine != "DuckDB" else answer
                if _normal(name, answer) != _normal(name, expected):
                    sys.exit(f"{name}: {engine} answers otherwise than DuckDB over the same "
                             f"runs: {answer[:3]} … against {expected[:3]} …")
                scaled = seconds * len(listed) / len(covered)
                cells.append(f"{'~' if len(covered) < len(listed) else ''}"
                             f"{scaled * 1000:,.0f} ms")
                if engine == "plain jsonb table":
                    at_plain = seconds
                    duck_plain = _timed(duck, sql.format(t=_of(plain, duckdb=True)),
                                        {"audit_id": audit_id}, repeat)[0]
            ratio = at_plain / duck_plain if duck_plain else 0.0
            ratios.append(ratio)
            print(f"| {name} | {' | '.join(cells)} | {ratio:,.1f}× |", flush=True)
            if name in PULLED_OUT:
                pulled = PULLED_OUT[name]
                seconds, answer = _timed(duck, pulled.format(t="audit_event"),
                                         {"audit_id": audit_id}, repeat)
                if _normal(name, answer) != _normal(name, _timed(
                        duck, sql.format(t="audit_event"), {"audit_id": audit_id}, 0)[1]):
                    sys.exit(f"{name}: the pulled-out fields answer otherwise than data")
                at_equal = _timed(duck, pulled.format(t=_of(plain, duckdb=True)),
                                  {"audit_id": audit_id}, repeat)[0]
                print(f"| … through the pulled-out fields (`{pulled.split(',')[0][7:]}`, "
                      f"DuckDB only) | {seconds * 1000:,.0f} ms | | | | "
                      f"{at_plain / at_equal if at_equal else 0:,.1f}× |", flush=True)
        print(f"\nplain jsonb table ÷ DuckDB at equal data ({plain_runs} runs): median "
              f"{statistics.median(ratios):,.1f}×, least {min(ratios):,.1f}× (target 10×)")


def _of(runs: list[Run], duckdb: bool) -> str:
    """audit_event restricted to `runs` (each engine prunes the others: PostgreSQL the
    view's branches, by their constant source; DuckDB the files, by their folder)."""
    if duckdb:
        names = ", ".join(f"'{r.build}'" for r in runs)
        return f"(SELECT * FROM audit_event WHERE run IN ({names})) e"
    sources = ", ".join(f"'{r.source}'" for r in runs)
    return f"(SELECT * FROM audit_event WHERE source IN ({sources})) e"


def _timed(run: Runner, statement: str, params: dict[str, Any],
           repeat: int) -> tuple[float, list[tuple[Any, ...]]]:
    """The median seconds of `repeat` runs after one that warms the cache (none: no
    timing), and the answer."""
    _, answer = run(statement, params)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(statement, params)
        seconds.append(time.perf_counter() - started)
    return (statistics.median(seconds) if seconds else 0.0), answer


def _normal(name: str, rows: list[tuple[Any, ...]]) -> list[str]:
    """An answer in a form both engines give alike: audit_event's columns only (DuckDB's
    has more), values as JSON, rows sorted; by counts only for BY_COUNTS."""
    if name in BY_COUNTS:
        return sorted(json.dumps(_value(row[-1])) for row in rows)
    return sorted(json.dumps([_value(v) for v in row[:13]], sort_keys=True) for row in rows)


def _value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def archive_for_real(conn: psycopg.Connection, url: str, folder: Path) -> None:
    """Every run but the newest two archived from compact, as `snoopdb runs archive` does
    (the newest hot); the views the same before and after."""
    listed = sorted(list_runs(conn), key=lambda run: int(run.build or 0))
    run_store.heat(conn, listed[-1].source)
    before = _views(conn)
    with _timer() as took:
        report = archiving.archive_runs(conn, Settings(), [run.source for run in listed[:-2]],
                                        str(folder))
    events = sum(run.events for run, _ in report.moved)
    print(f"\n`snoopdb runs archive` of {len(report.moved)} compact runs, end to end (file "
          f"replaced, read back, table dropped, committed): {took[0]:.1f} s, "
          f"{events / took[0]:,.0f} events/s")
    after = _views(conn)
    rows = sum(len(found) for found in before.values())
    if after != before:
        changed = [view for view in VIEWS if after[view] != before[view]]
        sys.exit(f"the coverage views changed when the runs were archived: {changed}")
    print(f"coverage views unchanged after archiving: {len(VIEWS)} views, {rows:,} rows, the "
          "same before and after")
    print("\n`snoopdb runs`, runs in all three states:\n```")
    sys.stdout.flush()
    cli(["--database-url", url, "runs"])
    print("```")


def _views(conn: psycopg.Connection) -> dict[str, list[str]]:
    return {view: sorted(map(repr, conn.execute(f"SELECT * FROM {view}").fetchall()))
            for view in VIEWS}


@contextlib.contextmanager
def _timer() -> Iterator[list[float]]:
    took: list[float] = []
    started = time.perf_counter()
    yield took
    took.append(time.perf_counter() - started)


if __name__ == "__main__":
    main()
