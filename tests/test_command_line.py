"""The mistakes a newcomer makes on the command line, each answered in one line that
says what was meant: a misspelt option or command, a URL libpq cannot read, a
database that does not exist yet."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from snoopdb.cli import main
from testkit.faultserver import Answer, FaultServer


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a usage error (exit 2) prints."""
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own
        status = exit_info.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


@pytest.mark.parametrize(("argv", "line"), [
    (["--versoin"], "snoopdb: error: unrecognized arguments: --versoin; did you mean "
                    "--version? (see `snoopdb --help`)"),
    (["laod"], "snoopdb: error: argument COMMAND: invalid choice: 'laod': did you mean "
               "load? (see `snoopdb --help`)"),
    (["db", "upgarde"], "snoopdb: error: argument COMMAND: invalid choice: 'upgarde': did "
                        "you mean upgrade? (see `snoopdb db --help`)"),
    (["load", "--relase", "1.20"], "snoopdb: error: unrecognized arguments: --relase 1.20; "
                                   "did you mean --release? (see `snoopdb load --help`)"),
    (["db", "--versoin"], "snoopdb: error: unrecognized arguments: --versoin (see "
                          "`snoopdb db --help`)"),
    ([], "snoopdb: error: the following arguments are required: COMMAND (see "
         "`snoopdb --help`)"),
    (["db"], "snoopdb: error: the following arguments are required: COMMAND (see "
             "`snoopdb db --help`)"),
])
def test_a_misspelling_is_named_with_what_was_meant(
    settings: object, argv: list[str], line: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert usage_error(argv, capsys) == line


def test_a_choice_nothing_resembles_lists_the_choices(
    settings: object, capsys: pytest.CaptureFixture[str],
) -> None:
    line = usage_error(["xyzzy"], capsys)
    assert line.startswith("snoopdb: error: argument COMMAND: invalid choice: 'xyzzy' "
                           "(choose from ")
    assert "'load'" in line and "did you mean" not in line


@pytest.mark.parametrize("url", ["garbage", "postgresql://host/db?unknownkey=1",
                                 "postgresql://u:se%ZZcret@host/db"])
def test_a_database_url_libpq_cannot_read_is_a_usage_error(
    settings: object, url: str, capsys: pytest.CaptureFixture[str],
) -> None:
    line = usage_error(["--database-url", url, "releases"], capsys)
    assert line.startswith("snoopdb: error: argument --database-url: ")
    assert "is not a PostgreSQL URL such as postgresql://user@host:5432/snoopdb" in line
    assert "cret" not in line  # a password's pieces are never printed


def test_init_creates_a_database_that_does_not_exist(
    settings: object, database_server: str, capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"snoopdb_new_{uuid.uuid4().hex[:8]}"
    url = psycopg.conninfo.make_conninfo(database_server, dbname=name)
    try:
        assert main(["--database-url", url, "init"]) == 0
        out, err = capsys.readouterr()
        assert err == f'created database "{name}": it did not exist\n'
        assert out.startswith("schema at revision ")
        with psycopg.connect(url) as created:
            assert created.execute("SELECT to_regclass('open_api') IS NOT NULL").fetchone() == (
                True,)
    finally:
        with psycopg.connect(database_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_init_says_how_to_create_a_database_the_role_may_not(
    settings: object, database_server: str, capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"snoopdb_new_{uuid.uuid4().hex[:8]}"
    role = f"snoopdb_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:
            url = psycopg.conninfo.make_conninfo(database_server, dbname=name, user=role)
            assert main(["--database-url", url, "init"]) == 1
            err = capsys.readouterr().err
            assert err.count("\n") == 1
            assert err.startswith(f'snoopdb: error: database "{name}" does not exist, and '
                                  f"{role} may not create databases: ")
            assert f"CREATE DATABASE {name} OWNER {role}" in err
            assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                                 (name,)).fetchone() == (0,)
        finally:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_body_used_unchecked_is_said_naming_its_url(
    settings: object, conn: psycopg.Connection, shared_data: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """SNOOPDB_ALLOW_NO_LENGTH=1 accepts a body nothing vouches for: a cut one looks
    whole. Each such body is one warning line naming the URL."""
    listing = (shared_data / "conformance" / "conformance-1.36.yaml").read_bytes()
    with FaultServer() as upstream:
        path = "/kubernetes/kubernetes/v1.36.0/test/conformance/testdata/conformance.yaml"
        url = upstream.script(path, Answer(listing, length=False))
        monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", upstream.url)
        monkeypatch.setenv("SNOOPDB_ALLOW_NO_LENGTH", "1")
        assert main(["load", "--release", "1.36", "--only", "tests"]) == 0
    assert capsys.readouterr().err == (
        f"warning: {url}: used unchecked (SNOOPDB_ALLOW_NO_LENGTH=1): no Content-Length and "
        f"no chunked encoding, so nothing shows that its {len(listing)} bytes are the whole "
        "body\n")
