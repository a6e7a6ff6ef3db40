"""The schema as a contract with every database already made: revisions apply frozen
SQL, an upgraded database has exactly the schema of a fresh `snoopdb init`, and a
database made by the last released layout (commit f2dd4aa) keeps its rows."""

from __future__ import annotations

import re
import subprocess
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.db import schema
from testkit.databases import scratch_database
from testkit.hits import drop_all_runs

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# `pg_dump --schema-only` of a database `snoopdb init` made at commit f2dd4aa (revision
# 0006), on a server without pg-semver, with its alembic_version row.
F2DD4AA_SCHEMA = FIXTURES / "f2dd4aa-schema.sql"

# One row in every table of revision 0006, as that version's loaders wrote them.
F2DD4AA_ROWS = """
INSERT INTO open_api (release, release_date, endpoint, level, category, path, k8s_group,
  k8s_version, k8s_kind, k8s_action, deprecated, description, spec, method)
VALUES ('1.36.0', '2026-04-22', 'readCoreV1Namespace', 'stable', 'core',
  '/api/v1/namespaces/{name}', '', 'v1', 'Namespace', 'get', false, 'read a Namespace',
  'https://example/swagger.json', 'get');
INSERT INTO audit_event (release, release_date, audit_id, endpoint, useragent, test, test_hit,
  conf_test_hit, data, source)
VALUES ('1.36.0', '2026-04-22', 'a1', 'readCoreV1Namespace',
  'e2e.test/v1.36.0 -- [sig-api] reads [Conformance]', '[sig-api] reads [Conformance]', true,
  true, '{"auditID": "a1", "verb": "get"}', 'https://prow/view/gs/b/logs/job/1');
INSERT INTO testing.audit_event (release, release_date, audit_id, endpoint, useragent, test,
  test_hit, conf_test_hit, data, source)
VALUES ('live', '1764460800000', 'l1', 'readCoreV1Namespace', 'live-test-writing', null,
  false, false, '{"auditID": "l1"}', 'webhook');
INSERT INTO endpoint_hit (release, source, endpoint, test, test_hit, conf_test_hit, hits)
VALUES ('1.36.0', 'https://prow/view/gs/b/logs/job/1', 'readCoreV1Namespace',
  '[sig-api] reads [Conformance]', true, true, 1);
INSERT INTO conformance.test (testname, codename, release, description, file, historical)
VALUES ('reads', '[sig-api] reads [Conformance]', '1.9.0', 'it reads', 'test/e2e/x.go', false);
INSERT INTO conformance.ineligible_endpoint VALUES ('connectCoreV1GetNodeProxy', 'proxy', null);
INSERT INTO conformance.release_test (release, codename, first_release, last_release)
VALUES ('1.36.0', '[sig-api] reads [Conformance]', '1.9.0', '1.9.0');
INSERT INTO conformance.submission (id, name, release, product, path, verified_at, result,
  checks_passed, checks_total, labels) OVERRIDING SYSTEM VALUE
VALUES (1, 'v1.36/cool', '1.36.0', 'cool', '/s/v1.36/cool', now(), 'passed', 1, 1,
  '{release-v1.36}');
INSERT INTO conformance.submission_check VALUES (1, 1, 'junit', 'junit_01.xml', true, null, '{}');
INSERT INTO conformance.submission_testcase VALUES (1, 1, '[sig-api] reads [Conformance]',
  'passed', true);
INSERT INTO load_log (kind, release, source, started_at, finished_at, rows, details)
VALUES ('spec', '1.36.0', 'https://example/swagger.json', now(), now(), 1, '{}');
"""
COUNTED = ("open_api", "audit_event", "testing.audit_event", "endpoint_hit", "conformance.test",
           "conformance.ineligible_endpoint", "conformance.release_test",
           "conformance.submission", "conformance.submission_check",
           "conformance.submission_testcase", "load_log")


def schema_dump(url: str) -> list[str]:
    """`pg_dump --schema-only` without comments and pg_dump's per-run restrict keys."""
    dump = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges",
                           "--dbname", url],
                          check=True, capture_output=True, text=True).stdout
    return [line for line in dump.splitlines()
            if line and not line.startswith(("--", "\\restrict", "\\unrestrict"))]


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in COUNTED}


@pytest.fixture(scope="module")
def fresh_dump(database_server: str) -> list[str]:
    with scratch_database(database_server) as url:
        schema.migrate(url)
        return schema_dump(url)


@pytest.mark.slow
def test_upgrade_from_the_oldest_revision_is_a_fresh_init(database_server: str,
                                                          fresh_dump: list[str]) -> None:
    oldest = [revision for revision, _, _ in schema.revisions()][-1]
    with scratch_database(database_server) as url:
        schema.migrate(url, oldest)
        with psycopg.connect(url) as conn:
            assert schema.schema_revision(conn) == oldest
        schema.migrate(url)
        assert schema_dump(url) == fresh_dump


