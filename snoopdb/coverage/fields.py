"""Field-level coverage: the fields of a request body's schema, and the fields a body sets.

Pure functions and a tally, no database: loaders/spec.py hands the spec's
definitions to `FieldTrees` and stores the rows; loaders/audit.py and the
auditlogger hand each body-carrying event to a `FieldTally` built from the stored rows.

Field paths are dotted from the body's root: `roleRef.name`, `metadata.labels`,
`spec.containers[].image`. `[]` steps into an array of objects, `{}` into a map
whose values are objects (`spec.devices[].attributes{}.string`); arrays and
maps of scalars are leaf fields, as are objects the schema leaves open
(RawExtension, JSON). A definition met again on its own path (JSONSchemaProps
inside JSONSchemaProps) is not expanded a second time: that field is a row with
`recursion` set, and whatever a body sets beneath it counts as setting it.

Bounds (docs/bounds.md): a tree lists at most MAX_DEPTH levels and
FIELD_BUDGET fields. A tree larger than the budget (definitions that refer to the
next one twice, level after level, double at each level) is listed down to the
deepest level that fits, and the fields of that level that have fields beneath
are cut like a recursion (`recursion` set); `Tree.beyond` counts what was left
out. A definition is walked once per spec for each context it appears in, so a
shared subtree costs its size once; the work of a spec is bounded by WORK_BUDGET.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from snoopdb.core import copytext
from snoopdb.core.errors import InputError

DEFINITION_PREFIX = "#/definitions/"
# The keys of a schema the walk reads; descriptions and the like are dropped as
# the spec streams by, which keeps a spec's definitions to a few MB in memory.
SCHEMA_KEYS = ("type", "$ref", "properties", "items", "additionalProperties", "allOf")
# Levels of fields listed under a body's root (the real specs reach 12).
MAX_DEPTH = 16
# Fields listed per body definition (the largest real tree, 1.36's Pod, has 1,361).
FIELD_BUDGET = 10_000
# Bytes of a property name (the real specs' longest has 48): with MAX_DEPTH, every
# field path fits PostgreSQL's index entries (2,704 bytes).
MAX_NAME_BYTES = 128
# Unknown paths listed per endpoint of a run (or a batch of live events), and per
# body; the keys past them are counted under MORE.
MAX_UNKNOWN = 100
MORE = "$more"
# Bytes an unknown key keeps in its path.
MAX_KEY_BYTES = 128
# Keys of one body walked, in order (a Pod's body has a few hundred).
MAX_BODY_KEYS = 1_000_000
# Schema nodes a spec's walk may visit (properties of each distinct subtree it
# computes; the real specs need 3,600-6,100; a node kept costs ~150 bytes): past
# it the spec is refused. A tree whose walk to MAX_DEPTH passes ROOT_WORK (the
# real ones need at most 775) is walked again a level at a time: definitions that
# all hold each other multiply their contexts at every level, but pass the field
# budget in a few.
WORK_BUDGET = 200_000
ROOT_WORK = 10_000
# Definitions followed from one `$ref` when a definition is itself a `$ref` (old
# specs alias one level).
MAX_ALIASES = 16
# Nested schemas kept below a definition: a field level takes at most three
# (a property, its items, their allOf), deeper ones are never walked.
_SCHEMA_DEPTH = 3 * MAX_DEPTH + 3
# Field counts saturate here: a diamond 1,000 levels deep has 2**1000 paths.
_COUNT_CAP = 10**12

Schema = dict[str, Any]
Row = tuple[str, str, str, str, str | None, bool, bool]


def compact(schema: Any, depth: int = 0) -> Schema:
    """`schema` without what the walk never reads (descriptions, extensions, formats),
    nor nesting deeper than any walk goes. ValueError for a property name or type
    PostgreSQL text cannot hold (NUL, lone surrogates)."""
    if not isinstance(schema, dict) or depth > _SCHEMA_DEPTH:
        return {}
    out: Schema = {}
    for key in SCHEMA_KEYS:
        if key not in schema:
            continue
        value = schema[key]
        if key == "properties" and isinstance(value, dict):
            out[key] = {check_text(name, "a property name", MAX_NAME_BYTES):
                        compact(prop, depth + 1) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = compact(value, depth + 1)
        elif key == "allOf" and isinstance(value, list):
            out[key] = [compact(part, depth + 1) for part in value]
        elif key in ("type", "$ref") and isinstance(value, str):
            out[key] = check_text(value, key)
    return out


class Definitions(Mapping[str, Schema]):
    """A spec's definitions as parsed, each compacted when first asked for (a walk
    reaches about half of them). InputError for one holding text PostgreSQL cannot."""

    def __init__(self, parsed: Mapping[str, Any]):
        self._parsed = parsed
        self._compacted: dict[str, Schema] = {}

    def __getitem__(self, name: str) -> Schema:
        found = self._compacted.get(name)
        if found is None:
            try:
                found = self._compacted[name] = compact(self._parsed[name])
            except ValueError as exc:
                raise InputError(f"definition {name!r}: {exc}") from None
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._parsed

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed)

    def __len__(self) -> int:
        return len(self._parsed)


def check_text(text: str, what: str, max_bytes: int | None = None) -> str:
    """`text`, if PostgreSQL can store it (and index it: at most `max_bytes`); else
    ValueError naming `what`."""
    if "\x00" in text:
        raise ValueError(f"{what} holds a NUL character")
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (a lone surrogate)") from None
    if max_bytes is not None and size > max_bytes:
        raise ValueError(f"{what} is {size:,} bytes long, more than {max_bytes}")
    return text


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
    recursion: bool = False  # cut here: `definition` is already on this path, or a bound
    leaf: bool = True


def _resolve(schema: Schema, definitions: Mapping[str, Schema],
             seen: tuple[str, ...] = ()) -> tuple[Schema, str | None]:
    """The schema a `$ref` (or a single-`allOf` wrapper, or a definition that is
    itself a `$ref`, as old specs have) stands for, and the definition's name."""
    if "$ref" not in schema and "allOf" not in schema:
        return schema, None  # most schemas: a type, said inline
    name = None
    while True:
        target = ref_name(schema.get("$ref"))
        if target is None:
            parts = schema.get("allOf")
            if isinstance(parts, list) and len(parts) == 1:
                target = ref_name(parts[0].get("$ref"))
        if (target is None or target in seen or target not in definitions
                or len(seen) == MAX_ALIASES):
            return schema, name
        name, seen = target, (*seen, target)
        schema = definitions[target]


