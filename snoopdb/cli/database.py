"""The database's commands: `init`, and `db url|upgrade|current|history|stop`."""

from __future__ import annotations

import argparse

from snoopdb.cli.context import Context
from snoopdb.cli.parsing import add_command
from snoopdb.db import connection, schema


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create or upgrade the schema (Alembic migrations and views).

    Example: snoopdb init
    """
    schema.migrate(ctx.url)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)} in "
              f"{connection.redact(ctx.url)}")
    return 0


def add_init(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "init", cmd_init)


def cmd_db_url(args: argparse.Namespace, ctx: Context) -> int:
    """Print the database URL in use (starting the embedded server if that is the one).

    Example: psql "$(snoopdb db url)"
    """
    print(ctx.url)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    """Upgrade the schema to a revision (default: the newest), as `snoopdb init` does.

    Example: snoopdb db upgrade head
    """
    schema.migrate(ctx.url, args.revision)
    with connection.connect(ctx.url) as conn:
        print(f"schema at revision {schema.schema_revision(conn)}")
    return 0


def cmd_db_current(args: argparse.Namespace, ctx: Context) -> int:
    """Print the schema revision of the database and whether it is this snoopdb's newest.

    Example: snoopdb db current
    """
    with connection.connect(ctx.url) as conn:
        current = schema.schema_revision(conn)
    head = schema.head_revision()
    state = ("not initialised (run `snoopdb init`)" if current is None else
             "head" if current == head else f"behind head {head} (run `snoopdb init`)")
    print(f"{current or 'none'}: {state}")
    return 0


def cmd_db_history(args: argparse.Namespace, ctx: Context) -> int:
    """List the schema revisions this snoopdb ships, newest first.

    Example: snoopdb db history
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
    db = db_parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    add_command(db, "url", cmd_db_url)
    upgrade = add_command(db, "upgrade", cmd_db_upgrade)
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="revision to upgrade to (default: head)")
    add_command(db, "current", cmd_db_current)
    add_command(db, "history", cmd_db_history)
    add_command(db, "stop", cmd_db_stop)
