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
from snoopdb.db import loadlog, refresh

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
    """Every operation under `paths`, one path item in memory at a time."""
    try:
        for path, item in ijson.kvitems(stream, "paths", use_float=True):
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue  # `parameters` and vendor extensions are not operations
                yield _operation(path, method, op, origin)
    except ijson.JSONError as exc:
        raise InputError(f"{origin}: not a JSON OpenAPI document: {exc}") from exc


def _operation(path: str, method: str, op: dict, origin: str) -> Operation:
    endpoint = op.get("operationId")
    if not endpoint:
        raise InputError(f"{origin}: {method.upper()} {path} has no operationId")
    tags = op.get("tags") or []
    gvk = op.get("x-kubernetes-group-version-kind") or {}
    description = op.get("description") or ""
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
