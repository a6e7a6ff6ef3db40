"""Benchmark: the questions people ask in psql, on a hot run, on the same run compact,
and on a plain one-row-per-event jsonb table holding the same events (apisnoop's
layout), on the PostgreSQL server under test and on the embedded one.

    python -m bench.queries [--events 1000000] [--database-url URL] [--logs DIR]
                            [--servers local,embedded] [--repeat 3] [--job-runs 3]

For each server, in one run: the 1.36 spec; `snoopdb load --audit-log …` of the
generated logs end to end (the run loads hot; time, peak RSS); the floor, psql's
`\\copy` of the very rows (read back through audit_event) into a plain table with
audit_event's columns and a primary key; bytes per event of every table the load
wrote; each query's median over --repeat runs on the hot run, the plain table and the
run compact (`snoopdb runs compact`, timed), with its ratio to the plain table; the
dead rows a reload and a drop leave. On the first server, --job-runs runs of one prow
job are then loaded and `snoopdb runs` printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.audit_load import COLUMNS, FLOOR_TABLE, LOAD_AS_RUN, generate, load_spec, timed_load
from testkit.databases import DEFAULT_SERVER, scratch_database

SNOOPDB = str(Path(sys.executable).parent / "snoopdb")
ENDPOINT = "readCoreV1Namespace"
# The questions of issue 21 and more of apisnoop's own (its README, notes and talks);
# {t} is the table or view, %(audit_id)s one event's auditID.
QUERIES = {
    "count(*)": "SELECT count(*) FROM {t}",
    "top endpoints": "SELECT endpoint, count(*) FROM {t} GROUP BY endpoint ORDER BY 2 DESC"
                     " LIMIT 10",
    "distinct useragent, one endpoint": f"SELECT DISTINCT useragent FROM {{t}}"
                                        f" WHERE endpoint = '{ENDPOINT}'",
    "distinct test, one endpoint, test_hit": f"SELECT DISTINCT test FROM {{t}}"
                                             f" WHERE endpoint = '{ENDPOINT}' AND test_hit",
    "data->>'verb', count(*)": "SELECT data->>'verb', count(*) FROM {t} GROUP BY 1",
    "core resources (objectRef)": "SELECT data->'objectRef'->>'resource', count(*) FROM {t}"
                                  " WHERE data->'objectRef'->>'apiGroup' IS NULL GROUP BY 1",
    "one event by audit_id": "SELECT * FROM {t} WHERE audit_id = %(audit_id)s",
    "bodies of one endpoint": "SELECT data->'requestObject' FROM {t}"
                              " WHERE endpoint = 'createCoreV1Namespace'",
    "seed: jobs (split_part source)": "SELECT DISTINCT split_part(source, '/', 8) FROM {t}",
    "seed: conformance tests (ilike)": "SELECT DISTINCT test FROM {t}"
                                       " WHERE test ILIKE '%Conformance%'",
    "endpoints hit by e2e.test": "SELECT endpoint, count(*) FROM {t}"
                                 " WHERE useragent LIKE 'e2e.test%' GROUP BY endpoint",
}
# Answered through an index on a hot run (target: at most 50 ms at 1 M events).
SELECTIVE = ("distinct useragent, one endpoint", "distinct test, one endpoint, test_hit",
             "one event by audit_id", "bodies of one endpoint")
TABLE_BYTES = """
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname IN ('runs', 'summaries')
UNION ALL SELECT 'endpoint_test_hit', pg_total_relation_size('endpoint_test_hit')
UNION ALL SELECT 'eligible_endpoint_coverage',
                 pg_total_relation_size('conformance.eligible_endpoint_coverage')
ORDER BY 1
"""
# Every table of the data schemas (alembic_version aside: the scratch database's
# migrations update it once per revision).
DEAD_ROWS = """
SELECT coalesce(sum(n_dead_tup), 0), coalesce(string_agg(relname || ' ' || n_dead_tup, ', ')
                                                  FILTER (WHERE n_dead_tup > 0), '')
FROM pg_stat_all_tables
WHERE schemaname IN ('runs', 'summaries', 'public', 'conformance', 'testing')
  AND relname <> 'alembic_version'
"""
JOB = "https://prow.k8s.io/view/gs/bench/logs/ci-bench-e2e"


def psql(url: str, command: str) -> float:
    started = time.monotonic()
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", url, "-c", command],
                   check=True, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def timings(conn: psycopg.Connection, table: str, audit_id: str, repeat: int) -> dict[str, float]:
    """Each query's median seconds over `repeat` runs, after one that warms the cache."""
    measured = {}
    for name, sql in QUERIES.items():
        statement = sql.format(t=table)
        params = {"audit_id": audit_id} if "%(audit_id)s" in statement else None
        conn.execute(statement, params).fetchall()
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(statement, params).fetchall()
            seconds.append(time.perf_counter() - started)
        measured[name] = statistics.median(seconds)
    return measured


def sizes(conn: psycopg.Connection, events: int) -> list[str]:
    """Bytes per event of the tables a run and its summaries are, grouped by kind."""
    groups: dict[str, int] = {}
    for name, size in conn.execute(TABLE_BYTES).fetchall():
        kind = name.rstrip("0123456789_")
        groups[kind] = groups.get(kind, 0) + size
    total = sum(groups.values())
    return [f"{kind} {size / events:,.0f}" for kind, size in sorted(groups.items())] + [
        f"all {total / events:,.0f}"]


