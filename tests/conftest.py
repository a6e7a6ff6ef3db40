"""Fixtures: a fresh PostgreSQL database per test session, isolated settings, and
loopback HTTP servers serving real files from ../shared/data."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from snoopdb import database
from snoopdb.config import Settings
from snoopdb.fetch import Fetcher

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SNOOPDB_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATA_SCHEMAS = ("public", "conformance", "testing")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"real data not found at {SHARED_DATA} (set SNOOPDB_SHARED_DATA)"
    return SHARED_DATA


def _server_url(tmp_root: Path) -> str:
    """SNOOPDB_TEST_DATABASE_URL, else the local server, else an embedded one."""
    url = os.environ.get("SNOOPDB_TEST_DATABASE_URL", DEFAULT_SERVER)
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return url
    except psycopg.OperationalError:
        if "SNOOPDB_TEST_DATABASE_URL" in os.environ:
            raise
    return database.embedded_url(Settings(data_dir=tmp_root / "embedded"))


@contextlib.contextmanager
def scratch_database(server: str, prefix: str = "snoopdb_scratch") -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server` (a URL of any of its
    databases), dropped on exit, even after a failure; yields its URL.
    Tests and benchmarks (bench/ imports this module) share it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(server, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database created for this test session, migrated to head, dropped at the end."""
    with scratch_database(_server_url(tmp_path_factory.mktemp("pg")), "snoopdb_test") as url:
        database.migrate(url)
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the session database with every data table emptied."""
    with database.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables"
            " WHERE schemaname = ANY(%s) AND tablename <> 'alembic_version'",
            (list(DATA_SCHEMAS),),
        ).fetchall()
        if tables:
            connection.execute(
                f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY CASCADE"
            )
        yield connection


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """Settings that never touch the user's own directories or database: applied to
    every test, so a CLI call in a test can never reach the user's embedded server."""
    for name in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE",
                 "PGPASSWORD", "PGSERVICE", "SNOOPDB_GITHUB_RAW_URL", "SNOOPDB_GCS_URL",
                 "SNOOPDB_APISNOOP_RAW_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SNOOPDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SNOOPDB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    return Settings()


@pytest.fixture
def fetcher(settings: Settings) -> Fetcher:
    return Fetcher(settings.cache_dir)


def build_raw_mirror(root: Path, shared: Path) -> Path:
    """The GitHub raw layout (kubernetes/kubernetes/<ref>/<path>) over the real files:
    every shipped spec at its tag, conformance.yaml and ineligible_endpoints.yaml at 1.36."""
    repo = root / "kubernetes" / "kubernetes"
    for spec in sorted((shared / "openapi").glob("swagger-*.json.gz")):
        minor = spec.name.removeprefix("swagger-").removesuffix(".json.gz")
        target = repo / f"v{minor}.0" / "api" / "openapi-spec" / "swagger.json"
        target.parent.mkdir(parents=True)
        target.symlink_to(spec)
    testdata = repo / "v1.36.0" / "test" / "conformance" / "testdata"
    testdata.mkdir(parents=True)
    (testdata / "conformance.yaml").symlink_to(shared / "conformance" / "conformance.yaml")
    (testdata / "ineligible_endpoints.yaml").symlink_to(
        shared / "conformance" / "ineligible_endpoints.yaml")
    return root


@pytest.fixture(scope="session")
def raw_mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return build_raw_mirror(tmp_path_factory.mktemp("raw"), shared_data)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_directory(root: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    """Serve `root` over HTTP on a free loopback port; returns (base URL, server)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="session")
def raw_server(raw_mirror: Path) -> Iterator[str]:
    """Base URL of a loopback server in the GitHub raw layout (see build_raw_mirror)."""
    url, server = serve_directory(raw_mirror)
    yield url
    server.shutdown()
    server.server_close()
