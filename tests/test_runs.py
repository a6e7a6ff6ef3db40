"""CI runs at scale (schema revision 0010): each run's tables swapped in atomically,
loads of one run serialised; the newest runs of a job hot (indexed rows), older ones
compact (chunks), the same answers either way; `snoopdb runs` lists, drops, prunes,
compacts and heats them; revisions 0008 and 0010 migrate existing runs and their
downgrades restore them."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.commands import runs
from snoopdb.core.errors import InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.matching import Matcher
from snoopdb.db import run_store, schema
from snoopdb.db.runs import handles
from snoopdb.loaders import audit, spec
from snoopdb.loaders.events import AuditReport
from snoopdb.loaders.logs import LogFile
from testkit.databases import scratch_database

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


def write(path: Path, made: list[dict]) -> LogFile:
    path.write_text("".join(json.dumps(e) + "\n" for e in made))
    return LogFile(path, str(path))


@pytest.fixture
def matcher(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> Matcher:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    return Matcher.for_release(conn, "1.36.0")


def load(conn: psycopg.Connection, matcher: Matcher, log: LogFile, source: str,
         release: str = "1.36.0") -> AuditReport:
    """Load `log` as run `source`; a prow run with its build, as a CI load records it."""
    build = source.rsplit("/", 1)[-1] if source.startswith("https://prow") else None
    return audit.load_run(conn, [log], matcher, release=release, release_date="2026-04-22",
                          source=source, facts=run_store.BuildFacts(build=build))


# Every table the storage writes: the runs' own, the summaries' partitions and parents.
STORAGE_TABLES = ("audit_run", "run_test", "run_hit", "run_field_hit", "run_body_hit",
                  "release_endpoint_hit", "release_test_hit", "release_field_hit",
                  "release_body_hit")


def dead_rows(conn: psycopg.Connection, *tables: str) -> int:
    """Dead rows in the runs' and summaries' own tables and in `tables`."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_all_tables"
                        " WHERE schemaname IN ('runs', 'summaries') OR relname = ANY(%s)",
                        (list(tables),)).fetchone()[0]


def run_tables(conn: psycopg.Connection) -> list[str]:
    """The runs' own tables in schema runs (not runs.events, runs.chunks and their
    releases' parts, the partitioned tables they are attached to)."""
    return [r[0] for r in conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'runs'::regnamespace"
        " AND relkind = 'r' ORDER BY 1").fetchall()]


def tables_of(run: int) -> list[str]:
    return sorted(f"{kind}_{run}" for kind in ("test", "hit", "field_hit", "body_hit",
                                                 "param_hit", "status_hit"))


def test_events_read_back_whole_hot_and_compact(conn, matcher, tmp_path) -> None:
    made = events(2_345, 1)
    source = PROW.format(job=GCE, build=1)
    report = load(conn, matcher, write(tmp_path / "audit.log", made), source)
    assert report.events == 2_345
    query = "SELECT id, audit_id, data, source, release FROM audit_event ORDER BY id"
    rows = conn.execute(query).fetchall()
    assert [r[1] for r in rows] == [e["auditID"] for e in made]
    assert [r[2] for r in rows] == made
    assert {(r[3], r[4]) for r in rows} == {(source, "1.36.0")}
    assert [r[0] for r in rows] == [(1 << 40) + n for n in range(2_345)]
    assert run_tables(conn) == sorted(["events_1", *tables_of(1)])
    # the hot table is indexed on what people look events up by
    assert conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'events_1' ORDER BY 1"
    ).fetchall() == [("events_1_audit_id",), ("events_1_endpoint",), ("events_1_pkey",),
                     ("events_1_test",)]
    everything = conn.execute(f"SELECT {COLUMNS}, id, ingested_at FROM audit_event ORDER BY id"
                              ).fetchall()
    # compact: three chunks of at most 1,000 events, the same rows through the view
    assert main(["runs", "compact", source]) == 0
    assert run_tables(conn) == sorted(["chunks_1", *tables_of(1)])
    assert conn.execute("SELECT first, events, cardinality(ev), cardinality(data)"
                        " FROM runs.chunks_1 ORDER BY first").fetchall() == [
        (0, 1000, 1000, 1000), (1000, 1000, 1000, 1000), (2000, 345, 345, 345)]
    assert conn.execute(f"SELECT {COLUMNS}, id, ingested_at FROM audit_event ORDER BY id"
                        ).fetchall() == everything
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
    # and hot again
    assert main(["runs", "hot", source]) == 0
    assert run_tables(conn) == sorted(["events_1", *tables_of(1)])
    assert conn.execute(f"SELECT {COLUMNS}, id, ingested_at FROM audit_event ORDER BY id"
                        ).fetchall() == everything


