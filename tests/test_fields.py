"""Field-level coverage: the schema walk, bodies → field paths, the tallies the loader
stores, and the views over them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest

from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.coverage.fields import (
    FIELD_BUDGET,
    MAX_BODY_KEYS,
    MAX_DEPTH,
    MAX_UNKNOWN,
    MORE,
    ROOT_WORK,
    BodySchema,
    Field,
    FieldTally,
    FieldTrees,
    Paths,
    body_fields,
    compact,
)
from snoopdb.loaders import spec
from snoopdb.loaders.local_logs import load_log_files

GCE_SAMPLE = "gce-e2e-v1.37-2065053743543488512-sample.log"
CRB = "createRbacAuthorizationV1ClusterRoleBinding"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


# A hand-made spec with every shape the walk meets in the real ones.
DEFINITIONS = {
    "T": {"properties": {
        "metadata": ref("Meta"),
        "spec": ref("Spec"),
        "kind": {"type": "string", "description": "dropped by compact"},
    }},
    "Meta": {"properties": {
        "name": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    }},
    "Spec": {"properties": {
        "containers": {"type": "array", "items": ref("Container")},
        "tags": {"type": "array", "items": {"type": "string"}},
        "devices": {"type": "object", "additionalProperties": ref("Device")},
        "schema": ref("Props"),
        "raw": ref("Raw"),
        "size": {"allOf": [ref("Quantity")]},
    }},
    "Container": {"properties": {"image": {"type": "string"}, "name": {"type": "string"}}},
    "Device": {"properties": {"value": {"type": "integer"}}},
    # JSONSchemaProps' shape: it holds itself, alone, in arrays and in maps
    "Props": {"properties": {
        "type": {"type": "string"},
        "not": ref("Props"),
        "allOf": {"type": "array", "items": ref("Props")},
        "properties": {"type": "object", "additionalProperties": ref("Props")},
    }},
    "Raw": {"type": "object"},
    "Quantity": {"type": "string"},
    # old specs (1.8) name a definition by another one
    "Alias": ref("Container"),
}

EXPECTED_FIELDS = [
    Field("kind", "", "kind", "string", None),
    Field("metadata", "", "metadata", "object", "Meta", leaf=False),
    Field("metadata.labels", "metadata", "labels", "map of string", None),
    Field("metadata.name", "metadata", "name", "string", None),
    Field("spec", "", "spec", "object", "Spec", leaf=False),
    Field("spec.containers", "spec", "containers", "array", "Container", leaf=False),
    Field("spec.containers[].image", "spec.containers", "image", "string", None),
    Field("spec.containers[].name", "spec.containers", "name", "string", None),
    Field("spec.devices", "spec", "devices", "map", "Device", leaf=False),
    Field("spec.devices{}.value", "spec.devices", "value", "integer", None),
    Field("spec.raw", "spec", "raw", "object", "Raw"),
    Field("spec.schema", "spec", "schema", "object", "Props", leaf=False),
    Field("spec.schema.allOf", "spec.schema", "allOf", "array", "Props", recursion=True),
    Field("spec.schema.not", "spec.schema", "not", "object", "Props", recursion=True),
    Field("spec.schema.properties", "spec.schema", "properties", "map", "Props",
          recursion=True),
    Field("spec.schema.type", "spec.schema", "type", "string", None),
    Field("spec.size", "spec", "size", "string", "Quantity"),
    Field("spec.tags", "spec", "tags", "array of string", None),
]


@pytest.fixture
def definitions() -> dict:
    return {name: compact(schema) for name, schema in DEFINITIONS.items()}


def test_fields_of_a_definition(definitions) -> None:
    assert body_fields("T", definitions) == EXPECTED_FIELDS
    assert "description" not in definitions["T"]["properties"]["kind"]
    assert body_fields("Alias", definitions) == [
        Field("image", "", "image", "string", None), Field("name", "", "name", "string", None)]
    assert body_fields("Missing", definitions) == []


def test_paths_a_body_sets(definitions) -> None:
    schema = BodySchema.of(body_fields("T", definitions))
    body = {
        "kind": "T",
        "metadata": {"name": "x", "labels": {"a": "1", "b": "2"}},
        "spec": {
            "containers": [{"name": "c", "image": None}, {"name": "d", "command": ["sh"]}, "junk"],
            "devices": {"gpu": {"value": 1}, "tpu": {"colour": "red"}},
            "tags": [],
            "schema": {"type": "object", "properties": {"a": {"properties": {"b": {}}}},
                       "not": None},
            "raw": {"anything": {"goes": 1}},
            "$setElementOrder/containers": [{"name": "c"}],
            "bogus": {"deep": 1},
        },
        "status": None,
        "extra": 1,
    }
    found = schema.paths(body)
    known, unknown = found.known, found.unknown
    assert sorted(known) == [
        "kind", "metadata", "metadata.labels", "metadata.name", "spec", "spec.containers",
        "spec.containers[].name", "spec.devices", "spec.devices{}.value", "spec.raw",
        "spec.schema", "spec.schema.properties", "spec.schema.type", "spec.tags",
    ]
    assert sorted(unknown) == [
        "extra", "spec.bogus", "spec.containers[].command", "spec.devices{}.colour"]
    # a JSON patch (a list) sets no field; neither does a body of the wrong shape
    assert schema.paths([{"op": "add", "path": "/metadata/labels/a", "value": "1"}]) == Paths(
        set(), set())
    assert schema.paths({"spec": "text"}) == Paths({"spec"}, set(), keys=MAX_BODY_KEYS - 1)


def nulls_first(row: tuple) -> tuple:
    return tuple("" if value is None else str(value) for value in row)


def test_tally_rows(definitions) -> None:
    schemas = {"createT": BodySchema.of(body_fields("T", definitions))}
    tally = FieldTally(schemas)
    conf = ("e2e.test/v1 -- a [Conformance]", "a [Conformance]", True, True)
    plain = ("e2e.test/v1 -- b", "b", True, False)
    kubelet = ("kubelet/v1", None, False, False)
    tally.add("createT", conf, {"kind": "T", "spec": {"tags": ["x"]}})
    tally.add("createT", conf, {"kind": "T", "oops": 1})
    tally.add("createT", plain, {"kind": "T"})
    tally.add("createT", kubelet, {"metadata": {"name": "n"}})
    tally.add("listT", plain, {"kind": "T"})  # no body schema: not counted
    tally.add("createT", plain, None)  # no body: not counted
    assert sorted(tally.body_rows(), key=nulls_first) == [
        ("createT", None, False, False, 1),
        ("createT", "a [Conformance]", True, True, 2),
        ("createT", "b", True, False, 1),
    ]
    assert sorted(tally.field_rows(), key=nulls_first) == [
        ("createT", "kind", True, "a [Conformance]", True, True, 2),
        ("createT", "kind", True, "b", True, False, 1),
        ("createT", "metadata", True, None, False, False, 1),
        ("createT", "metadata.name", True, None, False, False, 1),
        ("createT", "oops", False, "a [Conformance]", True, True, 1),
        ("createT", "spec", True, "a [Conformance]", True, True, 1),
        ("createT", "spec.tags", True, "a [Conformance]", True, True, 1),
    ]
    live = FieldTally(schemas, by_useragent=True)
    live.add("createT", conf, {"kind": "T"})
    live.add("createT", ("kubelet/v2", None, False, False), {"kind": "T"})
    live.add("createT", kubelet, {"kind": "T"})
    assert sorted(live.field_rows(), key=nulls_first) == [
        ("createT", "kind", True, "e2e.test/v1 -- a [Conformance]", True, True, 1),
        ("createT", "kind", True, "kubelet/v1", False, False, 1),
        ("createT", "kind", True, "kubelet/v2", False, False, 1)]


# --- the real specs ---------------------------------------------------------------

def read_spec(shared_data: Path, release: str) -> tuple[spec.Bodies, list[spec.Operation]]:
    bodies = spec.Bodies()
    with gzip.open(shared_data / "openapi" / f"swagger-{release}.json.gz") as stream:
        operations = list(spec.read_operations(stream, release, bodies))
    return bodies, operations


def test_bodies_of_real_operations(shared_data) -> None:
    bodies, operations = read_spec(shared_data, "1.36")
    by_name = {op.endpoint: op for op in operations}
    assert bodies.body_of(by_name[CRB]) == ("io.k8s.api.rbac.v1.ClusterRoleBinding", "body")
    # a patch's own schema is opaque: its fields are the patched resource's
    assert bodies.body_of(by_name["patchCoreV1NamespacedPod"]) == (
        "io.k8s.api.core.v1.Pod", "patch")
    # DeleteOptions comes through a shared parameter ($ref into `parameters`)
    assert bodies.body_of(by_name["deleteCoreV1NamespacedPod"]) == (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "body")
    assert bodies.body_of(by_name["readCoreV1NamespacedPod"]) is None
    # the same operations as the plain reader, which the matcher uses
    with gzip.open(shared_data / "openapi" / "swagger-1.36.json.gz") as stream:
        assert [op.endpoint for op in spec.read_operations(stream, "1.36")] == list(by_name)
    crd = {f.path: f for f in bodies.fields("io.k8s.apiextensions-apiserver.pkg.apis."
                                            "apiextensions.v1.CustomResourceDefinition")}
    cut = crd["spec.versions[].schema.openAPIV3Schema.properties"]
    assert (cut.type, cut.recursion) == ("map", True)
    assert not crd["spec.versions[].schema.openAPIV3Schema.type"].recursion
    pod = {f.path for f in bodies.fields("io.k8s.api.core.v1.Pod")}
    assert {"spec.containers[].image", "spec.containers[].env[].valueFrom.secretKeyRef.key",
            "metadata.labels", "spec.overhead", "spec.nodeSelector"} <= pod
    assert len(pod) == 1361


def test_old_spec_aliases(shared_data) -> None:
    # 1.8 names bodies io.k8s.kubernetes.pkg.api.v1.* that are $refs to io.k8s.api.*
    bodies, operations = read_spec(shared_data, "1.8")
    create = next(op for op in operations if op.endpoint == "createCoreV1NamespacedPod")
    definition, how = bodies.body_of(create)
    assert how == "body"
    assert {"spec.containers[].image", "metadata.name"} <= {f.path for f in
                                                            bodies.fields(definition)}


# --- stored, tallied, viewed ---------------------------------------------------------

@pytest.fixture
def spec_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def load(conn, fetcher, settings, paths: list[Path], **options):
    return load_log_files(conn, fetcher, settings, Releases.load(), paths,
                          parse_release("1.36"), **options)


def test_spec_load_stores_body_fields(conn, spec_1_36) -> None:
    assert conn.execute(
        "SELECT count(*), count(DISTINCT definition) FROM endpoint_body").fetchone() == (533, 98)
    assert conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE recursion) FROM body_schema s"
        " JOIN body_field f ON f.digest = s.digest").fetchone() == (16643, 7)
    assert conn.execute("SELECT count(*) FROM endpoint_field_coverage").fetchone() == (81123,)
    assert conn.execute(
        "SELECT details FROM load_log WHERE kind = 'spec'").fetchone() == ({"body_fields": 16643},)


def test_real_sample(conn, fetcher, settings, spec_1_36, shared_data) -> None:
    load(conn, fetcher, settings, [shared_data / "audit" / GCE_SAMPLE])
    assert conn.execute(
        "SELECT endpoint, fields, tested_fields, conf_tested_fields, observed_bodies,"
        " test_bodies, unknown_fields FROM field_coverage_summary WHERE observed_bodies > 0"
        " ORDER BY endpoint").fetchall() == [
        (CRB, 40, 12, 0, 5, 4, 0),
        ("createRbacAuthorizationV1NamespacedRoleBinding", 40, 0, 0, 1, 0, 0),
    ]
    rows = {row[0]: row[1:] for row in conn.execute(
        "SELECT field, tested, conf_tested, cardinality(tests) FROM endpoint_field_coverage"
        " WHERE release = '1.36.0' AND endpoint = %s", (CRB,))}
    assert rows["roleRef.name"] == (True, False, 4)
    assert rows["subjects[].namespace"] == (True, False, 4)
    assert rows["metadata.finalizers"] == (False, False, 0)
    # the events without a body (Metadata level, reads, exec) mark nothing
    assert conn.execute("SELECT count(*) FROM field_coverage_summary WHERE observed_bodies = 0"
                        " AND tested_fields > 0").fetchone() == (0,)
    assert conn.execute("SELECT sum(bodies)::int FROM endpoint_body_hit").fetchone() == (6,)


CONF_UA = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- [sig-auth] binds [Conformance]"
PLAIN_UA = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- [sig-auth] binds more"
CRB_URI = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"


def body_event(audit_id: str, useragent: str, body: object, level: str = "RequestResponse",
               verb: str = "create", uri: str = CRB_URI) -> dict:
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": audit_id,
         "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
         "userAgent": useragent, "responseStatus": {"code": 201}}
    if body is not None:
        e["requestObject"] = body
    return e


HAND_MADE = [
    body_event("b1", CONF_UA, {"metadata": {"name": "b", "labels": {"a": "1"}},
                               "roleRef": {"kind": "ClusterRole", "name": "r", "apiGroup": None},
                               "subjects": [{"kind": "User", "name": "u"}]}),
    body_event("b2", PLAIN_UA, {"metadata": {"name": "b", "finalizers": []},
                                "subjects": [{"kind": "Group", "name": "g", "zone": "x"}],
                                "extra": {"a": 1}}),
    body_event("b3", CONF_UA, None, level="Metadata"),  # no body
    body_event("b4", CONF_UA, None, level="Request", verb="get", uri=CRB_URI + "/b"),
    body_event("b5", "kubectl/v1.36.0", {"metadata": {"name": "k"}}),
]


def write_log(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_hand_made_run_rows(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "audit.log", HAND_MADE)
    load(conn, fetcher, settings, [log])
    conf, plain = CONF_UA.split(" -- ")[1], PLAIN_UA.split(" -- ")[1]
    assert conn.execute(
        "SELECT field, known, test, test_hit, conf_test_hit, hits FROM endpoint_field_hit"
        " ORDER BY field, known, test NULLS FIRST").fetchall() == [
        ("extra", False, plain, True, False, 1),
        ("metadata", True, None, False, False, 1),
        ("metadata", True, conf, True, True, 1),
        ("metadata", True, plain, True, False, 1),
        ("metadata.finalizers", True, plain, True, False, 1),
        ("metadata.labels", True, conf, True, True, 1),
        ("metadata.name", True, None, False, False, 1),
        ("metadata.name", True, conf, True, True, 1),
        ("metadata.name", True, plain, True, False, 1),
        ("roleRef", True, conf, True, True, 1),
        ("roleRef.kind", True, conf, True, True, 1),
        ("roleRef.name", True, conf, True, True, 1),
        ("subjects", True, conf, True, True, 1),
        ("subjects", True, plain, True, False, 1),
        ("subjects[].kind", True, conf, True, True, 1),
        ("subjects[].kind", True, plain, True, False, 1),
        ("subjects[].name", True, conf, True, True, 1),
        ("subjects[].name", True, plain, True, False, 1),
        ("subjects[].zone", False, plain, True, False, 1),
    ]
    assert conn.execute(
        "SELECT endpoint, test, test_hit, conf_test_hit, bodies FROM endpoint_body_hit"
        " ORDER BY test NULLS FIRST").fetchall() == [
        (CRB, None, False, False, 1), (CRB, conf, True, True, 1), (CRB, plain, True, False, 1)]
    assert conn.execute(
        "SELECT field, tested, conf_tested, tests FROM endpoint_field_coverage"
        " WHERE endpoint = %s AND field IN ('metadata.name', 'metadata.finalizers',"
        " 'roleRef.apiGroup', 'subjects[].name') ORDER BY position", (CRB,)).fetchall() == [
        ("metadata.finalizers", True, False, [plain]),
        ("metadata.name", True, True, [conf, plain]),
        ("roleRef.apiGroup", False, False, []),
        ("subjects[].name", True, True, [conf, plain]),
    ]
    assert conn.execute(
        "SELECT fields, tested_fields, conf_tested_fields, observed_bodies, test_bodies,"
        " conf_bodies, unknown_fields FROM field_coverage_summary WHERE endpoint = %s",
        (CRB,)).fetchone() == (40, 10, 9, 3, 2, 1, 2)
    assert conn.execute("SELECT endpoint, field, hits, tests FROM endpoint_unknown_field"
                        " ORDER BY field").fetchall() == [
        (CRB, "extra", 1, [plain]), (CRB, "subjects[].zone", 1, [plain])]
    # loading the run again replaces its rows; nothing doubles
    load(conn, fetcher, settings, [write_log(log, HAND_MADE[:1])])
    assert conn.execute("SELECT count(*), sum(hits)::int FROM endpoint_field_hit").fetchone() == (
        9, 9)
    assert conn.execute("SELECT observed_bodies FROM field_coverage_summary"
                        " WHERE endpoint = %s", (CRB,)).fetchone() == (1,)


def test_live_fields_and_the_new_test_view(conn, fetcher, settings, spec_1_36,
                                           tmp_path) -> None:
    load(conn, fetcher, settings, [write_log(tmp_path / "ci.log", HAND_MADE[:1])])
    live = [body_event("l1", "live-test-writing",
                       {"metadata": {"name": "x"}, "roleRef": {"name": "r"},
                        "subjects": [{"name": "u", "namespace": "n"}], "bogus": 1}),
            body_event("l2", "live-test-writing", {"metadata": {"name": "y"}}),
            body_event("l3", "kubectl/v1.36.0", {"metadata": {"name": "z"}})]
    load(conn, fetcher, settings, [write_log(tmp_path / "live.log", live)], testing=True)
    assert conn.execute(
        "SELECT field, known, hit_by_ete, hit_by_conformance, hit_by_new_test"
        " FROM testing.field_hit_by_new_test ORDER BY field").fetchall() == [
        ("bogus", False, False, False, 1),
        ("metadata", True, True, True, 2),
        ("metadata.name", True, True, True, 2),
        ("roleRef", True, True, True, 1),
        ("roleRef.name", True, True, True, 1),
        ("subjects", True, True, True, 1),
        ("subjects[].name", True, True, True, 1),
        ("subjects[].namespace", True, False, False, 1),
    ]
    assert conn.execute("SELECT useragent, bodies FROM testing.body_hit ORDER BY 1").fetchall() \
        == [("kubectl/v1.36.0", 1), ("live-test-writing", 2)]
    # retention takes the tallies with the events
    assert conn.execute("SELECT delete_older_test_events('0 seconds')").fetchone() == (
        "3 events removed",)
    assert conn.execute("SELECT (SELECT count(*) FROM testing.field_hit),"
                        " (SELECT count(*) FROM testing.body_hit)").fetchone() == (0, 0)


def test_export_fields_file(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    from snoopdb.commands.export import export

    load(conn, fetcher, settings, [write_log(tmp_path / "audit.log", HAND_MADE)])
    written = export(conn, tmp_path / "out")
    (fields_file,) = [w.path for w in written if w.path.name == "1.36.0-fields.json"]
    document = json.loads(fields_file.read_text())
    assert document["release"] == "1.36.0"
    assert len(document["endpoints"]) == conn.execute(
        "SELECT count(*) FROM field_coverage_summary").fetchone()[0]
    assert sum(len(fields) for fields in document["definitions"].values()) == conn.execute(
        "SELECT sum(fields) FROM body_schema WHERE definition IN (SELECT definition"
        " FROM field_coverage_summary)").fetchone()[0]
    crb = next(e for e in document["endpoints"] if e["endpoint"] == CRB)
    conf, plain = CONF_UA.split(" -- ")[1], PLAIN_UA.split(" -- ")[1]
    assert {key: crb[key] for key in crb if key not in ("set", "unknown")} == {
        "endpoint": CRB, "definition": "io.k8s.api.rbac.v1.ClusterRoleBinding", "how": "body",
        "fields": 40, "tested_fields": 10, "conf_tested_fields": 9, "observed_bodies": 3,
        "unknown_fields": 2}
    assert crb["set"][:2] == [
        {"field": "metadata", "tested": True, "conf_tested": True, "tests": [conf, plain],
         "bodies": 3},
        {"field": "metadata.finalizers", "tested": True, "conf_tested": False, "tests": [plain],
         "bodies": 1}]
    assert crb["unknown"] == [{"field": "extra", "tests": [plain], "bodies": 1},
                              {"field": "subjects[].zone", "tests": [plain], "bodies": 1}]
    fields = document["definitions"]["io.k8s.api.rbac.v1.ClusterRoleBinding"]
    assert fields[0] == {"field": "apiVersion", "type": "string", "recursion": False,
                         "ref": None}
    assert len(fields) == 40


def test_field_trees_are_shared_between_releases(conn, fetcher, shared_data) -> None:
    def stored() -> tuple[int, int]:
        return conn.execute("SELECT (SELECT sum(fields)::int FROM body_schema),"
                            " (SELECT count(*)::int FROM body_field)").fetchone()

    spec_of = {release: str(shared_data / "openapi" / f"swagger-{release}.json.gz")
               for release in ("1.35", "1.36")}
    spec.load(conn, fetcher, spec_of["1.36"], "1.36.0", None)
    # definitions of 1.36 with the very same tree are stored once (137 rows fewer)
    assert stored() == (16643, 16506)
    spec.load(conn, fetcher, spec_of["1.35"], "1.35.0", None)
    per_release, rows = stored()
    assert per_release == 16643 + 16299 and rows < 16506 + 16299
    # 1.35.0 loaded again from 1.36's spec: its own trees go, none is left behind
    spec.load(conn, fetcher, spec_of["1.36"], "1.35.0", None)
    assert stored() == (2 * 16643, 16506)
    assert conn.execute("SELECT count(*) FROM endpoint_field_coverage WHERE release = '1.35.0'"
                        ).fetchone() == (81123,)


# --- bounds: hostile schemas and bodies ------------------------------------------------

def diamond(levels: int) -> dict[str, dict]:
    """D0 … D`levels`, each referring twice to the next: 2**k paths at level k."""
    definitions = {f"D{i}": {"properties": {"a": ref(f"D{i + 1}"), "b": ref(f"D{i + 1}")}}
                   for i in range(levels)}
    definitions[f"D{levels}"] = {"properties": {"x": {"type": "string"}}}
    return {name: compact(schema) for name, schema in definitions.items()}


def test_a_diamond_chain_is_listed_to_the_depth_that_fits_the_budget() -> None:
    walk = FieldTrees(diamond(20))
    tree = walk.tree("D0")
    assert tree is not None
    # 2 + 4 + … + 2**12 = 8,190 fields fit 10,000; level 13's 8,192 would not
    assert (tree.fields, tree.depth, FIELD_BUDGET) == (8190, 12, 10_000)
    # what its first MAX_DEPTH levels would have been: 2 + 4 + … + 2**16
    assert tree.fields + tree.beyond == 2**17 - 2 == 131_070
    rows = list(tree.rows())
    assert len(rows) == 8190 and len({row[0] for row in rows}) == 8190
    cut = [row for row in rows if row[5]]
    assert len(cut) == 2**12 and all(row[0].count(".") == 11 and row[6] for row in cut)
    # each definition walked once per depth asked (16 levels, then 12): 28 subtrees of
    # 3 nodes, not 2**17 paths
    assert walk.work == 28 * 3
    # a second diamond 1,000 levels deep: the same bounded work, saturated counts
    deep = FieldTrees(diamond(1000)).tree("D0")
    assert deep is not None and (deep.fields, deep.depth) == (8190, 12)


def test_a_long_chain_is_cut_at_the_depth_bound() -> None:
    definitions = {f"C{i}": compact({"properties": {"next": ref(f"C{i + 1}"),
                                                    "v": {"type": "string"}}})
                   for i in range(5000)}
    fields = body_fields("C0", definitions)
    assert len(fields) == 2 * MAX_DEPTH == 32
    (cut,) = [f for f in fields if f.recursion]
    assert (cut.path.count("."), cut.name, cut.definition, cut.leaf) == (15, "next", "C16", True)
    tree = FieldTrees(definitions).tree("C0")
    assert tree is not None and (tree.depth, tree.beyond) == (MAX_DEPTH, 0)
    # a real recursion is no depth cut: the tree is whole
    assert FieldTrees({"R": compact({"properties": {"self": ref("R")}})}).tree("R").depth is None


def test_a_wide_definition_lists_its_first_fields_by_name() -> None:
    definitions = {"W": compact({"properties": {f"f{i:05}": {"type": "string"}
                                                for i in range(25_000)}})}
    tree = FieldTrees(definitions).tree("W")
    assert tree is not None and (tree.fields, tree.beyond, tree.depth) == (10_000, 15_000, 1)
    assert [row[0] for row in tree.rows()][-1] == "f09999"


def tangle(size: int) -> dict[str, dict]:
    """`size` definitions, each holding every one of them."""
    names = [f"T{i}" for i in range(size)]
    return {name: compact({"properties": {other: ref(other) for other in names}})
            for name in names}


def test_a_tangle_is_walked_a_level_at_a_time_within_the_work_budget() -> None:
    # 16 definitions each holding all 16: every path is a new context, 15!/k! of them
    # at level k; walked to depth 16 it is past ROOT_WORK, so it is walked again a
    # level at a time: 16 + 240 + 3,360 fit the budget, level 4's 43,680 do not
    walk = FieldTrees(tangle(16))
    tree = walk.tree("T0")
    assert tree is not None and (tree.fields, tree.depth) == (16 + 16 * 15 + 16 * 15 * 14, 3)
    assert ROOT_WORK < walk.work < 5 * ROOT_WORK
    # past the spec's budget: refused, in one line
    with pytest.raises(InputError, match=r"^body definition T0: more than 200,000 schema "
                                         r"nodes to walk$"):
        FieldTrees(tangle(90)).tree("T0")


def test_names_postgresql_cannot_index_or_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="a property name holds a NUL character"):
        compact({"properties": {"a\u0000": {"type": "string"}}})
    with pytest.raises(ValueError, match="a property name is 129 bytes long, more than 128"):
        compact({"properties": {"x" * 129: {"type": "string"}}})
    with pytest.raises(ValueError, match="lone surrogate"):
        compact({"properties": {"\ud800": {"type": "string"}}})


def swagger(definitions: dict, roots: list[str]) -> dict:
    return {"swagger": "2.0", "definitions": definitions, "paths": {
        f"/apis/x/{root}": {"post": {
            "operationId": f"create{root}",
            "parameters": [{"in": "body", "name": "body", "schema": ref(root)}],
            "responses": {"200": {"description": "OK", "schema": ref(root)}}}}
        for root in roots}}


def test_a_diamond_spec_loads_cut_and_says_so(conn, fetcher, tmp_path) -> None:
    levels = 20
    definitions = {f"D{i}": {"type": "object",
                             "properties": {"a": ref(f"D{i + 1}"), "b": ref(f"D{i + 1}")}}
                   for i in range(levels)}
    definitions[f"D{levels}"] = {"properties": {"x": {"type": "string"}}}
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(swagger(definitions, ["D0"])))
    assert path.stat().st_size < 3000
    warnings: list[str] = []
    assert spec.load(conn, fetcher, str(path), "1.36.0", None, warn=warnings.append) == 1
    assert warnings == ["spec 1.36.0: body definition D0 has more than 10,000 fields: listed "
                        "to depth 12, 122,880 more cut (marked recursion)"]
    assert conn.execute("SELECT count(*), count(*) FILTER (WHERE recursion) FROM body_field"
                        ).fetchone() == (8190, 4096)
    assert conn.execute("SELECT details FROM load_log WHERE kind = 'spec'").fetchone() == (
        {"body_fields": 8190, "body_fields_cut": {"D0": {"depth": 12, "left_out": 122_880}}},)


def test_a_spec_with_too_many_body_fields_is_refused(conn, fetcher, tmp_path) -> None:
    # 31 diamonds, each cut to 8,190 fields: 253,890 in all, past the release's 250,000
    definitions: dict = {}
    for copy in range(31):
        definitions.update({f"R{copy}D{i}": {"properties": {
            "a": ref(f"R{copy}D{i + 1}"), "b": ref(f"R{copy}D{i + 1}")}} for i in range(14)})
        definitions[f"R{copy}D14"] = {"properties": {"x": {"type": "string"}}}
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(swagger(definitions, [f"R{copy}D0" for copy in range(31)])))
    with pytest.raises(InputError) as error:
        spec.load(conn, fetcher, str(path), "1.36.0", None)
    assert str(error.value) == (f"{path}: its body definitions list 253,890 fields, more than "
                                "250,000 (a Kubernetes spec has about 20,000)")
    assert conn.execute("SELECT (SELECT count(*) FROM open_api), (SELECT count(*) FROM "
                        "body_field), (SELECT count(*) FROM endpoint_body)").fetchone() == (
        0, 0, 0)


def test_unknown_keys_are_capped_per_endpoint_with_a_count_of_the_rest(definitions) -> None:
    schemas = {"createT": BodySchema.of(body_fields("T", definitions))}
    tally = FieldTally(schemas)
    who = ("e2e.test/v1 -- a", "a", True, False)
    for event in range(20):
        tally.add("createT", who, {"kind": "T", "spec": {
            f"k{event}-{key}": key for key in range(100_000)}})
    rows = list(tally.field_rows())
    unknown = {row[1]: row[6] for row in rows if not row[2]}
    # the first body's first 100 unknown paths are listed; every other key is counted
    assert len(unknown) == MAX_UNKNOWN + 1 == 101
    assert unknown[MORE] == 20 * 100_000 - 100
    assert sorted(row[1] for row in rows if row[2]) == ["kind", "spec"]


def test_unknown_keys_are_stored_as_text_postgresql_holds_and_indexes(definitions) -> None:
    schemas = {"createT": BodySchema.of(body_fields("T", definitions))}
    tally = FieldTally(schemas)
    who = ("kubelet", None, False, False)
    tally.add("createT", who, {"a\u0000b": 1, "\ud800x": 1, "é" * 100: 1,
                               "spec": {"x" * 1000: 1}, "$patch": "replace"})
    unknown = sorted(row[1] for row in tally.field_rows() if not row[2])
    assert unknown == ["a\ufffdb", "spec." + "x" * 128 + "…", "é" * 64 + "…", "\ufffdx"]
    assert all(len(path.encode()) <= 5 + 128 + 3 for path in unknown)


def test_a_body_is_walked_for_a_bounded_number_of_keys(definitions) -> None:
    schema = BodySchema.of(body_fields("T", definitions))
    containers = [{"name": "c"}] * (MAX_BODY_KEYS - 2) + [{"image": "i"}]
    found = schema.paths({"spec": {"containers": containers}, "kind": "T"})
    # kind, spec, containers, then 999,997 containers' names: the last image is past
    assert sorted(found.known) == ["kind", "spec", "spec.containers",
                                   "spec.containers[].name"]
    assert found.keys == 0 and MAX_BODY_KEYS == 1_000_000
