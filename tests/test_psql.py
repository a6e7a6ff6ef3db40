"""`snoopdb db psql` hands psql the database without its password on the command line,
where any user of the machine reads it (/proc/PID/cmdline, ps): the password goes
in PGPASSWORD, as libpq's tools take it, which only the process's own user reads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

SNOOPDB = str(Path(sys.executable).with_name("snoopdb"))
PASSWORD = "s3cret-pa$$word"  # noqa: S105 (a test server trusts any)


def test_the_password_stays_off_psqls_command_line(database_url: str, conn: object) -> None:
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    url = psycopg.conninfo.make_conninfo(database_url, password=PASSWORD)  # trust: any
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "DATABASE_URL")}
    psql = subprocess.Popen([SNOOPDB, "--database-url", url, "db", "psql", "-XAtc",
                             "select pg_sleep(3), current_database()"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = Path("/proc") / str(psql.pid)
    deadline = time.monotonic() + 30
    while b"psql" not in Path(proc / "cmdline").read_bytes().split(b"\0")[0]:
        assert time.monotonic() < deadline and psql.poll() is None
        time.sleep(0.02)
    command_line = (proc / "cmdline").read_bytes().split(b"\0")
    environment = (proc / "environ").read_bytes().split(b"\0")
    out, err = psql.communicate(timeout=60)
    assert (psql.returncode, err) == (0, ""), err
    assert out.strip() == f"|{params['dbname']}"
    assert not [arg for arg in command_line if PASSWORD.encode() in arg], command_line
    assert f"PGPASSWORD={PASSWORD}".encode() in environment


@pytest.mark.parametrize("form", ["uri", "keyvalue"])
def test_a_url_without_a_password_leaves_the_environment_alone(
    database_url: str, conn: object, form: str, tmp_path: Path,
) -> None:
    url = (database_url if form == "uri" else
           psycopg.conninfo.make_conninfo(database_url))
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
           "PGPASSWORD": "from-the-user"}
    done = subprocess.run([SNOOPDB, "--database-url", url, "db", "psql", "-XAtc",
                           "select 1"], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")