def test_a_query_of_one_run_or_release_reads_only_its_tables(conn, matcher, tmp_path) -> None:
    first, second = PROW.format(job=GCE, build=1), PROW.format(job=KIND, build=1)
    load(conn, matcher, write(tmp_path / "a.log", events(300, 1)), first)
    load(conn, matcher, write(tmp_path / "b.log", events(300, 2)), second, release="1.35.0")
    assert main(["runs", "compact", second]) == 0

    def scanned(where: str) -> set[str]:
        plan = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT count(*), max(data::text)"
                            f" FROM audit_event WHERE {where}").fetchone()[0]
        found: set[str] = set()
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            if "Relation Name" in node:
                found.add(node["Relation Name"])
            stack.extend(node.get("Plans", ()))
        return found

    assert scanned(f"source = '{first}'") == {"events_1"}
    assert scanned("release = '1.35.0'") == {"chunks_2"}
    assert scanned("id >= 0") == {"events_1", "chunks_2"}

    # nor locks any other run's table: a run's table is a partition of what audit_event
    # reads, opened only when planning keeps it (before revision 0021 a query locked
    # every run's table, and at 1,000 runs the lock table ran out: #31 case 20)
    third = PROW.format(job=GCE.replace("gce", "ubuntu"), build=7)
    load(conn, matcher, write(tmp_path / "c.log", events(30, 3)), third)

    def locked(where: str) -> set[str]:
        with conn.transaction():
            conn.execute(f"SELECT count(*) FROM audit_event WHERE {where}").fetchall()
            return {name for (name,) in conn.execute(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'runs'::regnamespace"
                " AND c.relkind = 'r'").fetchall()}

    assert locked(f"source = '{first}'") == {"events_1"}
    assert locked(f"source = '{second}'") == {"chunks_2"}
    assert locked("release = '1.36.0'") == {"events_1", "events_3"}
    assert locked("release = '1.35.0'") == {"chunks_2"}
    assert locked("true") == {"events_1", "chunks_2", "events_3"}


def test_reload_swaps_the_tables_and_leaves_no_dead_rows(conn, matcher, tmp_path) -> None:
    source = PROW.format(job=GCE, build=1)
    log = write(tmp_path / "a.log", events(1_500, 1))
    load(conn, matcher, log, source)
    hits = conn.execute("SELECT * FROM endpoint_hit ORDER BY endpoint, test").fetchall()
    coverage = conn.execute("SELECT * FROM endpoint_coverage WHERE tested").fetchall()
    old = conn.execute("SELECT 'runs.events_1'::regclass::oid, 'runs.hit_1'::regclass::oid"
                       ).fetchone()
    notices: list[str] = []
    conn.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
    conn.execute("SET client_min_messages = debug1")
    load(conn, matcher, log, source)
    conn.execute("RESET client_min_messages")
    # the summary partitions attached without a validation scan
    assert ('partition constraint for table "hit_1" is implied by existing constraints'
            in notices)
    # the same logs again: fresh tables, the same answers, no dead row anywhere but the
    # run's own row in audit_run (its load time changed)
    assert conn.execute("SELECT 'runs.events_1'::regclass::oid, 'runs.hit_1'::regclass::oid"
                        ).fetchone() != old
    assert conn.execute("SELECT * FROM endpoint_hit ORDER BY endpoint, test").fetchall() == hits
    assert conn.execute("SELECT * FROM endpoint_coverage WHERE tested").fetchall() == coverage
    assert dead_rows(conn, *STORAGE_TABLES[1:]) == 0
    # other logs for the run: swapped in whole
    load(conn, matcher, write(tmp_path / "b.log", events(1_200, 2)), source)
    assert conn.execute("SELECT count(*), min(audit_id) FROM audit_event").fetchone() == (
        1_200, "2-0")
    assert run_tables(conn) == sorted(["events_1", *tables_of(1)])
    assert conn.execute("SELECT run, source, events, state FROM audit_run").fetchall() == [
        (1, source, 1_200, "hot")]
    assert dead_rows(conn, *STORAGE_TABLES[1:]) == 0


def test_failed_reload_leaves_the_old_run(conn, matcher, tmp_path) -> None:
    source = PROW.format(job=GCE, build=1)
    load(conn, matcher, write(tmp_path / "a.log", events(1_500, 1)), source)
    bad = tmp_path / "bad.log"
    bad.write_text(json.dumps(events(1, 2)[0]) + "\n{not json\n")
    with pytest.raises(InputError, match=r"bad.log:2: malformed audit event"):
        load(conn, matcher, LogFile(bad, str(bad)), source)
    assert conn.execute("SELECT count(*), min(audit_id) FROM audit_event").fetchone() == (
        1_500, "1-0")
    assert run_tables(conn) == sorted(["events_1", *tables_of(1)])


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
    assert run_tables(conn) == sorted(["events_1", *tables_of(1)])


