"""CI runs at scale: one partition per run, swapped in atomically, loads of one run
serialised; `snoopdb runs` lists, drops and prunes them; revision 0008 migrates
existing events and its downgrade restores them."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from snoopdb.loaders import audit, spec

from snoopdb.cli import main
from snoopdb.commands import runs
from snoopdb.core.errors import InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.matching import Matcher
from snoopdb.db import schema
from snoopdb.testkit.databases import scratch_database

PROW = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/{job}/{build}"
GCE, KIND = "ci-kubernetes-e2e-gci-gce", "ci-kubernetes-audit-kind-conformance"
TESTS = ("[sig-node] Pods should get a pod [Conformance]", "[sig-apps] Job should run",
         "[sig-cli] Kubectl logs")
URIS = (("get", "/api/v1/namespaces/ns/pods/p"), ("list", "/api/v1/namespaces/ns/configmaps"),
        ("get", "/api/v1/nodes/n1"), ("get", "/healthz"),
        ("delete", "/apis/apps/v1/namespaces/ns/deployments/d"))
COLUMNS = ("release, release_date, audit_id, endpoint, useragent, test, test_hit,"
           " conf_test_hit, data, source, error")


def events(count: int, seed: int) -> list[dict]:
    """`count` events whose user agents and URIs vary with `seed`."""
    made = []
    for i in range(count):
        test = TESTS[(i + seed) % len(TESTS)]
        agent = (f"e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- {test}" if i % 4
                 else "kubelet/v1.36.0")
        verb, uri = URIS[(i * (seed + 1)) % len(URIS)]
        made.append({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                     "auditID": f"{seed}-{i}", "stage": "ResponseComplete", "requestURI": uri,
                     "verb": verb, "userAgent": agent, "note": "tab\there \\ \"quoted\""})
    return made


def write(path: Path, made: list[dict]) -> audit.LogFile:
    path.write_text("".join(json.dumps(e) + "\n" for e in made))
    return audit.LogFile(path, str(path))


@pytest.fixture
def matcher(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> Matcher:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    return Matcher.for_release(conn, "1.36.0")


def load(conn: psycopg.Connection, matcher: Matcher, log: audit.LogFile, source: str,
         release: str = "1.36.0") -> audit.AuditReport:
    return audit.load_run(conn, [log], matcher, release=release, release_date="2026-04-22",
                          source=source)


def dead_rows(conn: psycopg.Connection, *tables: str) -> int:
    """Dead rows in the runs' tables and in `tables`."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_all_tables"
                        " WHERE schemaname = 'runs' OR relname = ANY(%s)",
                        (list(tables),)).fetchone()[0]


def run_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'r' ORDER BY 1").fetchall()


def test_events_read_back_whole_across_chunks(conn, matcher, tmp_path) -> None:
    made = events(2_345, 1)
    source = PROW.format(job=GCE, build=1)
    report = load(conn, matcher, write(tmp_path / "audit.log", made), source)
    assert report.events == 2_345
    rows = conn.execute("SELECT audit_id, data, source, release FROM audit_event ORDER BY id"
                        ).fetchall()
    assert [r[0] for r in rows] == [e["auditID"] for e in made]
    assert [r[1] for r in rows] == made
    assert {(r[2], r[3]) for r in rows} == {(source, "1.36.0")}
    # three chunks of at most 1,000 events, in the run's own partitions
    assert conn.execute("SELECT first, cardinality(data) FROM audit_chunk ORDER BY first"
                        ).fetchall() == [(0, 1000), (1000, 1000), (2000, 345)]
    assert run_tables(conn) == [("events_1", "audit_chunk")]
    # the seed's queries
    assert conn.execute("SELECT DISTINCT split_part(source, '/', 8) FROM audit_event"
                        ).fetchall() == [(GCE,)]
    assert conn.execute("SELECT DISTINCT test FROM audit_event WHERE test ILIKE"
                        " '%Conformance%'").fetchall() == [(TESTS[0],)]
    # endpoint_hit is the aggregate of the events
    assert conn.execute(
        "SELECT endpoint, test, test_hit, conf_test_hit, count(*) FROM audit_event"
        " WHERE endpoint IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2 NULLS FIRST"
    ).fetchall() == conn.execute(
        "SELECT endpoint, test, test_hit, conf_test_hit, hits FROM endpoint_hit"
        " ORDER BY 1, 2 NULLS FIRST").fetchall()