def dead_rows(conn: psycopg.Connection) -> str:
    time.sleep(0.6)  # the statistics are flushed at most every half second
    conn.execute("SELECT pg_stat_clear_snapshot()")
    count, where = conn.execute(DEAD_ROWS).fetchone()  # type: ignore[misc]
    return f"{count}" + (f" ({where})" if where else "")


def measure(server: str, label: str, files: list[Path], repeat: int, job_runs: int,
            env: dict[str, str]) -> None:
    print(f"\n== {label}: {server.split('@')[-1]}")
    with scratch_database(server, "snoopdb_bench_queries") as url:
        env = dict(env, DATABASE_URL=url)
        load_spec(url)
        load = [SNOOPDB, "load", "--release", "1.36", "--only", "audit", "--audit-log",
                *map(str, files)]
        seconds, peak, _ = timed_load(load, env)
        with psycopg.connect(url, autocommit=True) as conn:
            events = conn.execute("SELECT sum(events)::bigint FROM audit_run").fetchone()[0]
            source = conn.execute("SELECT source FROM audit_run").fetchone()[0]
            audit_id = conn.execute("SELECT audit_id FROM audit_event ORDER BY id"
                                    f" OFFSET {events * 2 // 3} LIMIT 1").fetchone()[0]
            hot_sizes = sizes(conn, events)
            conn.execute(FLOOR_TABLE)
        with tempfile.TemporaryDirectory() as tmp:
            rows = Path(tmp) / "rows.copy"
            psql(url, f"\\copy (SELECT {COLUMNS} FROM audit_event ORDER BY id) TO '{rows}'")
            floor = psql(url, f"\\copy floor_event ({COLUMNS}) FROM '{rows}'")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE floor_event")
            plain_bytes = conn.execute("SELECT pg_total_relation_size('floor_event')"
                                       ).fetchone()[0]
            print(f"load of a hot run, end to end: {events:,} events in {seconds:.1f}s"
                  f" = {events / seconds:,.0f} events/s; floor (\\copy into a plain table)"
                  f" {floor:.1f}s = {events / floor:,.0f} events/s; ratio"
                  f" {floor / seconds:.2f} of the floor; peak RSS {peak:.0f} MB")
            print(f"bytes/event, hot: {', '.join(hot_sizes)}; plain table"
                  f" {plain_bytes / events:,.0f}")
            hot = timings(conn, "audit_event", audit_id, repeat)
            plain = timings(conn, "floor_event", audit_id, repeat)
        started = time.monotonic()
        subprocess.run([SNOOPDB, "runs", "compact", source], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        compaction = time.monotonic() - started
        with psycopg.connect(url, autocommit=True) as conn:
            print(f"compaction: {compaction:.1f}s = {events / compaction:,.0f} events/s"
                  " (process start included)")
            print(f"bytes/event, compact: {', '.join(sizes(conn, events))}")
            compact = timings(conn, "audit_event", audit_id, repeat)
            print(f"{'query':<40} {'plain':>8} {'hot':>8} {'ratio':>6} {'compact':>8} {'ratio':>6}")
            for name in QUERIES:
                p, h, c = plain[name], hot[name], compact[name]
                flag = " *" if name in SELECTIVE else ""
                print(f"{name + flag:<40} {p * 1000:>6.0f}ms {h * 1000:>6.0f}ms {h / p:>6.2f}"
                      f" {c * 1000:>6.0f}ms {c / p:>6.2f}")
            print("(* selective: through an index on a hot run)")
            conn.execute("DROP TABLE floor_event")
        for action in (["load", "--release", "1.36", "--only", "audit", "--audit-log",
                        *map(str, files)], ["runs", "drop", source]):
            subprocess.run([SNOOPDB, *action], check=True, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with psycopg.connect(url, autocommit=True) as conn:
                print(f"dead rows after {action[0]}: {dead_rows(conn)}")
        for build in range(1, job_runs + 1):
            subprocess.run([sys.executable, "-c", LOAD_AS_RUN, url, f"{JOB}/{build}",
                            *map(str, files)], check=True, env=env)
        if job_runs:
            print(f"snoopdb runs, {job_runs} runs of one job:")
            print(subprocess.run([SNOOPDB, "runs"], check=True, env=env, capture_output=True,
                                 text=True).stdout.rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_SERVER)
    parser.add_argument("--logs", type=Path, help="directory to keep the generated logs in")
    parser.add_argument("--servers", default="local,embedded",
                        help="comma-separated: local (--database-url), embedded")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--job-runs", type=int, default=3,
                        help="runs of one job loaded at the end on the first server")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.gettempdir()) / f"snoopdb-bench-audit-{args.events}"
    logs.mkdir(parents=True, exist_ok=True)
    files = generate(logs, args.events)
    print(f"log: {args.events:,} events in {len(files)} files, "
          f"{sum(p.stat().st_size for p in files) / 1e6:.0f} MB on disk")
    job_runs = args.job_runs
    for server in args.servers.split(","):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if server == "local":
            measure(args.database_url, "server under test", files, args.repeat, job_runs, env)
        else:
            with tempfile.TemporaryDirectory() as data:
                env = dict(env, SNOOPDB_DATA_DIR=data)
                env.pop("DATABASE_URL", None)
                url = subprocess.run([SNOOPDB, "db", "url"], check=True, env=env,
                                     capture_output=True, text=True).stdout.strip()
                try:
                    measure(url, "embedded server", files, args.repeat, job_runs, env)
                finally:
                    subprocess.run([SNOOPDB, "db", "stop"], env=env, check=False,
                                   stdout=subprocess.DEVNULL)
        job_runs = 0


if __name__ == "__main__":
    main()