COVERAGE = ("SELECT release, endpoint, tested, conf_tested, tests FROM endpoint_coverage"
            " WHERE tested ORDER BY 1, 2")
TESTS_SEEN = "SELECT * FROM audit_event_test"
HITS = "SELECT * FROM endpoint_hit ORDER BY source, endpoint, test NULLS FIRST"


def answers(conn: psycopg.Connection) -> tuple[list, ...]:
    return tuple(conn.execute(q).fetchall() for q in (
        COVERAGE, TESTS_SEEN, HITS, f"SELECT {COLUMNS} FROM audit_event ORDER BY id"))


def test_newer_runs_of_a_job_compact_the_older_ones(conn, matcher, tmp_path, capsys) -> None:
    builds = [PROW.format(job=GCE, build=b) for b in (3, 5, 4)]
    for number, source in enumerate(builds):
        report = load(conn, matcher, write(tmp_path / f"{number}.log", events(700, number)),
                      source)
    # build 4 loaded last, but build 5 is the newest: 4 compacted as soon as it loaded
    assert report.compacted == [(builds[2], 700)]
    assert conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall() == [
        (builds[0], "compact"), (builds[1], "hot"), (builds[2], "compact")]
    with_one = answers(conn)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["run", "release", "state", "events", "size", "B/event", "loaded",
                              "at", "source"]
    assert [(line.split()[0], line.split()[2], line.split()[-1]) for line in out[1:-1]] == [
        (f"{GCE}#5", "hot", builds[1]), (f"{GCE}#4", "compact", builds[2]),
        (f"{GCE}#3", "compact", builds[0])]
    assert out[-1].startswith("3 runs (1 hot, 2 compact), 2,100 events, ")
    assert out[-1].endswith("; loads keep the newest run of each job hot")
    # the database keeps two hot from now on; setting it to 1 compacts at once
    assert main(["runs", "keep-hot", "2"]) == 0
    assert capsys.readouterr().out == "loads keep the newest 2 runs of each job hot from now on\n"
    assert main(["runs", "hot", f"{GCE}#4"]) == 0  # a run named as `snoopdb runs` names it
    assert capsys.readouterr().out.splitlines()[0].startswith(f"{builds[2]}: compact → hot, ")
    load(conn, matcher, write(tmp_path / "again.log", events(700, 1)), builds[1])
    assert conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall() == [
        (builds[0], "compact"), (builds[1], "hot"), (builds[2], "hot")]
    assert answers(conn) == with_one
    assert main(["runs", "keep-hot", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{builds[2]}: hot → compact")
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["keep_hot"] == 1
    assert [(r["name"], r["source"], r["state"], r["events"]) for r in listed["runs"]] == [
        (f"{GCE}#5", builds[1], "hot", 700), (f"{GCE}#4", builds[2], "compact", 700),
        (f"{GCE}#3", builds[0], "compact", 700)]
    assert all(r["bytes"] > 0 for r in listed["runs"])
    assert answers(conn) == with_one
    assert dead_rows(conn, *STORAGE_TABLES[1:]) == 0
    # --keep-hot on a load, for this load only
    load_files = audit.load_run(conn, [write(tmp_path / "x.log", events(10, 9))], matcher,
                                release="1.36.0", release_date=None, source=builds[0],
                                keep_hot=3)
    assert load_files.compacted == []
    assert conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall() == [
        (builds[0], "hot"), (builds[1], "hot"), (builds[2], "compact")]


def test_a_kill_while_compacting_after_a_load_says_what_was_kept(
    conn, matcher, database_url, tmp_path, capsys,
) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    older, newer = write(folder / "a.log", events(300, 1)), write(folder / "b.log", events(200, 2))
    assert main(["load", "--release", "1.36", "--only", "audit", "--audit-log",
                 str(older.path)]) == 0
    (first,) = conn.execute("SELECT source FROM audit_run").fetchone()
    capsys.readouterr()

    def kill_the_compaction() -> None:
        with psycopg.connect(database_url, autocommit=True) as killer:
            for _ in range(400):
                waiting = killer.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                                         " AND NOT granted").fetchall()
                if waiting:
                    killer.execute("SELECT pg_terminate_backend(%s)", waiting[0])
                    return
                time.sleep(0.05)

    # the older run's lock held elsewhere: the load commits, then waits to compact it
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT audit_run_lock(%s)", (first,))
        killer = threading.Thread(target=kill_the_compaction)
        killer.start()
        status = main(["load", "--release", "1.36", "--only", "audit", "--audit-log",
                       str(newer.path)])
        killer.join()
        holder.rollback()
    (second,) = conn.execute("SELECT source FROM audit_run WHERE source <> %s",
                             (first,)).fetchone()
    assert status == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snoopdb: error: {second}: loaded and committed (200 events); compacting the job's"
        " older runs then failed (terminating connection due to administrator command);"
        f" still hot beside it: 1 older run ({first}): `snoopdb runs compact RUN`, or the"
        " job's next load, compacts them")
    assert conn.execute("SELECT source, state, events FROM audit_run ORDER BY run").fetchall(
        ) == [(first, "hot", 300), (second, "hot", 200)]