def test_reload_swaps_the_partition_and_leaves_no_dead_rows(conn, matcher, tmp_path) -> None:
    source = PROW.format(job=GCE, build=1)
    log = write(tmp_path / "a.log", events(1_500, 1))
    load(conn, matcher, log, source)
    hits = conn.execute("SELECT * FROM endpoint_hit ORDER BY endpoint, test").fetchall()
    old = conn.execute("SELECT 'runs.events_1'::regclass::oid").fetchone()[0]
    before = dead_rows(conn, "endpoint_hit")
    notices: list[str] = []
    conn.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
    conn.execute("SET client_min_messages = debug1")
    load(conn, matcher, log, source)
    conn.execute("RESET client_min_messages")
    # attached without a validation scan
    assert ('partition constraint for table "events_1" is implied by existing constraints'
            in notices)
    # the same logs again: fresh partitions, the summary rows untouched
    assert conn.execute("SELECT 'runs.events_1'::regclass::oid").fetchone()[0] != old
    assert conn.execute("SELECT * FROM endpoint_hit ORDER BY endpoint, test").fetchall() == hits
    assert dead_rows(conn, "endpoint_hit") == before == 0
    # other logs for the run: swapped in whole
    load(conn, matcher, write(tmp_path / "b.log", events(1_200, 2)), source)
    assert conn.execute("SELECT count(*), min(audit_id) FROM audit_event").fetchone() == (
        1_200, "2-0")
    assert run_tables(conn) == [("events_1", "audit_chunk")]
    assert conn.execute("SELECT run, source, events FROM audit_run").fetchall() == [
        (1, source, 1_200)]
    assert dead_rows(conn) == 0


def test_failed_reload_leaves_the_old_run(conn, matcher, tmp_path) -> None:
    source = PROW.format(job=GCE, build=1)
    load(conn, matcher, write(tmp_path / "a.log", events(1_500, 1)), source)
    bad = tmp_path / "bad.log"
    bad.write_text(json.dumps(events(1, 2)[0]) + "\n{not json\n")
    with pytest.raises(InputError, match=r"bad.log:2: malformed audit event"):
        load(conn, matcher, audit.LogFile(bad, str(bad)), source)
    assert conn.execute("SELECT count(*), min(audit_id) FROM audit_event").fetchone() == (
        1_500, "1-0")
    assert run_tables(conn) == [("events_1", "audit_chunk")]


@pytest.mark.parametrize("first_load", [True, False])
def test_concurrent_loads_of_one_run_are_serialised(conn, matcher, database_url, tmp_path,
                                                     first_load: bool) -> None:
    """Two loads of the same run at once: the second waits for the first, then replaces
    its rows; neither fails, nothing is duplicated (first loads or reloads)."""
    source = PROW.format(job=GCE, build=7)
    log = write(tmp_path / "a.log", events(2_500, 3))
    if not first_load:
        load(conn, matcher, log, source)
    errors: list[BaseException] = []

    def load_in_thread() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as own:
                load(own, matcher, log, source)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    # Hold the run's lock so that both loads are surely in flight together.
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT audit_run_lock(%s)", (source,))
        threads = [threading.Thread(target=load_in_thread) for _ in range(2)]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(100):
            waiting = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                   " AND NOT granted").fetchone()[0]
            if waiting == 2:
                break
            time.sleep(0.05)
        assert waiting == 2
        holder.rollback()
    for thread in threads:
        thread.join()
    assert errors == []
    assert conn.execute("SELECT count(*), count(DISTINCT audit_id) FROM audit_event"
                        ).fetchone() == (2_500, 2_500)
    assert conn.execute("SELECT count(*), sum(events) FROM audit_run").fetchone() == (1, 2_500)
    assert conn.execute("SELECT sum(hits) FROM endpoint_hit").fetchone()[0] == conn.execute(
        "SELECT count(*) FROM audit_event WHERE endpoint IS NOT NULL").fetchone()[0]
    assert run_tables(conn) == [("events_1", "audit_chunk")]


