"""`snoopdb query` and psql on the views: the names from apisnoop's talks answer
unqualified, a query runs one statement as a role that can only read, whatever the
statement, streams its rows, and leaves nothing running on the server when killed."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from psycopg import sql

from snoopdb.cli import main
from snoopdb.core.config import PG_VARIABLES

SNOOPDB = str(Path(sys.executable).with_name("snoopdb"))
TALK_VIEWS = ("untested_stable_endpoint", "endpoint_hit_by_new_test",
              "projected_change_in_coverage")


def run(*argv: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SNOOPDB, *argv], capture_output=True, text=True, env=env,
                          timeout=timeout)


# --- the names from apisnoop's talks (issue 31, case 3) ------------------------------

def test_the_talk_views_answer_unqualified_in_query_and_psql(
    settings: object, conn: psycopg.Connection, database_url: str,
) -> None:
    conn.execute("INSERT INTO testing.audit_event (release, release_date, audit_id,"
                 " useragent, test_hit, conf_test_hit, data, source) VALUES ('live', '0',"
                 " 'l1', 'live-test-writing', false, false, '{}', 'webhook')")
    for view in TALK_VIEWS:
        unqualified = run("query", f"select count(*) from {view}", "--csv")
        qualified = run("query", f"select count(*) from testing.{view}", "--csv")
        assert (unqualified.returncode, unqualified.stderr) == (0, ""), view
        assert unqualified.stdout == qualified.stdout, view
        psql = run("db", "psql", "-XAtc", f"select count(*) from {view}")
        assert (psql.returncode, psql.stderr) == (0, ""), view
        assert psql.stdout.strip() == qualified.stdout.split()[1], view
    # a name two schemas hold means what it meant to apisnoop: the CI runs' events
    assert run("query", "select count(*) from audit_event", "--csv").stdout == "count\n0\n"
    assert run("query", "select count(*) from testing.audit_event",
               "--csv").stdout == "count\n1\n"


def test_every_role_sees_the_views_unqualified(conn: psycopg.Connection,
                                               database_url: str) -> None:
    """The search path is the database's, for every role without one of its own."""
    role = f"snoopdb_test_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        conn.execute(sql.SQL("GRANT snoopdb_reader TO {}").format(sql.Identifier(role)))
        url = psycopg.conninfo.make_conninfo(database_url, user=role)
        with psycopg.connect(url) as other:
            assert other.execute("SELECT count(*) FROM untested_stable_endpoint"
                                 ).fetchone() == (0,)
            assert other.execute("SELECT to_regclass('audit_event')::text").fetchone() == (
                "audit_event",)  # public's, first on the path
    finally:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_no_name_means_another_schemas_object(conn: psycopg.Connection) -> None:
    """Every relation of public, conformance and testing reached by its bare name is the
    one of the first schema holding it, in that order."""
    names = conn.execute("""
        SELECT c.relname, min(array_position(ARRAY['public', 'conformance', 'testing'],
                                              n.nspname::text))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'conformance', 'testing') AND c.relkind IN ('r', 'v',
              'm', 'p') GROUP BY c.relname""").fetchall()
    schemas = ["public", "conformance", "testing"]
    with psycopg.connect(conn.info.dsn) as fresh:
        for name, first in names:
            found = fresh.execute("SELECT %s::regclass::text", (name,)).fetchone()
            expected = name if first == 1 else f"{schemas[first - 1]}.{name}"
            assert found == (name,) or found == (expected,), name


# --- one statement (case 4) -------------------------------------------------------