def wait_for_an_advisory_lock_wait(conn: psycopg.Connection) -> bool:
    """Whether a transaction came to wait for an advisory lock within 5 s."""
    for _ in range(100):
        if conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND NOT granted").fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


def test_a_release_dropped_while_its_run_loads_keeps_no_run(conn, matcher, database_url,
                                                             fetcher, shared_data,
                                                             tmp_path) -> None:
    from snoopdb.commands import releases as commands_releases
    from snoopdb.core.errors import NoSpecLoaded
    from snoopdb.core.releases import Release

    drop_release = commands_releases.drop_release
    log = write(tmp_path / "a.log", events(500, 1))
    dropped: list[commands_releases.ReleaseDropReport] = []

    def drop_in_thread() -> None:
        with psycopg.connect(database_url, autocommit=True) as own:
            dropped.append(drop_release(own, Release(1, 36)))

    # the drop starts while the load is reading its events: it waits for the load to
    # commit, then drops its run with the rest of the release
    dropper = threading.Thread(target=drop_in_thread)

    def on_progress(_: int) -> None:
        if not dropper.is_alive() and not dropped:
            dropper.start()
            assert wait_for_an_advisory_lock_wait(conn)

    source = PROW.format(job=GCE, build=1)
    with psycopg.connect(database_url, autocommit=True) as loading:
        audit.load_run(loading, [log], matcher, release="1.36.0", release_date=None,
                       source=source, on_progress=on_progress)
    dropper.join()
    assert dropped[0].runs == [(source, 500)]
    assert conn.execute("SELECT count(*) FROM audit_run").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM open_api").fetchone() == (0,)

    # the load starts while the drop is under way (not committed): it waits for it, then
    # finds no spec, and keeps nothing
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    errors: list[BaseException] = []

    def load_in_thread() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as own:
                audit.load_run(own, [log], matcher, release="1.36.0", release_date=None,
                               source=source)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with psycopg.connect(database_url) as dropping:
        dropping.execute("SELECT 1")  # a transaction the drop's block does not commit
        drop_release(dropping, Release(1, 36))
        loader = threading.Thread(target=load_in_thread)
        loader.start()
        wait_for_an_advisory_lock_wait(conn)
        dropping.commit()
    loader.join()
    assert [(type(e), str(e)) for e in errors] == [(
        NoSpecLoaded, "no spec loaded for release 1.36.0: the release was dropped while this run was being"
        " loaded (nothing of the run was kept)")]
    assert conn.execute("SELECT count(*) FROM audit_run").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)


