"""Benchmark: storage layouts for audit events, measured on the same events.

    python -m bench.audit_storage [--events 200000] [--logs DIR] [--database-url URL]

Loads the generated 1 M-event log of bench.audit_load (made if missing) with
`snoopdb load`, takes its first --events events as a plain table (revision 0001's
audit_event: the baseline), then builds each layout from it and prints, per layout:
bytes per event (heap, TOAST and indexes), seconds to build it (INSERT … SELECT
from a copy of the events or from the table before it: comparable across layouts,
not the loader's speed, which bench.audit_load measures; "data as text" stores
jsonb's text output, a little longer than the logged lines the loader keeps), and
the seconds of three queries through a view with audit_event's columns: the seed's
`split_part(source,'/',8)` and `select distinct test … ilike '%Conformance%'`, and
one reading the events' jsonb.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from bench.audit_load import generate, load_spec
from testkit.databases import scratch_database

VIEW_COLUMNS = ("release, release_date, audit_id, endpoint, useragent, test, test_hit,"
                " conf_test_hit, data, source, id, ingested_at, error")
QUERIES = {
    "split_part(source,'/',8)": "SELECT DISTINCT split_part(source, '/', 8) FROM {view}",
    "distinct test ilike": "SELECT DISTINCT test FROM {view} WHERE test ILIKE '%Conformance%'",
    "data->>'verb' count": "SELECT data->>'verb', count(*) FROM {view} GROUP BY 1",
}
STAGE = """
CREATE TABLE staged AS SELECT {columns} FROM audit_event ORDER BY id LIMIT {events};
"""
PLAIN = """
CREATE TABLE plain (
  release text NOT NULL, release_date text, audit_id text, endpoint text, useragent text,
  test text, test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL, data jsonb NOT NULL,
  source text NOT NULL, id bigint PRIMARY KEY, ingested_at timestamp NOT NULL, error text);
CREATE INDEX ON plain (source);
INSERT INTO plain SELECT * FROM staged ORDER BY id;
DROP TABLE staged;
"""
# Run-constant values in a run table, user agents in an agent table, one row per event.
NORMALISED = """
CREATE TABLE n_agent AS SELECT DISTINCT useragent, test, test_hit, conf_test_hit FROM plain;
ALTER TABLE n_agent ADD agent int GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE TABLE n_event (run int NOT NULL, n bigint NOT NULL, agent int NOT NULL, audit_id text,
                      endpoint text, error text, data jsonb NOT NULL, PRIMARY KEY (run, n));
INSERT INTO n_event SELECT 1, p.id & 1099511627775, a.agent, p.audit_id, p.endpoint, p.error, p.data
FROM plain p JOIN n_agent a ON a.useragent IS NOT DISTINCT FROM p.useragent
 AND a.test IS NOT DISTINCT FROM p.test AND a.test_hit = p.test_hit
 AND a.conf_test_hit = p.conf_test_hit ORDER BY p.id;
CREATE VIEW n_view AS
SELECT r.release, r.release_date, e.audit_id, e.endpoint, a.useragent, a.test, a.test_hit,
       a.conf_test_hit, e.data, r.source, e.n::bigint AS id, r.ingested_at, e.error
FROM n_event e JOIN n_agent a USING (agent)
CROSS JOIN (SELECT release, release_date, source, ingested_at FROM plain LIMIT 1) r;
"""
# As NORMALISED, plus the fields kept in columns taken out of data and put back.
STRIPPED = """
CREATE TABLE s_event (run int NOT NULL, n bigint NOT NULL, agent int NOT NULL, audit_id text,
                      endpoint text, error text, data jsonb NOT NULL, PRIMARY KEY (run, n));
INSERT INTO s_event SELECT run, n, agent, audit_id, endpoint, error,
  data - 'auditID' - 'userAgent' FROM n_event ORDER BY n;
CREATE VIEW s_view AS
SELECT r.release, r.release_date, e.audit_id, e.endpoint, a.useragent, a.test, a.test_hit,
       a.conf_test_hit,
       e.data || jsonb_strip_nulls(jsonb_build_object('auditID', e.audit_id,
                                                      'userAgent', a.useragent)) AS data,
       r.source, e.n::bigint AS id, r.ingested_at, e.error
FROM s_event e JOIN n_agent a USING (agent)
CROSS JOIN (SELECT release, release_date, source, ingested_at FROM plain LIMIT 1) r;
"""
# Chunks of {size} events as parallel arrays, {method}-compressed; data as {kind}.
CHUNKED = """
CREATE TABLE {name} (run int NOT NULL, first bigint NOT NULL,
  audit_id text[] COMPRESSION {method}, endpoint text[] COMPRESSION {method},
  error text[] COMPRESSION {method}, agent int[] COMPRESSION {method},
  data {kind}[] COMPRESSION {method}, PRIMARY KEY (run, first));
INSERT INTO {name}
SELECT 1, min(n), array_agg(audit_id ORDER BY n), array_agg(endpoint ORDER BY n),
       array_agg(error ORDER BY n), array_agg(agent ORDER BY n), array_agg(data::{kind} ORDER BY n)
FROM n_event GROUP BY n / {size};
CREATE VIEW {name}_view AS
SELECT r.release, r.release_date, e.audit_id, e.endpoint, a.useragent, a.test, a.test_hit,
       a.conf_test_hit, e.data::jsonb AS data, r.source, c.first + e.i AS id, r.ingested_at,
       e.error