def _scalar(schema: Schema) -> str:
    return str(schema.get("type") or "object")


# A field under an object schema, as the walk lists it: (name, type, definition,
# recursion, step, child) — step '' (object), '[]' (array of objects) or '{}' (map of
# objects); child its own fields (a _Subtree), None for a leaf or a cut. Plain
# tuples: a spec's walk makes a hundred thousand of them.
_Prop = tuple[str, str, "str | None", bool, str, "_Subtree | None"]


class _Subtree(NamedTuple):
    """The fields under an object schema, as many levels as were asked for."""

    props: tuple[_Prop, ...]
    levels: tuple[int, ...]  # fields at each level below, the first its own
    digest: bytes
    deep: bool  # fields with fields beneath were cut at the last level asked

    @classmethod
    def of(cls, props: tuple[_Prop, ...], deep: bool = False) -> _Subtree:
        counts = [len(props)]
        for prop in props:
            child = prop[5]
            if child is not None:
                deep = deep or child.deep
                for level, count in enumerate(child.levels, 1):
                    if level == len(counts):
                        counts.append(count)
                    else:
                        counts[level] = min(counts[level] + count, _COUNT_CAP)
        # the props with their children's digests in place of the children
        summary = repr(tuple(p[:5] + (p[5].digest if p[5] else None,) for p in props))
        return cls(props, tuple(counts),
                   hashlib.blake2b(summary.encode(), digest_size=16).digest(), deep)


@dataclass(frozen=True)
class Tree:
    """A body definition's field tree as listed: `digest` names it (equal trees, equal
    digests), `fields` counts its rows, `beyond` the fields of its first MAX_DEPTH
    levels the budget left out (saturates for trees past counting), `depth` the level
    it was cut at (by the budget, or MAX_DEPTH), None when whole."""

    digest: str
    fields: int
    beyond: int
    depth: int | None
    _root: _Subtree

    def rows(self) -> Iterator[Row]:
        """(path, parent, name, type, definition, recursion, leaf) of each field,
        parents first, siblings by name."""
        return _rows(self._root, "", "")

    def fields_list(self) -> list[Field]:
        return [Field(*row) for row in self.rows()]

    def copy_text(self) -> str:
        """Its body_field rows (digest, field, parent, name, type, ref, recursion, leaf,
        position) in PostgreSQL's COPY text form."""
        lines: list[str] = []
        _copy_lines(self._root, f"{self.digest}\t", "", "", lines)
        return "".join(lines)