@pytest.mark.slow
def test_database_made_by_f2dd4aa_upgrades_to_a_fresh_init_and_keeps_its_rows(
    database_server: str, fresh_dump: list[str],
) -> None:
    with scratch_database(database_server) as url:
        subprocess.run(["psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1",
                        "--dbname", url, "--file", str(F2DD4AA_SCHEMA)],
                       check=True, capture_output=True)
        with psycopg.connect(url, autocommit=True) as conn:
            assert schema.schema_revision(conn) == "0006"
            conn.execute(F2DD4AA_ROWS)
        before = counts(url)
        assert set(before.values()) == {1}
        schema.migrate(url)
        assert counts(url) == before
        # the loaded run's own tables and its branch of audit_event aside, the same schema
        with psycopg.connect(url, autocommit=True) as conn:
            drop_all_runs(conn)
            conn.execute("SELECT refresh_coverage()")
        assert schema_dump(url) == fresh_dump


@pytest.mark.slow
def test_every_revision_downgrades_to_the_one_before(database_server: str) -> None:
    revisions = [revision for revision, _, _ in schema.revisions()]
    with scratch_database(database_server) as url:
        dumps = {}
        for revision in reversed(revisions):
            schema.migrate(url, revision)
            dumps[revision] = schema_dump(url)
        for newer, older in zip(revisions, revisions[1:], strict=False):
            schema.downgrade(url, older)
            assert schema_dump(url) == dumps[older], f"downgrade {newer} → {older}"


def test_revisions_read_only_frozen_files() -> None:
    """Every SQL file a revision applies is named by that revision (schema/NNNN_*.sql) or
    is a numbered version of a view, function or table: no revision replays a file that
    later changes."""
    versions = Path(str(resources.files("snoopdb.migrations").joinpath("versions")))
    for script in sorted(versions.glob("[0-9]*.py")):
        text = script.read_text()
        number = script.name[:4]
        for line in text.splitlines():
            if "run_sql_file(" in line and "schema/" in line:
                assert f'"schema/{number}_' in line, f"{script.name}: {line.strip()}"
            assert 'f"views/' not in line, f"{script.name} builds a view path at run time"


# What a version file makes, by the folder it is kept in (SQL comments aside).
MAKES = {"views": r"CREATE (OR REPLACE )?(MATERIALIZED )?VIEW",
         "functions": r"(CREATE (OR REPLACE )?FUNCTION|ALTER FUNCTION)",
         "tables": r"CREATE TABLE"}


def test_each_version_folder_holds_its_kind_and_each_version_one_file() -> None:
    """sql/views/ holds views only, sql/functions/ functions, sql/tables/ tables; a
    name's version is in one of them, once, so every revision finds the very file it
    was written with."""
    sql = Path(str(resources.files("snoopdb.sql")))
    seen: dict[tuple[str, str], str] = {}
    for folder in schema.VERSION_FOLDERS:
        files = sorted((sql / folder).glob("*/*.sql"))
        assert files, folder
        for file in files:
            body = "\n".join(line for line in file.read_text().splitlines()
                             if not line.startswith("--"))
            made = {kind for kind, pattern in MAKES.items()
                    if re.search(rf"^{pattern}", body, re.M)}
            if not made:  # a version that only comments on what the one before made
                statements = [line for line in body.splitlines() if line[:1].strip()]
                assert all(line.startswith(f"COMMENT ON COLUMN {file.parent.name}.")
                           for line in statements), file
                made = {folder} if (file.parent / f"{int(file.stem) - 1}.sql").is_file() else set()
            assert made == {folder}, f"{file.relative_to(sql)} makes {made or 'nothing'}"
            key = (file.parent.name, file.stem)
            assert key not in seen, f"{key} in {seen.get(key)} and {folder}"
            seen[key] = folder
            assert schema.version_file(file.parent.name, int(file.stem)) == str(
                file.relative_to(sql))


@pytest.mark.slow
def test_read_only_commands_never_migrate(database_server: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with scratch_database(database_server) as url:
        schema.migrate(url, "0005")
        for argv in (["gate"], ["export", "--out", "/nonexistent"], ["ticket", "--useragent",
                     "live-x"], ["compare-published"], ["serve", "--port", "1"]):
            assert main(["--database-url", url, *argv]) in (1, 3), argv
            err = capsys.readouterr().err
            assert err.count("\n") == 1, (argv, err)
            assert "this snoopdb needs revision" in err and "run `snoopdb init`" in err, err
        with psycopg.connect(url) as conn:
            assert schema.schema_revision(conn) == "0005"
        assert main(["--database-url", url, "db", "current"]) == 0
        assert capsys.readouterr().out.startswith("0005: behind head")
        assert main(["--database-url", url, "db", "upgrade"]) == 0
        with psycopg.connect(url) as conn:
            assert schema.schema_revision(conn) == schema.head_revision()
