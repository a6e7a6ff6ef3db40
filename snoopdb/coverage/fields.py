"""Field-level coverage: the fields of a request body's schema, and the fields a body sets.

Pure functions and a tally, no database: loaders/spec.py hands the spec's
definitions to `body_fields` and stores the rows; loaders/audit.py and the
auditlogger hand each body-carrying event to a `FieldTally` built from the stored rows.

Field paths are dotted from the body's root: `roleRef.name`, `metadata.labels`,
`spec.containers[].image`. `[]` steps into an array of objects, `{}` into a map
whose values are objects (`spec.devices[].attributes{}.string`); arrays and
maps of scalars are leaf fields, as are objects the schema leaves open
(RawExtension, JSON). A definition met again on its own path (JSONSchemaProps
inside JSONSchemaProps) is not expanded a second time: that field is a row with
`recursion` set, and whatever a body sets beneath it counts as setting it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFINITION_PREFIX = "#/definitions/"
# The keys of a schema the walk reads; descriptions and the like are dropped as
# the spec streams by, which keeps a spec's definitions to a few MB in memory.
SCHEMA_KEYS = ("type", "$ref", "properties", "items", "additionalProperties", "allOf")

Schema = dict[str, Any]


def compact(schema: Any) -> Schema:
    """`schema` without what the walk never reads (descriptions, extensions, formats)."""
    if not isinstance(schema, dict):
        return {}
    out: Schema = {}
    for key in SCHEMA_KEYS:
        if key not in schema:
            continue
        value = schema[key]
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: compact(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = compact(value)
        elif key == "allOf" and isinstance(value, list):
            out[key] = [compact(part) for part in value]
        elif key in ("type", "$ref") and isinstance(value, str):
            out[key] = value
    return out


def ref_name(ref: str | None) -> str | None:
    """`io.k8s.api.core.v1.Pod` of `#/definitions/io.k8s.api.core.v1.Pod`."""
    if isinstance(ref, str) and ref.startswith(DEFINITION_PREFIX):
        return ref[len(DEFINITION_PREFIX):]
    return None


@dataclass(frozen=True)
class Field:
    """One field of a body schema.

    `type` is `object` (has fields of its own), `array` (of objects: its fields
    follow `path[]`), `map` (of objects: `path{}`), or a leaf: a scalar type,
    `array of <type>`, `map of <type>`, or `object` with no declared fields.
    """

    path: str
    parent: str  # '' for a top-level field
    name: str
    type: str
    definition: str | None  # the definition its value (or items) has, if any
    recursion: bool = False  # cut here: `definition` is already on this path
    leaf: bool = True


def _resolve(schema: Schema, definitions: Mapping[str, Schema],
             seen: tuple[str, ...] = ()) -> tuple[Schema, str | None]:
    """The schema a `$ref` (or a single-`allOf` wrapper, or a definition that is
    itself a `$ref`, as old specs have) stands for, and the definition's name."""
    name = None
    while True:
        target = ref_name(schema.get("$ref"))
        if target is None:
            parts = schema.get("allOf")
            if isinstance(parts, list) and len(parts) == 1:
                target = ref_name(parts[0].get("$ref"))
        if target is None or target in seen or target not in definitions:
            return schema, name
        name, seen = target, (*seen, target)
        schema = definitions[target]


def _scalar(schema: Schema) -> str:
    return str(schema.get("type") or "object")


def body_fields(root: str, definitions: Mapping[str, Schema]) -> list[Field]:
    """Every field reachable from definition `root`, parents before children, a
    parent's fields in name order. Unknown `root`: no fields."""
    if root not in definitions:
        return []
    out: list[Field] = []
    schema, name = _resolve({"$ref": DEFINITION_PREFIX + root}, definitions)
    _walk(schema, "", "", (name or root,), definitions, out)
    return out


def _walk(schema: Schema, parent: str, prefix: str, stack: tuple[str, ...],
          definitions: Mapping[str, Schema], out: list[Field]) -> None:
    """The fields under an object schema; `prefix` is its path with its step (`[]`/`{}`)."""
    properties = schema.get("properties") or {}
    for name in sorted(properties):
        path = f"{prefix}.{name}" if prefix else name
        value, definition = _resolve(properties[name], definitions)
        if definition in stack:
            out.append(Field(path, parent, name, "object", definition, recursion=True))
            continue
        inner_stack = (*stack, definition) if definition else stack
        if value.get("properties"):
            out.append(Field(path, parent, name, "object", definition, leaf=False))
            _walk(value, path, path, inner_stack, definitions, out)
            continue
        kind = value.get("type")
        container = {"array": "items", "object": "additionalProperties"}.get(str(kind))
        element = value.get(container) if container else None
        if not isinstance(element, dict):
            out.append(Field(path, parent, name, _scalar(value), definition))
            continue
        item, item_definition = _resolve(element, definitions)
        word, step = ("array", "[]") if kind == "array" else ("map", "{}")
        if item_definition is not None and item_definition in inner_stack:
            out.append(Field(path, parent, name, word, item_definition, recursion=True))
        elif item.get("properties"):
            out.append(Field(path, parent, name, word, item_definition, leaf=False))
            inner = (*inner_stack, item_definition) if item_definition else inner_stack
            _walk(item, path, path + step, inner, definitions, out)
        else:
            out.append(Field(path, parent, name, f"{word} of {_scalar(item)}", item_definition))


# --- bodies --------------------------------------------------------------------

