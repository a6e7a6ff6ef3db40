"""Kubernetes OpenAPI v2 spec → `open_api`, one row per operation, streamed with ijson."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import ijson
import orjson
import psycopg

from snoopdb.core import bounds
from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.fields import (
    FIELD_BUDGET,
    BodySchema,
    Definitions,
    Field,
    FieldTrees,
    Schema,
    body_fields,
    check_text,
    ref_name,
    schemas_by_endpoint,
)
from snoopdb.db import loadlog, locks, refresh
from snoopdb.db.queries import query

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
# A spec read with its body definitions is read whole (three passes over it); real
# ones are 3-6 MB of JSON.
MAX_SPEC_BYTES = 64 << 20
# Bytes of a definition name or an operationId (the real specs' longest: 96 and 79),
# which go into indexes.
MAX_NAME_BYTES = 256
# Body fields of one release, all its body definitions' trees summed (the real specs
# list 14,000-23,000): past it the spec is refused.
MAX_RELEASE_FIELDS = 250_000
# Parameters and responses of one operation stored (the real specs' most: 17 and 4);
# a status code is three digits ("default" aside).
MAX_OPERATION_PARAMETERS = 256
MAX_OPERATION_CODES = 64
MAX_CODE_CHARS = 16


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
    # Its parameters as the spec lists them, its path item's first (inline objects, or
    # {"$ref": …} to shared ones), and the status codes it declares.
    parameters: tuple[dict[str, Any], ...] = ()
    codes: tuple[str, ...] = ()


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
    """What the body schemas need besides `paths`, collected as the spec is read:
    `definitions` (each compacted when first used: no descriptions) and the shared
    `parameters`."""

    definitions: Mapping[str, Schema] = field(default_factory=dict)
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
            return (patched, "patch") if patched and patched in self.definitions else None
        return (definition, "body") if definition in self.definitions else None

    def fields(self, definition: str) -> list[Field]:
        return body_fields(definition, self.definitions)

    def trees(self) -> FieldTrees:
        return FieldTrees(self.definitions)


def read_operations(stream: IO[bytes], origin: str,
                    bodies: Bodies | None = None) -> Iterator[Operation]:
    """Every operation under `paths`, one path item in memory at a time; with
    `bodies`, the definitions and shared parameters are collected into it in the
    same single read. InputError (one line) for a document that is not JSON, a field
    of the wrong type, or an operationId used twice (it is open_api's key within a
    release)."""
    seen: dict[str, str] = {}
    try:
        if bodies is None:
            items: Iterator[tuple[str, Any]] = ijson.kvitems(stream, "paths", use_float=True)
        else:
            items = _read_with_bodies(stream, origin, bodies)
        for path, item in items:
            for operation in _path_operations(path, item, origin):
                where = f"{operation.method.upper()} {path}"
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


def _read_with_bodies(stream: IO[bytes], origin: str,
                      bodies: Bodies) -> Iterator[tuple[str, Any]]:
    # The spec parsed whole, once, by orjson (bounded: real ones are 3-6 MB): as
    # fast as ijson streaming `paths` alone, where three streaming passes (paths,
    # definitions, parameters) took three times as long; it costs ~11 MB for the
    # load's duration.
    content = stream.read(MAX_SPEC_BYTES + 1)
    if len(content) > MAX_SPEC_BYTES:
        raise InputError(f"{origin}: more than {MAX_SPEC_BYTES >> 20} MiB of JSON, not a "
                         "Kubernetes OpenAPI spec (those are a few MB)")
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{origin}: not a JSON OpenAPI document: {exc}") from None
    if not isinstance(document, dict):
        raise InputError(f"{origin}: not a JSON OpenAPI document: {_kind(document)}, not an "
                         "object")
    sections = {}
    for key in ("paths", "definitions", "parameters"):
        sections[key] = document.get(key) or {}
        if not isinstance(sections[key], dict):
            raise InputError(f"{origin}: {key} is {_kind(sections[key])}, not an object")
    for name, schema in sections["definitions"].items():
        if not isinstance(schema, dict):
            raise InputError(f"{origin}: definition {name} is {_kind(schema)}, not an object")
        try:
            check_text(name, "its name", MAX_NAME_BYTES)
        except ValueError as exc:
            raise InputError(f"{origin}: definition {name!r}: {exc}") from None
    bodies.definitions = Definitions(sections["definitions"])
    bodies.parameters = {name: parameter for name, parameter in sections["parameters"].items()
                         if isinstance(parameter, dict)}
    yield from sections["paths"].items()


def _path_operations(path: str, item: object, origin: str) -> Iterator[Operation]:
    if not isinstance(item, dict):
        raise InputError(f"{origin}: path {path} is {_kind(item)}, not an object")
    shared = item.get("parameters") or []
    if not isinstance(shared, list):
        raise InputError(f"{origin}: path {path}: parameters is {_kind(shared)}, not an array")
    for method, op in item.items():
        if method not in HTTP_METHODS:
            continue  # `parameters` and vendor extensions are not operations
        yield _operation(path, method, op, origin, shared)


_KINDS = {dict: "an object", list: "an array", str: "a string", int: "a number",
          float: "a number", bool: "a boolean", type(None): "null"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _operation(path: str, method: str, op: object, origin: str,
               path_parameters: Iterable[Any] = ()) -> Operation:
    where = f"{origin}: {method.upper()} {path}"
    if not isinstance(op, dict):
        raise InputError(f"{where} is {_kind(op)}, not an operation object")
    endpoint = op.get("operationId")
    if not endpoint:
        raise InputError(f"{where} has no operationId")
    tags = op.get("tags") or []
    gvk = op.get("x-kubernetes-group-version-kind") or {}
    description = op.get("description") or ""
    parameters = op.get("parameters") or []
    for name, value, kind in (("operationId", endpoint, str), ("tags", tags, list),
                              ("x-kubernetes-group-version-kind", gvk, dict),
                              ("description", description, str),
                              ("x-kubernetes-action", op.get("x-kubernetes-action") or "", str),
                              ("parameters", parameters, list)):
        if not isinstance(value, kind):
            raise InputError(f"{where}: {name} is {_kind(value)}, not {_kind(kind())}")
    texts = (path, endpoint, description, *tags[:1], *gvk.values())
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise InputError(f"{where}: holds a NUL character")
    if len(endpoint.encode(errors="replace")) > MAX_NAME_BYTES:
        raise InputError(f"{where}: operationId is longer than {MAX_NAME_BYTES} bytes")
    if tags and not isinstance(tags[0], str):
        raise InputError(f"{where}: tags[0] is {_kind(tags[0])}, not a string")
    for key in ("group", "version", "kind"):
        if not isinstance(gvk.get(key) or "", str):
            raise InputError(f"{where}: x-kubernetes-group-version-kind.{key} is "
                             f"{_kind(gvk[key])}, not a string")
    body = None
    refs = []
    for parameter in (*path_parameters, *parameters):
        if not isinstance(parameter, dict):
            continue
        if isinstance(parameter.get("$ref"), str):
            refs.append(parameter["$ref"])
        elif parameter.get("in") == "body":
            schema = parameter.get("schema")
            body = schema.get("$ref") if isinstance(schema, dict) else None
    responses = op.get("responses")
    codes = tuple(str(code) for code in responses) if isinstance(responses, dict) else ()
    ok = responses.get("200") if isinstance(responses, dict) else None
    schema = ok.get("schema") if isinstance(ok, dict) else None
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
        response=schema.get("$ref") if isinstance(schema, dict) else None,
        parameters=tuple(p for p in (*path_parameters, *parameters) if isinstance(p, dict)),
        codes=codes,
    )


def row_of(op: Operation, release: str, release_date: dt.date | None,
           location: str) -> tuple[object, ...]:
    """The open_api row (COLUMNS) of one operation of the spec at `location`."""
    return (release, release_date, op.endpoint, op.level, op.category, op.path, op.k8s_group,
            op.k8s_version, op.k8s_kind, op.k8s_action, op.deprecated, op.description,
            location, op.method)


def load(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    location: str,
    release: str,
    release_date: dt.date | None,
    *,
    cache: bool = True,
    warn: Callable[[str], None] | None = None,
    fields: bool = True,
) -> int:
    """Replace `release`'s rows of open_api with the spec at `location`; returns the row count.

    One transaction: a failure leaves the release's previous rows in place. `warn`
    hears of each body definition whose field tree was cut to the budget. Without
    `fields`, the body schemas are neither read nor replaced (what a spec load cost
    before field-level coverage: bench/specs.py's baseline).
    """
    started = dt.datetime.now(dt.timezone.utc)
    bodies = Bodies() if fields else None
    with conn.transaction(), fetcher.open(location, bound=bounds.SPEC, cache=cache) as stream:
        locks.serialise(conn, f"spec {release}")
        conn.execute("DELETE FROM open_api WHERE release = %s", (release,))
        conn.execute("DELETE FROM endpoint_parameter WHERE release = %s", (release,))
        conn.execute("DELETE FROM endpoint_response WHERE release = %s", (release,))
        count = 0
        with_body: list[Operation] = []
        declared: list[Operation] = []
        with conn.cursor().copy(f"COPY open_api ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for op in read_operations(stream, location, bodies):
                copy.write_row(row_of(op, release, release_date, location))
                count += 1
                if op.body or op.parameter_refs:
                    with_body.append(op)
                if bodies is not None:
                    declared.append(op)
        if count == 0:
            raise InputError(f"{location}: no operations under `paths`")
        if bodies is not None:
            try:
                depth_cut = store_declared(conn, release, bodies, declared)
            except InputError as exc:
                raise InputError(f"{location}: {exc}") from None
            for endpoint, what in depth_cut.items():
                if warn:
                    warn(f"spec {release}: operation {endpoint} declares {what}: "
                         "the rest left out")
        try:
            stored, cut = store_bodies(conn, release, bodies, with_body) if bodies else (0, {})
        except InputError as exc:
            raise InputError(f"{location}: {exc}") from None
        for definition, (depth, beyond) in cut.items():
            if warn and beyond:
                warn(f"spec {release}: body definition {definition} has more than "
                     f"{FIELD_BUDGET:,} fields: listed to depth {depth}, {beyond:,} more "
                     "cut (marked recursion)")
            elif warn:
                warn(f"spec {release}: body definition {definition} has fields deeper than "
                     f"{depth} levels: cut there (marked recursion)")
        details: dict[str, Any] = {"body_fields": stored}
        if cut:
            details["body_fields_cut"] = {d: {"depth": depth, "left_out": beyond}
                                          for d, (depth, beyond) in cut.items()}
        loadlog.record(conn, "spec", release, location, started, count, details)
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


def store_bodies(conn: psycopg.Connection, release: str, bodies: Bodies,
                 operations: Iterable[Operation]) -> tuple[int, dict[str, tuple[int, int]]]:
    """Replace `release`'s endpoint_body and body_schema rows; returns its field count
    and the definitions whose trees were cut to the budget ({definition: (depth,
    fields left out)}). InputError when the trees list more than MAX_RELEASE_FIELDS.

    A definition's field tree is stored once whatever the number of its endpoints
    and of the releases that have it unchanged (body_field rows are named by the
    tree's digest, computed without listing its rows); only trees not stored yet
    are listed and written. Trees no release points at any more are deleted.
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
    walk = bodies.trees()
    trees = {definition: tree for definition in sorted(definitions)
             if (tree := walk.tree(definition)) is not None}
    total = sum(tree.fields for tree in trees.values())
    if total > MAX_RELEASE_FIELDS:
        raise InputError(f"its body definitions list {total:,} fields, more than "
                         f"{MAX_RELEASE_FIELDS:,} (a Kubernetes spec has about 20,000)")
    with conn.cursor().copy(
            "COPY body_schema (release, definition, digest, fields) FROM STDIN") as copy:
        for definition, tree in trees.items():
            copy.write_row((release, definition, tree.digest, tree.fields))
    # one probe of body_field's primary key per tree (LIMIT keeps the subquery a
    # probe: the table's statistics lag behind its growth, and a plan made from
    # them scans all of it)
    stored = {row[0] for row in conn.execute(
        "SELECT d FROM unnest(%s::text[]) AS d"
        " WHERE (SELECT true FROM body_field f WHERE f.digest = d LIMIT 1)",
        (sorted({tree.digest for tree in trees.values()}),))}
    with conn.cursor().copy(f"COPY body_field ({', '.join(FIELD_COLUMNS)}) FROM STDIN") as copy:
        for tree in trees.values():
            if tree.digest in stored:
                continue
            stored.add(tree.digest)
            copy.write(tree.copy_text())
    # the trees this release pointed at before and no release points at now (found
    # in body_schema, small and analyzed: body_field's statistics lag, and a plan
    # made from them scans all of it)
    orphans = [row[0] for row in conn.execute(
        "SELECT d FROM unnest(%s::text[]) AS d"
        " WHERE NOT EXISTS (SELECT FROM body_schema s WHERE s.digest = d)", (previous,))]
    if orphans:
        conn.execute("DELETE FROM body_field WHERE digest = ANY(%s)", (orphans,))
    # fresh statistics of the small tables, or the field views' joins are planned
    # as if they were empty (body_field, large, is left to autovacuum: analyzing it
    # would double a spec's load time)
    conn.execute("ANALYZE endpoint_body, body_schema")
    cut = {definition: (tree.depth, tree.beyond) for definition, tree in trees.items()
           if tree.depth is not None}
    return total, cut


def declared_rows(op: Operation, shared: Mapping[str, dict[str, Any]],
                  cut: dict[str, str]) -> tuple[list[tuple[str, str, bool, str | None]],
                                                 list[str]]:
    """The parameters (name, location, required, type) and status codes `op` declares,
    shared parameters resolved; an operation's own parameter overrides its path
    item's of the same name and location. Bounded: MAX_OPERATION_PARAMETERS and
    MAX_OPERATION_CODES (what is left out noted in `cut`); InputError for a name or
    a code too long to be one."""
    found: dict[tuple[str, str], tuple[str, str, bool, str | None]] = {}
    for parameter in op.parameters:
        ref = parameter.get("$ref")
        if isinstance(ref, str):
            parameter = shared.get(ref.rsplit("/", 1)[-1]) or {}
        name, where = parameter.get("name"), parameter.get("in")
        if not isinstance(name, str) or not isinstance(where, str) or not name:
            continue
        for what, text in (("parameter name", name), ("parameter location", where)):
            try:
                check_text(text, f"a {what}", MAX_NAME_BYTES)
            except ValueError as exc:
                raise InputError(f"operation {op.endpoint}: {exc}") from None
        kind = parameter.get("type")
        if where == "body":
            kind = ref_name((parameter.get("schema") or {}).get("$ref")
                            if isinstance(parameter.get("schema"), dict) else None)
        kind = kind if isinstance(kind, str) and _storable(kind) else None
        found[(where, name)] = (name, where, parameter.get("required") is True, kind)
    rows = list(found.values())
    if len(rows) > MAX_OPERATION_PARAMETERS:
        cut[op.endpoint] = f"{len(rows):,} parameters, more than {MAX_OPERATION_PARAMETERS}"
        rows = rows[:MAX_OPERATION_PARAMETERS]
    codes = list(op.codes)
    for code in codes:
        try:
            check_text(code, "a response's status code", MAX_CODE_CHARS)
        except ValueError as exc:
            raise InputError(f"operation {op.endpoint}: {exc}") from None
    if len(codes) > MAX_OPERATION_CODES:
        cut[op.endpoint] = f"{len(codes):,} responses, more than {MAX_OPERATION_CODES}"
        codes = codes[:MAX_OPERATION_CODES]
    return rows, codes


def _storable(text: str) -> bool:
    try:
        check_text(text, "", MAX_NAME_BYTES)
    except ValueError:
        return False
    return True


def store_declared(conn: psycopg.Connection, release: str, bodies: Bodies,
                   operations: Iterable[Operation]) -> dict[str, str]:
    """Write `release`'s endpoint_parameter and endpoint_response rows (the caller
    deleted its old ones); returns {operation: what its bounds left out}."""
    cut: dict[str, str] = {}
    codes_of: list[tuple[str, list[str]]] = []
    with conn.cursor().copy("COPY endpoint_parameter (release, endpoint, parameter,"
                            " location, required, type) FROM STDIN") as copy:
        for op in operations:
            rows, codes = declared_rows(op, bodies.parameters, cut)
            for row in rows:
                copy.write_row((release, op.endpoint, *row))
            codes_of.append((op.endpoint, codes))
    with conn.cursor().copy(
            "COPY endpoint_response (release, endpoint, code) FROM STDIN") as copy:
        for endpoint, codes in codes_of:
            for code in codes:
                copy.write_row((release, endpoint, code))
    conn.execute("ANALYZE endpoint_parameter, endpoint_response")
    return cut


def declared_parameters(conn: psycopg.Connection, release: str) -> dict[str, frozenset[str]]:
    """The query parameters each operation of `release` declares (a depth tally lists
    them whatever its bound on undeclared names): none for a spec loaded before
    revision 0019."""
    return parameters_by_endpoint(conn.execute(query(DECLARED_PARAMETERS_QUERY),
                                               {"release": release}).fetchall())


DECLARED_PARAMETERS_QUERY = "depth/declared_parameters.sql"


def parameters_by_endpoint(rows: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """{endpoint: its declared query parameters} from DECLARED_PARAMETERS_QUERY's rows."""
    grouped: dict[str, set[str]] = {}
    for endpoint, parameter in rows:
        grouped.setdefault(endpoint, set()).add(parameter)
    return {endpoint: frozenset(names) for endpoint, names in grouped.items()}


# The rows schemas_by_endpoint builds a release's body schemas from (%(release)s).
BODY_SCHEMA_QUERIES = ("fields/endpoint_bodies.sql", "fields/body_schemas.sql")


def body_schemas(conn: psycopg.Connection, release: str) -> dict[str, BodySchema]:
    """The body schema of each endpoint of `release` that takes a body, as stored with
    its spec: what a FieldTally walks request bodies against; none for a spec loaded
    before field coverage existed (or imported): a tally over it counts nothing."""
    endpoints, fields = (conn.execute(query(name), {"release": release}).fetchall()
                         for name in BODY_SCHEMA_QUERIES)
    return schemas_by_endpoint(endpoints, fields)


def loaded_releases(conn: psycopg.Connection) -> set[str]:
    """The releases whose spec is in open_api."""
    return {row[0] for row in conn.execute("SELECT DISTINCT release FROM open_api")}
