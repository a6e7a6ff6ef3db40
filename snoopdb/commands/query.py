"""`snoopdb query`: one SQL statement for scripts, run by a role that can only read, its
rows streamed from a server-side cursor.

What holds, whatever the statement (README, "snoopdb query"):
- one statement: it is parsed alone through the extended protocol, which refuses a
  second one, before anything runs; one that returns no rows (COMMIT, SET, COPY … TO
  PROGRAM, DROP) is refused then too, never run;
- a read-only transaction, under a statement timeout;
- the statement runs inside reader_rows(), a SECURITY DEFINER function owned by
  snoopdb_reader (revision 0016): SELECT on the data, no other right, and inside it no
  `set_config('role', …)` or SET SESSION AUTHORIZATION can take the session's own
  rights back, which a plain SET ROLE lets any statement do.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq, sql
from psycopg.adapt import Transformer

from snoopdb.core.errors import DatabaseError, UsageError

READER = "snoopdb_reader"
CURSOR = "snoopdb_query"
BATCH = 1000
# "cannot insert multiple commands into a prepared statement": the extended protocol's
# one statement a message
_SYNTAX_ERROR = "42601"
_MULTIPLE = "multiple commands"
_QUERY_CANCELED = "57014"


@dataclass
class QueryRows:
    """The columns of a statement, and its rows as they come (read them inside the
    `read_only_query` block that gave them)."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


@contextlib.contextmanager
def read_only_query(conn: psycopg.Connection, statement: str,
                    timeout: float) -> Iterator[QueryRows]:
    """The rows of `statement`, run as snoopdb_reader in a read-only transaction whose
    statements each stop after `timeout` seconds (see the module's docstring); fetched
    BATCH rows at a time, so memory holds a batch, not the result."""
    with conn.transaction(), _said(timeout):
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
            sql.Literal(f"{max(1, round(timeout * 1000))}ms")))
        _become_reader(conn)
        columns, types = _describe(conn, statement)
        with conn.cursor(name=CURSOR) as cursor:
            cursor.execute("SELECT reader_rows(%s)", (statement,))
            # the first batch runs the statement: its errors come before any output
            first = cursor.fetchmany(BATCH)
            yield QueryRows(columns, _rows(conn, cursor, first, types))


@contextlib.contextmanager
def _said(timeout: float) -> Iterator[None]:
    """The statement's own errors as one line: the server's message, without the
    context line naming reader_rows()."""
    try:
        yield
    except psycopg.Error as exc:
        if exc.sqlstate is None:  # the connection's, not the statement's
            raise
        said = " ".join((exc.diag.message_primary or str(exc)).split())
        if exc.sqlstate == _QUERY_CANCELED and "timeout" in said:
            raise DatabaseError(f"the query ran past {timeout:g}s (SNOOPDB_QUERY_TIMEOUT) "
                                "and was cancelled") from None
        raise DatabaseError(f"database error: {said}") from None


def _become_reader(conn: psycopg.Connection) -> None:
    """SET LOCAL ROLE snoopdb_reader, or one line on why the session cannot."""
    try:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(READER)))
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject) as exc:
        user = conn.info.user
        raise DatabaseError(
            f"{user} cannot run queries as {READER} ({' '.join(str(exc).split())}): an "
            f"administrator grants it with `GRANT {READER} TO \"{user}\"`; `snoopdb init` "
            f"creates the role") from None


def _describe(conn: psycopg.Connection, statement: str) -> tuple[list[str], list[int]]:
    """The column names and type OIDs of `statement`, parsed as one statement and
    not run."""
    encoding = conn.info.encoding
    pgconn = conn.pgconn
    parsed = pgconn.prepare(b"", statement.encode(encoding))
    if parsed.status == pq.ExecStatus.FATAL_ERROR:
        said = (parsed.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode(
            encoding, "replace")
        if (parsed.error_field(pq.DiagnosticField.SQLSTATE) == _SYNTAX_ERROR.encode()
                and _MULTIPLE in said):
            raise UsageError("SQL holds more than one statement: `snoopdb query` runs one "
                             "(run each on its own)")
        raise psycopg.errors.error_from_result(parsed, encoding=encoding)
    described = pgconn.describe_prepared(b"")
    if described.nfields == 0:
        raise UsageError("SQL returns no rows: `snoopdb query` runs a statement that does "
                         "(SELECT, VALUES, TABLE, WITH, SHOW, EXPLAIN), and only reads")
    names = [(described.fname(i) or b"").decode(encoding, "replace")
             for i in range(described.nfields)]
    return names, [described.ftype(i) for i in range(described.nfields)]


def _rows(conn: psycopg.Connection, cursor: psycopg.ServerCursor, first: list[Any],
          types: list[int]) -> Iterator[tuple[Any, ...]]:
    """Each row of reader_rows() from `first` on, its record's fields read as their
    types."""
    encoding = conn.info.encoding
    loading = Transformer(conn)
    loading.set_loader_types(types, pq.Format.TEXT)
    batch = first
    while batch:
        for (record,) in batch:
            yield loading.load_sequence(
                [None if field is None else field.encode(encoding)
                 for field in record_fields(record, len(types))])
        batch = cursor.fetchmany(BATCH)


# A field of record_out's text: quoted (quotes and backslashes doubled inside), or bare
# (no quote, comma, parenthesis, backslash or space: an empty bare field is NULL).
_FIELD = re.compile(r'"((?:[^"\\]|""|\\.)*)"|([^,]*)', re.DOTALL)
_DOUBLED = re.compile(r'""|\\(.)', re.DOTALL)


def record_fields(text: str, count: int) -> list[str | None]:
    """The `count` fields of a record as PostgreSQL writes it (`(1,"a,b",)`): text, or
    None for NULL."""
    if not (text.startswith("(") and text.endswith(")")):
        raise ValueError(f"not a record: {text[:40]!r}")
    inner = text[1:-1]
    fields: list[str | None] = []
    at = 0
    while True:
        found = _FIELD.match(inner, at)
        assert found is not None  # the bare alternative matches anywhere, if empty
        if found.group(1) is not None:
            fields.append(_DOUBLED.sub(lambda m: m.group(1) or '"', found.group(1)))
        else:
            fields.append(found.group(2) or None)
        at = found.end()
        if at >= len(inner):
            break
        if inner[at] != ",":
            raise ValueError(f"not a record: {text[:40]!r}")
        at += 1
    if len(fields) != count:
        raise ValueError(f"a record of {len(fields)} fields, not {count}: {text[:40]!r}")
    return fields
