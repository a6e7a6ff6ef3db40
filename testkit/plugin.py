"""pytest fixtures: a fresh PostgreSQL database per test session, isolated settings, and
loopback HTTP servers serving real files from ../shared/data (SNOOPDB_SHARED_DATA).
Without that folder the tests that read it are left out, with one line saying so
(an error where SNOOPDB_REQUIRE_SHARED_DATA is set, as in CI)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from snoopdb.core import releases
from snoopdb.core.config import Settings
from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, schema
from testkit.databases import scratch_database, server_url
from testkit.servers import build_raw_mirror, serve_directory

DATA_SCHEMAS = ("public", "conformance", "testing")
# Set (CI sets it): tests that would be left out for want of the shared data are an
# error instead.
REQUIRE_SHARED_DATA = "SNOOPDB_REQUIRE_SHARED_DATA"
# How the test kit itself is set up, not how snoopdb behaves: kept for every test.
TEST_KIT_SETTINGS = ("SNOOPDB_SHARED_DATA", REQUIRE_SHARED_DATA, "SNOOPDB_TEST_DATABASE_URL")
_LEFT_OUT = pytest.StashKey[str]()


def shared_data_path(config: pytest.Config) -> Path:
    """SNOOPDB_SHARED_DATA, else ../shared/data beside the checkout; its real path, as
    the loaders name the files they read (a run's source), so that either may be a link."""
    default = config.rootpath.parent / "shared" / "data"
    return Path(os.environ.get("SNOOPDB_SHARED_DATA", default)).resolve()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests that read the real data when it is not there (a fresh clone
    has no ../shared/data), so that the others run; with REQUIRE_SHARED_DATA set, stop
    before any test runs instead. Either way one line says how many, and why."""
    path = shared_data_path(config)
    readers = [item for item in items if "shared_data" in getattr(item, "fixturenames", ())]
    if not readers or path.is_dir():
        return
    why = (f"they read the project's shared data, not found at {path} (set "
           "SNOOPDB_SHARED_DATA; its sources, and `python -m testkit.shared_data "
           "--out DIR` that assembles it: docs/development.md)")
    if os.environ.get(REQUIRE_SHARED_DATA):
        raise pytest.UsageError(f"{len(readers)} of {len(items)} tests would be left out: {why}")
    config.stash[_LEFT_OUT] = f"snoopdb: {len(readers)} of {len(items)} tests left out: {why}"
    config.hook.pytest_deselected(items=readers)
    left = set(readers)
    items[:] = [item for item in items if item not in left]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """The line saying which tests were left out, and why (pytest_collection_modifyitems)."""
    if _LEFT_OUT in config.stash:
        terminalreporter.write_line(config.stash[_LEFT_OUT])


@pytest.fixture(scope="session")
def shared_data(request: pytest.FixtureRequest) -> Path:
    """The real data (see pytest_collection_modifyitems)."""
    return shared_data_path(request.config)


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a database on the server tests make their databases on."""
    return server_url(tmp_path_factory.mktemp("pg"))


@pytest.fixture(scope="session")
def database_url(database_server: str) -> Iterator[str]:
    """A database created for this test session, migrated to head, dropped at the end."""
    with scratch_database(database_server, "snoopdb_test") as url:
        schema.migrate(url)
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the session database with every data table emptied."""
    with connection.connect(database_url) as db:
        tables = db.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables"
            " WHERE schemaname = ANY(%s) AND tablename <> 'alembic_version'",
            (list(DATA_SCHEMAS),),
        ).fetchall()
        if tables:
            db.execute(f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY CASCADE")
        # each loaded run's tables (runs.events_N, runs.hit_N, …) and each release's
        # summary partitions are tables of their own; what audit_event reads, runs.events
        # and runs.chunks, stays
        db.execute("SELECT audit_event_rebuild()")
        # database settings a test made (snoopdb runs keep-hot); the search_path init
        # sets stays
        for (setting,) in db.execute(
                "SELECT split_part(unnest(setconfig), '=', 1) FROM pg_db_role_setting"
                " WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())").fetchall():
            if setting.startswith("snoopdb."):
                db.execute(sql.SQL("ALTER DATABASE {} RESET {}").format(
                    sql.Identifier(db.info.dbname), sql.Identifier(setting)))
        for schema_name, name in db.execute(
                "SELECT schemaname, tablename FROM pg_tables"
                " WHERE schemaname IN ('runs', 'summaries')"
                " AND (schemaname, tablename) NOT IN (('runs', 'events'), ('runs', 'chunks'))"
                ).fetchall():
            db.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                sql.Identifier(schema_name), sql.Identifier(name)))
        yield db


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """Settings that never touch the user's own directories or database: applied to
    every test, so a CLI call in a test can never reach the user's embedded server."""
    for name in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE",
                 "PGPASSWORD", "PGSERVICE", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # and every snoopdb setting a developer may have exported (SNOOPDB_DOWNLOAD_ATTEMPTS,
    # SNOOPDB_LOCK_WAIT, …): tests pin the ones they need; the test kit's own stay
    for name in list(os.environ):
        if name.startswith("SNOOPDB_") and name not in TEST_KIT_SETTINGS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SNOOPDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SNOOPDB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    # A fresh cached copy of apisnoop's releases list (the shipped one), so that CLI
    # calls in tests neither reach GitHub nor depend on what it lists today.
    (tmp_path / "cache").mkdir(exist_ok=True)
    (tmp_path / "cache" / releases.CACHE_NAME).write_text(
        resources.files("snoopdb.core").joinpath("releases.yaml").read_text())
    return Settings()


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """A data folder for the embedded server outside pytest's own temporary folder: run
    as root, the server runs as another user and opens the folders above its data for
    it to pass, and any other pytest session of root's shuts /tmp/pytest-of-root again."""
    folder = Path(tempfile.mkdtemp(prefix="snoopdb-embedded-"))
    yield folder / "data"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fetcher(settings: Settings) -> Fetcher:
    return Fetcher(settings.cache_dir, settings.deadlines)


@pytest.fixture(scope="session")
def raw_mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return build_raw_mirror(tmp_path_factory.mktemp("raw"), shared_data)


@pytest.fixture(scope="session")
def raw_server(raw_mirror: Path) -> Iterator[str]:
    """Base URL of a loopback server in the GitHub raw layout (see build_raw_mirror)."""
    url, server = serve_directory(raw_mirror)
    yield url
    server.shutdown()
    server.server_close()