FROM {name} c
CROSS JOIN LATERAL unnest(c.audit_id, c.endpoint, c.error, c.agent, c.data)
  WITH ORDINALITY AS e(audit_id, endpoint, error, agent, data, i)
JOIN n_agent a ON a.agent = e.agent
CROSS JOIN (SELECT release, release_date, source, ingested_at FROM plain LIMIT 1) r;
"""

# As revision 0008 stored runs: user agents and their attribution in the chunk too,
# so that the view joins nothing per event (revision 0010's hot and compact states
# are measured by bench.queries).
CHUNKED_AGENTS = """
CREATE TABLE {name} (run int NOT NULL, first bigint NOT NULL,
  audit_id text[] COMPRESSION lz4, endpoint text[] COMPRESSION lz4,
  error text[] COMPRESSION lz4, useragent text[] COMPRESSION lz4, test text[] COMPRESSION lz4,
  test_hit boolean[] COMPRESSION lz4, conf_test_hit boolean[] COMPRESSION lz4,
  data text[] COMPRESSION lz4, PRIMARY KEY (run, first));
INSERT INTO {name}
SELECT 1, min(n), array_agg(audit_id ORDER BY n), array_agg(endpoint ORDER BY n),
       array_agg(error ORDER BY n), array_agg(useragent ORDER BY n), array_agg(test ORDER BY n),
       array_agg(test_hit ORDER BY n), array_agg(conf_test_hit ORDER BY n),
       array_agg(data::text ORDER BY n)
FROM n_event JOIN n_agent USING (agent) GROUP BY n / 1000;
CREATE VIEW {name}_view AS
SELECT r.release, r.release_date, e.audit_id, e.endpoint, e.useragent, e.test, e.test_hit,
       e.conf_test_hit, e.data::jsonb AS data, r.source, c.first + e.i AS id, r.ingested_at,
       e.error
FROM {name} c
CROSS JOIN LATERAL unnest(c.audit_id, c.endpoint, c.error, c.useragent, c.test, c.test_hit,
                          c.conf_test_hit, c.data)
  WITH ORDINALITY AS e(audit_id, endpoint, error, useragent, test, test_hit, conf_test_hit,
                       data, i)
CROSS JOIN (SELECT release, release_date, source, ingested_at FROM plain LIMIT 1) r;
"""


def size(conn: psycopg.Connection, *tables: str) -> int:
    return sum(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0]
               for t in tables)


def build(conn: psycopg.Connection, sql: str) -> float:
    started = time.monotonic()
    conn.execute(sql)
    conn.execute("CHECKPOINT")
    return time.monotonic() - started


def query_seconds(conn: psycopg.Connection, view: str) -> list[float]:
    seconds = []
    for sql in QUERIES.values():
        conn.execute(sql.format(view=view)).fetchall()  # warm the cache
        started = time.monotonic()
        conn.execute(sql.format(view=view)).fetchall()
        seconds.append(time.monotonic() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--logs", type=Path, help="directory of the generated 1 M-event log")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.gettempdir()) / "snoopdb-bench-audit-1000000"
    logs.mkdir(parents=True, exist_ok=True)
    files = generate(logs, 1_000_000)
    with scratch_database(args.database_url, "snoopdb_bench") as url:
        load_spec(url, files)
        with psycopg.connect(url, autocommit=True) as conn:
            layouts = measure(conn, args.events)
    print(f"{'layout':<44} {'bytes/event':>11} {'build s':>8} "
          + " ".join(f"{name:>24}" for name in QUERIES))
    for name, (per_event, seconds, queries) in layouts.items():
        print(f"{name:<44} {per_event:>11,.0f} {seconds:>8.1f} "
              + " ".join(f"{q:>23.2f}s" for q in queries))


def measure(conn: psycopg.Connection, events: int) -> dict[str, tuple[float, float, list[float]]]:
    layouts: dict[str, tuple[float, float, list[float]]] = {}
    conn.execute(STAGE.format(columns=VIEW_COLUMNS, events=events))
    seconds = build(conn, PLAIN)
    count = conn.execute("SELECT count(*) FROM plain").fetchone()[0]
    layouts["plain table (revision 0001)"] = (
        size(conn, "plain") / count, seconds, query_seconds(conn, "plain"))
    seconds = build(conn, NORMALISED)
    layouts["row per event, run and agents apart"] = (
        size(conn, "n_event", "n_agent") / count, seconds, query_seconds(conn, "n_view"))
    seconds = build(conn, STRIPPED)
    layouts["... and auditID, userAgent out of data"] = (
        size(conn, "s_event", "n_agent") / count, seconds, query_seconds(conn, "s_view"))
    for chunk, method, kind in ((100, "lz4", "jsonb"), (1000, "lz4", "jsonb"),
                                (1000, "pglz", "jsonb"), (1000, "lz4", "text"),
                                (10000, "lz4", "jsonb")):
        name = f"c_{chunk}_{method}_{kind}"
        seconds = build(conn, CHUNKED.format(name=name, size=chunk, method=method, kind=kind))
        layouts[f"chunks of {chunk:,}, {method}, data as {kind}"] = (
            size(conn, name, "n_agent") / count, seconds, query_seconds(conn, f"{name}_view"))
    seconds = build(conn, CHUNKED_AGENTS.format(name="chosen"))
    layouts["chunks of 1,000, lz4, text, agents inside"] = (
        size(conn, "chosen") / count, seconds, query_seconds(conn, "chosen_view"))
    return layouts


if __name__ == "__main__":
    main()
