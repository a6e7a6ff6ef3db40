"""The archive tier (schema revision 0017): a run archived as one Parquet file, its
events table dropped and its summaries kept, so every view still counts it; read with
DuckDB (`query --archive`, `db duckdb`) as psql reads audit_event, read-only; brought
back hot; archived runs of a job beyond keep-compact; never lost when the folder
cannot be written, fills up, or its writer is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_runs import GCE, PROW, events, load, matcher, run_tables, tables_of, write

from snoopdb.cli import main
from snoopdb.commands import archive as archiving
from snoopdb.commands import runs
from snoopdb.commands.archive_query import archive_query
from snoopdb.core import copytext, gcs_objects
from snoopdb.core.bounds import ARCHIVE_FILE
from snoopdb.core.config import Settings
from snoopdb.core.errors import ArchiveError, DatabaseError, FetchError, UsageError
from snoopdb.db import archive, run_store
from testkit.gcs_server import GcsServer

__all__ = ["matcher"]  # the fixture, used by name

COLUMNS = ("release, release_date, audit_id, endpoint, useragent, test, test_hit,"
           " conf_test_hit, data, source, id, ingested_at, error")
# what the coverage views say of the runs, which archiving must not change
VIEWS = ("endpoint_hit", "endpoint_field_hit", "endpoint_body_hit", "run_coverage",
         "endpoint_stability", "test_endpoint_stability", "endpoint_coverage",
         "audit_event_test", "conformance.stable_coverage")


def view_rows(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {view: sorted(map(repr, conn.execute(f"SELECT * FROM {view}").fetchall()))
            for view in VIEWS}


def archived_rows(folder: Path, capsys: pytest.CaptureFixture[str],
                  where: str = "true") -> list[dict]:
    """audit_event's rows over the archive at `folder`, through the CLI, by id."""
    assert main(["query", "--archive", str(folder),
                 f"select {COLUMNS} from audit_event where {where} order by id"]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_archived_run_keeps_its_summaries_and_reads_back_alike(
        conn, matcher, tmp_path, capsys) -> None:
    first, second = PROW.format(job=GCE, build=1), PROW.format(job=GCE, build=2)
    made = events(2_345, 1)
    load(conn, matcher, write(tmp_path / "a.log", made), first)
    load(conn, matcher, write(tmp_path / "b.log", events(1_200, 2)), second)
    assert conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall() == [
        (first, "compact"), (second, "hot")]
    assert main(["query", f"select {COLUMNS} from audit_event order by id"]) == 0
    before = json.loads(capsys.readouterr().out)
    views = view_rows(conn)
    folder = tmp_path / "archive"
    report = archiving.archive_runs(conn, Settings(), [f"{GCE}#1", f"{GCE}#2"], str(folder))
    assert [(b.state, a.state) for b, a in report.moved] == [
        ("compact", "archived"), ("hot", "archived")]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))
    assert files == [f"release=1.36.0/job={GCE}/run=1/events.parquet",
                     f"release=1.36.0/job={GCE}/run=2/events.parquet"]
    assert conn.execute("SELECT source, state, archive, archive_bytes FROM audit_run"
                        " ORDER BY run").fetchall() == [
        (source, "archived", str(folder / name), (folder / name).stat().st_size)
        for source, name in zip((first, second), files, strict=True)]
    # the events tables went, the summaries stayed; audit_event has no branch for them
    assert run_tables(conn) == sorted([*tables_of(1), *tables_of(2)])
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)
    assert view_rows(conn) == views
    # the archive answers as audit_event did, column for column
    assert archived_rows(folder, capsys) == before
    # the fields pulled out of data are data's
    assert main(["query", "--archive", str(folder), "--csv",
                 "select count(*) filter (where verb is distinct from data->>'verb'"
                 " or username is distinct from data->'user'->>'username') as differ,"
                 " count(*) as events, count(distinct run) as runs from audit_event"]) == 0
    assert capsys.readouterr().out == "differ,events,runs\n0,3545,2\n"
    # brought back hot: the same rows, indexed again; its file stays
    assert main(["runs", "hot", f"{GCE}#1"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f"{first}: archived → hot, ")
    assert conn.execute("SELECT state FROM audit_run ORDER BY run").fetchall() == [
        ("hot",), ("archived",)]
    assert "events_1_pkey" in {r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'events_1'").fetchall()}
    assert main(["query", f"select {COLUMNS} from audit_event order by id"]) == 0
    assert json.loads(capsys.readouterr().out) == [r for r in before if r["source"] == first]
    assert view_rows(conn) == views


def prow_runs(conn, matcher, tmp_path: Path, *builds: int, count: int = 600) -> list[str]:
    """Runs of GCE's builds `builds`, loaded in that order; their sources."""
    sources = [PROW.format(job=GCE, build=build) for build in builds]
    for build, source in zip(builds, sources, strict=True):
        load(conn, matcher, write(tmp_path / f"{build}.log", events(count, build)), source)
    return sources


def states(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute("SELECT source, state FROM audit_run ORDER BY run").fetchall()


def events_of(conn: psycopg.Connection, source: str) -> list[tuple]:
    return conn.execute(f"SELECT {COLUMNS} FROM audit_event WHERE source = %s ORDER BY id",
                        (source,)).fetchall()


def test_runs_lists_all_three_states_and_keep_compact_archives_a_jobs_older_runs(
        conn, matcher, tmp_path, capsys) -> None:
    sources = prow_runs(conn, matcher, tmp_path, 1, 2, 3)
    folder = tmp_path / "archive"
    assert main(["runs", "keep-compact"]) == 0
    assert capsys.readouterr().out == "loads archive no run\n"
    assert main(["runs", "keep-compact", "2"]) == 2
    assert "archive where? Give --to FOLDER" in capsys.readouterr().err
    assert main(["runs", "keep-compact", "2", "--to", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"loads keep the newest 2 runs of each job in the database and archive "
                      f"older ones to {folder} from now on")
    assert out[1].startswith(f"{sources[0]}: compact → archived, ")
    assert out[1].endswith(f" at {folder}/release=1.36.0/job={GCE}/run=1/events.parquet "
                           "(600 events)")
    assert states(conn) == [(sources[0], "archived"), (sources[1], "compact"),
                            (sources[2], "hot")]
    # a load archives the job's runs beyond the newest 2 in the database
    newest = prow_runs(conn, matcher, tmp_path, 4)[0]
    report = archiving.keep_compact(conn, Settings(), newest)
    assert [(b.source, a.state) for b, a in report] == [(sources[1], "archived")]
    assert main(["runs"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[1:-1]]
    assert [(row[0], row[2]) for row in rows if not row[0] == "archived"] == [
        (f"{GCE}#4", "hot"), (f"{GCE}#3", "compact"), (f"{GCE}#2", "archived"),
        (f"{GCE}#1", "archived")]
    assert [line.strip() for line in out if line.strip().startswith("archived to ")] == [
        f"archived to {folder}/release=1.36.0/job={GCE}/run={build}/events.parquet"
        for build in (2, 1)]
    assert out[-1].startswith("4 runs (1 hot, 1 compact, 2 archived), 2,400 events, ")
    assert out[-1].endswith(f"; loads keep the newest run of each job hot; loads keep the "
                            f"newest 2 runs of each job in the database and archive older "
                            f"ones to {folder}")
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert (listed["keep_compact"], listed["archive"]) == (2, str(folder))
    assert [(r["state"], r["archive"] is not None) for r in listed["runs"]] == [
        ("hot", False), ("compact", False), ("archived", True), ("archived", True)]
    assert main(["runs", "keep-compact", "--off"]) == 0
    assert capsys.readouterr().out == f"loads archive no run (archive folder: {folder}) from now on\n"
    assert archiving.keep_compact(conn, Settings(), newest) == []


def test_a_load_with_keep_compact_needs_a_folder(conn, matcher, tmp_path, capsys) -> None:
    log = write(tmp_path / "a.log", events(10, 1))
    assert main(["load", "--release", "1.36", "--only", "audit", "--audit-log",
                 str(log.path), "--keep-compact", "1"]) == 2
    assert capsys.readouterr().err == (
        "snoopdb: error: --keep-compact 1: no archive folder is set for this database "
        "(snoopdb runs keep-compact N --to FOLDER sets one)\n")
    assert states(conn) == []


def test_a_folder_that_cannot_be_written_loses_nothing(conn, matcher, tmp_path, capsys) -> None:
    source = prow_runs(conn, matcher, tmp_path, 1)[0]
    before = events_of(conn, source)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["runs", "archive", f"{GCE}#1", "--to", str(blocker / "archive")]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: {blocker}/archive/.incoming: cannot write there (Not a directory); "
        "nothing was archived\n")
    # the file is written, then cannot be placed: the folder of its release is a file
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "release=1.36.0").write_text("in the way")
    with pytest.raises(ArchiveError, match=r"release=1\.36\.0/job=.*: .*the run was not archived"):
        archiving.archive_runs(conn, Settings(), [source], str(folder))
    assert states(conn) == [(source, "hot")]
    assert events_of(conn, source) == before
    assert list((folder / ".incoming").iterdir()) == []


def limited(size: int):  # noqa: ANN201 (a preexec_fn)
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return apply


def test_a_full_disk_loses_nothing(conn, matcher, tmp_path, database_url) -> None:
    """A process that may write no file past 16 kB (RLIMIT_FSIZE: as a full disk, every
    write past it fails) cannot archive a run: one line names the file, the run stays."""
    source = prow_runs(conn, matcher, tmp_path, 1, count=3_000)[0]
    before = events_of(conn, source)
    folder = tmp_path / "archive"
    done = subprocess.run([sys.executable, "-m", "snoopdb", "runs", "archive", f"{GCE}#1",
                           "--to", str(folder)], capture_output=True, text=True,
                          env=dict(os.environ, DATABASE_URL=database_url),
                          preexec_fn=limited(16_000), check=False, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"snoopdb: error: {folder}/.incoming/")
    assert "File too large" in done.stderr and done.stderr.count("\n") == 1
    assert states(conn) == [(source, "hot")]
    assert events_of(conn, source) == before
    assert list(folder.rglob("*.parquet")) == []


def test_a_killed_archive_loses_nothing_and_the_next_replaces_its_file(
        conn, matcher, tmp_path, database_url) -> None:
    source = prow_runs(conn, matcher, tmp_path, 1, count=3_000)[0]
    before = events_of(conn, source)
    folder = tmp_path / "archive"
    final = folder / f"release=1.36.0/job={GCE}/run=1/events.parquet"
    command = [sys.executable, "-m", "snoopdb", "runs", "archive", f"{GCE}#1", "--to",
               str(folder)]
    environment = dict(os.environ, DATABASE_URL=database_url)
    # killed once its file is in place, before the database changes (the swap waits for
    # the coverage lock, held here): the run is whole in the database, the file whole
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT coverage_lock()")
        process = subprocess.Popen(command, env=environ_quiet(environment), cwd=tmp_path)
        wait_for(final.exists)
        wait_for(lambda: holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone() == (1,))
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert states(conn) == [(source, "hot")]
    assert events_of(conn, source) == before
    first = final.stat().st_ino
    # killed at once: wherever it stopped, the run is whole in the database, and the
    # next archive sweeps what it left in .incoming
    process = subprocess.Popen(command, env=environ_quiet(environment), cwd=tmp_path)
    wait_for(lambda: any((folder / ".incoming").iterdir()))
    process.send_signal(signal.SIGKILL)
    process.wait()
    if states(conn) == [(source, "hot")]:
        assert events_of(conn, source) == before
        report = archiving.archive_runs(conn, Settings(), [source], str(folder))
        assert [a.state for _, a in report.moved] == ["archived"]
    assert list((folder / ".incoming").iterdir()) == []
    assert final.stat().st_ino != first  # replaced in one rename
    assert archive.content(final) == archive.Content(3_000, archive.content(final).checksum,
                                                     source)
    assert states(conn) == [(source, "archived")]


def environ_quiet(environment: dict[str, str]) -> dict[str, str]:
    return dict(environment, PYTHONUNBUFFERED="1")


def wait_for(condition, seconds: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_another_runs_file_is_never_replaced(conn, matcher, tmp_path) -> None:
    folder = tmp_path / "archive"
    source = prow_runs(conn, matcher, tmp_path, 1)[0]
    archiving.archive_runs(conn, Settings(), [source], str(folder))
    # build 1 of a job of the same name in another bucket: the same place in the archive
    other = f"https://prow.k8s.io/view/gs/other-bucket/logs/{GCE}/1"
    load(conn, matcher, write(tmp_path / "other.log", events(50, 7)), other)
    with pytest.raises(ArchiveError, match=f"holds the events of another run, '{source}'"):
        archiving.archive_runs(conn, Settings(), [other], str(folder))
    assert states(conn) == [(source, "archived"), (other, "hot")]


def test_query_over_an_archive_is_read_only_and_names_a_broken_file(
        conn, matcher, tmp_path, capsys) -> None:
    folder = tmp_path / "archive"
    sources = prow_runs(conn, matcher, tmp_path, 1, 2)
    archiving.archive_runs(conn, Settings(), sources, str(folder))
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    for statement, said in (
            (f"copy (select 1) to '{folder}/x.csv'", "SQL is not a query"),
            (f"copy audit_event to '{folder}/release=1.36.0/job={GCE}/run=1/events.parquet'",
             "SQL is not a query"),
            ("select 1; select 2", "SQL holds more than one statement"),
            (f"select * from read_csv('{secret}')", "Permission Error: Cannot access file"),
            (f"select * from '{secret}'", "Permission Error: Cannot access file"),
            (f"attach '{tmp_path}/x.db'", "SQL is not a query"),
            ("set enable_external_access = true", "SQL is not a query"),
            ("install httpfs", "SQL is not a query"),
            ("create table t as select 1", "SQL is not a query"),
            (f"explain analyze copy (select 1) to '{folder}/y.csv'", "SQL is not a query"),
            ("select * from query('copy (select 1) to ''/tmp/x.csv''')", "SELECT")):
        assert main(["query", "--archive", str(folder), statement]) in (1, 2), statement
        assert said in capsys.readouterr().err, statement
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == [
        "events.parquet", "events.parquet"]
    # what reads runs
    assert main(["query", "--archive", str(folder), "--csv",
                 "explain select count(*) from audit_event"]) == 0
    assert main(["query", "--archive", str(folder), "--csv",
                 "select run, count(*) as events from audit_event group by run order by run"]) == 0
    assert capsys.readouterr().out.endswith("run,events\n1,600\n2,600\n")
    # a file cut short: named
    broken = folder / f"release=1.36.0/job={GCE}/run=2/events.parquet"
    broken.write_bytes(broken.read_bytes()[:-100])
    assert main(["query", "--archive", str(folder), "select count(*) from audit_event"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"snoopdb: error: {broken}: not a whole Parquet file (")
    assert err.endswith(f"); archive its run again, or move it out of {folder}\n")
    # an empty folder: no rows, the same columns
    (tmp_path / "empty").mkdir()
    assert main(["query", "--archive", str(tmp_path / "empty"), "--csv",
                 "select * from audit_event"]) == 0
    assert capsys.readouterr().out == (
        "release,release_date,audit_id,endpoint,useragent,test,test_hit,conf_test_hit,data,"
        "source,id,ingested_at,error,verb,api_group,api_version,resource,subresource,"
        "namespace,name,code,username,request_received_timestamp,stage_timestamp,job,run\n")


def test_the_archives_audit_event_has_postgresqls_columns(conn, matcher, tmp_path) -> None:
    """DuckDB's audit_event: the columns of PostgreSQL's, in its order, then the fields
    pulled out of data and the folders; an empty archive's view has the same."""
    from snoopdb.commands.archive_query import opened

    ours = [r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'audit_event'::regclass"
        " AND attnum > 0 ORDER BY attnum").fetchall()]
    folder = tmp_path / "archive"
    archiving.archive_runs(conn, Settings(), prow_runs(conn, matcher, tmp_path, 1),
                           str(folder))
    (tmp_path / "empty").mkdir()
    described = []
    for where in (folder, tmp_path / "empty"):
        with opened(where, "test") as opened_archive:
            described.append(opened_archive.db.execute("DESCRIBE audit_event").fetchall())
    assert described[0] == described[1]
    names = [row[0] for row in described[0]]
    assert names[:len(ours)] == ours
    assert names[len(ours):] == [
        "verb", "api_group", "api_version", "resource", "subresource", "namespace", "name",
        "code", "username", "request_received_timestamp", "stage_timestamp", "job", "run"]


def test_without_duckdb_one_line_names_the_extra(tmp_path, database_url) -> None:
    shadow = tmp_path / "shadow" / "duckdb"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'duckdb'\")\n")
    (tmp_path / "archive").mkdir()
    environment = dict(os.environ, DATABASE_URL=database_url,
                       PYTHONPATH=str(tmp_path / "shadow"))
    for command in (["query", "--archive", str(tmp_path / "archive"), "select 1"],
                    ["db", "duckdb", "--archive", str(tmp_path / "archive")]):
        done = subprocess.run([sys.executable, "-m", "snoopdb", *command], env=environment,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (1, ""), command
        assert done.stderr == (f"snoopdb: error: snoopdb {' '.join(command[:2])} needs "
                               "DuckDB, which is not installed: pip install "
                               "'snoopdb[archive]'\n")


def test_bigquery_ddl(capsys) -> None:
    assert main(["archive", "bigquery-ddl", "gs://k8s-snoopdb/archive/ci",
                 "--dataset", "my-project.snoopdb"]) == 0
    assert capsys.readouterr().out == """\
CREATE EXTERNAL TABLE `my-project.snoopdb.audit_event_files`
WITH PARTITION COLUMNS (release STRING, job STRING, run STRING)
OPTIONS (
  format = 'PARQUET',
  uris = ['gs://k8s-snoopdb/archive/ci/*'],
  hive_partition_uri_prefix = 'gs://k8s-snoopdb/archive/ci',
  require_hive_partition_filter = false
);

CREATE VIEW `my-project.snoopdb.audit_event` AS
SELECT release, release_date, audit_id, endpoint, useragent, test, test_hit, conf_test_hit,
       SAFE.PARSE_JSON(data) AS data, source, id, ingested_at, error,
       verb, api_group, api_version, resource, subresource, namespace, name, code, username,
       request_received_timestamp, stage_timestamp, job, run
FROM `my-project.snoopdb.audit_event_files`;
"""
    for argv, said in ((["gs://Bad_Bucket/x", "--dataset", "d"], "is not a bucket name"),
                       (["/srv/archive", "--dataset", "d"], "not a gs://BUCKET/PREFIX"),
                       (["gs://bucket/a'b", "--dataset", "d"], "the prefix may hold"),
                       (["gs://bucket/x", "--dataset", "d`; drop"], "not a BigQuery dataset")):
        assert main(["archive", "bigquery-ddl", *argv]) == 2
        assert said in capsys.readouterr().err


def test_archived_runs_still_count_on_the_dashboard_and_in_releases(
        conn, matcher, tmp_path) -> None:
    from snoopdb.db.queries import rows

    sources = prow_runs(conn, matcher, tmp_path, 1, 2)
    before = (rows(conn, "dashboard/runs.sql"), rows(conn, "releases/list.sql"),
              rows(conn, "dashboard/release_coverage.sql", release="1.36.0"))
    archiving.archive_runs(conn, Settings(), sources, str(tmp_path / "archive"))
    after = (rows(conn, "dashboard/runs.sql"), rows(conn, "releases/list.sql"),
             rows(conn, "dashboard/release_coverage.sql", release="1.36.0"))
    assert [[dict(r, state=None) for r in part] for part in after] == [
        [dict(r, state=None) for r in part] for part in before]
    assert {r["state"] for r in after[0]} == {"archived"}
    assert after[2][0]["runs"] == 2


def test_a_run_named_twice_or_not_loaded(conn, matcher, tmp_path) -> None:
    prow_runs(conn, matcher, tmp_path, 1)
    with pytest.raises(UsageError, match="archive where?"):
        archiving.archive_runs(conn, Settings(), [f"{GCE}#1"])
    report = runs.move_runs(conn, [f"{GCE}#1"], "compact")
    assert [a.state for _, a in report.moved] == ["compact"]



TOKEN = "ya29.test-token"  # noqa: S105 (the loopback server's)


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GcsServer]:
    server = GcsServer(tmp_path / "gcs", token=TOKEN)
    (tmp_path / "gcs" / "k8s-snoopdb").mkdir(parents=True)
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    monkeypatch.setenv("SNOOPDB_GCS_TOKEN", TOKEN)
    yield server
    server.close()


def test_an_upload_resumes_after_refused_and_broken_chunks(gcs, tmp_path) -> None:
    content = os.urandom(5 * 256 * 1024 + 1234)
    path = tmp_path / "file"
    path.write_bytes(content)
    bucket = gcs_objects.Bucket(gcs.url, "k8s-snoopdb", TOKEN, chunk=2 * 256 * 1024)
    gcs.chunk_faults = [503, "cut", 429]
    stored = bucket.upload("a/b/events.parquet", path)
    assert (tmp_path / "gcs/k8s-snoopdb/a/b/events.parquet").read_bytes() == content
    assert stored.size == len(content)
    # every byte sent once past the faults, in chunks of 512 KiB, the last shorter
    assert gcs.chunks == [("a/b/events.parquet", 512 * 1024)] * 2 + [
        ("a/b/events.parquet", 256 * 1024 + 1234)]
    # a second upload replaces the object whole
    path.write_bytes(content[::-1])
    bucket.upload("a/b/events.parquet", path)
    assert (tmp_path / "gcs/k8s-snoopdb/a/b/events.parquet").read_bytes() == content[::-1]
    back = tmp_path / "back"
    assert bucket.download("a/b/events.parquet", back, ARCHIVE_FILE).size == len(content)
    assert back.read_bytes() == content[::-1]
    # a server that refuses every chunk: the upload ends, in one line
    gcs.chunk_faults = [503] * 10
    with pytest.raises(FetchError, match=r"^gs://k8s-snoopdb/c: upload failed: HTTP 503 "
                                         r"\(4 failures in a row\)$"):
        bucket.upload("c", path)
    assert not (tmp_path / "gcs/k8s-snoopdb/c").exists()


def test_runs_archive_to_gcs_and_back(conn, matcher, tmp_path, gcs, capsys,
                                      monkeypatch) -> None:
    source = prow_runs(conn, matcher, tmp_path, 1)[0]
    before = events_of(conn, source)
    views = view_rows(conn)
    name = f"snoopdb/ci/release=1.36.0/job={GCE}/run=1/events.parquet"
    monkeypatch.setenv("SNOOPDB_GCS_TOKEN", "wrong")
    assert main(["runs", "archive", f"{GCE}#1", "--to", "gs://k8s-snoopdb/snoopdb/ci"]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: gs://k8s-snoopdb/{name}: HTTP 401: Invalid Credentials "
        "(SNOOPDB_GCS_TOKEN: a valid token, allowed to use the bucket?)\n")
    monkeypatch.delenv("SNOOPDB_GCS_TOKEN")
    assert main(["runs", "archive", f"{GCE}#1", "--to", "gs://k8s-snoopdb/snoopdb/ci"]) == 1
    assert "GCS needs an access token in SNOOPDB_GCS_TOKEN" in capsys.readouterr().err
    assert states(conn) == [(source, "hot")]
    monkeypatch.setenv("SNOOPDB_GCS_TOKEN", TOKEN)
    gcs.chunk_faults = [503]
    assert main(["runs", "archive", f"{GCE}#1", "--to", "gs://k8s-snoopdb/snoopdb/ci"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(
        f" at gs://k8s-snoopdb/{name} (600 events)")
    uploaded = tmp_path / "gcs" / "k8s-snoopdb" / name
    assert archive.content(uploaded) == archive.Content(
        600, archive.content(uploaded).checksum, source)
    assert conn.execute("SELECT state, archive, archive_bytes FROM audit_run").fetchall() == [
        ("archived", f"gs://k8s-snoopdb/{name}", uploaded.stat().st_size)]
    assert view_rows(conn) == views
    # back from the bucket
    assert main(["runs", "hot", f"{GCE}#1"]) == 0
    assert states(conn) == [(source, "hot")]
    assert events_of(conn, source) == before



def test_the_duckdb_shell_runs_what_it_reads(conn, matcher, tmp_path, database_url) -> None:
    folder = tmp_path / "archive"
    archiving.archive_runs(conn, Settings(), prow_runs(conn, matcher, tmp_path, 1, 2),
                           str(folder))

    def shell(typed: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "snoopdb", "db", "duckdb", "--archive",
                               str(folder)], input=typed, capture_output=True, text=True,
                              env=dict(os.environ, DATABASE_URL="postgresql://nowhere"),
                              check=False, cwd=tmp_path)

    done = shell("select run,\n  count(*) as events\nfrom audit_event group by run order by run;\n"
                 ".tables\n.quit\nselect 'never';\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == """\
┌─────────┬────────┐
│   run   │ events │
│ varchar │ int64  │
├─────────┼────────┤
│ 1       │    600 │
│ 2       │    600 │
└─────────┴────────┘
┌─────────────┐
│    name     │
│   varchar   │
├─────────────┤
│ audit_event │
└─────────────┘
"""
    done = shell(f"copy audit_event to '{folder}/x.csv';\nselect 1 as one;\n")
    assert done.returncode == 1
    assert done.stderr.startswith("error: SQL is not a query: ")
    assert "│     1 │" in done.stdout
    assert not (folder / "x.csv").exists()


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=30)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.one_of(st.none(), _TEXT), _TEXT, st.one_of(st.none(), _TEXT),
                               st.dictionaries(_TEXT, st.one_of(_TEXT, st.integers(-2**53, 2**53),
                                                                st.booleans(), st.none()),
                                               max_size=4)),
                     min_size=1, max_size=6))
def test_any_text_archives_and_comes_back_whole(conn, tmp_path_factory, rows) -> None:
    """auditIDs, user agents, test names and event bodies of any characters (tabs,
    newlines, backslashes, quotes, control characters, any plane): the archive reads
    them back as PostgreSQL held them, and so does the run brought back."""
    source = PROW.format(job=GCE, build=77)
    with conn.transaction():
        run = run_store.prepare(conn, source, "1.36.0")
        with run_store.copy_events(conn, run) as copy:
            for chunk in copytext.rows(
                    (n, audit_id, "readCoreV1Namespace", None, useragent, test, True, False,
                     orjson.dumps({"auditID": audit_id, "verb": useragent, "body": body}).decode())
                    for n, (audit_id, useragent, test, body) in enumerate(rows)):
                copy.write(chunk)
        run_store.store_summaries(conn, run, [], [], [])
        run_store.publish(conn, run, "1.36.0", None, len(rows))
    before = events_of(conn, source)
    folder = tmp_path_factory.mktemp("archive")
    archiving.archive_runs(conn, Settings(), [source], str(folder))
    with archive_query(folder, f"select {COLUMNS}, verb from audit_event order by id",
                       60) as result:
        read = list(result.rows)
    assert [row[:-1] for row in read] == before
    assert [row[-1] for row in read] == [useragent for _, useragent, _, _ in rows]
    runs.move_runs(conn, [source], "hot")
    assert events_of(conn, source) == before
    runs.drop_runs(conn, [source])


@given(st.text(max_size=60))
def test_gcs_places_are_read_whole_or_refused(text) -> None:
    for candidate in (text, f"gs://{text}", f"gs://bucket-1/{text}"):
        try:
            place = gcs_objects.Place.parse(candidate)
        except UsageError:
            continue
        assert gcs_objects.Place.parse(place.uri()) == place
        assert "'" not in place.uri() and "*" not in place.uri()


@given(st.text(max_size=40), st.binary(max_size=200))
def test_gcs_answers_are_read_or_refused(range_header, body) -> None:
    """What GCS answers is outside input: a Range header and an object's description."""
    answer = requests.Response()
    answer.status_code = 308
    answer.headers["Range"] = range_header
    answer._content = body
    assert gcs_objects._range_end(answer) >= 0
    try:
        stored = gcs_objects._described("gs://b/o", answer)
    except FetchError:
        return
    assert stored.size >= 0 and isinstance(stored.md5, str)


@pytest.mark.slow
def test_a_downgrade_past_0017_keeps_archived_runs(tmp_path, database_server, fetcher,
                                                   shared_data) -> None:
    """Revision 0016 cannot say that a run's events are elsewhere: the downgrade refuses
    while runs are archived, and goes through once they are back."""
    from snoopdb.coverage.matching import Matcher
    from snoopdb.db import connection, schema
    from snoopdb.loaders import spec
    from testkit.databases import scratch_database

    with scratch_database(database_server, "snoopdb_archive_downgrade") as url:
        schema.migrate(url)
        with connection.connect(url) as conn:
            spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"),
                      "1.36.0", None)
            source = PROW.format(job=GCE, build=1)
            load(conn, Matcher.for_release(conn, "1.36.0"),
                 write(tmp_path / "a.log", events(100, 1)), source)
            archiving.archive_runs(conn, Settings(), [source], str(tmp_path / "archive"))
        with pytest.raises(DatabaseError, match=r"runs are archived \(" + source.replace(".", r"\.")
                           + r"\): bring them back with `snoopdb runs hot` before downgrading"):
            schema.downgrade(url, "0016")
        with connection.connect(url) as conn:
            runs.move_runs(conn, [source], "hot")
        schema.downgrade(url, "0016")
        with connection.connect(url) as conn:
            assert conn.execute("SELECT state FROM audit_run").fetchall() == [("hot",)]