@dataclass
class _Node:
    """A field in the lookup tree a body is walked against."""

    path: str
    inner: str  # the path its own fields hang from: path, path[] or path{}
    step: str  # '' (object), '[]' (array of objects), '{}' (map of objects)
    cut: bool
    children: dict[str, _Node] = field(default_factory=dict)


class BodySchema:
    """The fields of one body schema as a tree, to name the fields a body sets."""

    def __init__(self, fields: Iterable[tuple[str, str, str, str, bool]]):
        """`fields`: (path, parent, name, type, recursion), parents before children."""
        self.root = _Node("", "", "", False)
        nodes = {"": self.root}
        for path, parent, name, kind, recursion in fields:
            step = "[]" if kind == "array" else "{}" if kind == "map" else ""
            node = _Node(path, path + step, step, recursion)
            nodes[path] = node
            holder = nodes.get(parent)
            if holder is not None:
                holder.children[name] = node

    @classmethod
    def of(cls, fields: Iterable[Field]) -> BodySchema:
        return cls((f.path, f.parent, f.name, f.type, f.recursion) for f in fields)

    def paths(self, body: Any) -> tuple[set[str], set[str]]:
        """(fields the body sets, paths it sets that the schema does not have).

        A field is set when its key is present with a non-null value (an empty
        list or object is set); a key starting with `$` that the schema lacks is
        a strategic-merge-patch directive (`$patch`, `$setElementOrder/…`), not a
        field. A body that is not an object (a JSON patch) sets no field.
        """
        known: set[str] = set()
        unknown: set[str] = set()
        if isinstance(body, dict):
            _visit(body, self.root, known, unknown)
        return known, unknown


def _visit(body: dict[str, Any], node: _Node, known: set[str], unknown: set[str]) -> None:
    children = node.children
    for key, value in body.items():
        if value is None:
            continue
        child = children.get(key)
        if child is None:
            if not key.startswith("$"):
                unknown.add(f"{node.inner}.{key}" if node.inner else key)
            continue
        known.add(child.path)
        if child.cut or not child.children:
            continue
        if child.step == "":
            if isinstance(value, dict):
                _visit(value, child, known, unknown)
        elif child.step == "[]":
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        _visit(item, child, known, unknown)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, dict):
                    _visit(item, child, known, unknown)


# --- tallies -------------------------------------------------------------------

# Who sent a body: (useragent, test, test_hit, conf_test_hit).
Agent = tuple[str | None, str | None, bool, bool]


class FieldTally:
    """Counts, per endpoint and sender, the bodies seen and the fields they set.

    `schemas` maps an endpoint to its body schema; bodies of other endpoints
    are not counted (they have no body parameter in the spec). A sender is its
    test (CI runs: the views read tests) or, `by_useragent`, its user agent (live
    events: a test being written is named by its user agent), so the counts are
    kept by the very keys of the rows written. Rows come out in no particular
    order (the loader COPYs them; sorting half a million would cost).
    """

    def __init__(self, schemas: Mapping[str, BodySchema], *, by_useragent: bool = False):
        self.schemas = schemas
        self.by_useragent = by_useragent
        # key: (endpoint, useragent or test, test_hit, conf_test_hit)
        self.bodies: Counter[tuple[Any, ...]] = Counter()
        # known and unknown paths apart, so that a body's set of paths is counted
        # as it is (Counter.update on a set runs in C, no tuple per path)
        self.known: dict[tuple[Any, ...], Counter[str]] = {}
        self.unknown: dict[tuple[Any, ...], Counter[str]] = {}

    def add(self, endpoint: str, agent: Agent, body: Any) -> None:
        schema = self.schemas.get(endpoint)
        if schema is None or body is None:
            return
        useragent, test, test_hit, conf = agent
        key = (endpoint, useragent if self.by_useragent else test, test_hit, conf)
        self.bodies[key] += 1
        known, unknown = schema.paths(body)
        counts = self.known.get(key)
        if counts is None:
            counts = self.known[key] = Counter()
        counts.update(known)
        if unknown:
            self.unknown.setdefault(key, Counter()).update(unknown)

    def body_rows(self) -> Iterator[tuple[Any, ...]]:
        """(endpoint, useragent | test, test_hit, conf_test_hit, bodies)."""
        for key, count in self.bodies.items():
            yield (*key, count)

    def field_rows(self) -> Iterator[tuple[Any, ...]]:
        """(endpoint, field, known, useragent | test, test_hit, conf_test_hit, hits)."""
        for known, tallies in ((True, self.known), (False, self.unknown)):
            for (endpoint, *who), counts in tallies.items():
                for path, count in counts.items():
                    yield (endpoint, path, known, *who, count)


def schemas_by_endpoint(
    endpoints: Iterable[tuple[str, str]],
    fields: Iterable[tuple[str, str, str, str, str, bool]],
) -> dict[str, BodySchema]:
    """Body schemas by endpoint from stored rows: `endpoints` (endpoint,
    definition) and `fields` (definition, path, parent, name, type, recursion),
    each definition's fields parents first. Endpoints of one definition share its tree."""
    grouped: dict[str, list[tuple[str, str, str, str, bool]]] = {}
    for definition, *rest in fields:
        grouped.setdefault(definition, []).append(tuple(rest))  # type: ignore[arg-type]
    trees = {definition: BodySchema(rows) for definition, rows in grouped.items()}
    return {endpoint: trees[definition] for endpoint, definition in endpoints
            if definition in trees}
