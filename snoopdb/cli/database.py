"""The database's commands: `init`, `query` (and `query --archive`), and `db
url|psql|duckdb|upgrade|current|revisions|stop`."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from snoopdb.cli import shell
from snoopdb.cli.context import Context, say
from snoopdb.cli.exits import cancelled_on_sigterm
from snoopdb.cli.parsing import add_command
from snoopdb.commands.archive_query import archive_query
from snoopdb.commands.query import QueryRows, read_only_query
from snoopdb.core.errors import ConfigError, DatabaseError, UsageError
from snoopdb.db import connection, schema


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create or upgrade the schema (Alembic migrations and views).

    A database the URL names that does not exist yet is created first, when the role
    may create databases (else the error says how an administrator creates it).

    Example: snoopdb init
    """
    created = connection.create_if_missing(ctx.url)
    if created is not None:
        say(f'created database "{created}": it did not exist')
    schema.migrate(ctx.url)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)} in "
              f"{connection.redact(ctx.url)}")
    return 0


def add_init(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "init", cmd_init)


def cmd_db_url(args: argparse.Namespace, ctx: Context) -> int:
    """Print the database URL in use (starting the embedded server if that is the one).

    Example: snoopdb db url
    """
    print(ctx.url)
    return 0


def cmd_db_psql(args: argparse.Namespace, ctx: Context) -> int:
    """Open psql on the database in use: the embedded server's own psql (the one its
    wheel ships, of the server's version), else the psql on PATH. Every argument
    snoopdb does not know goes to psql (-c SQL, -f FILE, -tA, ...).

    Example: snoopdb db psql -c 'select * from testing.untested_stable_endpoint limit 5'
    """
    url = ctx.url
    if connection.uses_embedded(ctx.settings, ctx.url_option):
        psql = str(connection.embedded_psql(ctx.settings))
    else:
        found = shutil.which("psql")
        if found is None:
            raise ConfigError("no psql on PATH: install PostgreSQL's client (Debian: apt-get "
                              "install postgresql-client), or use `snoopdb query SQL`")
        psql = found
    sys.stdout.flush()
    dbname, password = connection.without_password(url)
    environment = dict(os.environ)
    if password is not None:
        # in the environment, as libpq's tools take it: only this user reads a process's
        # environment, where anyone reads its command line (/proc/PID/cmdline, ps)
        environment["PGPASSWORD"] = password
    # psql takes over the terminal (its Ctrl-C cancels a query, not snoopdb): a fixed
    # program with the user's own arguments, no shell
    os.execve(psql, [psql, "--dbname", dbname, *args.psql_args], environment)  # noqa: S606


def cmd_db_duckdb(args: argparse.Namespace, ctx: Context) -> int:
    """Open a DuckDB shell on an archive folder (what `snoopdb runs archive --to DIR`
    writes): SQL over its Parquet files, with audit_event as in PostgreSQL.

    snoopdb's own shell, over the read-only connection `snoopdb query --archive` uses
    (DuckDB may read the archive's files and nothing else; each statement one that only
    reads); not DuckDB's CLI, which the duckdb package does not ship and which would
    let a statement write. End a statement with `;`; `.tables` lists the views,
    `.quit` (or Ctrl-D) leaves. With stdin not a terminal, runs the statements it reads.
    Needs `pip install 'snoopdb[archive]'`.

    Example: snoopdb db duckdb --archive /srv/snoopdb-archive
    """
    return shell.run(args.archive, ctx.settings.query_timeout)


def cmd_db_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    """Upgrade the schema to a revision (default: the newest), as `snoopdb init` does.

    A revision older than the database's is refused: snoopdb never downgrades (it would
    drop tables and their rows); restore a dump made at that revision instead.

    Example: snoopdb db upgrade head
    """
    shipped = [revision for revision, _, _ in schema.revisions()]  # newest first
    if args.revision != "head" and args.revision not in shipped:
        raise UsageError(f"unknown revision {args.revision!r}: this snoopdb ships "
                         f"{shipped[-1]} to {shipped[0]} (`snoopdb db revisions`)")
    with connection.connect(ctx.url) as conn:
        current = schema.schema_revision(conn)
    if current in shipped and args.revision in shipped and (
            shipped.index(current) < shipped.index(args.revision)):
        raise DatabaseError(f"the schema is at revision {current}, newer than "
                            f"{args.revision}: `db upgrade` never downgrades (restore a dump "
                            f"made at {args.revision} instead)")
    schema.migrate(ctx.url, args.revision)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)}")
    return 0


def cmd_db_current(args: argparse.Namespace, ctx: Context) -> int:
    """Print the schema revision of the database and whether it is this snoopdb's newest.

    Example: snoopdb db current --json
    """
    with connection.connect(ctx.url) as conn:
        current = schema.schema_revision(conn)
    head = schema.head_revision()
    shipped = [revision for revision, _, _ in schema.revisions()]
    state = ("not initialised" if current is None else "head" if current == head else
             "behind" if current in shipped else "unknown")
    if args.json:
        print(json.dumps({"revision": current, "head": head, "state": state}))
        return 0
    print(f"{current or 'none'}: " + {
        "not initialised": "not initialised (run `snoopdb init`)",
        "head": "head",
        "behind": f"behind head {head} (run `snoopdb init`)",
        "unknown": f"a revision this snoopdb does not ship (its head is {head}): made by "
                   "a newer snoopdb?"}[state])
    return 0


