"""Depth coverage (docs/depth.md): declared parameters and status codes stored with the
spec, the query parameters, values and status codes of events tallied per run and
merged per release, the views over them, their bounds."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.coverage import depth
from snoopdb.coverage.fields import storable_key
from snoopdb.db import run_store
from snoopdb.loaders import spec
from snoopdb.loaders.local_logs import load_log_files
from testkit.hits import insert_hits

GCE_SAMPLE = "gce-e2e-v1.37-2065053743543488512-sample.log"
CONF = "[sig-apps] Deployment should do things [Conformance]"
PLAIN = "[sig-api-machinery] dry run creates nothing"
CONF_UA = f"e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- {CONF}"
PLAIN_UA = f"e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- {PLAIN}"
LIST_PODS = "listCoreV1NamespacedPod"
CREATE_CM = "createCoreV1NamespacedConfigMap"
READ_POD = "readCoreV1NamespacedPod"
DELETE_DEPLOY = "deleteAppsV1NamespacedDeployment"
LIST_BETA = "listCertificatesV1beta1ClusterTrustBundle"


@pytest.fixture
def spec_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def event(audit_id: str, useragent: str, verb: str, uri: str, code: object) -> dict:
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": audit_id, "stage": "ResponseComplete", "requestURI": uri,
            "verb": verb, "userAgent": useragent, "responseStatus": {"code": code}}


def write_log(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def load(conn, fetcher, settings, paths: list[Path], **options):
    return load_log_files(conn, fetcher, settings, Releases.load(), paths,
                          parse_release("1.36"), **options)


HAND_MADE = [
    event("e1", CONF_UA, "list", "/api/v1/namespaces/n/pods?labelSelector=app%3Dweb&limit=5",
          200),
    event("e2", PLAIN_UA, "create", "/api/v1/namespaces/n/configmaps?dryRun=All", 201),
    event("e3", CONF_UA, "get", "/api/v1/namespaces/n/pods/missing", 404),
    event("e4", CONF_UA, "delete",
          "/apis/apps/v1/namespaces/n/deployments/d?propagationPolicy=Foreground", 200),
    event("e5", CONF_UA, "list", "/apis/certificates.k8s.io/v1beta1/clustertrustbundles", 200),
]


def test_spec_declares_parameters_and_codes(conn, spec_1_36) -> None:
    assert conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE location = 'query'),"
        " count(*) FILTER (WHERE location = 'path'), count(*) FILTER (WHERE location = 'body')"
        " FROM endpoint_parameter").fetchone() == (9382, 7719, 1130, 533)
    assert conn.execute("SELECT count(*) FROM endpoint_response").fetchone() == (2788,)
    # path-level parameters (name, namespace, pretty) are the operation's too
    assert conn.execute(
        "SELECT parameter, location, required, type FROM endpoint_parameter"
        " WHERE release = '1.36.0' AND endpoint = 'connectCoreV1PostNamespacedPodExec'"
        " ORDER BY location, parameter").fetchall() == [
        ("name", "path", True, "string"), ("namespace", "path", True, "string"),
        ("command", "query", False, "string"), ("container", "query", False, "string"),
        ("stderr", "query", False, "boolean"), ("stdin", "query", False, "boolean"),
        ("stdout", "query", False, "boolean"), ("tty", "query", False, "boolean")]
    assert conn.execute(
        "SELECT code FROM endpoint_response WHERE endpoint = %s ORDER BY code",
        (CREATE_CM,)).fetchall() == [("200",), ("201",), ("202",), ("401",)]
    assert conn.execute(
        "SELECT type FROM endpoint_parameter WHERE endpoint = %s AND location = 'body'",
        (CREATE_CM,)).fetchone() == ("io.k8s.api.core.v1.ConfigMap",)


def test_hand_made_events_give_exact_rows(conn, fetcher, settings, spec_1_36,
                                          tmp_path) -> None:
    load(conn, fetcher, settings, [write_log(tmp_path / "audit.log", HAND_MADE)])
    assert conn.execute(
        "SELECT endpoint, parameter, location, required, hits, test_hits, conf_hits, tests"
        " FROM endpoint_parameter_coverage WHERE hits > 0 ORDER BY endpoint, parameter"
    ).fetchall() == [
        (CREATE_CM, "dryRun", "query", False, 1, 1, 0, [PLAIN]),
        (DELETE_DEPLOY, "propagationPolicy", "query", False, 1, 1, 1, [CONF]),
        (LIST_PODS, "labelSelector", "query", False, 1, 1, 1, [CONF]),
        (LIST_PODS, "limit", "query", False, 1, 1, 1, [CONF]),
    ]
    # every declared query parameter of every operation is a row, hit or not
    assert conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE location IS NULL)"
        " FROM endpoint_parameter_coverage").fetchone() == (7719, 0)
    assert conn.execute(
        "SELECT endpoint, parameter, value, hits, conf_hits FROM endpoint_parameter_value"
        " ORDER BY endpoint").fetchall() == [
        (CREATE_CM, "dryRun", "All", 1, 0),
        (DELETE_DEPLOY, "propagationPolicy", "Foreground", 1, 1),
    ]
    assert conn.execute(
        "SELECT endpoint, code, declared, hits, conf_hits FROM endpoint_status_coverage"
        " WHERE endpoint IN (%s, %s, %s, %s, %s) ORDER BY endpoint, code",
        (LIST_PODS, CREATE_CM, READ_POD, DELETE_DEPLOY, LIST_BETA)).fetchall() == [
        (CREATE_CM, "200", True, 0, 0), (CREATE_CM, "201", True, 1, 0),
        (CREATE_CM, "202", True, 0, 0), (CREATE_CM, "401", True, 0, 0),
        (DELETE_DEPLOY, "200", True, 1, 1), (DELETE_DEPLOY, "202", True, 0, 0),
        (DELETE_DEPLOY, "401", True, 0, 0),
        (LIST_BETA, "200", True, 1, 1), (LIST_BETA, "401", True, 0, 0),
        (LIST_PODS, "200", True, 1, 1), (LIST_PODS, "401", True, 0, 0),
        (READ_POD, "200", True, 0, 0), (READ_POD, "401", True, 0, 0),
        (READ_POD, "404", False, 1, 1),
    ]
    assert conn.execute(
        "SELECT endpoint, level, eligible, conf_tested, params_declared, params_conf_hit,"
        " codes_conf_seen, error_codes_conf_seen, fields_declared, fields_conf_set, depth"
        " FROM endpoint_depth WHERE endpoint IN (%s, %s, %s, %s, %s) ORDER BY endpoint",
        (LIST_PODS, CREATE_CM, READ_POD, DELETE_DEPLOY, LIST_BETA)).fetchall() == [
        # pretty, dryRun, fieldManager, fieldValidation; ConfigMap's fields
        (CREATE_CM, "stable", True, False, 3, 0, 0, 0, 34, 0, "untested"),
        # DeleteOptions' fields: a DELETE may carry a body
        (DELETE_DEPLOY, "stable", True, True, 5, 1, 1, 0, 10, 0, "partial"),
        (LIST_BETA, "beta", False, True, 11, 0, 1, 0, 0, 0, "partial"),
        (LIST_PODS, "stable", True, True, 11, 2, 1, 0, 0, 0, "partial"),
        # no query parameter but pretty, no body: called at all is called fully
        (READ_POD, "stable", True, True, 0, 0, 1, 1, 0, 0, "full"),
    ]
    assert conn.execute("SELECT release, test, endpoint, level, hits"
                        " FROM conformance.non_ga_call").fetchall() == [
        ("1.36.0", CONF, LIST_BETA, "beta", 1)]


def test_undeclared_parameters_and_codes_are_rows(conn, fetcher, settings, spec_1_36,
                                                  tmp_path) -> None:
    log = write_log(tmp_path / "audit.log", [
        event("u1", CONF_UA, "get", "/api/v1/namespaces/n/pods/p?bogus=1&x+y=2", 999999),
        event("u2", CONF_UA, "get", "/api/v1/namespaces/n/pods/p", "teapot"),
    ])
    report = load(conn, fetcher, settings, [log])
    assert conn.execute(
        "SELECT parameter, location, hits, conf_hits FROM endpoint_parameter_coverage"
        " WHERE endpoint = %s AND hits > 0 ORDER BY parameter", (READ_POD,)).fetchall() == [
        ("bogus", None, 1, 1), ("x y", None, 1, 1)]
    assert conn.execute(
        "SELECT code, declared, hits FROM endpoint_status_coverage WHERE endpoint = %s"
        " ORDER BY code", (READ_POD,)).fetchall() == [
        ("$invalid", False, 2), ("200", True, 0), ("401", True, 0)]
    assert report.depth_bounded == {depth.BAD_CODES: 2}
    assert conn.execute("SELECT details -> 'depth_bounded' FROM load_log WHERE kind = 'audit'"
                        ).fetchone() == ({depth.BAD_CODES: 2},)


def test_real_sample_exec_parameters(conn, fetcher, settings, spec_1_36,
                                     shared_data) -> None:
    load(conn, fetcher, settings, [shared_data / "audit" / GCE_SAMPLE])
    rows = conn.execute(
        "SELECT parameter, location, hits, test_hits FROM endpoint_parameter_coverage"
        " WHERE endpoint = 'connectCoreV1GetNamespacedPodExec' AND hits > 0"
        " ORDER BY parameter").fetchall()
    assert rows == [("command", "query", 3, 2), ("container", "query", 3, 2),
                    ("stderr", "query", 3, 2), ("stdout", "query", 3, 2)]
    # an exec answers 101 Switching Protocols, which the spec does not declare
    assert conn.execute(
        "SELECT code, declared, hits FROM endpoint_status_coverage"
        " WHERE endpoint = 'connectCoreV1GetNamespacedPodExec' AND hits > 0").fetchall() == [
        ("101", False, 3)]


def test_runs_merge_into_the_release_and_go_with_their_run(conn, fetcher, settings, spec_1_36,
                                                          tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_log(tmp_path / "a" / "audit.log", HAND_MADE[:2])
    second = write_log(tmp_path / "b" / "audit.log", HAND_MADE[:1])
    load(conn, fetcher, settings, [first])
    load(conn, fetcher, settings, [second])  # added to the release's summaries
    merged = conn.execute(
        "SELECT endpoint, parameter, value, hits, test_hits, conf_hits, tests"
        " FROM release_param_hit ORDER BY endpoint, parameter").fetchall()
    assert merged == [
        (CREATE_CM, "dryRun", "All", 1, 1, 0, [PLAIN]),
        (LIST_PODS, "labelSelector", None, 2, 2, 2, [CONF]),
        (LIST_PODS, "limit", None, 2, 2, 2, [CONF]),
    ]
    # the merge of a new run gives what a rewrite of every run gives
    conn.execute("SELECT refresh_release_coverage('1.36.0')")
    assert conn.execute(
        "SELECT endpoint, parameter, value, hits, test_hits, conf_hits, tests"
        " FROM release_param_hit ORDER BY endpoint, parameter").fetchall() == merged
    assert conn.execute("SELECT endpoint, code, hits, conf_hits FROM release_status_hit"
                        " ORDER BY endpoint").fetchall() == [
        (CREATE_CM, "201", 1, 0), (LIST_PODS, "200", 2, 2)]
    # dropping a run takes its tallies with it
    (newest,) = conn.execute("SELECT source FROM audit_run ORDER BY run DESC").fetchone()
    with conn.transaction():
        dropped = run_store.drop(conn, newest)
        assert dropped is not None
        run_store.refresh(conn, dropped[0])
    assert conn.execute("SELECT sum(hits)::int FROM release_param_hit").fetchone() == (3,)
    assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'runs'"
                        " AND tablename ~ '^(param|status)_hit_'").fetchone() == (2,)


def test_live_events_tally_depth(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    live = [event("l1", "live-test-writing", "list",
                  "/api/v1/namespaces/n/pods?watch=true&resourceVersion=5", 200),
            event("l2", "live-test-writing", "delete",
                  "/apis/apps/v1/namespaces/n/deployments/d?dryRun=All", 200)]
    load(conn, fetcher, settings, [write_log(tmp_path / "live.log", live)], testing=True)
    assert conn.execute(
        "SELECT endpoint, parameter, value, useragent, hits FROM testing.param_hit"
        " ORDER BY endpoint, parameter").fetchall() == [
        (DELETE_DEPLOY, "dryRun", "All", "live-test-writing", 1),
        (LIST_PODS, "resourceVersion", None, "live-test-writing", 1),
        (LIST_PODS, "watch", "true", "live-test-writing", 1)]
    assert conn.execute("SELECT endpoint, code, hits FROM testing.status_hit"
                        " ORDER BY endpoint").fetchall() == [
        (DELETE_DEPLOY, "200", 1), (LIST_PODS, "200", 1)]
    assert conn.execute("SELECT delete_older_test_events('0 seconds')").fetchone() == (
        "2 events removed",)
    assert conn.execute("SELECT (SELECT count(*) FROM testing.param_hit),"
                        " (SELECT count(*) FROM testing.status_hit)").fetchone() == (0, 0)


# --- hostile input ------------------------------------------------------------------

def test_hostile_query_strings_are_bounded(conn, fetcher, settings, spec_1_36,
                                           tmp_path) -> None:
    pods = "/api/v1/namespaces/n/pods"
    many = [event(f"m{i}", CONF_UA, "list", f"{pods}?p{i}=1", 200) for i in range(10_000)]
    # "limit=1&" then pairs of 17 characters and a "&": 909 whole pairs in the 16 KiB
    # read and one cut in its value (kept): 911 names, 64 read
    huge = event("h1", CONF_UA, "list", f"{pods}?limit=1&" + "&".join(
        f"q{i:06d}=xxxxxxxxx" for i in range(60_000)), 200)
    assert len(huge["requestURI"]) > 1 << 20
    long_value = event("v1", CONF_UA, "list", f"{pods}?watch=" + "y" * 100_000, 200)
    odd_codes = [event("c1", CONF_UA, "list", pods, 999999),
                 event("c2", CONF_UA, "list", pods, "OK")]
    report = load(conn, fetcher, settings,
                  [write_log(tmp_path / "audit.log", [*many, huge, long_value, *odd_codes])])
    assert report.events == 10_004
    rows = dict(conn.execute(
        "SELECT parameter, hits FROM endpoint_parameter_coverage"
        " WHERE endpoint = %s AND location IS NULL", (LIST_PODS,)).fetchall())
    # 100 undeclared names listed (p0…p99), the rest counted under $more: the other
    # 9,900 events' names; the huge one's 63 read names and 847 not read; the tails of
    # the two query strings cut (the huge one's, the long value's)
    assert len(rows) == depth.MAX_UNDECLARED + 1
    assert rows[depth.MORE] == 9_900 + 63 + 847 + 2
    assert conn.execute(
        "SELECT parameter, hits FROM endpoint_parameter_coverage WHERE endpoint = %s"
        " AND location = 'query' AND hits > 0 ORDER BY parameter", (LIST_PODS,)).fetchall() == [
        ("limit", 1), ("watch", 1)]
    assert conn.execute(
        "SELECT value FROM endpoint_parameter_value WHERE parameter = 'watch'").fetchall() == [
        ("y" * depth.MAX_VALUE_BYTES + "…",)]
    assert conn.execute(
        "SELECT code, hits FROM endpoint_status_coverage WHERE endpoint = %s AND hits > 0"
        " ORDER BY code", (LIST_PODS,)).fetchall() == [("$invalid", 2), ("200", 10_002)]
    assert report.depth_bounded == {
        depth.CUT_QUERY: 2, depth.CUT_EVENT_NAMES: 847, depth.MORE_UNDECLARED: 9_900 + 63,
        depth.CUT_VALUES: 1, depth.BAD_CODES: 2}


def test_status_codes() -> None:
    assert depth.status_code({"code": 404}) == "404"
    assert depth.status_code({"code": 999999}) == depth.INVALID_CODE
    assert depth.status_code({"code": "404"}) == depth.INVALID_CODE
    assert depth.status_code({"code": True}) == depth.INVALID_CODE
    assert depth.status_code({"code": 200.0}) == depth.INVALID_CODE
    assert depth.status_code("x") == depth.INVALID_CODE
    assert depth.status_code({"status": "Success"}) is None
    assert depth.status_code(None) is None


def test_query_parameters_decode_as_go_does() -> None:
    assert depth.query_parameters("/api/v1/pods?a=1&b=%3D&a=2&&=x&c+d&e%ZZ=3") == (
        {"a": "1", "b": "%3D", "c d": "", "e%ZZ": "3"}, 0, False)
    assert depth.query_parameters("/api/v1/pods") == ({}, 0, False)
    assert depth.decoded_value("Foreground%20x") == "Foreground x"


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=300), st.text(max_size=300)), max_size=200),
       st.text(max_size=50))
def test_query_parser_is_bounded(pairs: list[tuple[str, str]], path: str) -> None:
    uri = path.replace("?", "") + "?" + "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)
    names, more, cut = depth.query_parameters(uri)
    assert len(names) <= depth.MAX_EVENT_PARAMETERS
    assert cut == (len(uri.partition("?")[2]) > depth.MAX_QUERY_CHARS)
    distinct = list(dict.fromkeys(storable_key(n, depth.MAX_NAME_BYTES) for n, _ in pairs if n))
    if not cut:
        assert more == max(0, len(distinct) - depth.MAX_EVENT_PARAMETERS)
        assert list(names) == distinct[:depth.MAX_EVENT_PARAMETERS]
    for name in names:
        assert name and "\x00" not in name
        assert len(name.encode()) <= depth.MAX_NAME_BYTES + len("…".encode())
        name.encode()  # no lone surrogate: PostgreSQL can store it
    for raw in names.values():
        value = depth.decoded_value(raw)
        assert len(value.encode()) <= depth.MAX_VALUE_BYTES + len("…".encode())
        value.encode()


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_query_parser_never_fails(uri: str) -> None:
    names, more, cut = depth.query_parameters(uri)
    assert more >= 0 and len(names) <= depth.MAX_EVENT_PARAMETERS


DEPTH_VIEWS = ("endpoint_parameter_coverage", "endpoint_status_coverage",
               "endpoint_parameter_value", "endpoint_depth", "conformance.non_ga_call",
               "release_with_events")


@pytest.mark.parametrize("view", DEPTH_VIEWS)
def test_depth_views_read_summaries_not_events(conn: psycopg.Connection, view: str) -> None:
    plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN (VERBOSE) SELECT * FROM {view}"))
    assert " public.audit_event " not in plan
    assert conn.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,)


def test_a_release_without_events_has_no_depth(conn, fetcher, settings, spec_1_36) -> None:
    """Published coverage only (hits, no events): endpoint coverage is known, depth not."""
    insert_hits(conn, [("1.36.0", "published", READ_POD, CONF, True, True, 1, True)])
    conn.execute("SELECT refresh_coverage()")
    assert conn.execute(
        "SELECT conf_tested, params_conf_hit, codes_conf_seen, fields_conf_set, depth"
        " FROM endpoint_depth WHERE endpoint = %s", (READ_POD,)).fetchone() == (
        True, None, None, None, None)
    assert conn.execute("SELECT count(*) FROM endpoint_parameter_coverage").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM endpoint_status_coverage").fetchone() == (0,)


def small_spec(path: Path, parameters: list, responses: dict, shared: dict | None = None,
               path_parameters: list | None = None) -> Path:
    item: dict = {"get": {"operationId": "readThing", "parameters": parameters,
                          "responses": responses}}
    if path_parameters is not None:
        item["parameters"] = path_parameters
    path.write_text(json.dumps({"swagger": "2.0", "paths": {"/apis/x/v1/things/{name}": item},
                                "parameters": shared or {}, "definitions": {}}))
    return path


def test_a_spec_declaring_too_much_is_cut_and_says_so(conn, fetcher, tmp_path) -> None:
    many = [{"name": f"p{i}", "in": "query", "type": "string"} for i in range(300)]
    codes = {str(200 + i): {"description": "x"} for i in range(70)}
    path = small_spec(tmp_path / "swagger.json", many, codes,
                      shared={"pretty-x": {"name": "pretty", "in": "query", "type": "string"}},
                      path_parameters=[{"$ref": "#/parameters/pretty-x"},
                                       {"name": "name", "in": "path", "required": True,
                                        "type": "string"},
                                       {"name": "p0", "in": "query", "type": "integer"}])
    warnings: list[str] = []
    assert spec.load(conn, fetcher, str(path), "1.36.0", None, warn=warnings.append) == 1
    assert warnings == ["spec 1.36.0: operation readThing declares 70 responses, more than 64:"
                        " the rest left out"]
    assert conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE location = 'path') FROM endpoint_parameter"
    ).fetchone() == (spec.MAX_OPERATION_PARAMETERS, 1)
    # the path item's parameters first, its own overriding them (p0 a string, not integer)
    assert conn.execute(
        "SELECT parameter, location, required, type FROM endpoint_parameter"
        " WHERE parameter IN ('pretty', 'name', 'p0') ORDER BY parameter").fetchall() == [
        ("name", "path", True, "string"), ("p0", "query", False, "string"),
        ("pretty", "query", False, "string")]
    assert conn.execute("SELECT count(*) FROM endpoint_response").fetchone() == (
        spec.MAX_OPERATION_CODES,)


@pytest.mark.parametrize(("parameters", "responses", "message"), [
    ([{"name": "a\x00b", "in": "query"}], {"200": {}},
     "operation readThing: a parameter name holds a NUL character"),
    ([{"name": "n" * 300, "in": "query"}], {"200": {}},
     "operation readThing: a parameter name is 300 bytes long, more than 256"),
    ([], {"2" * 40: {}},
     "operation readThing: a response's status code is 40 bytes long, more than 16"),
])
def test_a_spec_with_unstorable_names_is_refused(conn, fetcher, tmp_path, parameters, responses,
                                                 message) -> None:
    path = small_spec(tmp_path / "swagger.json", parameters, responses)
    with pytest.raises(InputError) as error:
        spec.load(conn, fetcher, str(path), "1.36.0", None)
    assert str(error.value) == f"{path}: {message}"
    assert conn.execute("SELECT (SELECT count(*) FROM open_api),"
                        " (SELECT count(*) FROM endpoint_parameter)").fetchone() == (0, 0)


def test_a_spec_loaded_before_depth_has_no_depth(conn, fetcher, settings, spec_1_36,
                                                 tmp_path) -> None:
    load(conn, fetcher, settings, [write_log(tmp_path / "audit.log", HAND_MADE[2:3])])
    assert conn.execute("SELECT params_declared, depth FROM endpoint_depth WHERE endpoint = %s",
                        (READ_POD,)).fetchone() == (0, "full")
    # what revision 0019 finds of a spec loaded before it
    conn.execute("DELETE FROM endpoint_parameter; DELETE FROM endpoint_response")
    assert conn.execute(
        "SELECT params_declared, params_conf_hit, codes_conf_seen, depth FROM endpoint_depth"
        " WHERE endpoint = %s", (READ_POD,)).fetchone() == (None, None, None, None)