def _rows(node: _Subtree, parent: str, prefix: str) -> Iterator[Row]:
    for name, kind, definition, recursion, step, child in node.props:
        path = f"{prefix}.{name}" if prefix else name
        yield (path, parent, name, kind, definition, recursion, child is None)
        if child is not None:
            yield from _rows(child, path, path + step)


def _copy_lines(node: _Subtree, digest: str, parent: str, prefix: str,
                lines: list[str]) -> None:
    """Each field's COPY line appended to `lines`, in order (its position is the
    count before it); `parent` and `prefix` come escaped (escaping commutes with
    joining)."""
    for name, kind, definition, recursion, step, child in node.props:
        name = _copy_text(name)
        path = f"{prefix}.{name}" if prefix else name
        ref = copytext.NULL if definition is None else _copy_text(definition)
        lines.append(f"{digest}{path}\t{parent}\t{name}\t{_copy_text(kind)}\t{ref}\t"
                     f"{'t' if recursion else 'f'}\t{'f' if child else 't'}\t{len(lines)}\n")
        if child is not None:
            _copy_lines(child, digest, path, path + step, lines)


_ESCAPED: dict[str, str] = {}


def _copy_text(text: str) -> str:
    """`text` in COPY's text form (names repeat across trees: each is escaped once)."""
    escaped = _ESCAPED.get(text)
    if escaped is None:
        escaped = copytext.text(text)
        if len(_ESCAPED) < 100_000:
            _ESCAPED[text] = escaped
    return escaped


class FieldTrees:
    """The field trees of one spec's definitions, each subtree walked once per
    context: a definition's fields are the same wherever it appears, unless a
    definition of its own cycle (JSONSchemaProps) is above it, which cuts it."""

    def __init__(self, definitions: Mapping[str, Schema]):
        self.definitions = definitions
        self.cycles = _Cycles(definitions)
        self.work = 0
        self._allowance: int | None = None
        self._depth_cut = False
        self._resolved: dict[int, tuple[Schema, str | None]] = {}
        self._memo: dict[tuple[str, frozenset[str], int], _Subtree] = {}

    def tree(self, root: str) -> Tree | None:
        """The tree of definition `root`, cut to the bounds; None for an unknown one.
        InputError when the spec's walk passes WORK_BUDGET."""
        if root not in self.definitions:
            return None
        schema, name = _resolve({"$ref": DEFINITION_PREFIX + root}, self.definitions)
        stack = (name or root,)
        self.cycles.explore(stack[0])
        self._allowance = self.work + ROOT_WORK
        try:
            node = self._object(schema, name, stack, MAX_DEPTH, root)
        except _Tangled:
            # definitions so entwined that their contexts multiply: a level at a
            # time, until the budget is passed (a few levels)
            self._allowance = None
            for level in range(1, MAX_DEPTH + 1):
                node = self._object(schema, name, stack, level, root)
                if sum(node.levels) > FIELD_BUDGET:
                    break
        finally:
            self._allowance = None
        total = min(sum(node.levels), _COUNT_CAP)
        depth: int | None = None
        if total > FIELD_BUDGET:
            listed = list(itertools.accumulate(node.levels))
            depth = sum(1 for count in listed if count <= FIELD_BUDGET)
            if depth:
                node = self._object(schema, name, stack, depth, root)
            else:  # its own fields alone are too many: the first ones, by name
                depth = 1
                node = _Subtree.of(
                    self._object(schema, name, stack, 1, root).props[:FIELD_BUDGET])
        if depth is None and node.deep:
            depth = MAX_DEPTH  # within the budget, but deeper than any walk goes
        fields = sum(node.levels)
        return Tree(node.digest.hex(), fields, total - fields, depth, node)

    def _object(self, schema: Schema, definition: str | None, stack: tuple[str, ...],
                depth: int, root: str) -> _Subtree:
        """The fields under object `schema` (definition `definition`, on `stack`),
        `depth` levels of them."""
        key = None
        if definition is not None:
            cycle = self.cycles.of.get(definition)
            context = frozenset(d for d in stack if d in cycle) if cycle else frozenset()
            key = (definition, context, depth)
            found = self._memo.get(key)
            if found is not None:
                return found
        properties = schema.get("properties") or {}
        self.work += 1 + len(properties)
        if self.work > WORK_BUDGET:
            raise InputError(f"body definition {root}: more than {WORK_BUDGET:,} schema nodes "
                             "to walk")
        if self._allowance is not None and self.work > self._allowance:
            raise _Tangled
        self._depth_cut = False  # set by a field of the last level that has fields
        props = tuple(self._prop(name, properties[name], stack, depth, root)
                      for name in sorted(properties))
        node = _Subtree.of(props, depth == 1 and self._depth_cut)
        if key is not None:
            self._memo[key] = node
        return node

    def _cut(self) -> _Subtree | None:
        """No fields beneath: the depth asked ends here (noted for the subtree)."""
        self._depth_cut = True
        return None

    def _resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        # by identity: the schemas walked live as long as the definitions, and a
        # tangle resolves the same few refs a hundred thousand times
        found = self._resolved.get(id(schema))
        if found is None:
            found = self._resolved[id(schema)] = _resolve(schema, self.definitions)
        return found

    def _prop(self, name: str, schema: Schema, stack: tuple[str, ...], depth: int,
              root: str) -> _Prop:
        value, definition = self._resolve(schema)
        if definition in stack:
            return (name, "object", definition, True, "", None)
        inner = (*stack, definition) if definition else stack
        if value.get("properties"):
            child = (self._object(value, definition, inner, depth - 1, root)
                     if depth > 1 else self._cut())
            return (name, "object", definition, child is None, "", child)
        kind = value.get("type")
        container = "items" if kind == "array" else "additionalProperties" if (
            kind == "object") else None
        element = value.get(container) if container else None
        if not isinstance(element, dict):
            return (name, _scalar(value), definition, False, "", None)
        item, item_definition = self._resolve(element)
        word, step = ("array", "[]") if kind == "array" else ("map", "{}")
        if item_definition is not None and item_definition in inner:
            return (name, word, item_definition, True, step, None)
        if item.get("properties"):
            inner = (*inner, item_definition) if item_definition else inner
            child = (self._object(item, item_definition, inner, depth - 1, root)
                     if depth > 1 else self._cut())
            return (name, word, item_definition, child is None, step, child)
        return (name, f"{word} of {_scalar(item)}", item_definition, False, "", None)


