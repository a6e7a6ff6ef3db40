"""Property-based tests (hypothesis) that generate the hostile shapes of issue 22 rather
than mutate real lines: schema graphs for the field walk (cycles, diamonds, long
chains, wide objects), arbitrary JSON bodies for the field tally (deep, wide, NUL and
surrogates in keys, huge strings), releases lists and conformance.yaml with extreme
versions, connection strings with arbitrary passwords, and loopback servers that
misbehave in scripted ways.

Each asserts the outcome is a result within its bounds or one error line (never
another exception, never part of a load stored), and bounds the work by counting it
(rows, schema nodes walked, requests) and the memory with tracemalloc: no test here
times anything. EXAMPLES holds each test's number of examples.
"""

from __future__ import annotations

import json
import re
import string
import tracemalloc
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from snoopdb.core.bounds import YAML as FILE
from snoopdb.core.config import Deadlines
from snoopdb.core.errors import FetchError, InputError, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import MAJORS, MINORS, PATCHES, parse_known_releases, parse_release
from snoopdb.coverage.fields import (
    FIELD_BUDGET,
    MAX_DEPTH,
    MAX_KEY_BYTES,
    MAX_UNKNOWN,
    MORE,
    WORK_BUDGET,
    BodySchema,
    FieldTally,
    FieldTrees,
    compact,
)
from snoopdb.db.conninfo import redact
from snoopdb.loaders import conformance, history
from testkit.faultserver import Answer, FaultServer

EXAMPLES = {
    "schema graphs": 100,
    "bodies": 300,
    "releases lists": 500,
    "conformance lists": 300,
    "conformance lists stored": 25,
    "published coverage": 200,
    "connection strings": 1000,
    "downloads": 30,
}
MEGABYTE = 1 << 20


def run(name: str, **extra: Any) -> Any:
    """hypothesis settings for the test `name`: its examples, no deadline (no timing
    here), and the health checks that only say a generated input is large."""
    return settings(max_examples=EXAMPLES[name], deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture], **extra)


