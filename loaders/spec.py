"""Kubernetes OpenAPI v2 spec → `open_api`, one row per operation, streamed with ijson."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import ijson
import psycopg

from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.fields import Field, Schema, body_fields, compact, ref_name
from snoopdb.db import loadlog

FIELD_COLUMNS = ("digest", "field", "parent", "name", "type", "ref", "recursion", "leaf",
                 "position")
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
    # The request body: the `$ref` of an inline body parameter's schema, the
    # `$ref`s of shared parameters (one may be the body), the 200 response's `$ref`.
    body: str | None = None
    parameter_refs: tuple[str, ...] = ()
    response: str | None = None


def level_of(endpoint: str, path: str) -> str:
    if endpoint in BETA_BY_NAME:
        return "beta"
    if "alpha" in path:
        return "alpha"
    if "beta" in path:
        return "beta"
    return "stable"


@dataclass
class Bodies:
    """What the body schemas need besides `paths`, collected as the spec streams by:
    `definitions` (compacted: no descriptions) and the shared `parameters`."""

    definitions: dict[str, Schema] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def body_of(self, op: Operation) -> tuple[str, str] | None:
        """(definition, how) of the operation's request body, or None without one.

        `how` is `body` (the body parameter's schema) or `patch`: a patch's body
        schema is the opaque meta.v1.Patch, so its fields are those of the
        resource it patches (the 200 response), which a merge patch names.
        """
        ref = op.body
        for shared in op.parameter_refs:
            parameter = self.parameters.get(shared.rsplit("/", 1)[-1]) or {}
            if parameter.get("in") == "body":
                ref = (parameter.get("schema") or {}).get("$ref")
        definition = ref_name(ref)
        if definition is None:
            return None
        if definition.endswith(".Patch") and not self.definitions.get(definition, {}).get(
                "properties"):
            patched = ref_name(op.response)
            return (patched, "patch") if patched in self.definitions else None
        return (definition, "body") if definition in self.definitions else None

    def fields(self, definition: str) -> list[Field]:
        return body_fields(definition, self.definitions)


def read_operations(stream: IO[bytes], origin: str,
                    bodies: Bodies | None = None) -> Iterator[Operation]:
    """Every operation under `paths`, one path item in memory at a time; with
    `bodies`, the definitions and shared parameters are collected into it in the
    same single read."""
    try:
        if bodies is None:
            for path, item in ijson.kvitems(stream, "paths", use_float=True):
                yield from _path_operations(path, item, origin)
        else:
            yield from _read_with_bodies(stream, origin, bodies)
    except ijson.JSONError as exc:
        raise InputError(f"{origin}: not a JSON OpenAPI document: {exc}") from exc


READ_CHUNK = 1 << 16


def _read_with_bodies(stream: IO[bytes], origin: str, bodies: Bodies) -> Iterator[Operation]:
    # One read of the stream feeds three push parsers (ijson's C backend), so a
    # spec read from the network is read once and only one path item and one
    # definition are ever whole in memory.
    found: dict[str, Any] = {key: ijson.sendable_list()
                             for key in ("paths", "definitions", "parameters")}
    parsers = [ijson.kvitems_coro(found[key], key, use_float=True) for key in found]
    while True:
        chunk = stream.read(READ_CHUNK)
        for parser in parsers:
            if chunk:
                parser.send(chunk)
            else:
                parser.close()
        for name, schema in found["definitions"]:
            bodies.definitions[name] = compact(schema)
        for name, parameter in found["parameters"]:
            bodies.parameters[name] = parameter
        for path, item in found["paths"]:
            yield from _path_operations(path, item, origin)
        for events in found.values():
            del events[:]
        if not chunk:
            return


def _path_operations(path: str, item: dict[str, Any], origin: str) -> Iterator[Operation]:
    shared = item.get("parameters") or []
    for method, op in item.items():
        if method not in HTTP_METHODS:
            continue  # `parameters` and vendor extensions are not operations
        yield _operation(path, method, op, origin, shared)


def _operation(path: str, method: str, op: dict, origin: str,
               path_parameters: Iterable[Any] = ()) -> Operation:
    endpoint = op.get("operationId")
    if not endpoint:
        raise InputError(f"{origin}: {method.upper()} {path} has no operationId")
    body = None
    refs = []
    for parameter in (*path_parameters, *(op.get("parameters") or [])):
        if not isinstance(parameter, dict):
            continue
        if isinstance(parameter.get("$ref"), str):
            refs.append(parameter["$ref"])
        elif parameter.get("in") == "body":
            body = (parameter.get("schema") or {}).get("$ref")
    ok = (op.get("responses") or {}).get("200") or {}
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
        body=body if isinstance(body, str) else None,
        parameter_refs=tuple(refs),
        response=(ok.get("schema") or {}).get("$ref") if isinstance(ok, dict) else None,
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
    bodies = Bodies()
    with conn.transaction(), fetcher.open(location, cache=cache) as stream:
        conn.execute("DELETE FROM open_api WHERE release = %s", (release,))
        count = 0
        with_body: list[Operation] = []
        with conn.cursor().copy(f"COPY open_api ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for op in read_operations(stream, location, bodies):
                copy.write_row((
                    release, release_date, op.endpoint, op.level, op.category, op.path,
                    op.k8s_group, op.k8s_version, op.k8s_kind, op.k8s_action, op.deprecated,
                    op.description, location, op.method,
                ))
                count += 1
                if op.body or op.parameter_refs:
                    with_body.append(op)
        if count == 0:
            raise InputError(f"{location}: no operations under `paths`")
        fields = store_bodies(conn, release, bodies, with_body)
        loadlog.record(conn, "spec", release, location, started, count, {"body_fields": fields})
    return count


def store_bodies(conn: psycopg.Connection, release: str, bodies: Bodies,
                 operations: Iterable[Operation]) -> int:
    """Replace `release`'s endpoint_body and body_schema rows; returns its field count.

    A definition's field tree is stored once whatever the number of its endpoints
    and of the releases that have it unchanged (body_field rows are named by a
    digest of the tree); trees no release points at any more are deleted.
    """
    conn.execute("DELETE FROM endpoint_body WHERE release = %s", (release,))
    previous = [row[0] for row in conn.execute(
        "DELETE FROM body_schema WHERE release = %s RETURNING digest", (release,))]
    definitions: set[str] = set()
    with conn.cursor().copy(
            "COPY endpoint_body (release, endpoint, definition, how) FROM STDIN") as copy:
        for op in operations:
            found = bodies.body_of(op)
            if found is not None:
                copy.write_row((release, op.endpoint, *found))
                definitions.add(found[0])
    trees = {definition: bodies.fields(definition) for definition in sorted(definitions)}
    digests = {definition: _digest(fields) for definition, fields in trees.items()}
    with conn.cursor().copy(
            "COPY body_schema (release, definition, digest, fields) FROM STDIN") as copy:
        for definition, fields in trees.items():
            copy.write_row((release, definition, digests[definition], len(fields)))
    stored = {row[0] for row in conn.execute(
        "SELECT DISTINCT digest FROM body_field WHERE digest = ANY(%s)",
        (sorted(set(digests.values())),))}
    with conn.cursor().copy(f"COPY body_field ({', '.join(FIELD_COLUMNS)}) FROM STDIN") as copy:
        for definition, fields in trees.items():
            digest = digests[definition]
            if digest in stored:
                continue
            stored.add(digest)
            for position, f in enumerate(fields):
                copy.write_row((digest, f.path, f.parent, f.name, f.type, f.definition,
                                f.recursion, f.leaf, position))
    # the trees this release pointed at before and no release points at now
    conn.execute("DELETE FROM body_field f WHERE f.digest = ANY(%s) AND NOT EXISTS"
                 " (SELECT FROM body_schema s WHERE s.digest = f.digest)", (previous,))
    # fresh statistics of the small tables, or the field views' joins are planned
    # as if they were empty (body_field, large, is left to autovacuum: analyzing it
    # would double a spec's load time)
    conn.execute("ANALYZE endpoint_body, body_schema")
    return sum(len(fields) for fields in trees.values())


def _digest(fields: list[Field]) -> str:
    """A name for a field tree: equal trees, equal names."""
    text = "\n".join(f"{f.path}\t{f.type}\t{f.definition}\t{f.recursion}\t{f.leaf}"
                     for f in fields)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def loaded_releases(conn: psycopg.Connection) -> set[str]:
    """The releases whose spec is in open_api."""
    return {row[0] for row in conn.execute("SELECT DISTINCT release FROM open_api")}