COVERAGE = ("SELECT release, endpoint, tested, conf_tested, tests FROM endpoint_coverage"
            " WHERE tested ORDER BY 1, 2")
TESTS_SEEN = "SELECT * FROM audit_event_test"
HITS = "SELECT * FROM endpoint_hit ORDER BY source, endpoint, test NULLS FIRST"


def answers(conn: psycopg.Connection) -> tuple[list, ...]:
    return tuple(conn.execute(q).fetchall() for q in (
        COVERAGE, TESTS_SEEN, HITS, f"SELECT {COLUMNS} FROM audit_event ORDER BY id"))


def test_prune_keeps_the_newest_runs_of_each_job_and_their_answers(
        conn, matcher, tmp_path, capsys) -> None:
    kept = {PROW.format(job=GCE, build=12): 7, PROW.format(job=KIND, build=5): 8}
    for number, (source, seed) in enumerate(kept.items()):
        load(conn, matcher, write(tmp_path / f"k{number}.log", events(1_100, seed)), source)
    alone = answers(conn)
    # older builds of both jobs (build 9 < 12 even though loaded later), another release
    for number, (source, seed) in enumerate({PROW.format(job=GCE, build=9): 1,
                                             PROW.format(job=GCE, build=11): 2,
                                             PROW.format(job=KIND, build=4): 3}.items()):
        load(conn, matcher, write(tmp_path / f"d{number}.log", events(900, seed)), source,
             release="1.35.0")
    assert answers(conn) != alone
    assert main(["runs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["release", "events", "size", "loaded", "at", "source"]
    # by job, newest build first
    assert [line.split()[-1] for line in out[1:-1]] == [
        PROW.format(job=KIND, build=b) for b in (5, 4)] + [
        PROW.format(job=GCE, build=b) for b in (12, 11, 9)]
    assert out[1].split()[:2] == ["1.36.0", "1,100"]
    assert out[-1].startswith("5 runs, 4,900 events, ")

    assert main(["runs", "prune", "--keep", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("3 runs dropped (2,700 events, ")
    assert ", 2 kept, in " in out[-1]
    assert answers(conn) == alone
    assert [r.source for r in runs.list_runs(conn)] == list(reversed(kept))
    assert len(run_tables(conn)) == 2
    assert dead_rows(conn) == 0


def test_drop_is_all_or_nothing(conn, matcher, tmp_path, capsys) -> None:
    first, second = PROW.format(job=GCE, build=1), PROW.format(job=GCE, build=2)
    load(conn, matcher, write(tmp_path / "a.log", events(1_000, 1)), first)
    load(conn, matcher, write(tmp_path / "b.log", events(500, 2)), second)
    with pytest.raises(NotFound, match="no loaded run has source nowhere"):
        runs.drop_runs(conn, [first, "nowhere"])
    assert len(runs.list_runs(conn)) == 2
    assert main(["runs", "drop", "nowhere"]) == 1
    assert capsys.readouterr().err == "snoopdb: error: no loaded run has source nowhere\n"
    report = runs.drop_runs(conn, [first])
    assert ([r.source for r in report.dropped], [r.source for r in report.kept]) == (
        [first], [second])
    assert report.events == 1_000
    assert conn.execute("SELECT DISTINCT source FROM endpoint_hit").fetchall() == [(second,)]
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (500,)
    with pytest.raises(InputError, match="at least 1, not 0"):
        runs.prune_runs(conn, 0)


def dump_schema(url: str) -> str:
    """The schema, without the runs' own tables (data: the fresh database has none)."""
    dump = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--exclude-schema=runs",
                           url], check=True, capture_output=True, text=True).stdout
    # \restrict lines carry a random key per dump
    return "\n".join(line for line in dump.splitlines() if "restrict " not in line)


def test_revision_0008_migrates_existing_runs_and_downgrades(database_server: str) -> None:
    with scratch_database(database_server, "snoopdb_fresh") as fresh:
        schema.migrate(fresh)
        fresh_schema = dump_schema(fresh)
    with scratch_database(database_server, "snoopdb_mig") as url:
        schema.migrate(url, "0006")
        with psycopg.connect(url) as db:
            db.execute(
                f"INSERT INTO audit_event ({COLUMNS})"
                " SELECT '1.36.0', '2026-04-22', 'id' || i, CASE WHEN i % 3 > 0 THEN 'ep' || i % 5"
                " END, 'ua' || i % 4, CASE WHEN i % 4 = 1 THEN 'test ' || i % 8 END, i % 4 = 1,"
                " i % 8 = 1, jsonb_build_object('i', i, 's', E'a\\tb\"c'), 'src' || i % 2,"
                " CASE WHEN i % 3 = 0 THEN 'ignored path' END FROM generate_series(1, 2500) i")
            db.execute(f"INSERT INTO audit_event ({COLUMNS}) VALUES ('1.35.0', NULL, NULL, NULL,"
                       " NULL, NULL, false, false, '{}', 'src2', 'unknown verb')")
        ordered = f"SELECT {COLUMNS} FROM audit_event ORDER BY source, id"
        with psycopg.connect(url) as db:
            before = db.execute(ordered).fetchall()
        schema.migrate(url)
        with psycopg.connect(url) as db:
            assert db.execute(ordered).fetchall() == before
            assert db.execute("SELECT source, release, events FROM audit_run ORDER BY run"
                              ).fetchall() == [("src1", "1.36.0", 1250), ("src0", "1.36.0", 1250),
                                               ("src2", "1.35.0", 1)]
        assert dump_schema(url) == fresh_schema
        schema.downgrade(url, "0006")
        with psycopg.connect(url) as db:
            assert db.execute(ordered).fetchall() == before
        schema.migrate(url)


def test_concurrent_reloads_of_different_runs_both_swap(conn, matcher, database_url,
                                                        tmp_path) -> None:
    """Reloads of two runs reaching their swaps together: each waits for the other's
    commit, neither deadlocks."""
    sources = [PROW.format(job=GCE, build=b) for b in (1, 2)]
    logs = [write(tmp_path / f"{n}.log", events(1_500, n)) for n in range(2)]
    for source, log in zip(sources, logs, strict=True):
        load(conn, matcher, log, source)
    errors: list[BaseException] = []

    def reload(source: str, log: audit.LogFile) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as own:
                load(own, matcher, log, source)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    # A reader of audit_event holds both swaps back until both loads are there.
    with psycopg.connect(database_url) as reader:
        reader.execute("SELECT count(*) FROM audit_event")
        threads = [threading.Thread(target=reload, args=pair)
                   for pair in zip(sources, logs, strict=True)]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(100):
            waiting = conn.execute("SELECT count(*) FROM pg_locks WHERE relation ="
                                   " 'audit_chunk'::regclass AND NOT granted"
                                   ).fetchone()[0]
            if waiting == 2:
                break
            time.sleep(0.05)
        assert waiting == 2
        reader.rollback()
    for thread in threads:
        thread.join()
    assert errors == []
    assert conn.execute("SELECT source, count(*) FROM audit_event GROUP BY 1 ORDER BY 1"
                        ).fetchall() == [(s, 1_500) for s in sources]