def test_two_statements_are_refused(settings: object, conn: psycopg.Connection,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1; select 2"]) == 2
    assert capsys.readouterr() == ("", "snoopdb: error: SQL holds more than one statement: "
                                   "`snoopdb query` runs one (run each on its own)\n")
    assert main(["query", "select 1 as n;", "--csv"]) == 0  # one, its semicolon kept
    assert capsys.readouterr().out == "n\n1\n"


# --- nothing written, nothing run (case 13) ----------------------------------------

@pytest.fixture
def victim(database_url: str) -> Iterator[psycopg.Connection]:
    """Another session, the one an attack would end."""
    with psycopg.connect(database_url, application_name="victim") as other:
        yield other


ATTACKS = [
    # (statement, status, what the error says)
    ("commit; drop table load_log", 2, "more than one statement"),
    ("set transaction read write; delete from open_api where release = '1.8.0'", 2,
     "more than one statement"),
    ("copy (select 'x') to program 'id > {file}'", 2, "returns no rows"),
    ("drop table load_log", 2, "returns no rows"),
    ("delete from open_api returning endpoint", 1, "read-only transaction"),
    ("select set_config('role', 'none', true), query_to_xml('select pg_read_file("
     "''/etc/hostname'')', true, false, '')", 1, "within security-definer function"),
    ("select set_config('session_authorization', session_user, true)", 1,
     "within security-definer function"),
    ("select set_config('transaction_read_only', 'off', true)", 1,
     "transaction read-write mode must be set before any query"),
    ("select pg_terminate_backend(pid) from pg_stat_activity"
     " where application_name = 'victim'", 1, "terminate"),
    ("select lo_export(oid, '{file}') from pg_largeobject_metadata", 1, "permission denied"),
    ("select query_to_xml('copy (select 1) to program ''id > {file}''', true, false, '')",
     1, ""),
    ("select pg_read_file('/etc/hostname')", 1, "permission denied"),
]


@pytest.mark.parametrize(("statement", "status", "said"), ATTACKS)
def test_a_query_cannot_write_or_run_anything(
    settings: object, conn: psycopg.Connection, victim: psycopg.Connection, tmp_path: Path,
    statement: str, status: int, said: str, capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "written"
    conn.execute("INSERT INTO open_api (release, endpoint, level, category, path, method,"
                 " deprecated, spec) VALUES ('1.8.0', 'readCoreV1Namespace', 'stable', 'core',"
                 " '/x', 'get', false, 'x')")
    conn.execute("SELECT lo_from_bytea(0, 'a large object')")
    try:
        assert main(["query", statement.format(file=file)]) == status
        err = capsys.readouterr().err
        assert err.startswith("snoopdb: error: ") and err.count("\n") == 1, err
        assert said in err
        assert conn.execute("SELECT count(*) FROM open_api").fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('load_log') IS NOT NULL").fetchone() == (True,)
        assert not file.exists()
        assert victim.execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.execute("SELECT lo_unlink(oid) FROM pg_largeobject_metadata")


def test_dblink_cannot_connect_back(settings: object, conn: psycopg.Connection,
                                    database_url: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """dblink (when the server has it) opens a new session with its own rights; the
    reader may not open one without a password, and no password is given."""
    if conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'dblink'"
                    ).fetchone() == (0,):
        pytest.skip("the server has no dblink")
    conn.execute("CREATE EXTENSION dblink")
    try:
        target = psycopg.conninfo.make_conninfo(database_url)
        assert main(["query", f"select dblink_exec('{target}', 'drop table load_log')"]) == 1
        assert "password is required" in capsys.readouterr().err
        assert conn.execute("SELECT to_regclass('load_log') IS NOT NULL").fetchone() == (True,)
    finally:
        conn.execute("DROP EXTENSION dblink")


def test_a_statement_cannot_lift_its_timeout(settings: object, conn: psycopg.Connection,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SNOOPDB_QUERY_TIMEOUT", "1")
    assert main(["query", "select set_config('statement_timeout', '0', false),"
                          " pg_sleep(5)"]) == 1
    assert capsys.readouterr().err == ("snoopdb: error: the query ran past 1s "
                                       "(SNOOPDB_QUERY_TIMEOUT) and was cancelled\n")


def test_a_role_that_may_not_read_is_told_how(conn: psycopg.Connection, database_url: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    role = f"snoopdb_test_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        # what an administrator grants a reader of their own: every table, not the role
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(role)))
        url = psycopg.conninfo.make_conninfo(database_url, user=role)
        assert main(["--database-url", url, "query", "select 1"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"snoopdb: error: {role} cannot run queries as snoopdb_reader")
        assert f'GRANT snoopdb_reader TO "{role}"' in err
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.slow
def test_the_embedded_server_runs_queries_as_the_reader(tmp_path: Path,
                                                        embedded_data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in PG_VARIABLES and k not in ("DATABASE_URL", "XDG_RUNTIME_DIR")}
    env["SNOOPDB_DATA_DIR"] = str(embedded_data_dir)
    try:
        assert run("init", env=env).returncode == 0
        done = run("query", "select count(*) from untested_stable_endpoint", "--csv", env=env)
        assert (done.returncode, done.stdout) == (0, "count\n0\n"), done.stderr
        done = run("query", f"copy (select 'x') to program 'id > {tmp_path / 'x'}'", env=env)
        assert done.returncode == 2 and not (tmp_path / "x").exists(), done.stderr
        done = run("query", "select set_config('role', 'none', true), query_to_xml("
                   "'select pg_read_file(''/etc/hostname'')', true, false, '')", env=env)
        assert done.returncode == 1 and "security-definer" in done.stderr, done.stderr
    finally:
        run("db", "stop", env=env)


# --- rows as they come (case 14) ----------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("form", ["--csv", "--json"])
def test_a_large_result_streams_in_bounded_memory(settings: object, conn: psycopg.Connection,
                                                  form: str) -> None:
    """200,000 rows of 500 bytes (100 MB) under a 200 MB address space: held whole, the
    rows alone take more (the query then ended in a MemoryError)."""
    limit = 200 << 20

    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [SNOOPDB, "query", "select n, repeat('x', 500) as pad"
         " from generate_series(1, 200000) as n", form],
        capture_output=True, preexec_fn=bounded, timeout=300)
    assert (done.returncode, done.stderr) == (0, b"")
    lines = done.stdout.splitlines()
    if form == "--csv":
        assert len(lines) == 200_001 and lines[-1] == b"200000," + b"x" * 500
    else:
        assert lines[0] == b"[" and lines[-1] == b"]" and len(lines) == 2 + 4 * 200_000


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)),
    min_size=1, max_size=6))
