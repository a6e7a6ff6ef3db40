"""Schema, spec/conformance/ineligible loaders and `snoopdb load` on real data."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, normalise_conformance_release, parse_release
from snoopdb.loaders import conformance, spec
from testkit.databases import scratch_database

EXEC_ROW = {
    "release": "1.20.0", "endpoint": "connectCoreV1GetNamespacedPodExec", "level": "stable",
    "category": "core", "path": "/api/v1/namespaces/{namespace}/pods/{name}/exec",
    "k8s_group": "", "k8s_version": "v1", "k8s_kind": "PodExecOptions", "k8s_action": "connect",
    "deprecated": False, "description": "connect GET requests to exec of Pod", "method": "get",
}


def rows(conn: psycopg.Connection, sql: str, *params: object) -> list[tuple]:
    return conn.execute(sql, params or None).fetchall()


@pytest.mark.parametrize("text, expected", [
    ("1.20", "1.20.0"), ("1.20.0", "1.20.0"), ("v1.20.0", "1.20.0"), (" v1.9 ", "1.9.0"),
])
def test_parse_release(text: str, expected: str) -> None:
    assert str(parse_release(text)) == expected


@pytest.mark.parametrize("text", ["1", "one.two", "1.20.0.1", "latest", ""])
def test_parse_release_rejects(text: str) -> None:
    with pytest.raises(ReleaseError, match="bad release"):
        parse_release(text)


@pytest.mark.parametrize("value, expected", [
    ("", "1.9.0"), (None, "1.9.0"), ("v1.16", "1.16.0"), ("v1.9, v1.18", "1.18.0"),
    ("1.25", "1.25.0"), ("v1.17, v1.21, v1.27", "1.27.0"),
])
def test_conformance_release_normalised(value: object, expected: str) -> None:
    assert normalise_conformance_release(value) == expected


def test_shipped_releases() -> None:
    releases = Releases.load()
    assert str(releases.newest) == "1.36.0"
    assert str(releases.up_to(parse_release("1.6"))[0]) == "1.5.0"
    assert [str(r) for r in releases.up_to(parse_release("1.10"))][-2:] == ["1.9.0", "1.10.0"]
    # newer than every listed release: a release in development, never folded into 1.36
    assert str(releases.resolve(parse_release("1.37"))) == "1.37.0"
    assert releases.in_development(parse_release("1.37")) and releases.past(parse_release("1.35"))
    assert [str(r) for r in releases.up_to(parse_release("1.37"))][-2:] == ["1.36.0", "1.37.0"]
    with pytest.raises(ReleaseError, match="unknown release '1.4'"):
        releases.resolve(parse_release("1.4"))


def test_schema_has_every_spec_column_and_comments(conn: psycopg.Connection) -> None:
    expected = {
        ("public", "open_api"): ["release", "release_date", "endpoint", "level", "category",
                                 "path", "k8s_group", "k8s_version", "k8s_kind", "k8s_action",
                                 "deprecated", "description", "spec"],
        ("public", "audit_event"): ["release", "release_date", "audit_id", "endpoint",
                                    "useragent", "test", "test_hit", "conf_test_hit", "data",
                                    "source", "id", "ingested_at", "error"],
        ("conformance", "test"): ["testname", "codename", "release", "description", "file"],
        ("conformance", "ineligible_endpoint"): ["endpoint", "reason", "link"],
    }
    expected[("testing", "audit_event")] = expected[("public", "audit_event")]
    for (schema, table), columns in expected.items():
        present = [r[0] for r in rows(conn, "SELECT column_name FROM information_schema.columns"
                                      " WHERE table_schema = %s AND table_name = %s",
                                      schema, table)]
        assert set(columns) <= set(present), (schema, table)
    uncommented = rows(conn, """
        SELECT c.relnamespace::regnamespace || '.' || c.relname || coalesce('.' || a.attname, '')
        FROM pg_class c
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace::regnamespace::text IN ('public', 'conformance', 'testing')
          AND c.relkind IN ('r', 'v', 'm') AND c.relname <> 'alembic_version'
          AND (obj_description(c.oid, 'pg_class') IS NULL
               OR (a.attnum IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))""")
    assert uncommented == []


def test_spec_1_20_loads_one_row_per_operation(
    conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path
) -> None:
    location = str(shared_data / "openapi" / "swagger-1.20.json.gz")
    assert spec.load(conn, fetcher, location, "1.20.0", None) == 1063
    columns = ", ".join(EXEC_ROW)
    row = conn.execute(f"SELECT {columns} FROM open_api WHERE endpoint = %s",
                       (EXEC_ROW["endpoint"],)).fetchone()
    assert dict(zip(EXEC_ROW, row, strict=False)) == EXEC_ROW
    assert rows(conn, "SELECT level, count(*) FROM open_api GROUP BY 1 ORDER BY 1") == [
        ("alpha", 124), ("beta", 337), ("stable", 602)]
    assert rows(conn, "SELECT category, k8s_group, k8s_kind, k8s_action, deprecated FROM open_api"
                " WHERE endpoint = 'listAppsV1NamespacedDeployment'") == [
        ("apps", "apps", "Deployment", "list", False)]
    assert rows(conn, "SELECT level, path FROM open_api WHERE endpoint ="
                " 'getServiceAccountIssuerOpenIDConfiguration'") == [
        ("beta", "/.well-known/openid-configuration/")]
    assert rows(conn, "SELECT k8s_kind, k8s_action, category FROM open_api"
                " WHERE endpoint = 'getCoreAPIVersions'") == [(None, None, "core")]
    # loading again replaces the release's rows
    assert spec.load(conn, fetcher, location, "1.20.0", None) == 1063
    assert rows(conn, "SELECT count(*), count(DISTINCT endpoint) FROM open_api") == [(1063, 1063)]
    assert rows(conn, "SELECT kind, release, rows FROM load_log ORDER BY id") == [
        ("spec", "1.20.0", 1063), ("spec", "1.20.0", 1063)]


def test_bad_spec_keeps_loaded_rows(
    conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path, tmp_path: Path
) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.20.json.gz"), "1.20.0", None)
    broken = tmp_path / "swagger.json"
    broken.write_text('{"paths": {"/api/v1/pods": {"get": {"operationId": "x"}}, "/api/v1/x": [')
    with pytest.raises(InputError, match=f"^{broken}: not a JSON OpenAPI document"):
        spec.load(conn, fetcher, str(broken), "1.20.0", None)
    assert rows(conn, "SELECT count(*) FROM open_api") == [(1063,)]


def test_conformance_yaml(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    location = str(shared_data / "conformance" / "conformance.yaml")
    assert conformance.load(conn, fetcher, location, "1.36.0") == 408
    assert conformance.load(conn, fetcher, location, "1.36.0") == 408
    assert rows(conn, "SELECT count(*) FROM conformance.test") == [(408,)]
    assert rows(conn, "SELECT release, count(*) FROM conformance.test GROUP BY 1"
                " ORDER BY release_key(release) LIMIT 3") == [
        ("1.9.0", 148), ("1.10.0", 5), ("1.11.0", 6)]
    assert rows(conn, "SELECT release FROM conformance.test WHERE codename LIKE"
                " '[sig-api-machinery] API priority and fairness should support FlowSchema%'") \
        == [("1.29.0",)]
    assert rows(conn, "SELECT count(*) FROM conformance.test WHERE release !~ '^1\\.\\d+\\.0$'") \
        == [(0,)]


def test_load_from_loopback_server(
    conn: psycopg.Connection, settings: object, raw_server: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", raw_server)
    assert main(["load", "--release", "v1.36.0", "--only", "spec,tests,ineligible"]) == 0
    out, err = capsys.readouterr()
    # the releases the shared data has no spec of, said once, in one line
    missing = ("warning: no spec for 8 past releases (1.5.0, 1.6.0, 1.7.0, 1.23.0, 1.24.0,"
               " 1.25.0, 1.26.0, 1.27.0); the first: "
               f"{raw_server}/kubernetes/kubernetes/v1.5.0/api/openapi-spec/swagger.json:"
               " not found (404)")
    assert [line for line in err.splitlines() if "no spec" in line] == [missing]
    assert "loaded 26 files (24,632 rows) for release 1.36.0" in out
    assert rows(conn, "SELECT count(DISTINCT release), count(*) FROM open_api") == [(24, 24079)]
    assert rows(conn, "SELECT count(*) FROM conformance.ineligible_endpoint") == [(145,)]
    assert rows(conn, "SELECT spec FROM open_api WHERE release = '1.20.0' LIMIT 1") == [
        (f"{raw_server}/kubernetes/kubernetes/v1.20.0/api/openapi-spec/swagger.json",)]
    # idempotent: specs already there are not loaded again, lists are replaced
    assert main(["load", "--release", "1.36", "--only", "spec,tests,ineligible"]) == 0
    out, err = capsys.readouterr()
    assert "24 specs already loaded" in out
    assert [line for line in err.splitlines() if "no spec" in line] == [missing]
    assert rows(conn, "SELECT count(*) FROM open_api") == [(24079,)]
    assert rows(conn, "SELECT count(*) FROM conformance.test") == [(408,)]


def test_load_from_local_mirror_only_tests(
    conn: psycopg.Connection, settings: object, raw_mirror: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "--release", "1.36", "--from", str(raw_mirror), "--only", "tests"]) == 0
    assert rows(conn, "SELECT count(*) FROM conformance.test") == [(408,)]
    assert rows(conn, "SELECT count(*) FROM open_api") == [(0,)]


def test_load_from_a_mirror_of_the_current_release_offline_notes_its_ci_runs(
    conn: psycopg.Connection, settings: object, raw_mirror: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    with socket.socket() as unused:  # a port nothing listens on: GCS is unreachable
        unused.bind(("127.0.0.1", 0))
        monkeypatch.setenv("SNOOPDB_GCS_URL", f"http://127.0.0.1:{unused.getsockname()[1]}")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "1")
    # what `snoopdb mirror --release 1.36 --out DIR` says to run next, offline
    assert main(["load", "--release", "1.36", "--from", str(raw_mirror),
                 "--only", "tests,audit"]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"note: release 1.36.0: no CI runs loaded: a mirror (--from {raw_mirror}) holds none;"
        " load local audit logs with --audit-log FILE, or leave them out with"
        " --only spec,tests,ineligible,pending")
    assert rows(conn, "SELECT count(*) FROM conformance.test") == [(408,)]
    assert rows(conn, "SELECT count(*) FROM audit_run") == [(0,)]


def test_missing_spec_for_named_release_is_an_error(
    conn: psycopg.Connection, settings: object, raw_mirror: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "--release", "1.24", "--from", str(raw_mirror), "--only", "spec"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("snoopdb: error: no spec for release 1.24.0: ")
    # its own spec is read first: none of the 15 earlier ones the mirror has is loaded
    assert rows(conn, "SELECT count(DISTINCT release) FROM open_api") == [(0,)]


@pytest.mark.parametrize("argv, message", [
    (["load", "--release", "one.two"], "snoopdb: error: argument --release: bad release 'one.two'"),
    (["load", "--release", "1.4"], "snoopdb: error: unknown release '1.4'"),
    (["load", "--release", "1.20", "--only", "spec,bogus"],
     "snoopdb: error: argument --only: unknown part"),
])
def test_bad_arguments_are_one_line_errors(
    settings: object, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own, one line too
        status = exit_info.code  # type: ignore[assignment]
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


@pytest.mark.slow
def test_migrations_form_one_line_and_downgrade_cleanly(database_url: str) -> None:
    from importlib import resources

    from alembic.script import ScriptDirectory

    from snoopdb.db import schema

    script = ScriptDirectory(str(resources.files("snoopdb.migrations")))
    assert len(script.get_heads()) == 1
    with scratch_database(database_url) as scratch:
        schema.migrate(scratch)
        schema.downgrade(scratch, "base")
        with psycopg.connect(scratch) as conn:
            left = conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace"
                                "::text IN ('public', 'conformance', 'testing')"
                                " AND relname NOT LIKE 'alembic_version%'").fetchone()
        assert left == (0,)
        schema.migrate(scratch)
        with psycopg.connect(scratch) as conn:
            assert schema.schema_revision(conn) == script.get_current_head()



def test_missing_ineligible_list_is_an_empty_list_with_a_warning(
    conn: psycopg.Connection, settings: object, raw_mirror: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    conn.execute("INSERT INTO conformance.ineligible_endpoint VALUES ('x', 'y', 'z')")
    assert main(["load", "--release", "1.35", "--from", str(raw_mirror), "--only",
                 "ineligible"]) == 0
    err = capsys.readouterr().err
    assert "ineligible_endpoints.yaml: not found; release 1.35.0 has no ineligible endpoints" in err
    assert rows(conn, "SELECT count(*) FROM conformance.ineligible_endpoint") == [(0,)]