def test_an_open_reader_makes_writers_give_up_naming_it(conn, matcher, database_url, tmp_path,
                                                       capsys, monkeypatch) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    load(conn, matcher, write(folder / "a.log", events(100, 1)), PROW.format(job=GCE, build=1))
    newer = write(folder / "b.log", events(50, 2))
    state = ("SELECT source, state, events FROM audit_run ORDER BY run",
             "SELECT count(*) FROM audit_event", "SELECT count(*) FROM load_log")
    before = [conn.execute(q).fetchall() for q in state]
    monkeypatch.setenv("SNOOPDB_LOCK_WAIT", "3")
    # a writer that waited unbounded would be stopped here, failing the test, not hanging it
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=30000")
    with psycopg.connect(database_url, application_name="a reader") as reader:
        reader.execute("SELECT count(*) FROM audit_event")  # and idle in its transaction
        pid = reader.info.backend_pid
        gave_up = (rf" gave up after waiting \d+ s for locks held by pid {pid} \(a reader, idle in"
                   r" transaction since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\); nothing was"
                   r" changed \(run it again once they are done; SNOOPDB_LOCK_WAIT sets the wait"
                   r" in seconds\)")
        for argv, doing in (
                (["runs", "drop", f"{GCE}#1"], "dropping 1 run"),
                (["releases", "drop", "1.36"], "dropping release 1.36.0")):
            assert main(argv) == 1
            assert re.fullmatch(f"snoopdb: error: {doing}:{gave_up}\n",
                                capsys.readouterr().err), argv
            assert [conn.execute(q).fetchall() for q in state] == before

        # a new run's load goes on beside the reader: it attaches a table of its own to
        # what audit_event reads, which waits for no reader (revision 0021)
        assert main(["load", "--release", "1.36", "--only", "audit", "--audit-log",
                     str(newer.path)]) == 0
        assert capsys.readouterr().err == ""
        assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (150,)

        # while a writer waits, readers do not queue behind it; it goes on once the
        # reader's transaction ends
        monkeypatch.setenv("SNOOPDB_LOCK_WAIT", "25")
        dropped: list[int] = []
        writer = threading.Thread(target=lambda: dropped.append(
            main(["runs", "drop", f"{GCE}#1"])))
        writer.start()
        assert wait_for_a_relation_lock_wait(conn)
        with psycopg.connect(database_url, autocommit=True) as later:
            later.execute("SET statement_timeout = '20s'")
            assert later.execute("SELECT count(*) FROM audit_event").fetchone() == (150,)
        assert writer.is_alive()
        reader.rollback()
        writer.join()
    assert dropped == [0]
    assert conn.execute("SELECT source FROM audit_run").fetchall() == [
        (f"file://{newer.path}",)]


def wait_for_a_relation_lock_wait(conn: psycopg.Connection) -> bool:
    """Whether a transaction came to wait for a table's lock within 10 s."""
    for _ in range(200):
        if conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'relation'"
                        " AND NOT granted").fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("keep", ["0", "-1", "99999999999", "²", "x"])
def test_prune_keep_is_a_bounded_positive_number(conn, capsys, keep: str) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse's own usage error
        main(["runs", "prune", "--keep", keep])
    assert exit_info.value.code == 2
    shown = keep if keep.isdecimal() and keep.isascii() else repr(keep)
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snoopdb: error: argument --keep: {shown}: expected 1 to 100,000 runs of each job kept"
        " (see `snoopdb runs prune --help`)")


def test_drops_go_in_batches_each_committed(conn, matcher, database_url, tmp_path, capsys,
                                            monkeypatch) -> None:
    monkeypatch.setattr(run_store, "DROP_BATCH", 2)
    monkeypatch.setenv("SNOOPDB_LOCK_WAIT", "2")
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=30000")  # never a hung test
    builds = {b: PROW.format(job=GCE, build=b) for b in range(1, 6)}
    for build, source in builds.items():
        load(conn, matcher, write(tmp_path / f"{build}.log", events(20, build)), source)
    run_of = dict(conn.execute("SELECT source, run FROM audit_run").fetchall())
    # the prune drops builds 4 and 3, then 2 and 1: a reader of build 2 stops the second
    with psycopg.connect(database_url, application_name="a reader") as reader:
        reader.execute(f"SELECT count(*) FROM runs.hit_{run_of[builds[2]]}")
        assert main(["runs", "prune", "--keep", "1"]) == 1
        assert capsys.readouterr().err.startswith(
            "snoopdb: error: 2 of 4 runs dropped, in batches each committed; then dropping 2"
            " runs: gave up after waiting")
    assert conn.execute("SELECT source FROM audit_run ORDER BY run").fetchall() == [
        (builds[1],), (builds[2],), (builds[5],)]
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (60,)
    # again, unhindered: it goes on from there
    assert main(["runs", "prune", "--keep", "1"]) == 0
    assert conn.execute("SELECT source FROM audit_run").fetchall() == [(builds[5],)]
    assert conn.execute("SELECT count(*), count(DISTINCT source) FROM audit_event"
                        ).fetchone() == (20, 1)
    assert run_tables(conn) == sorted([f"events_{run_of[builds[5]]}",
                                       *tables_of(run_of[builds[5]])])