def test_a_record_reads_back_as_postgresql_wrote_it(database_url: str,
                                                    values: list[str | None]) -> None:
    from snoopdb.commands.query import record_fields

    with psycopg.connect(database_url) as db:
        row = db.execute(sql.SQL("SELECT ROW({})::text").format(
            sql.SQL(", ").join(sql.Literal(v) if v is not None else sql.SQL("NULL::text")
                               for v in values))).fetchone()
    assert row is not None
    assert record_fields(row[0], len(values)) == values


# --- nothing left running (case 30) -------------------------------------------------

def _running(conn: psycopg.Connection, marker: str) -> int:
    """Statements under way in the sessions named `marker`."""
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                       " AND application_name = %s", (marker,)).fetchone()
    assert row is not None
    return int(row[0])


def _started(conn: psycopg.Connection, marker: str, query: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not _running(conn, marker):
        assert query.poll() is None, query.communicate()
        assert time.monotonic() < deadline, "the query never started"
        time.sleep(0.1)


def _gone(conn: psycopg.Connection, marker: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while _running(conn, marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_sigterm_cancels_the_statement_on_the_server(conn: psycopg.Connection,
                                                     database_url: str) -> None:
    marker = f"snoopdb-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ,
           "DATABASE_URL": psycopg.conninfo.make_conninfo(database_url,
                                                          application_name=marker)}
    query = subprocess.Popen([SNOOPDB, "query", "select pg_sleep(120)"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started(conn, marker, query)
    query.send_signal(signal.SIGTERM)
    _, err = query.communicate(timeout=30)
    assert (query.returncode, err) == (143, "snoopdb: terminated (SIGTERM)\n")
    assert _gone(conn, marker, within=5)


def test_a_killed_query_ends_at_its_timeout(conn: psycopg.Connection,
                                            database_url: str) -> None:
    """SIGKILL cannot be caught: the statement timeout ends the statement instead."""
    marker = f"snoopdb-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "SNOOPDB_QUERY_TIMEOUT": "3",
           "DATABASE_URL": psycopg.conninfo.make_conninfo(database_url,
                                                          application_name=marker)}
    query = subprocess.Popen([SNOOPDB, "query", "select pg_sleep(120)"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started(conn, marker, query)
    query.kill()
    query.communicate(timeout=30)
    assert _gone(conn, marker, within=20)


def test_the_timeout_is_a_documented_setting() -> None:
    settings = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text()
    assert "| `SNOOPDB_QUERY_TIMEOUT` | `300` (seconds) |" in settings
