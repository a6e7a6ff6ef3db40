"""`snoopdb export` on a hand-made dataset: every file's exact content, and the
same bytes again when the same data is loaded in another order.

The dataset: releases 1.35.0 and 1.36.0 (the latest), one CI run of each.
  readCoreV1NamespacedPod    stable, since 1.35.0; conformance test PODS (promoted
                             1.9.0) hits it in both runs, kubelet too in 1.36.0
  createWidgetsV1Widget      stable, new in 1.36.0; hit by WIDGETS (promoted 1.36.0)
  deleteWidgetsV1Widget      stable, new in 1.36.0; hit only by a test that is not a
                             conformance test
  listCoreV1ComponentStatus  stable, since 1.35.0; ineligible, never hit
  listWidgetsV1alpha1Widget  alpha, new in 1.36.0; never hit
  watchWidgetsV1Widget       deprecated (in no coverage view), hit by WIDGETS
  readCoreV1Endpoints        1.35.0 only: gone from the latest release
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from test_cli import PARSERS

from snoopdb.cli import main
from snoopdb.commands.export import export
from snoopdb.core.errors import NoSpecLoaded
from snoopdb.core.releases import parse_release
from testkit import depth_data
from testkit.hits import drop_all_runs, insert_hits

POD = "readCoreV1NamespacedPod"
CREATE = "createWidgetsV1Widget"
DELETE = "deleteWidgetsV1Widget"
STATUS = "listCoreV1ComponentStatus"
ALPHA = "listWidgetsV1alpha1Widget"
WATCH = "watchWidgetsV1Widget"
GONE = "readCoreV1Endpoints"

PODS = "[sig-node] Pods should get a pod [Conformance]"
WIDGETS = "[sig-widgets] Widgets should be created [Conformance]"
OTHER = "[sig-widgets] Widgets should be deleted"
RUN = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/2"
RELEASE_DATES = {"1.35.0": "2025-12-17", "1.36.0": "2026-04-22"}

# endpoint -> (level, category, path, description, kind, version, group, action,
#              deprecated, method, releases)
ENDPOINTS = {
    POD: ("stable", "core", "/api/v1/namespaces/{namespace}/pods/{name}",
          "read the specified Pod", "Pod", "v1", "", "get", False, "get",
          ("1.35.0", "1.36.0")),
    CREATE: ("stable", "widgets", "/apis/widgets.example.io/v1/widgets", "create a Widget",
             "Widget", "v1", "widgets.example.io", "post", False, "post", ("1.36.0",)),
    DELETE: ("stable", "widgets", "/apis/widgets.example.io/v1/widgets/{name}",
             "delete a Widget — gently", "Widget", "v1", "widgets.example.io", "delete",
             False, "delete", ("1.36.0",)),
    STATUS: ("stable", "core", "/api/v1/componentstatuses",
             "list objects of kind ComponentStatus", "ComponentStatus", "v1", "", "list", False,
             "get", ("1.35.0", "1.36.0")),
    ALPHA: ("alpha", "widgets", "/apis/widgets.example.io/v1alpha1/widgets",
            "list or watch objects of kind Widget", "Widget", "v1alpha1", "widgets.example.io",
            "list", False, "get", ("1.36.0",)),
    WATCH: ("stable", "widgets", "/apis/widgets.example.io/v1/watch/widgets/{name}",
            "watch a Widget. deprecated: use the 'watch' parameter", "Widget", "v1",
            "widgets.example.io", "watch", True, "get", ("1.36.0",)),
    GONE: ("stable", "core", "/api/v1/namespaces/{namespace}/endpoints/{name}",
           "read the specified Endpoints", "Endpoints", "v1", "", "get", False, "get",
           ("1.35.0",)),
}
CONFORMANCE = [
    (PODS, "Pods, get", "1.9.0", "test/e2e/common/node/pods.go"),
    (WIDGETS, "Widget create", "1.36.0", "test/e2e/widgets/widget.go"),
]
# (release, source, endpoint, test, test_hit, conf_test_hit, hits)
HITS = [
    ("1.35.0", "run-35", POD, PODS, True, True, 1),
    ("1.36.0", RUN, POD, PODS, True, True, 4),
    ("1.36.0", RUN, POD, None, False, False, 2),
    ("1.36.0", RUN, CREATE, WIDGETS, True, True, 1),
    ("1.36.0", RUN, DELETE, OTHER, True, False, 1),
    ("1.36.0", RUN, WATCH, WIDGETS, True, True, 3),
]
INELIGIBLE = (STATUS, "pending deprecation", "https://github.com/kubernetes/kubernetes/pull/1")


def load(conn: psycopg.Connection, reverse: bool = False) -> None:
    """The dataset; `reverse` inserts every table's rows in the opposite order."""
    order = (lambda rows: list(reversed(rows))) if reverse else list
    rows = [(release, RELEASE_DATES[release], endpoint, level, category, path, group, version,
             kind, action, deprecated, description, f"swagger-{release}.json", method)
            for endpoint, (level, category, path, description, kind, version, group, action,
                           deprecated, method, releases) in ENDPOINTS.items()
            for release in releases]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO open_api (release, release_date, endpoint, level, category, path,"
            " k8s_group, k8s_version, k8s_kind, k8s_action, deprecated, description, spec,"
            " method) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            order(rows))
        cur.executemany("INSERT INTO conformance.test (codename, testname, release, file)"
                        " VALUES (%s, %s, %s, %s)", order(CONFORMANCE))
    insert_hits(conn, order(HITS))
    # the runs' builds started at a known time: when they were seen is the same on a reload
    conn.execute("UPDATE audit_run SET started = timestamptz '2026-06-11 12:00:00Z'")
    conn.execute("INSERT INTO conformance.ineligible_endpoint VALUES (%s, %s, %s)", INELIGIBLE)
    conn.execute("SELECT refresh_coverage()")


@pytest.fixture
def dataset(conn: psycopg.Connection) -> psycopg.Connection:
    load(conn)
    return conn


def coverage_row(endpoint: str, tested: bool, conf_tested: bool, tests: list[str]) -> dict:
    level, category, path, description, kind, version, group, action = ENDPOINTS[endpoint][:8]
    return {"release": "1.36.0", "endpoint": endpoint, "level": level, "category": category,
            "path": path, "description": description, "kind": kind, "version": version,
            "group": group, "action": action, "tested": tested, "conf_tested": conf_tested,
            "tests": tests}


RELEASE_COVERAGE = {
    "release": "1.36.0",
    "release_date": "2026-04-22T00:00:00",
    "spec": "swagger-1.36.0.json",
    "coverage": "audit events",
    "sources": [RUN],
    "endpoints": [
        coverage_row(CREATE, True, True, [WIDGETS]),
        coverage_row(DELETE, True, False, [OTHER]),
        coverage_row(STATUS, False, False, []),
        coverage_row(POD, True, True, [PODS]),
        coverage_row(ALPHA, False, False, []),
    ],
    "tests": [
        {"release": "1.36.0", "test": PODS, "conformance_test": True, "testname": "Pods, get",
         "file": "test/e2e/common/node/pods.go", "promotion_release": "1.9.0"},
        {"release": "1.36.0", "test": WIDGETS, "conformance_test": True,
         "testname": "Widget create", "file": "test/e2e/widgets/widget.go",
         "promotion_release": "1.36.0"},
        {"release": "1.36.0", "test": OTHER, "conformance_test": False, "testname": None,
         "file": None, "promotion_release": None},
    ],
    "total endpoints": 5,
    "tested endpoints": 3,
    "total conformance eligible endpoints": 3,
    "tested conformance eligible endpoints": 2,
    "new conformance eligible endpoints": 2,
    "new tested conformance eligible endpoints": 1,
}
PROGRESS = """\
[
    {
        "release": "1.35.0",
        "total": {
            "endpoints": 1,
            "new": 1,
            "new_tested": 1,
            "new_with_tests": 0,
            "old_tested": 0,
            "still_untested": 0,
            "tested": 1
        }
    },
    {
        "release": "1.36.0",
        "total": {
            "endpoints": 3,
            "new": 2,
            "new_tested": 1,
            "new_with_tests": 1,
            "old_tested": 0,
            "still_untested": 1,
            "tested": 2
        }
    }
]
"""
COVERAGE_PER_RELEASE = [
    {"release": "1.35.0", "new endpoints": 1, "tested": 1, "untested": 0, "total tested": 1,
     "total untested": 0, "total endpoints": 1},
    {"release": "1.36.0", "new endpoints": 2, "tested": 1, "untested": 1, "total tested": 2,
     "total untested": 1, "total endpoints": 3},
]
CONFORMANCE_ENDPOINTS = [
    {"endpoint": CREATE, "promotion_release": "1.36.0", "tested_release": "1.36.0",
     "tests": [{"testname": "Widget create", "codename": WIDGETS,
                "file": "test/e2e/widgets/widget.go", "release": "1.36.0"}]},
    {"endpoint": DELETE, "promotion_release": "1.36.0", "tested_release": None, "tests": []},
    # PODS was promoted in 1.9.0, before the endpoint appeared: tested from 1.35.0.
    {"endpoint": POD, "promotion_release": "1.35.0", "tested_release": "1.35.0",
     "tests": [{"testname": "Pods, get", "codename": PODS,
                "file": "test/e2e/common/node/pods.go", "release": "1.9.0"}]},
]
INELIGIBLE_ENDPOINTS = [{"endpoint": STATUS, "reason": "pending deprecation",
                         "link": "https://github.com/kubernetes/kubernetes/pull/1"}]
FILES = ["1.36.0.json", "conformance-progress.json", "conformance-coverage-per-release.json",
         "conformance-endpoints.json", "ineligible_endpoints.json", "new-endpoints.json",
         "releases.yaml", "untested-endpoints.txt", "1.36.0-fields.json", "runs.json",
         "stability.json", "depth.json"]


def formatted(document: object) -> str:
    """apisnoop's indentation, keys sorted, non-ASCII kept, a final newline."""
    return json.dumps(document, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def test_files_content(dataset: psycopg.Connection, tmp_path: Path) -> None:
    written = export(dataset, tmp_path / "coverage")
    folder = tmp_path / "coverage"
    assert [(f.path, f.bytes) for f in written] == [
        (folder / name, (folder / name).stat().st_size) for name in FILES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    # `export --help` names every file written, the release's by its pattern
    help_text = " ".join(PARSERS["snoopdb export"].format_help().split())
    named = [name.replace("1.36.0", "<release>") for name in FILES]
    assert [name for name in named if name not in help_text] == []
    assert "Twelve files" in help_text and len(FILES) == 12
    assert (folder / "1.36.0.json").read_text() == formatted(RELEASE_COVERAGE)
    assert (folder / "conformance-progress.json").read_text() == PROGRESS
    assert (folder / "conformance-coverage-per-release.json").read_text() == formatted(
        COVERAGE_PER_RELEASE)
    assert (folder / "conformance-endpoints.json").read_text() == formatted(
        CONFORMANCE_ENDPOINTS)
    assert (folder / "ineligible_endpoints.json").read_text() == formatted(INELIGIBLE_ENDPOINTS)
    assert (folder / "untested-endpoints.txt").read_text() == f"{DELETE}\n"
    assert "— gently" in (folder / "1.36.0.json").read_text()
    # every level, deprecated ones too, in the release whose spec first has them
    assert (folder / "new-endpoints.json").read_text() == formatted([
        {"release": "1.35.0", "endpoints": [STATUS, GONE, POD]},
        {"release": "1.36.0", "endpoints": [CREATE, DELETE, ALPHA, WATCH]}])
    assert (folder / "releases.yaml").read_text() == (
        '- release_date: "2026-04-22"\n  version: 1.36.0\n'
        '- release_date: "2025-12-17"\n  version: 1.35.0\n')


def test_older_release(dataset: psycopg.Connection, tmp_path: Path) -> None:
    written = export(dataset, tmp_path, parse_release("v1.35"))
    assert written[0].path.name == "1.35.0.json"
    document = json.loads((tmp_path / "1.35.0.json").read_text())
    assert [(e["endpoint"], e["tested"], e["tests"]) for e in document["endpoints"]] == [
        (STATUS, False, []), (GONE, False, []), (POD, True, [PODS])]
    assert (document["sources"], document["total endpoints"], document["tested endpoints"],
            document["new conformance eligible endpoints"]) == (["run-35"], 3, 1, 1)
    # Eligible endpoints come from the latest release: none of 1.35.0's is untested.
    assert (tmp_path / "untested-endpoints.txt").read_text() == ""


def test_reexport_is_byte_identical(conn: psycopg.Connection, tmp_path: Path) -> None:
    load(conn)
    export(conn, tmp_path / "first")
    export(conn, tmp_path / "again")
    drop_all_runs(conn)
    conn.execute("TRUNCATE open_api, conformance.test, conformance.ineligible_endpoint")
    load(conn, reverse=True)
    export(conn, tmp_path / "reloaded")
    for name in FILES:
        first = (tmp_path / "first" / name).read_bytes()
        assert (tmp_path / "again" / name).read_bytes() == first, name
        assert (tmp_path / "reloaded" / name).read_bytes() == first, name


def test_cli(dataset: psycopg.Connection, tmp_path: Path, capsys) -> None:
    assert main(["export", "--release", "1.36", "--out", str(tmp_path)]) == 0
    sizes = {name: (tmp_path / name).stat().st_size for name in FILES}
    assert capsys.readouterr() == (
        "".join(f"{tmp_path / name} ({sizes[name]:,} bytes)\n" for name in FILES), "")


def test_cli_release_without_spec(dataset: psycopg.Connection, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "--release", "1.37", "--out", str(out)]) == 1
    assert capsys.readouterr() == (
        "", "snoopdb: error: no spec loaded for release 1.37.0: run `snoopdb load --release 1.37` first\n")
    assert list(out.iterdir()) == []


def test_nothing_loaded(conn: psycopg.Connection, tmp_path: Path) -> None:
    with pytest.raises(NoSpecLoaded, match="^no spec is loaded$"):
        export(conn, tmp_path)


def test_release_without_coverage_data_is_exported_as_unknown(dataset: psycopg.Connection,
                                                              tmp_path: Path) -> None:
    """1.37.0's spec (1.36.0's endpoints) with no run and no published file: its
    coverage is unknown, so the files say "no data" (JSON: null) where they would
    count or list tested and untested endpoints."""
    dataset.execute("INSERT INTO open_api SELECT '1.37.0', release_date, endpoint, level,"
                    " category, path, k8s_group, k8s_version, k8s_kind, k8s_action,"
                    " deprecated, description, spec, method FROM open_api"
                    " WHERE release = '1.36.0'")
    dataset.execute("SELECT refresh_coverage()")
    export(dataset, tmp_path, parse_release("1.37"))
    document = json.loads((tmp_path / "1.37.0.json").read_text())
    assert (document["coverage"], document["sources"], document["total endpoints"],
            document["tested endpoints"]) == ("no data", [], 5, None)
    assert {(e["tested"], e["conf_tested"], tuple(e["tests"]))
            for e in document["endpoints"]} == {(None, None, ())}
    assert (tmp_path / "untested-endpoints.txt").read_text() == (
        "# no data: no CI run of 1.37.0 is loaded and no published coverage of it is"
        " imported, so which endpoints are untested is unknown\n")
    fields = json.loads((tmp_path / "1.37.0-fields.json").read_text())
    assert (fields["release"], fields["coverage"]) == ("1.37.0", "no data")
    # the release with data is exported as before
    export(dataset, tmp_path / "known", parse_release("1.36"))
    assert json.loads((tmp_path / "known" / "1.36.0.json").read_text())["coverage"] == (
        "audit events")
    assert (tmp_path / "known" / "untested-endpoints.txt").read_text() == f"{DELETE}\n"


def test_no_coverage_data_at_all(dataset: psycopg.Connection, tmp_path: Path) -> None:
    """No run and no published file of any release: the conformance files' tested
    counts are null (unknown), not 0, and no endpoint is listed as untested."""
    drop_all_runs(dataset)
    dataset.execute("SELECT refresh_coverage()")
    export(dataset, tmp_path)
    assert [(row["release"], row["tested"], row["untested"], row["total endpoints"])
            for row in json.loads((tmp_path / "conformance-coverage-per-release.json")
                                  .read_text())] == [("1.35.0", None, None, 1),
                                                     ("1.36.0", None, None, 3)]
    assert [(row["release"], row["total"]["tested"]) for row in json.loads(
        (tmp_path / "conformance-progress.json").read_text())] == [
        ("1.35.0", None), ("1.36.0", None)]
    document = json.loads((tmp_path / "1.36.0.json").read_text())
    assert (document["coverage"], document["tested endpoints"],
            document["tested conformance eligible endpoints"]) == ("no data", None, None)
    assert (tmp_path / "untested-endpoints.txt").read_text().startswith("# no data: ")


def _param(name: str, hits: int = 0, test_hits: int = 0, conf_hits: int = 0,
           tests: tuple[str, ...] = ()) -> dict:
    return {"parameter": name, "location": "query", "required": False, "hits": hits,
            "test_hits": test_hits, "conf_hits": conf_hits, "tests": list(tests)}


def _codes(*codes: tuple[str, bool, int, int]) -> list[dict]:
    return [{"code": code, "declared": declared, "hits": hits, "conf_hits": conf_hits}
            for code, declared, hits, conf_hits in codes]


def _depth(endpoint: str, depth: str, params: tuple[int, int], codes: tuple[int, int],
           fields: int = 0, level: str = "stable", conf_tested: bool = True) -> dict:
    return {"endpoint": endpoint, "level": level, "eligible": level == "stable",
            "conf_tested": conf_tested, "depth": depth, "params_declared": params[0],
            "params_conf_hit": params[1], "codes_conf_seen": codes[0],
            "error_codes_conf_seen": codes[1], "fields_declared": fields,
            "fields_conf_set": 0}


def test_depth_json(conn: psycopg.Connection, fetcher, settings, tmp_path: Path) -> None:
    """testkit/depth_data's spec and run through the real load path: depth.json has
    every endpoint's depth, parameters, values and codes, the classes of the stable
    eligible ones, and the conformance test's call of a beta operation."""
    depth_data.load_depth_data(conn, fetcher, settings, tmp_path)
    export(conn, tmp_path / "out")
    conf, plain = (depth_data.CONFORMANCE,), (depth_data.PLAIN,)
    assert json.loads((tmp_path / "out" / "depth.json").read_text()) == {
        "release": "1.36.0", "coverage": "audit events",
        "classes": {"full": 1, "partial": 2, "untested": 1},
        "endpoints": [
            {**_depth(depth_data.CREATE, "untested", (2, 0), (0, 0), fields=4,
                      conf_tested=False),
             "parameters": [_param("dryRun", 1, 1, 0, plain), _param("fieldManager"),
                            _param("pretty")],
             "values": [{"parameter": "dryRun", "value": "All", "hits": 1, "conf_hits": 0}],
             "codes": _codes(("200", True, 0, 0), ("201", True, 1, 0), ("202", True, 0, 0),
                             ("401", True, 0, 0))},
            {**_depth(depth_data.DELETE, "partial", (2, 1), (1, 0)),
             "parameters": [_param("dryRun"), _param("pretty"),
                            _param("propagationPolicy", 1, 1, 1, conf)],
             "values": [{"parameter": "propagationPolicy", "value": "Foreground", "hits": 1,
                         "conf_hits": 1}],
             "codes": _codes(("200", True, 1, 1), ("202", True, 0, 0), ("401", True, 0, 0))},
            {**_depth(depth_data.LIST, "partial", (4, 2), (1, 0)),
             "parameters": [_param("labelSelector", 1, 1, 1, conf),
                            _param("limit", 1, 1, 1, conf), _param("pretty"),
                            _param("resourceVersion", 1), _param("watch", 1)],
             "values": [{"parameter": "watch", "value": "true", "hits": 1, "conf_hits": 0}],
             "codes": _codes(("200", True, 2, 1), ("401", True, 0, 0))},
            {**_depth(depth_data.WIDGETS, "full", (1, 1), (1, 0), level="beta"),
             "parameters": [_param("limit", 1, 1, 1, conf)], "values": [],
             "codes": _codes(("200", True, 1, 1), ("401", True, 0, 0))},
            # its one response, a 404, is not declared
            {**_depth(depth_data.READ, "full", (0, 0), (1, 1)),
             "parameters": [_param("pretty")], "values": [],
             "codes": _codes(("200", True, 0, 0), ("401", True, 0, 0), ("404", False, 1, 1))},
        ],
        "non_ga_calls": [{"test": depth_data.CONFORMANCE, "endpoint": depth_data.WIDGETS,
                          "level": "beta", "hits": 1}],
    }


def test_depth_json_of_a_release_without_events(dataset: psycopg.Connection,
                                                tmp_path: Path) -> None:
    """The hand-made runs stored hits, no events: depth is unknown (null), not untested."""
    export(dataset, tmp_path)
    document = json.loads((tmp_path / "depth.json").read_text())
    assert (document["release"], document["coverage"], document["classes"],
            document["non_ga_calls"]) == ("1.36.0", "audit events", {"no data": 3}, [])
    assert [(e["endpoint"], e["depth"], e["params_conf_hit"], e["parameters"], e["codes"])
            for e in document["endpoints"]] == [
        (endpoint, None, None, [], []) for endpoint in (CREATE, DELETE, STATUS, ALPHA, POD)]