@pytest.mark.parametrize("change", ["audit_run_drop", "audit_run_compact"])
def test_a_release_s_last_hot_run_going_beside_a_reader_deadlocks_neither(
        conn, matcher, database_url, tmp_path, change: str) -> None:
    """A release's last hot run dropped or compacted takes the release's part of
    runs.events with it, and dropping the part locks runs.events after the part: a
    reader takes them the other way round. A reader that read another release, then
    asks for this one while the change waits, must get its answer, and the change go
    on after it (before, one of them died of a deadlock)."""
    going, kept = PROW.format(job=GCE, build=1), PROW.format(job=KIND, build=1)
    load(conn, matcher, write(tmp_path / "a.log", events(40, 1)), going)
    load(conn, matcher, write(tmp_path / "b.log", events(30, 2)), kept, release="1.35.0")
    (going_events,) = conn.execute("SELECT count(*) FROM audit_event WHERE source = %s",
                                   (going,)).fetchone()
    errors: list[Exception] = []
    with psycopg.connect(database_url, application_name="a reader") as reader:
        reader.execute("SET deadlock_timeout = '100ms'")
        assert reader.execute("SELECT count(*) FROM audit_event WHERE release = '1.35.0'"
                              ).fetchone() == (30,)

        def go() -> None:
            try:
                with psycopg.connect(database_url, autocommit=True) as writer:
                    writer.execute("SET deadlock_timeout = '100ms'")
                    writer.execute(f"SELECT {change}(%s)", (going,))
            except psycopg.Error as exc:
                errors.append(exc)

        going_on = threading.Thread(target=go)
        going_on.start()
        assert wait_for_a_relation_lock_wait(conn)
        assert reader.execute("SELECT count(*) FROM audit_event WHERE release = '1.36.0'"
                              ).fetchone() == (going_events,)
        reader.commit()
        going_on.join()
    assert errors == []
    if change == "audit_run_drop":
        assert conn.execute("SELECT source FROM audit_run").fetchall() == [(kept,)]
        assert run_tables(conn) == sorted(["events_2", *tables_of(2)])
    else:
        assert conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall() == [
            (going, "compact"), (kept, "hot")]
        assert conn.execute("SELECT count(*) FROM audit_event WHERE release = '1.36.0'"
                            ).fetchone() == (going_events,)


def test_a_first_load_rewrites_audit_event_once(conn, matcher, tmp_path) -> None:
    conn.execute("SET track_functions = 'pl'")

    def rewrites() -> int:
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT calls FROM pg_stat_user_functions"
                           " WHERE funcname = 'audit_event_rebuild'").fetchone()
        return int(row[0]) if row else 0

    source = PROW.format(job=GCE, build=1)
    log = write(tmp_path / "a.log", events(30, 1))
    load(conn, matcher, log, source)
    assert rewrites() == 1  # a rewrite names every run's table: at many runs, the cost
    load(conn, matcher, log, source)  # a reload: without the old table, then with the new
    assert rewrites() == 3


def test_a_load_says_when_audit_event_holds_many_runs(conn, matcher, tmp_path, capsys,
                                                      monkeypatch) -> None:
    from snoopdb.commands import load as load_command

    monkeypatch.setattr(load_command, "VIEW_RUNS", 2)
    for name in ("a", "b", "c"):
        folder = tmp_path / name
        folder.mkdir()
        log = write(folder / "audit.log", events(10, ord(name)))
        assert main(["load", "--release", "1.36", "--only", "audit", "--audit-log",
                     str(log.path)]) == 0
        notes = [line for line in capsys.readouterr().err.splitlines()
                 if "audit_event holds" in line]
    assert notes == [
        "note: audit_event holds 3 runs (hot or compact): a query of all of it locks and"
        " plans each one, one restricted to a run or a release only those (docs/scale.md);"
        " archive older runs (snoopdb runs keep-compact N --to DIR) or prune them (snoopdb"
        " runs prune --keep N)"]


def test_keep_hot_says_how_many_runs_in_words(conn, capsys) -> None:
    for count, said in (("1", "the newest run of each job hot"),
                        ("2", "the newest 2 runs of each job hot"),
                        ("1000", "the newest 1,000 runs of each job hot"),
                        ("0", "every run compact")):
        assert main(["runs", "keep-hot", count]) == 0
        assert capsys.readouterr().out == f"loads keep {said} from now on\n"
        assert main(["runs", "keep-hot"]) == 0
        assert capsys.readouterr().out == f"loads keep {said}\n"


@pytest.mark.parametrize("argv", [["runs", "keep-hot", "99999999999"],
                                  ["runs", "keep-hot", "1001"],
                                  ["load", "--release", "1.36", "--keep-hot", "99999999999"]])
