"""Benchmark: `snoopdb load` of a large generated audit log against the `\\copy` floor.

    python -m bench.audit_load [--events 1000000] [--database-url URL] [--logs DIR]

Generates the log with testkit.auditgen (reused from --logs when present), loads
the 1.36 spec into a scratch database, then measures in one run:
  * `snoopdb load --release 1.36 --only audit --audit-log …` end to end (process
    start, reading, gunzip, parsing, matching, COPY, summary, commit): events/s;
  * psql `\\copy` of the very rows it produced (read back through the audit_event
    view) into a plain table with audit_event's columns (the floor: what PostgreSQL
    alone needs to take those rows): events/s;
  * their ratio, the loader's peak RSS, and bytes per event: what the load added
    to the database (events, indexes, TOAST, summaries), and the floor table's, and
    the depth summaries' share of it;
  * the share of the load spent maintaining the endpoint_hit summary;
  * a reload of the same run: its time and the dead rows it left;
  * the seed's queries through the audit_event view and on the plain table;
  * `snoopdb runs prune --keep 1` after loading the logs again as --runs runs of one job.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg

from testkit.databases import scratch_database
from testkit.servers import build_raw_mirror

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
SNOOPDB = str(Path(sys.executable).parent / "snoopdb")

COLUMNS = ("release, release_date, source, audit_id, endpoint, error, useragent, test, "
           "test_hit, conf_test_hit, data")
# audit_event as a plain table (revision 0001's definition): the floor's target.
FLOOR_TABLE = """
CREATE TABLE floor_event (
  release text NOT NULL, release_date text, audit_id text, endpoint text, useragent text,
  test text, test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL, data jsonb NOT NULL,
  source text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ingested_at timestamp NOT NULL DEFAULT now(), error text)
"""
# The run's events table; its summary partitions (test names, hits, field tallies);
# the per-release summaries.
SIZES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
         WHERE n.nspname = 'runs' AND c.relname ~ '^(events|chunks)_'), 0),
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
         WHERE n.nspname = 'runs' AND c.relname !~ '^(events|chunks)_'), 0),
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE n.nspname = 'summaries'), 0)
       + pg_total_relation_size('endpoint_test_hit')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'
"""
# Of those, the depth tallies (docs/depth.md): the run's query parameter and status
# code partitions, and the release's.
DEPTH_SIZES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND ((n.nspname = 'runs' AND c.relname ~ '^(param|status)_hit_')
                           OR (n.nspname = 'summaries'
                               AND c.relname ~ '^release_(param|status)_hit_'))
"""
SEED_QUERIES = {
    "split_part(source,'/',8)": "SELECT DISTINCT split_part(source, '/', 8) FROM {table}",
    "distinct test ilike '%Conformance%'":
        "SELECT DISTINCT test FROM {table} WHERE test ILIKE '%Conformance%'",
    "data->>'verb', count(*)": "SELECT data->>'verb', count(*) FROM {table} GROUP BY 1",
}
BENCH_JOB = "https://prow.k8s.io/view/gs/bench/logs/bench-job"
# One more run of the logs, through the library (the CLI names local runs by their files).
LOAD_AS_RUN = """
import sys
from pathlib import Path
import psycopg
from snoopdb.coverage.matching import Matcher
from snoopdb.loaders import audit
from snoopdb.loaders.logs import LogFile
url, source, *files = sys.argv[1:]
with psycopg.connect(url, autocommit=True) as conn:
    audit.load_run(conn, [LogFile(Path(f), f) for f in files],
                   Matcher.for_release(conn, "1.36.0"), release="1.36.0",
                   release_date=None, source=source)