def cmd_db_revisions(args: argparse.Namespace, ctx: Context) -> int:
    """List the schema revisions this snoopdb ships, newest first.

    `db history` is its older name, kept: history is otherwise apisnoop's published
    coverage (load --history).

    Example: snoopdb db revisions
    """
    for revision, down, title in schema.revisions():
        print(f"{down or '<base>'} -> {revision}: {title}")
    return 0


def cmd_db_stop(args: argparse.Namespace, ctx: Context) -> int:
    """Stop the embedded PostgreSQL server, if it is running.

    Example: snoopdb db stop
    """
    stopped = connection.stop_embedded(ctx.settings)
    print("embedded server stopped" if stopped else "embedded server is not running")
    return 0


def add_db(sub: argparse._SubParsersAction) -> None:
    db_parser = sub.add_parser(
        "db", help="The database in use: its URL, schema revision and embedded server.",
        description="The database in use: its URL, schema revision and embedded server.\n\n"
                    "Example: snoopdb db current",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    db = db_parser.add_subparsers(dest="db_command", metavar="COMMAND")
    add_command(db, "url", cmd_db_url)
    psql = add_command(db, "psql", cmd_db_psql)
    psql.set_defaults(passthrough="psql_args")
    psql.usage = "snoopdb db psql [-h] [--database-url DATABASE_URL] [PSQL_ARGUMENTS ...]"
    duckdb = add_command(db, "duckdb", cmd_db_duckdb)
    duckdb.add_argument("--archive", type=Path, required=True, metavar="DIR",
                        help="the archive folder (release=…/job=…/run=…/*.parquet)")
    upgrade = add_command(db, "upgrade", cmd_db_upgrade)
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="revision to upgrade to (default: head)")
    current = add_command(db, "current", cmd_db_current)
    current.add_argument("--json", action="store_true",
                         help='print {"revision", "head", "state"} as JSON')
    add_command(db, "revisions", cmd_db_revisions, aliases=["history"])
    add_command(db, "stop", cmd_db_stop)


def cmd_query(args: argparse.Namespace, ctx: Context) -> int:
    """Run one SQL statement, read-only, and print its rows for scripts: a JSON array of
    objects (the default, or --json), or CSV with a header line (--csv).

    The statement runs as snoopdb_reader, a role that can only read, in a read-only
    transaction: one statement that returns rows; each part sent stops after
    SNOOPDB_QUERY_TIMEOUT seconds (default 300), and SIGTERM or Ctrl-C cancels it on
    the server. Rows are printed as they come, a batch at a time.

    With --archive DIR, the statement runs in DuckDB over an archive folder's Parquet
    files (`snoopdb runs archive`), never touching the database: audit_event there has
    PostgreSQL's columns (data as JSON: `data->>'verb'` runs as in psql) and the fields
    pulled out of data (verb, resource, namespace, name, code, username, …). DuckDB
    reads those files and nothing else; one statement that only reads, interrupted after
    SNOOPDB_QUERY_TIMEOUT seconds. Needs `pip install 'snoopdb[archive]'`.

    Example: snoopdb query "select endpoint from untested_stable_endpoint" --csv
    """
    timeout = ctx.settings.query_timeout
    if args.archive is not None:
        with cancelled_on_sigterm(), archive_query(args.archive, args.sql, timeout) as result:
            _write(result, args.csv)
        return 0
    with ctx.connect() as conn, cancelled_on_sigterm(), \
            read_only_query(conn, args.sql, timeout) as result:
        _write(result, args.csv)
    return 0


def _write(result: QueryRows, as_csv: bool) -> None:
    """The rows as CSV with a header line, or as a JSON array of objects."""
    if as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(result.columns)
        for row in result.rows:
            out.writerow([_csv_value(v) for v in row])
    else:
        _write_json(result.columns, result.rows)


def _write_json(columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """The rows as one JSON array of objects, written as they come: what json.dumps(…,
    indent=2) writes of the whole list."""
    written = False
    for row in rows:
        item = json.dumps(dict(zip(columns, row, strict=True)), indent=2,
                          default=_json_value, ensure_ascii=False)
        sys.stdout.write(("[\n  " if not written else ",\n  ") + item.replace("\n", "\n  "))
        written = True
    sys.stdout.write("\n]\n" if written else "[]\n")


def _json_value(value: Any) -> Any:
    """What json cannot write itself: dates as ISO 8601, numerics as numbers, others as
    text."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _csv_value(value: Any) -> Any:
    """Lists and objects as JSON in their cell; booleans as true/false; null empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def add_query(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "query", cmd_query)
    parser.add_argument("sql", metavar="SQL", help="one SQL statement")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help="a JSON array of objects, one per row (the default)")
    output.add_argument("--csv", action="store_true", help="CSV with a header line")
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="run SQL in DuckDB over this archive folder's Parquet files "
                             "instead of the database (snoopdb runs archive --to DIR)")
