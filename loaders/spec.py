"""Kubernetes OpenAPI v2 spec → `open_api`, one row per operation, streamed with ijson."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import ijson
import psycopg

from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.db import loadlog, locks, refresh

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Served under /.well-known/ (a stable-looking path) but beta when they were added.
BETA_BY_NAME = frozenset(
    {"getServiceAccountIssuerOpenIDConfiguration", "getServiceAccountIssuerOpenIDKeyset"}
)
COLUMNS = (
    "release", "release_date", "endpoint", "level", "category", "path", "k8s_group",
    "k8s_version", "k8s_kind", "k8s_action", "deprecated", "description", "spec", "method",
)


@dataclass(frozen=True)
class Operation:
    """One operation of a spec with the columns snoopDB derives from it."""

    endpoint: str
    method: str
    path: str
    level: str
    category: str | None
    k8s_group: str | None
    k8s_version: str | None
    k8s_kind: str | None
    k8s_action: str | None
    deprecated: bool
    description: str


def level_of(endpoint: str, path: str) -> str:
    if endpoint in BETA_BY_NAME:
        return "beta"
    if "alpha" in path:
        return "alpha"
    if "beta" in path:
        return "beta"
    return "stable"


def read_operations(stream: IO[bytes], origin: str) -> Iterator[Operation]:
    """Every operation under `paths`, one path item in memory at a time; InputError
    (one line) for a document that is not JSON, a field of the wrong type, or an
    operationId used twice (it is open_api's key within a release)."""
    seen: dict[str, str] = {}
    try:
        for path, item in ijson.kvitems(stream, "paths", use_float=True):
            if not isinstance(item, dict):
                raise InputError(f"{origin}: path {path} is {_kind(item)}, not an object")
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue  # `parameters` and vendor extensions are not operations
                operation = _operation(path, method, op, origin)
                where = f"{method.upper()} {path}"
                if operation.endpoint in seen:
                    raise InputError(f"{origin}: operationId {operation.endpoint} of {where} "
                                     f"is also {seen[operation.endpoint]}'s")
                seen[operation.endpoint] = where
                yield operation
    except ijson.JSONError as exc:
        raise InputError(f"{origin}: not a JSON OpenAPI document: "
                         f"{' '.join(str(exc).split())}") from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{origin}: not a JSON OpenAPI document: {type(exc).__name__}") from exc
    except (EOFError, OSError) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(f"{origin}: truncated or corrupt gzip: {exc}") from exc


_KINDS = {dict: "an object", list: "an array", str: "a string", int: "a number",
          float: "a number", bool: "a boolean", type(None): "null"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _operation(path: str, method: str, op: object, origin: str) -> Operation:
    where = f"{origin}: {method.upper()} {path}"
    if not isinstance(op, dict):
        raise InputError(f"{where} is {_kind(op)}, not an operation object")
    endpoint = op.get("operationId")
    if not endpoint:
        raise InputError(f"{where} has no operationId")
    tags = op.get("tags") or []
    gvk = op.get("x-kubernetes-group-version-kind") or {}
    description = op.get("description") or ""
    for name, value, kind in (("operationId", endpoint, str), ("tags", tags, list),
                              ("x-kubernetes-group-version-kind", gvk, dict),
                              ("description", description, str),
                              ("x-kubernetes-action", op.get("x-kubernetes-action") or "", str)):
        if not isinstance(value, kind):
            raise InputError(f"{where}: {name} is {_kind(value)}, not {_kind(kind())}")
    texts = (path, endpoint, description, *tags[:1], *gvk.values())
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise InputError(f"{where}: holds a NUL character")
    if tags and not isinstance(tags[0], str):
        raise InputError(f"{where}: tags[0] is {_kind(tags[0])}, not a string")
    for key in ("group", "version", "kind"):
        if not isinstance(gvk.get(key) or "", str):
            raise InputError(f"{where}: x-kubernetes-group-version-kind.{key} is "
                             f"{_kind(gvk[key])}, not a string")
    return Operation(
        endpoint=endpoint,
        method=method,
        path=path,
        level=level_of(endpoint, path),
        category=tags[0].split("_", 1)[0] if tags else None,
        k8s_group=gvk.get("group"),
        k8s_version=gvk.get("version"),
        k8s_kind=gvk.get("kind"),
        k8s_action=op.get("x-kubernetes-action"),
        deprecated="deprecated" in description.lower(),
        description=description,
    )


def load(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    location: str,
    release: str,
    release_date: dt.date | None,
    *,
    cache: bool = True,
) -> int:
    """Replace `release`'s rows of open_api with the spec at `location`; returns the row count.

    One transaction: a failure leaves the release's previous rows in place.
    """
    started = dt.datetime.now(dt.timezone.utc)
    with conn.transaction(), fetcher.open(location, cache=cache) as stream:
        locks.serialise(conn, f"spec {release}")
        conn.execute("DELETE FROM open_api WHERE release = %s", (release,))
        count = 0
        with conn.cursor().copy(f"COPY open_api ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for op in read_operations(stream, location):
                copy.write_row((
                    release, release_date, op.endpoint, op.level, op.category, op.path,
                    op.k8s_group, op.k8s_version, op.k8s_kind, op.k8s_action, op.deprecated,
                    op.description, location, op.method,
                ))
                count += 1
        if count == 0:
            raise InputError(f"{location}: no operations under `paths`")
        loadlog.record(conn, "spec", release, location, started, count)
        refresh.eligible_coverage(conn)
    return count


def date_releases(conn: psycopg.Connection,
                  dates: dict[str, dt.date]) -> list[tuple[str, dt.date]]:
    """Give the loaded releases that have no release_date (loaded while in development)
    the date the releases list now gives them; returns the releases dated."""
    dated = []
    with conn.transaction():
        for release, date in dates.items():
            updated = conn.execute("UPDATE open_api SET release_date = %s"
                                   " WHERE release = %s AND release_date IS NULL",
                                   (date, release)).rowcount
            if updated:
                dated.append((release, date))
    return dated


def loaded_releases(conn: psycopg.Connection) -> set[str]:
    """The releases whose spec is in open_api."""
    return {row[0] for row in conn.execute("SELECT DISTINCT release FROM open_api")}