def test_keep_hot_is_bounded(conn, capsys, argv: list[str]) -> None:
    """A count PostgreSQL's integer cannot hold was accepted, and then every load
    committed and exited 1, and `snoopdb runs` failed: a usage error now, in one line."""
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own
        status = exit_info.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert f"argument {argv[-2] if argv[0] == 'load' else 'N'}: {argv[-1]}: expected 0 to " \
           "1,000 runs of each job kept hot" in err
    assert main(["runs"]) == 0
    assert capsys.readouterr().out.endswith("; loads keep the newest run of each job hot\n")


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
    # by job, newest build first
    assert [line.split()[-1] for line in out[1:-1]] == [
        PROW.format(job=KIND, build=b) for b in (5, 4)] + [
        PROW.format(job=GCE, build=b) for b in (12, 11, 9)]
    assert out[1].split()[:4] == [f"{KIND}#5", "1.36.0", "hot", "1,100"]
    assert out[-1].startswith("5 runs (2 hot, 3 compact), 4,900 events, ")

    assert main(["runs", "prune", "--keep", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("3 runs dropped (2,700 events, ")
    assert ", 2 kept, in " in out[-1]
    assert answers(conn) == alone
    assert [r.source for r in runs.list_runs(conn)] == list(reversed(kept))
    assert run_tables(conn) == sorted(["events_1", "events_2", *tables_of(1), *tables_of(2)])
    # the release whose every run went has no summaries left
    assert conn.execute("SELECT count(*) FROM release_endpoint_hit WHERE release = '1.35.0'"
                        ).fetchone() == (0,)
    assert dead_rows(conn, *STORAGE_TABLES[1:]) == 0


def test_drop_is_all_or_nothing_and_forgets_the_run(conn, matcher, tmp_path, capsys) -> None:
    first, second = PROW.format(job=GCE, build=1), PROW.format(job=GCE, build=2)
    body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    made = [dict(e, verb="create", requestURI="/api/v1/namespaces/ns/pods", requestObject=body)
            for e in events(1_000, 1)]
    load(conn, matcher, write(tmp_path / "a.log", made), first)
    load(conn, matcher, write(tmp_path / "b.log", events(500, 2)), second)
    assert conn.execute("SELECT count(*) > 0 FROM endpoint_field_hit WHERE source = %s",
                        (first,)).fetchone() == (True,)
    with pytest.raises(NotFound, match="no loaded run has source nowhere"):
        runs.drop_runs(conn, [first, "nowhere"])
    assert len(runs.list_runs(conn)) == 2
    assert main(["runs", "drop", "nowhere"]) == 1
    assert capsys.readouterr().err == (
        "snoopdb: error: no loaded run has source nowhere (name a run by its source, as "
        "JOB#BUILD, or by the folder of its local logs)\n")
    assert main(["runs", "drop", f"{GCE}#7"]) == 1
    assert capsys.readouterr().err == f"snoopdb: error: no loaded run of job {GCE} has build 7\n"
    report = runs.drop_runs(conn, [first])
    assert ([r.source for r in report.dropped], [r.source for r in report.kept]) == (
        [first], [second])
    assert report.events == 1_000
    # nothing of the run is left: no table, no row in any summary or view
    assert run_tables(conn) == sorted(["events_2", *tables_of(2)])
    for table in ("endpoint_hit", "endpoint_field_hit", "endpoint_body_hit", "audit_event"):
        assert conn.execute(f"SELECT DISTINCT source FROM {table}").fetchall() in (
            [(second,)], []), table
    assert conn.execute("SELECT count(*) FROM release_field_hit").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (500,)
    assert main(["runs", "drop", f"{GCE}#2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"dropped {second} (1.36.0, 500 events)"
    assert out[-1].startswith("1 run dropped (500 events, ")
    assert run_tables(conn) == []
    assert dead_rows(conn, *STORAGE_TABLES[1:]) == 0
    with pytest.raises(InputError, match="must be 1 to 100,000, not 0"):
        runs.prune_runs(conn, 0)


def test_local_runs_are_named_by_their_folder(conn, matcher, tmp_path, capsys) -> None:
    """Runs with no build (local logs) are named by their folder: a name two runs share
    is refused, naming them; the Runs page offers each by a name that finds it."""
    (tmp_path / "w6").mkdir()
    (tmp_path / "w7").mkdir()
    logs = [write(tmp_path / folder / name, events(10, n)) for n, (folder, name) in
            enumerate((("w6", "a.log"), ("w6", "b.log"), ("w7", "a.log")))]
    for log in logs:
        load(conn, matcher, log, log.path.as_uri())
    listed = runs.list_runs(conn)
    assert sorted((run.name, run.source) for run in listed) == [
        ("w6", logs[0].path.as_uri()), ("w6", logs[1].path.as_uri()),
        ("w7", logs[2].path.as_uri())]
    assert main(["runs", "compact", "w7"]) == 0
    assert capsys.readouterr().out.startswith(f"{logs[2].path.as_uri()}: hot → compact, ")
    with pytest.raises(InputError, match=r"^w6 names 2 runs \(file://.*\): name one by its "
                                         r"source$"):
        runs.drop_runs(conn, ["w6"])
    assert sorted(handles(listed).values()) == sorted(
        [logs[0].path.as_uri(), logs[1].path.as_uri(), "w7"])


def dump_schema(url: str) -> str:
    """The schema, without the runs' and summaries' own tables and the body of
    audit_event (a branch per run: data; a fresh database has none)."""
    dump = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--exclude-schema=runs",
                           "--exclude-schema=summaries", url],
                          check=True, capture_output=True, text=True).stdout
    body = re.compile(r"^CREATE VIEW public\.audit_event AS$.*?;$", re.M | re.S)
    # \restrict lines carry a random key per dump
    return "\n".join(line for line in body.sub("", dump).splitlines() if "restrict " not in line)


@pytest.mark.slow
def test_revisions_0008_and_0010_migrate_existing_runs_and_downgrade(
        database_server: str) -> None:
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
                " i % 8 = 1, jsonb_build_object('i', i, 's', E'a\\tb\"c'), 'https://p/logs/j/' || i % 2,"
                " CASE WHEN i % 3 = 0 THEN 'ignored path' END FROM generate_series(1, 2500) i")
            db.execute(f"INSERT INTO audit_event ({COLUMNS}) VALUES ('1.35.0', NULL, NULL, NULL,"
                       " NULL, NULL, false, false, '{}', 'other', 'unknown verb')")
            db.execute("INSERT INTO endpoint_hit (release, source, endpoint, test, test_hit,"
                       " conf_test_hit, hits, imported) VALUES ('1.20.0', 'published/1.20.0.json',"
                       " 'ep1', 'test 1', true, false, 0, true),"
                       " ('1.36.0', 'https://p/logs/j/1', 'ep1', 'test 1', true, false, 3, false)")
        ordered = f"SELECT {COLUMNS} FROM audit_event ORDER BY source, id"
        hits = "SELECT * FROM endpoint_hit ORDER BY source, endpoint"
        with psycopg.connect(url) as db:
            before = db.execute(ordered).fetchall()
            hits_before = db.execute(hits).fetchall()
        schema.migrate(url, "0009")
        with psycopg.connect(url) as db:
            assert db.execute(ordered).fetchall() == before
            assert db.execute(hits).fetchall() == hits_before
        schema.migrate(url)
        with psycopg.connect(url) as db:
            assert db.execute(ordered).fetchall() == before
            assert db.execute(hits).fetchall() == hits_before
            # the newest run of each job hot (a source with no "/" is a job of its own)
            assert db.execute("SELECT source, release, events, state FROM audit_run"
                              " ORDER BY run").fetchall() == [
                ("https://p/logs/j/1", "1.36.0", 1250, "hot"),
                ("https://p/logs/j/0", "1.36.0", 1250, "compact"),
                ("other", "1.35.0", 1, "hot"),
                ("published/1.20.0.json", "1.20.0", 0, "imported")]
        assert dump_schema(url) == fresh_schema
        schema.downgrade(url, "0009")
        with psycopg.connect(url) as db:
            assert db.execute(ordered).fetchall() == before
            assert db.execute(hits).fetchall() == hits_before
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

    def reload(source: str, log: LogFile) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as own:
                load(own, matcher, log, source)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    # A reader of audit_event holds both swaps back until both loads are there: the
    # first waits to rewrite the view, the second for the first.
    with psycopg.connect(database_url) as reader:
        reader.execute("SELECT count(*) FROM audit_event")
        threads = [threading.Thread(target=reload, args=pair)
                   for pair in zip(sources, logs, strict=True)]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(100):
            waiting = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
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


SUMMARIES = ("release_endpoint_hit", "release_test_hit", "release_field_hit",
             "release_body_hit", "release_run_hit", "release_test_endpoint_hit")


def summaries(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in SUMMARIES}


def test_a_new_run_is_added_to_its_releases_summaries_as_a_rewrite_would(
        conn, matcher, tmp_path) -> None:
    """Runs of two jobs, tests that hit different endpoints from run to run, bodies:
    the summaries each load merges in are those a rewrite from every run gives."""
    body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    for number, (job, build) in enumerate(((GCE, 1), (KIND, 1), (GCE, 2), (GCE, 3))):
        made = events(600 + 100 * number, number)
        for event in made[number::4]:
            event.update(verb="create", requestURI="/api/v1/namespaces/ns/pods",
                         requestObject=body)
        load(conn, matcher, write(tmp_path / f"{number}.log", made),
             PROW.format(job=job, build=build))
        added = summaries(conn)
        conn.execute("SELECT refresh_coverage()")
        assert summaries(conn) == added, f"after run {number + 1}"
    assert all(rows for rows in added.values())
