"""The schema's life-cycle: Alembic migrations over frozen SQL files, the revision a
database is at, and the check read-only commands make instead of migrating."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

import psycopg

from snoopdb.core.errors import DatabaseError, SchemaOutdated
from snoopdb.db.connection import reason, redact
from snoopdb.db.queries import query


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (the newest by default): what `snoopdb init` does."""
    _alembic(url, "upgrade", revision)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_semver(conn)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the schema to `revision` (`base` removes every snoopdb object)."""
    _alembic(url, "downgrade", revision)


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("snoopdb.migrations")))
    return config


# pg_advisory_xact_lock key held while migrating ("snoopdb" in ASCII)
MIGRATION_LOCK = 0x736E6F6F706462


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    config = _config()
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    try:
        with engine.begin() as connection:
            # Two first loads (or inits) at once: the second waits for the first's
            # migration and then finds the schema at head, instead of colliding
            # with it on every CREATE.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    except Exception as exc:
        if isinstance(exc, DatabaseError):
            raise
        said = reason(getattr(exc, "orig", exc), url)
        raise DatabaseError(f"{action} of {redact(url)} failed: {said}") from exc
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision this snoopdb ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "snoopdb ships at least one migration"
    return head


def revisions() -> Iterator[tuple[str, str | None, str]]:
    """Every shipped revision, newest first: (revision, the one it revises, its title)."""
    from alembic.script import ScriptDirectory

    for script in ScriptDirectory.from_config(_config()).walk_revisions():
        down = script.down_revision
        # the docstring's first paragraph, whole: its first line alone cuts sentences
        title = " ".join((script.doc or "").strip().split("\n\n")[0].split())
        down_name = down if isinstance(down, str) or down is None else ",".join(down)
        yield script.revision, down_name, title


def schema_revision(conn: psycopg.Connection) -> str | None:
    """The Alembic revision(s) the database is at, or None when it was never initialised."""
    row = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if row is None or row[0] is None:
        return None
    versions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    return ",".join(sorted(versions)) or None


def require_current(conn: psycopg.Connection) -> None:
    """Fail in one line unless the schema is at this snoopdb's head revision: commands
    that only read never migrate (a read-only role must be able to run them)."""
    current, head = schema_revision(conn), head_revision()
    if current != head:
        raise SchemaOutdated(current, head)


def ensure_semver(conn: psycopg.Connection, *, extension: bool | None = None) -> str:
    """Give the server a `semver` type so that the seed's `release::semver` queries run:
    pg-semver where the server has it — replacing snoopdb's stand-in if an earlier run
    created one — else the stand-in (sql/queries/semver_fallback.sql). Returns what
    the server has now: `extension`, `fallback` or `none` (no privilege for either,
    or something of the user's uses the stand-in).

    `extension=False` acts as if the server had no pg-semver (tests of the stand-in);
    None looks in pg_available_extensions.
    """
    if extension is None:
        extension = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'semver')"
        ).fetchone() == (True,)
    installed = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'semver')").fetchone()
    if installed == (True,):
        return "extension"
    fallback = _semver_fallback_present(conn)
    try:
        with conn.transaction():
            if extension:
                if fallback and not _drop_semver_fallback(conn):
                    return "fallback"
                conn.execute("CREATE EXTENSION semver")
                return "extension"
            if not fallback:
                conn.execute(query("semver_fallback.sql"))
            return "fallback"
    except psycopg.errors.InsufficientPrivilege:
        # available but not installable by this role (the stand-in's base type needs a
        # superuser too): queries without semver still run
        return "fallback" if fallback else "none"


def _semver_fallback_present(conn: psycopg.Connection) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT FROM pg_proc WHERE proname = 'semver_fallback_cmp')"
    ).fetchone() == (True,)


# What depends on the stand-in's type other than its own parts: a user's column,
# view or function using it keeps the stand-in (dropping it would drop theirs).
_SEMVER_FALLBACK_USERS = """
SELECT count(*)
FROM pg_depend d
WHERE d.refobjid = 'semver'::regtype
  AND d.deptype = 'n'
  AND NOT (d.classid = 'pg_proc'::regclass
           AND (SELECT proname ~ '^semver_fallback_' OR proname IN ('min', 'max')
                FROM pg_proc WHERE oid = d.objid))
  AND d.classid NOT IN ('pg_operator'::regclass, 'pg_opclass'::regclass,
                        'pg_opfamily'::regclass, 'pg_cast'::regclass, 'pg_amop'::regclass,
                        'pg_amproc'::regclass)
"""


def _drop_semver_fallback(conn: psycopg.Connection) -> bool:
    """Drop the stand-in unless something of the user's uses it; True when dropped."""
    used = conn.execute(_SEMVER_FALLBACK_USERS).fetchone()
    if used is None or used[0]:
        return False
    conn.execute("DROP TYPE semver CASCADE")
    return True


def run_sql_file(bind: Any, name: str) -> None:
    """Execute a shipped SQL file verbatim on a migration's connection.

    Goes to psycopg directly so that neither SQLAlchemy (`:name`) nor psycopg
    (`%s`) reads placeholders into the file.
    """
    text = resources.files("snoopdb.sql").joinpath(name).read_text()
    bind.connection.driver_connection.execute(text)


# Where versions of the objects revisions replace whole are kept, by what each version
# makes: sql/views/<name>/<n>.sql, sql/functions/<name>/<n>.sql, sql/tables/<name>/<n>.sql
# (a name's versions may be of different kinds: release_endpoint_hit was a materialized
# view, then a partitioned table).
VERSION_FOLDERS = ("views", "functions", "tables")


def version_file(name: str, version: int) -> str:
    """The one file of version `version` of `name`, relative to sql/."""
    sql = resources.files("snoopdb.sql")
    found = [f"{folder}/{name}/{version}.sql" for folder in VERSION_FOLDERS
             if sql.joinpath(folder, name, f"{version}.sql").is_file()]
    assert len(found) == 1, f"version {version} of {name}: {found or 'no file'}"
    return found[0]


def install_version(bind: Any, name: str, version: int) -> None:
    """Install version `version` of view, function or table `name` (see version_file):
    frozen once a revision installs it; its downgrade installs the version before."""
    run_sql_file(bind, version_file(name, version))