class _Tangled(Exception):
    """A tree's walk to MAX_DEPTH passed ROOT_WORK: it is walked a level at a time."""


class _Cycles:
    """The definitions that are part of a cycle of references, each with its cycle's
    members (strongly connected components, by Tarjan's algorithm: iterative, so that
    a chain of any length is followed, and run from each root as it is asked for, so
    that only the definitions bodies reach are looked at). A definition above
    another on a field's path can cut it only when both are in one cycle: that is
    what a memoised subtree's context keeps."""

    def __init__(self, definitions: Mapping[str, Schema]):
        self.definitions = definitions
        self.of: dict[str, frozenset[str]] = {}
        self._edges: dict[str, list[str]] = {}
        self._index: dict[str, int] = {}
        self._low: dict[str, int] = {}
        self._stack: list[str] = []
        self._on_stack: set[str] = set()

    def _targets(self, name: str) -> list[str]:
        edges = self._edges.get(name)
        if edges is None:
            edges = self._edges[name] = sorted(_targets(self.definitions[name],
                                                        self.definitions))
        return edges

    def explore(self, start: str) -> None:
        index, low, stack, on_stack = self._index, self._low, self._stack, self._on_stack
        if start in index:
            return
        work = [(start, 0)]
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = self._targets(node)
            while at < len(targets):
                target = targets[at]
                at += 1
                if target not in index:
                    work.append((node, at))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in targets:
                        members = frozenset(component)
                        self.of.update(dict.fromkeys(members, members))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])


def _targets(schema: Schema, definitions: Mapping[str, Schema]) -> set[str]:
    """The definitions `schema` refers to, its nested schemas included (all that the
    walk could step into, and more: a cycle found too large only memoises less)."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        current = pending.pop()
        _, name = _resolve(current, definitions)
        if name is not None:
            found.add(name)
        properties = current.get("properties")
        if isinstance(properties, dict):
            pending += properties.values()
        for key in ("items", "additionalProperties"):
            if isinstance(current.get(key), dict):
                pending.append(current[key])
        pending += current.get("allOf") or []
    return found


def body_fields(root: str, definitions: Mapping[str, Schema]) -> list[Field]:
    """Every field reachable from definition `root`, parents before children, a
    parent's fields in name order, within the bounds. Unknown `root`: no fields."""
    tree = FieldTrees(definitions).tree(root)
    return tree.fields_list() if tree else []


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

    def paths(self, body: Any) -> Paths:
        """The fields the body sets, and the paths it sets that the schema does not
        have (at most MAX_UNKNOWN of them; `more` counts the keys past those).

        A field is set when its key is present with a non-null value (an empty
        list or object is set); a key starting with `$` that the schema lacks is
        a strategic-merge-patch directive (`$patch`, `$setElementOrder/…`), not a
        field. A body that is not an object (a JSON patch) sets no field. The
        walk follows the schema, so it goes no deeper than the schema's fields
        (MAX_DEPTH levels), and reads at most MAX_BODY_KEYS keys of a body.
        """
        found = Paths(set(), set())
        if isinstance(body, dict):
            _visit(body, self.root, found)
        return found


