"""A built wheel, installed into a fresh virtualenv, carries everything the CLI needs."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import psycopg
import pytest
from conftest import REPO

from testkit.databases import scratch_database


@pytest.mark.slow
def test_wheel_installs_and_initialises(tmp_path: Path, database_url: str) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(REPO)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("snoopdb-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([bin_dir / "pip", "install", "-q", str(wheel)], check=True, cwd=tmp_path)

    help_run = subprocess.run([bin_dir / "snoopdb", "--help"], capture_output=True, text=True,
                              check=True, cwd=tmp_path)
    assert "load" in help_run.stdout and "init" in help_run.stdout

    with scratch_database(database_url) as scratch:
        env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "DATABASE_URL": scratch}
        init = subprocess.run([bin_dir / "snoopdb", "init"], capture_output=True, text=True,
                              env=env, cwd=tmp_path)
        assert init.returncode == 0, init.stderr
        assert init.stdout.startswith("schema at revision ")
        where = subprocess.run([bin_dir / "python", "-c", "import importlib.util, snoopdb, "
                                "snoopdb.migrations, snoopdb.sql; print(snoopdb.__file__); "
                                "print(importlib.util.find_spec('testkit'))"],
                               capture_output=True, text=True, check=True, env=env, cwd=tmp_path)
        # the package, without the test kit: the CLI needs none of it
        assert where.stdout.startswith(str(env_dir)) and where.stdout.endswith("\nNone\n")
        # package data from every mapped folder: a template and its script, a query, a
        # frozen schema file, a view's, a function's and a table's version, the releases
        # list, Alembic's template
        look = ("from importlib.resources import files; "
                "print(files('snoopdb.web') / 'templates' / 'overview.html'); "
                "print(*[(files(package) / name).is_file() for package, name in ["
                "('snoopdb.web', 'static/dashboard.js'), "
                "('snoopdb.sql', 'queries/dashboard/overview.sql'), "
                "('snoopdb.sql', 'schema/0001_foundation.sql'), "
                "('snoopdb.sql', 'views/endpoint_coverage/1.sql'), "
                "('snoopdb.sql', 'functions/latest_release/3.sql'), "
                "('snoopdb.sql', 'tables/release_endpoint_hit/2.sql'), "
                "('snoopdb.core', 'releases.yaml'), "
                "('snoopdb.migrations', 'script.py.mako')]])")
        shipped = subprocess.run([bin_dir / "python", "-c", look], capture_output=True, text=True,
                                 check=True, env=env, cwd=tmp_path)
        template, data_files = shipped.stdout.splitlines()
        assert template.startswith(str(env_dir)) and Path(template).is_file()
        assert data_files == " ".join(["True"] * 8)
        # offline (nothing listens on the discard port), the shipped releases list answers
        releases = subprocess.run([bin_dir / "snoopdb", "load", "--release", "1.4"],
                                  capture_output=True, text=True, cwd=tmp_path,
                                  env={**env, "SNOOPDB_APISNOOP_RAW_URL": "http://127.0.0.1:9"})
        assert releases.returncode == 2  # a release no list has: a usage error
        warning, error = releases.stderr.strip().splitlines()
        assert warning.startswith("warning: apisnoop's releases list unreadable (")
        assert warning.endswith("): using the copy shipped with snoopdb, newest 1.36"
                                " (--releases-file FILE names another)")
        assert error == ("snoopdb: error: unknown release '1.4': releases before 1.5 have no"
                         " OpenAPI spec")
        with psycopg.connect(scratch) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT relnamespace::regnamespace || '.' || relname FROM pg_class"
                " WHERE relnamespace::regnamespace::text IN ('public', 'conformance', 'testing')"
                " AND relkind IN ('r', 'p', 'v')")}
        assert {"public.open_api", "public.audit_event", "conformance.test",
                "conformance.ineligible_endpoint", "testing.audit_event"} <= tables