@contextmanager
def peak_memory(limit: int) -> Iterator[None]:
    """Asserts that what the block allocates peaks below `limit` bytes."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"{peak / MEGABYTE:.1f} MB allocated at the peak"


def one_line(message: str) -> bool:
    return bool(message) and "\n" not in message and "Traceback" not in message


# --- schema graphs: the field walk -------------------------------------------------

def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


@st.composite
def schema_graphs(draw: st.DrawFn) -> dict[str, dict]:
    """Definitions D0…Dn whose properties refer to one another at random (directly,
    in arrays, in maps, through single allOf wrappers and aliases), or one of the
    shapes nobody expects: a diamond chain, a long chain, a wide object, a tangle."""
    shape = draw(st.sampled_from(["random", "random", "diamond", "chain", "wide", "tangle"]))
    if shape == "diamond":
        levels, width = draw(st.integers(1, 40)), draw(st.integers(2, 4))
        graph = {f"D{i}": {"properties": {f"p{k}": ref(f"D{i + 1}") for k in range(width)}}
                 for i in range(levels)}
        graph[f"D{levels}"] = {"properties": {"x": {"type": "string"}}}
        return graph
    if shape == "chain":
        length = draw(st.integers(1, 1000))
        return {f"D{i}": {"properties": {"next": ref(f"D{(i + 1) % length}"),
                                         "v": {"type": "integer"}}} for i in range(length)}
    if shape == "wide":
        width = draw(st.integers(0, 15_000))
        return {"D0": {"properties": {f"f{i}": {"type": "string"} for i in range(width)}}}
    if shape == "tangle":
        size = draw(st.integers(2, 20))
        return {f"D{i}": {"properties": {f"D{j}": ref(f"D{j}") for j in range(size)}}
                for i in range(size)}
    count = draw(st.integers(1, 25))
    names = [f"D{i}" for i in range(count)]
    target = st.sampled_from(names + ["Missing"])
    value = st.one_of(
        st.just({"type": "string"}),
        target.map(ref),
        target.map(lambda n: {"type": "array", "items": ref(n)}),
        target.map(lambda n: {"type": "object", "additionalProperties": ref(n)}),
        target.map(lambda n: {"allOf": [ref(n)]}),
        target.map(lambda n: {"properties": {"inline": ref(n), "s": {"type": "boolean"}}}),
        st.just({"type": "array", "items": {"type": "string"}}),
        st.just({"type": "object"}),
        st.just({"type": ["not", "a", "string"], "properties": []}),
    )
    graph: dict[str, Any] = {}
    for name in names:
        if draw(st.integers(0, 9)) == 0:
            graph[name] = ref(draw(target))  # an alias, as 1.8's definitions are
        else:
            graph[name] = {"properties": draw(st.dictionaries(
                st.text(string.ascii_letters + ".$[]{}", min_size=1, max_size=6), value,
                max_size=6))}
    return graph


Row = tuple[str, str, str, str, Any, bool, bool]


def naive_walk(root: str, definitions: dict[str, dict],
               limit: int) -> tuple[list[Row], bool] | None:
    """The walk as it was written before subtrees were shared (every path walked), cut
    at MAX_DEPTH: (rows, whether a field was cut there); None once it passes `limit`
    rows."""
    def resolve(schema: dict) -> tuple[dict, str | None]:
        name, seen = None, ()
        while True:
            target = schema.get("$ref", "")
            if not target and isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
                target = schema["allOf"][0].get("$ref", "")
            target = target.removeprefix("#/definitions/") if target.startswith(
                "#/definitions/") else None
            if target is None or target in seen or target not in definitions or len(seen) == 16:
                return schema, name
            name, seen = target, (*seen, target)
            schema = definitions[target]

    out: list[Row] = []
    deep: list[str] = []  # the fields cut at MAX_DEPTH

    def walk(schema: dict, parent: str, prefix: str, stack: tuple, depth: int) -> None:
        properties = schema.get("properties") or {}
        for name in sorted(properties):
            if len(out) > limit:
                return
            path = f"{prefix}.{name}" if prefix else name
            value, definition = resolve(properties[name])
            if definition in stack:
                out.append((path, parent, name, "object", definition, True, True))
                continue
            inner = (*stack, definition) if definition else stack
            if value.get("properties"):
                out.append((path, parent, name, "object", definition, depth == MAX_DEPTH,
                            depth == MAX_DEPTH))
                if depth < MAX_DEPTH:
                    walk(value, path, path, inner, depth + 1)
                else:
                    deep.append(path)
                continue
            kind = value.get("type")
            container = {"array": "items", "object": "additionalProperties"}.get(str(kind))
            element = value.get(container) if container else None
            if not isinstance(element, dict):
                out.append((path, parent, name, str(value.get("type") or "object"), definition,
                            False, True))
                continue
            item, item_definition = resolve(element)
            word, step = ("array", "[]") if kind == "array" else ("map", "{}")
            if item_definition is not None and item_definition in inner:
                out.append((path, parent, name, word, item_definition, True, True))
            elif item.get("properties"):
                out.append((path, parent, name, word, item_definition, depth == MAX_DEPTH,
                            depth == MAX_DEPTH))
                if depth < MAX_DEPTH:
                    walk(item, path, path + step,
                         (*inner, item_definition) if item_definition else inner, depth + 1)
                else:
                    deep.append(path)
            else:
                out.append((path, parent, name, f"{word} of {item.get('type') or 'object'}",
                            item_definition, False, True))

    schema, name = resolve(ref(root))
    walk(schema, "", "", (name or root,), 1)
    return None if len(out) > limit else (out, bool(deep))


@given(schema_graphs())
@run("schema graphs")
def test_a_field_walk_is_bounded_and_equals_the_plain_walk(graph: dict[str, dict]) -> None:
    definitions = {name: compact(schema) for name, schema in graph.items()}
    walk = FieldTrees(definitions)
    trees = {}
    # ~150 bytes a schema node kept: WORK_BUDGET's 200,000 are 30 MB
    with peak_memory(48 * MEGABYTE):
        for root in sorted(definitions)[:5]:
            try:
                trees[root] = walk.tree(root)
            except InputError as error:
                assert one_line(str(error)) and str(error).startswith(f"body definition {root}:")
                assert walk.work > WORK_BUDGET
                return
    assert walk.work <= WORK_BUDGET
    for root, tree in trees.items():
        assert tree is not None
        rows = list(tree.rows())
        paths = [row[0] for row in rows]
        # bounded, each field once, parents before children
        assert len(rows) == tree.fields <= FIELD_BUDGET
        assert len(set(paths)) == len(paths)
        seen = {""}
        for path, parent, *_ in rows:
            assert parent in seen
            seen.add(path)
        assert tree.depth is None or 1 <= tree.depth <= MAX_DEPTH
        # where the plain walk is small enough to run, the shared walk gives its rows
        plain = naive_walk(root, definitions, FIELD_BUDGET)
        if plain is not None:
            rows_plain, deep = plain
            assert (rows, tree.beyond, tree.depth) == (rows_plain, 0,
                                                       MAX_DEPTH if deep else None)
        else:
            assert tree.depth is not None and tree.beyond > 0
    # equal trees, equal digests; different trees, different digests
    listed = {root: list(tree.rows()) for root, tree in trees.items() if tree}
    for one in listed:
        for other in listed:
            assert (trees[one].digest == trees[other].digest) == (listed[one] == listed[other])


# --- bodies: the field tally ------------------------------------------------------

ODD_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "é", "\U0001f600", "\t", "\n",
                                  "\\", ".", "[]", "{}", "$", " -- ", "x" * 200])
KEYS = st.one_of(
    st.text(max_size=8),
    st.lists(st.one_of(ODD_CHARACTERS, st.text(max_size=3)), max_size=5).map("".join),
    st.integers(0, 200_000).map(lambda n: "k" * n),  # huge keys
    st.sampled_from(["metadata", "spec", "containers", "name", "image", "labels", "kind"]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=5), st.integers(0, 300_000).map(lambda n: "v" * n))


def wide(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda n, value: {f"w{i}": value for i in range(n)},
                     st.integers(0, 50_000), children)


JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(KEYS, children, max_size=6),
                               wide(children)),
    max_leaves=40)


def deep(value: Any, levels: int) -> Any:
    for _ in range(levels):
        value = {"spec": {"containers": [value]}}
    return value


BODIES = st.one_of(JSON, st.builds(deep, JSON, st.integers(0, 400)))
POD = compact({"properties": {
    "kind": {"type": "string"}, "metadata": ref("Meta"), "spec": ref("Spec")}})
POD_DEFINITIONS = {
    "Pod": POD,
    "Meta": compact({"properties": {"name": {"type": "string"},
                                    "labels": {"type": "object",
                                               "additionalProperties": {"type": "string"}}}}),
    "Spec": compact({"properties": {"containers": {"type": "array", "items": ref("Container")},
                                    "template": ref("Pod")}}),
    "Container": compact({"properties": {"name": {"type": "string"},
                                         "image": {"type": "string"}}}),
}


@given(st.lists(st.tuples(st.sampled_from(["createPod", "patchPod"]), BODIES), max_size=12))
@run("bodies")
def test_a_field_tally_of_any_bodies_is_bounded_and_storable(
        bodies: list[tuple[str, Any]]) -> None:
    tree = FieldTrees(POD_DEFINITIONS).tree("Pod")
    assert tree is not None
    schema = BodySchema(row[:4] + (row[5],) for row in tree.rows())
    known_paths = {row[0] for row in tree.rows()}
    tally = FieldTally({"createPod": schema, "patchPod": schema})
    with peak_memory(64 * MEGABYTE):
        for endpoint, body in bodies:
            tally.add(endpoint, ("e2e.test -- t", "t", True, False), body)
        rows = list(tally.field_rows())
    unknown: dict[str, set[str]] = {}
    for endpoint, path, known, test, test_hit, conf, hits in rows:
        assert hits > 0 and (test, test_hit, conf) == ("t", True, False)
        # storable and indexable text: no NUL, no lone surrogate, bounded
        data = path.encode()
        assert "\x00" not in path and len(data) <= 2 * MAX_DEPTH + MAX_KEY_BYTES + 200
        if known:
            assert path in known_paths
        else:
            unknown.setdefault(endpoint, set()).add(path)
    for paths in unknown.values():
        assert len(paths - {MORE}) <= MAX_UNKNOWN
    # the rows keep their shape: as many body rows as (endpoint, sender) seen
    counted = {endpoint for endpoint, body in bodies if body is not None}
    assert {row[0] for row in tally.body_rows()} == counted


# --- releases: lists, conformance.yaml, published coverage ------------------------

NUMBERS = st.one_of(st.integers(0, 120), st.integers(0, 10**30), st.sampled_from(
    [99999999999, 99999999997, 2**31, 2**63, 10**4000]))


@st.composite
def versions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(NUMBERS.map(str), st.just("9" * 5000)), min_size=1,
                          max_size=4))
    text = ".".join(parts)  # 5,000 digits: past what int() reads
    return draw(st.sampled_from(["", "v", " v", "V"])) + text + draw(st.sampled_from(
        ["", "-alpha.1", "+abc", " ", ", v1.9"]))


def in_range(release: Any) -> bool:
    return (release.major in MAJORS and release.minor in MINORS
            and release.patch in PATCHES)


@given(st.lists(st.tuples(st.one_of(versions(), st.text(max_size=12), NUMBERS),
                          st.sampled_from(["", "2026-01-01", "1970-01-01", "junk"])),
                max_size=8))
@run("releases lists")
def test_a_releases_list_is_read_in_range_or_refused_in_one_line(
        entries: list[tuple[Any, str]]) -> None:
    text = yaml.safe_dump([{"version": v, "release_date": d} for v, d in entries])
    try:
        known = parse_known_releases(text, "releases.yaml")
    except ReleaseError as error:
        assert one_line(str(error)) and str(error).startswith("releases.yaml:")
        return
    assert known and all(in_range(k.release) for k in known)


@given(st.lists(st.one_of(versions(), NUMBERS, st.text(max_size=10), st.none(),
                          st.floats(allow_nan=False)), max_size=6))
@run("conformance lists")
def test_conformance_releases_are_in_range_or_one_line(releases: list[Any]) -> None:
    text = yaml.safe_dump([{"codename": f"c{i}", "testname": "t", "release": release}
                           for i, release in enumerate(releases)]).encode()
    try:
        tests = conformance.parse(text, "conformance.yaml")
    except InputError as error:
        assert one_line(str(error)) and str(error).startswith("conformance.yaml: test #")
        return
    assert len(tests) == len(releases)
    assert all(in_range(parse_release(test.release)) for test in tests)


@given(st.lists(versions(), min_size=1, max_size=3))
@run("conformance lists stored")
def test_no_stored_conformance_release_breaks_release_key(
        conn: psycopg.Connection, fetcher: Fetcher, tmp_path: Path, releases: list[str]) -> None:
    listed = tmp_path / "conformance.yaml"
    listed.write_text(yaml.safe_dump([{"codename": f"c{i}", "release": release}
                                      for i, release in enumerate(releases)]))
    try:
        stored = conformance.load(conn, fetcher, str(listed), "1.36.0")
    except InputError as error:
        assert one_line(str(error))
        stored = 0
    assert conn.execute("SELECT count(*) FROM conformance.test").fetchone() == (stored,)
    # what made every later spec load fail: release_key() of what is stored
    conn.execute("SELECT release_key(release) FROM conformance.test").fetchall()
    conn.execute("TRUNCATE conformance.test")


@given(st.one_of(versions(), st.text(max_size=10)))
@run("published coverage")
def test_a_published_coverage_release_is_in_range_or_one_line(release: str) -> None:
    document = json.dumps({"release": release, "endpoints": []}).encode()
    try:
        coverage = history.parse(document, "1.36.json")
    except InputError as error:
        assert one_line(str(error)) and str(error).startswith("1.36.json: ")
        return
    assert in_range(parse_release(coverage.release))


# --- connection strings -------------------------------------------------------------

PASSWORDS = st.text(st.characters(blacklist_characters="\x00",
                                  blacklist_categories=("Cs",)), min_size=1, max_size=24)


@given(PASSWORDS, st.sampled_from(["raw", "encoded", "query", "sslquery", "keyvalue"]))
@run("connection strings")
def test_a_password_is_never_shown(password: str, form: str) -> None:
    encoded = urllib.parse.quote(password, safe="")
    if form == "raw":
        url, shown = f"postgresql://user:{password}@db.example:5432/snoop", (
            "postgresql://user:***@db.example:5432/snoop")
    elif form == "encoded":
        url, shown = f"postgresql://user:{encoded}@db.example/snoop", (
            "postgresql://user:***@db.example/snoop")
        assert conninfo_to_dict(url)["password"] == password  # what libpq reads
    elif form in ("query", "sslquery"):
        key = "password" if form == "query" else "sslpassword"
        url = f"postgresql://user@db.example/snoop?{key}={encoded}&sslmode=require"
        shown = f"postgresql://user@db.example/snoop?{key}=***&sslmode=require"
        assert conninfo_to_dict(url)[key] == password
    else:
        url = make_conninfo("", host="db.example", password=password, sslpassword=password,
                            dbname="snoop")
        assert conninfo_to_dict(url)["password"] == password
        shown = "host=db.example password=*** sslpassword=*** dbname=snoop"
    assert redact(url) == shown


# --- downloads: misbehaving loopback servers -------------------------------------------

BODY = b"- testname: a\n  codename: a\n" * 300
FAULTS = st.one_of(
    st.builds(lambda cut: Answer(BODY, cut_at=cut), st.integers(0, len(BODY) - 1)),
    st.builds(lambda cut: Answer(BODY, length=False, cut_at=cut),
              st.one_of(st.none(), st.integers(0, len(BODY) - 1))),
    st.builds(lambda cut: Answer(BODY, chunked=True, cut_at=cut),
              st.one_of(st.none(), st.integers(0, len(BODY)))),
    st.sampled_from([Answer(b"busy", 503), Answer(b"gone", 500), Answer(hang=True),
                     Answer(BODY[:40], header_drip=0.05), Answer(BODY[:40], drip=0.05),
                     Answer(b"<html><body>sign in</body></html>", content_type="text/html")]),
    st.just(Answer(BODY)),
)


@given(st.lists(FAULTS, min_size=1, max_size=4))
@run("downloads")
def test_a_download_is_whole_or_one_line(tmp_path_factory: pytest.TempPathFactory,
                                         answers: list[Answer]) -> None:
    limits = Deadlines(connect=0.5, read=0.3, total=1.0, attempts=3)
    fetcher = Fetcher(tmp_path_factory.mktemp("cache"), limits)
    with FaultServer() as server:
        url = server.script("/conformance.yaml", *answers)
        with peak_memory(16 * MEGABYTE):
            try:
                content = fetcher.read_bytes(url, bound=FILE)
            except FetchError as error:
                message = str(error)
                assert one_line(message) and message.startswith(f"{url}: ")
                seen = server.requests["/conformance.yaml"]
                # an HTML page is refused at once; otherwise the attempts said are the
                # attempts made: at least those the server saw (one cut at the
                # deadline may not have reached it), at most those allowed
                if message.endswith(": the server sent an HTML page, not the file"):
                    assert seen <= limits.attempts
                else:
                    said = re.search(r" \(gave up after (\d+) attempts? within the 1s "
                                     r"deadline\)$", message)
                    assert said, message
                    assert seen <= int(said[1]) <= limits.attempts
                cached = [p for p in (fetcher.cache_dir / "downloads").rglob("*") if p.is_file()]
                assert cached == []
                return
        # a body is used only when whole: exactly the file, and one of the answers
        # that could prove it was served
        assert content == BODY
        assert server.requests["/conformance.yaml"] <= limits.attempts
        assert any(answer.body == BODY and answer.cut_at is None and (answer.length or answer.chunked)
                   for answer in answers)