@dataclass(slots=True)
class Paths:
    """What a body sets: known fields, unknown paths, and the unknown keys met once
    MAX_UNKNOWN paths were listed (`more`); `keys` left of the body's MAX_BODY_KEYS."""

    known: set[str]
    unknown: set[str]
    more: int = 0
    keys: int = MAX_BODY_KEYS


def _visit(body: dict[str, Any], node: _Node, found: Paths) -> None:
    if found.keys <= 0:
        return  # past the keys a body has walked
    items: Iterable[tuple[str, Any]] = body.items()
    if len(body) > found.keys:
        items = itertools.islice(items, found.keys)
    found.keys -= len(body)
    children = node.children
    known = found.known
    for key, value in items:
        if value is None:
            continue
        child = children.get(key)
        if child is None:
            if not key.startswith("$"):
                _unknown(found, node.inner, key)
            continue
        known.add(child.path)
        if child.cut or not child.children:
            continue
        if child.step == "":
            if isinstance(value, dict):
                _visit(value, child, found)
        elif child.step == "[]":
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        _visit(item, child, found)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, dict):
                    _visit(item, child, found)


def _unknown(found: Paths, inner: str, key: str) -> None:
    if len(found.unknown) >= MAX_UNKNOWN:
        found.more += 1  # counted, not named: no path is made for it
        return
    key = storable_key(key)
    found.unknown.add(f"{inner}.{key}" if inner else key)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_key(key: str, max_bytes: int = MAX_KEY_BYTES) -> str:
    """A body's key as an unknown path holds it (or any outside name a summary keeps):
    NUL and lone surrogates (which PostgreSQL text cannot hold) as U+FFFD, and cut to
    `max_bytes` (ending in …), so that every path fits the summaries' index."""
    if len(key) <= max_bytes // 4 and key.isprintable():
        return key  # every key a real body has
    data = _UNSTORABLE.sub("\ufffd", key).encode()
    if len(data) > max_bytes:
        return data[:max_bytes].decode("utf-8", "ignore") + "…"
    return data.decode()


# --- tallies -------------------------------------------------------------------

# Who sent a body: (useragent, test, test_hit, conf_test_hit).
Agent = tuple[str | None, str | None, bool, bool]


class FieldTally:
    """Counts, per endpoint and sender, the bodies seen and the fields they set.

    Unknown paths are listed up to MAX_UNKNOWN per endpoint (a tally is one run, or
    one batch of live events); past them, a row whose field is MORE (`$more`, which
    no unknown path can be: a key starting with `$` is a directive, and a nested
    path has a dot) counts, as its hits, the keys bodies set that were not listed.

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
        # the unknown paths listed per endpoint: at most MAX_UNKNOWN, the rest
        # counted under MORE
        self.listed: dict[str, set[str]] = {}

    def add(self, endpoint: str, agent: Agent, body: Any) -> None:
        schema = self.schemas.get(endpoint)
        if schema is None or body is None:
            return
        useragent, test, test_hit, conf = agent
        key = (endpoint, useragent if self.by_useragent else test, test_hit, conf)
        self.bodies[key] += 1
        found = schema.paths(body)
        counts = self.known.get(key)
        if counts is None:
            counts = self.known[key] = Counter()
        counts.update(found.known)
        if found.unknown or found.more:
            self._add_unknown(endpoint, key, found)

    def _add_unknown(self, endpoint: str, key: tuple[Any, ...], found: Paths) -> None:
        listed = self.listed.setdefault(endpoint, set())
        counts = self.unknown.setdefault(key, Counter())
        more = found.more
        for path in found.unknown:
            if path in listed or len(listed) < MAX_UNKNOWN:
                listed.add(path)
                counts[path] += 1
            else:
                more += 1
        if more:
            counts[MORE] += more

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