"""
DEAD_ROWS = """
SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_all_tables
WHERE schemaname IN ('runs', 'summaries') OR relname = 'audit_run'
"""


MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
print(time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def generate(logs: Path, events: int) -> list[Path]:
    marker = logs / f".complete-{events}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "testkit.auditgen", "--spec",
                        str(DATA / "openapi" / "swagger-1.36.json.gz"), "--events", str(events),
                        "--conformance", str(DATA / "conformance" / "conformance.yaml"),
                        "--out", str(logs)], check=True)
        marker.touch()
    return sorted(p for p in logs.iterdir() if p.name.startswith("kube-apiserver-audit.log"))


def psql(url: str, command: str) -> float:
    started = time.monotonic()
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", command], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--logs", type=Path, help="directory to keep the generated logs in")
    parser.add_argument("--runs", type=int, default=2,
                        help="runs of one job loaded after the measures, then pruned to 1")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.gettempdir()) / f"snoopdb-bench-audit-{args.events}"
    logs.mkdir(parents=True, exist_ok=True)
    files = generate(logs, args.events)
    size = sum(p.stat().st_size for p in files)
    print(f"log: {args.events:,} events in {len(files)} files, {size / 1e6:.0f} MB on disk")

    with scratch_database(args.database_url, "snoopdb_bench") as url:
        measure(url, files, args.runs)


def load_spec(url: str, files: list[Path] | None = None) -> None:
    """The 1.36 spec into the database at `url`; then `files` as one run, if given."""
    env = dict(os.environ, DATABASE_URL=url)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([SNOOPDB, "load", "--release", "1.36", "--only", "spec", "--from",
                        str(build_raw_mirror(Path(tmp), DATA))], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if files:
        subprocess.run([SNOOPDB, "load", "--release", "1.36", "--only", "audit", "--audit-log",
                        *map(str, files)], check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def timed_query(conn: psycopg.Connection, sql: str) -> float:
    """Seconds of `sql`, run once before to warm the cache."""
    conn.execute(sql).fetchall()
    started = time.monotonic()
    conn.execute(sql).fetchall()
    return time.monotonic() - started


def measure(url: str, files: list[Path], runs: int) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    snoopdb = SNOOPDB
    load_spec(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        before = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    load = [snoopdb, "load", "--release", "1.36", "--only", "audit", "--audit-log",
            *map(str, files)]
    seconds, peak, output = timed_load(load, env)
    print(output)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        added = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] - before
        events = conn.execute("SELECT sum(events)::bigint FROM audit_run").fetchone()[0]
        run_bytes, hits, summaries = conn.execute(SIZES).fetchone()
        depth_bytes = conn.execute(DEPTH_SIZES).fetchone()[0]
        summary = conn.execute("SELECT count(*) FROM endpoint_hit").fetchone()[0]
        details = conn.execute("SELECT details FROM load_log WHERE kind = 'audit'"
                               ).fetchone()[0]
        conn.execute(FLOOR_TABLE)
    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "rows.copy"
        psql(url, f"\\copy (SELECT {COLUMNS} FROM audit_event ORDER BY id) TO '{rows}'")
        floor = psql(url, f"\\copy floor_event ({COLUMNS}) FROM '{rows}'")
    with psycopg.connect(url, autocommit=True) as conn:
        floor_bytes = conn.execute("SELECT pg_total_relation_size('floor_event')").fetchone()[0]
        conn.execute("VACUUM ANALYZE floor_event")
        seed = [(name, timed_query(conn, sql.format(table="audit_event")),
                 timed_query(conn, sql.format(table="floor_event")))
                for name, sql in SEED_QUERIES.items()]
        conn.execute("DROP TABLE floor_event")
    reload_seconds, reload_peak, _ = timed_load(load, env)
    time.sleep(1)  # the statistics collector reports dead rows shortly after commit
    with psycopg.connect(url) as conn:
        dead = conn.execute(DEAD_ROWS).fetchone()[0]
    for build in range(1, runs + 1):  # more runs of one job, for the prune
        subprocess.run([sys.executable, "-c", LOAD_AS_RUN, url, f"{BENCH_JOB}/{build}",
                        *map(str, files)], check=True)
    prune = [snoopdb, "runs", "prune", "--keep", "1"]
    prune_seconds, _, prune_output = timed_load(prune, env)
    tally = tally_cost(events)
    e2e_rate, floor_rate = events / seconds, events / floor
    print(f"end to end: {events:,} events in {seconds:.1f}s = {e2e_rate:,.0f} events/s")
    print(f"floor (psql \\copy of the same rows into a plain table): {floor:.1f}s"
          f" = {floor_rate:,.0f} events/s")
    print(f"ratio: {e2e_rate / floor_rate:.2f} of the floor")
    print(f"peak RSS of snoopdb load: {peak:.0f} MB (reload: {reload_peak:.0f} MB)")
    print(f"database growth: {added / events:,.0f} bytes per event ({added / 1e6:,.0f} MB):"
          f" the run's events {run_bytes / events:,.0f}, its summary partitions"
          f" {hits / events:,.0f},"
          f" coverage summaries {summaries / events:,.0f}; the plain floor table alone"
          f" {floor_bytes / events:,.0f}")
    print(f"depth summaries (query parameters, status codes; run and release):"
          f" {depth_bytes / events:,.1f} bytes per event")
    print(f"reload of the same run: {reload_seconds:.1f}s, dead rows left: {dead:,}")
    for name, view, plain in seed:
        print(f"query {name}: {view:.2f}s through audit_event, {plain:.2f}s on the plain table")
    print(f"snoopdb runs prune --keep 1 with {runs + 1} runs loaded ({runs} of one job):"
          f" {prune_seconds:.1f}s, process start included; {prune_output}")
    print(f"summary: {summary:,} endpoint_hit rows written in "
          f"{details.get('summary_seconds', 0):.2f}s; tallying {events:,} events costs "
          f"{tally:.2f}s in isolation; together "
          f"{100 * (details.get('summary_seconds', 0) + tally) / seconds:.1f}% of the load")


def timed_load(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and last output line of `command`, run from a wrapper
    process so that the peak RSS is the loader's alone (not the generator's)."""
    measured = subprocess.run([sys.executable, "-c", MEASURE, *command],
                              check=True, env=env, capture_output=True, text=True)
    *output, figures = measured.stdout.strip().splitlines()
    seconds, peak = (float(x) for x in figures.split())
    return seconds, peak, output[-1]


def tally_cost(events: int) -> float:
    """Seconds the loader's per-event summary update costs (a Counter increment)."""
    keys = [(f"endpoint{i % 700}", f"test {i % 300}", True, i % 3 == 0) for i in range(4096)]
    counter: Counter[tuple[str, str, bool, bool]] = Counter()
    started = time.monotonic()
    for i in range(events):
        counter[keys[i & 4095]] += 1
    return time.monotonic() - started


if __name__ == "__main__":
    main()
