"""Scratch databases on a real PostgreSQL server, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from snoopdb.core.config import Settings
from snoopdb.db import connection

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url(embedded_root: Path) -> str:
    """SNOOPDB_TEST_DATABASE_URL, else the local server, else an embedded one under
    `embedded_root`."""
    url = os.environ.get("SNOOPDB_TEST_DATABASE_URL", DEFAULT_SERVER)
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return url
    except psycopg.OperationalError:
        if "SNOOPDB_TEST_DATABASE_URL" in os.environ:
            raise
    return connection.embedded_url(Settings(data_dir=embedded_root / "embedded"))


@contextlib.contextmanager
def scratch_database(server: str, prefix: str = "snoopdb_scratch") -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server` (a URL of any of its
    databases), dropped on exit, even after a failure; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(server, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
