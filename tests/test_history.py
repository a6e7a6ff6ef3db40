"""History: apisnoop's published per-release coverage files, served by a loopback HTTP
server in the GitHub raw layout, imported into endpoint_hit, open_api and
conformance.test; raw events winning over them; compare-published.

The files are small hand-made ones in the exact published format (an old compact
`1.7.json` whose release says "1.7", pretty `1.X.0.json` with tests and totals):

| endpoint | 1.7 | 1.8 | 1.9 | 1.10 |
|---|---|---|---|---|
| A readCoreV1Namespace | C_OLD | C_OLD | C_NEW | C_NEW, N2 |
| B createAppsV1NamespacedDeployment | | | untested | C_DEP |
| E connectCoreV1GetNamespacedPodExec | | N1, conf_tested (name cut) | N1 | C_NEW, N1 |
| G listCoreV1Node | untested | untested | untested | tested, no test listed |
| V getCoreAPIVersions | untested | untested | "" (unnamed e2e.test) | untested |
| J listBatchV1beta1CronJobForAllNamespaces (beta) | | N2 | untested | N2 |

C_OLD is the 1.7/1.8 name of C_NEW: conformance.yaml no longer lists it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.commands.compare import PER_RELEASE_FILE
from snoopdb.commands.export import PROGRESS_FILE, export
from snoopdb.core import bounds
from snoopdb.core.config import Settings
from snoopdb.core.errors import InputError, SnoopError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import KnownRelease, Releases, parse_release
from snoopdb.loaders import conformance, history, spec
from snoopdb.loaders.history import PublishedEndpoint
from snoopdb.loaders.local_logs import load_log_files
from testkit.hits import drop_all_runs
from testkit.servers import serve_directory

A = "readCoreV1Namespace"
B = "createAppsV1NamespacedDeployment"
E = "connectCoreV1GetNamespacedPodExec"
G = "listCoreV1Node"
V = "getCoreAPIVersions"
J = "listBatchV1beta1CronJobForAllNamespaces"

C_OLD = "[k8s.io] Namespaces should read a namespace [Conformance]"
C_NEW = "[sig-api-machinery] Namespaces should read a namespace [Conformance]"
C_DEP = "[sig-apps] Deployment should create a deployment [Conformance]"
N1 = "[sig-node] Pods should support exec"
N2 = "[sig-apps] CronJob should schedule jobs"

# endpoint -> kind, path, group, level, action, version, category, description
META = {
    A: ("Namespace", "/api/v1/namespaces/{name}", "", "stable", "get", "v1", "core",
        "read the specified Namespace"),
    B: ("Deployment", "/apis/apps/v1/namespaces/{namespace}/deployments", "apps", "stable",
        "post", "v1", "apps", "create a Deployment"),
    E: ("PodExecOptions", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "", "stable",
        "connect", "v1", "core", "connect GET requests to exec of Pod"),
    G: ("Node", "/api/v1/nodes", "", "stable", "list", "v1", "core",
        "list or watch objects of kind Node"),
    V: (None, "/api/", None, "stable", None, None, "core", "get available API versions"),
    J: ("CronJob", "/apis/batch/v1beta1/cronjobs", "batch", "beta", "list", "v1beta1", "batch",
        "list or watch objects of kind CronJob"),
}

# release -> endpoint -> (tested, conf_tested, tests as published, nulls included)
COVERAGE: dict[str, dict[str, tuple[bool, bool, list[str | None]]]] = {
    "1.7.0": {A: (True, True, [C_OLD, None]), G: (False, False, [None]),
              V: (False, False, [None])},
    "1.8.0": {A: (True, True, [C_OLD]), E: (True, True, [N1, None]), G: (False, False, [None]),
              V: (False, False, [None]), J: (True, False, [N2])},
    "1.9.0": {A: (True, True, [C_NEW]), B: (False, False, [None]), E: (True, False, [N1]),
              G: (False, False, [None]), V: (True, False, ["", None]),
              J: (False, False, [None])},
    "1.10.0": {A: (True, True, [C_NEW, N2]), B: (True, True, [C_DEP]),
               E: (True, True, [C_NEW, N1]), G: (True, False, [None]),
               V: (False, False, [None]), J: (True, False, [N2])},
}
# codename -> testname, file, promotion release: the conformance tests the files name
NAMED_TESTS = {
    C_OLD: ("Namespace, read", "test/e2e/apimachinery/namespace.go", "1.7.0"),
    C_NEW: ("Namespace, read", "test/e2e/apimachinery/namespace.go", "1.7.0"),
    C_DEP: ("Deployment, create", "test/e2e/apps/deployment.go", "1.10.0"),
}
CONFORMANCE_YAML = f"""\
- testname: Namespace, read
  codename: '{C_NEW}'
  description: Reading a namespace must succeed.
  release: v1.7
  file: test/e2e/apimachinery/namespace.go
- testname: Deployment, create
  codename: '{C_DEP}'
  description: Creating a deployment must succeed.
  release: v1.10
  file: test/e2e/apps/deployment.go
"""
SPEC_URL = "https://raw.githubusercontent.com/kubernetes/kubernetes/{ref}/api/openapi-spec/swagger.json"
RELEASES = Releases([KnownRelease(parse_release(v), dt.date.fromisoformat(d) if d else None)
                     for v, d in (("1.11.0", None), ("1.10.0", "2018-03-26"),
                                  ("1.9.0", "2017-12-15"), ("1.8.0", "2017-09-28"),
                                  ("1.7.0", "2017-06-29"))])
RELEASES_YAML = "".join(f"- {{version: {k.release}, release_date: '{k.date or ''}'}}\n"
                        for k in RELEASES.known)
FOLDER = "resources/coverage"
PROW_JOB = "https://prow.k8s.io/view/gcs/kubernetes-jenkins/logs/ci-kubernetes-e2e-gci-gce"


def coverage_file(release: str) -> dict:
    """The published file of `release`, shaped (and key-ordered) like apisnoop's."""
    endpoints = [
        {"kind": kind, "path": path, "group": group, "level": level, "tests": tests,
         "action": action, "tested": tested, "release": release, "version": version,
         "category": category, "endpoint": endpoint, "conf_tested": conf,
         "description": description}
        for endpoint, (tested, conf, tests) in COVERAGE[release].items()
        for kind, path, group, level, action, version, category, description in [META[endpoint]]]
    named = sorted({t for _, _, tests in COVERAGE[release].values() for t in tests
                    if t is not None})
    tests = [{"file": NAMED_TESTS[t][1] if t in NAMED_TESTS else None, "test": t,
              "release": release,
              "testname": NAMED_TESTS[t][0] if t in NAMED_TESTS else None,
              "conformance_test": t in NAMED_TESTS,
              "promotion_release": NAMED_TESTS[t][2] if t in NAMED_TESTS else None}
             for t in named]
    return {"spec": SPEC_URL.format(ref=f"v{release}"), "tests": tests, "release": release,
            "sources": [f"{PROW_JOB}/{release.replace('.', '')}"],
            "endpoints": endpoints, "release_date": f"{release}-date-unknown",
            "total endpoints": len(endpoints),
            "tested endpoints": sum(e["tested"] for e in endpoints)}


def write_published(folder: Path) -> Path:
    """1.7 in the old compact form (`1.7.json`, release "1.7", no tests), the rest pretty."""
    folder.mkdir(parents=True, exist_ok=True)
    old = coverage_file("1.7.0")
    old = {"release": "1.7", "release_date": "2017-06-29T00:00:00", "spec": old["spec"],
           "endpoints": [{k: v for k, v in e.items() if k != "release"}
                         for e in old["endpoints"]]}
    (folder / "1.7.json").write_text(json.dumps(old, separators=(",", ":")))
    for release in ("1.8.0", "1.9.0", "1.10.0"):
        (folder / f"{release}.json").write_text(json.dumps(coverage_file(release), indent=4))
    return folder


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(the folder of files, its URL) in the raw layout: <root>/resources/coverage/."""
    root = tmp_path / "apisnoop"
    folder = write_published(root / FOLDER)
    url, server = serve_directory(root)
    yield folder, url
    server.shutdown()
    server.server_close()


@pytest.fixture
def raw_url(published: tuple[Path, str], settings: Settings,
            monkeypatch: pytest.MonkeyPatch) -> str:
    """SNOOPDB_APISNOOP_RAW_URL pointing at the loopback server; returns the files' folder URL."""
    monkeypatch.setenv("SNOOPDB_APISNOOP_RAW_URL", published[1])
    return f"{published[1]}/{FOLDER}"


def import_all(conn: psycopg.Connection, fetcher: Fetcher, folder: str,
               up_to: str = "1.10.0") -> history.HistoryReport:
    return history.import_history(conn, fetcher, folder, RELEASES, parse_release(up_to))


def table(conn: psycopg.Connection, sql: str, *params: object) -> list[tuple]:
    return conn.execute(sql, params).fetchall()


def hits(conn: psycopg.Connection, release: str) -> list[tuple]:
    return table(conn, "SELECT endpoint, test, test_hit, conf_test_hit, hits, imported, source"
                 " FROM endpoint_hit WHERE release = %s ORDER BY endpoint, test NULLS FIRST,"
                 " test_hit", release)


def test_method_of_every_real_operation(shared_data: Path) -> None:
    """Published files carry no HTTP method: the one derived from operationId and
    x-kubernetes-action is the spec's for every operation of every real spec."""
    checked = 0
    for path in sorted((shared_data / "openapi").glob("swagger-*.json.gz")):
        with Fetcher(shared_data).open(str(path), bound=bounds.SPEC) as stream:
            for op in spec.read_operations(stream, str(path)):
                assert history.method_of(op.endpoint, op.k8s_action) == op.method, op
                checked += 1
    assert checked == 24079


def endpoint(tested: bool, conf: bool, tests: tuple[str, ...]) -> PublishedEndpoint:
    return PublishedEndpoint(A, "stable", "core", "/api/v1/namespaces/{name}", "", None, None,
                             None, None, tested, conf, tests)


@pytest.mark.parametrize(("tested", "conf", "tests", "rows"), [
    (False, False, (), []),
    (True, True, (C_OLD, N1), [(C_OLD, True, True), (N1, True, False)]),
    (True, False, (C_OLD,), [(C_OLD, True, False)]),
    (True, True, (N1,), [(N1, True, False), (None, False, True)]),
    (True, False, ("",), [("", True, False)]),
    (True, False, (), [(None, True, False)]),
    (True, True, (), [(None, True, True)]),
    (False, True, (), [(None, False, True)]),
    (False, False, (N1,), [(N1, False, False)]),
])
def test_hit_rows_give_back_the_published_coverage(
    tested: bool, conf: bool, tests: tuple[str, ...], rows: list[tuple]
) -> None:
    assert history.hit_rows(endpoint(tested, conf, tests)) == rows
    # what the views aggregate: tested = any test_hit, conf_tested = any conf_test_hit
    assert any(r[1] for r in rows) == tested
    assert any(r[2] for r in rows) == conf
    assert {r[0] for r in rows if r[0] is not None} == set(tests)


def test_import_fills_open_api_endpoint_hit_and_tests(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str
) -> None:
    report = import_all(conn, fetcher, raw_url)
    assert [(r.release, r.source, r.endpoints, r.hit_rows, r.open_api_rows, r.historical_tests)
            for r in report.imported] == [
        ("1.7.0", f"{raw_url}/1.7.json", 3, 1, 3, 0),
        ("1.8.0", f"{raw_url}/1.8.0.json", 5, 4, 5, 1),
        ("1.9.0", f"{raw_url}/1.9.0.json", 6, 3, 6, 1),
        ("1.10.0", f"{raw_url}/1.10.0.json", 6, 7, 6, 2)]
    assert (report.raw, report.missing) == ([], [])
    source = f"{raw_url}/1.8.0.json"
    assert hits(conn, "1.8.0") == [
        (E, None, False, True, 0, True, source),
        (E, N1, True, False, 0, True, source),
        (J, N2, True, False, 0, True, source),
        (A, C_OLD, True, True, 0, True, source)]
    assert [h[:4] for h in hits(conn, "1.10.0")] == [
        (E, C_NEW, True, True), (E, N1, True, False), (B, C_DEP, True, True),
        (J, N2, True, False), (G, None, True, False), (A, C_NEW, True, True),
        (A, N2, True, False)]
    assert table(conn, "SELECT release, endpoint, level, category, path, k8s_group, k8s_version,"
                 " k8s_kind, k8s_action, deprecated, description, spec, method, imported,"
                 " release_date::date::text FROM open_api WHERE release IN ('1.7.0', '1.8.0')"
                 " ORDER BY release_key(release), endpoint") == [
        ("1.7.0", V, "stable", "core", "/api/", None, None, None, None, False,
         "get available API versions", SPEC_URL.format(ref="v1.7.0"), "get", True, "2017-06-29"),
        ("1.7.0", G, "stable", "core", "/api/v1/nodes", "", "v1", "Node", "list", False,
         "list or watch objects of kind Node", SPEC_URL.format(ref="v1.7.0"), "get", True,
         "2017-06-29"),
        ("1.7.0", A, "stable", "core", "/api/v1/namespaces/{name}", "", "v1", "Namespace", "get",
         False, "read the specified Namespace", SPEC_URL.format(ref="v1.7.0"), "get", True,
         "2017-06-29"),
        ("1.8.0", E, "stable", "core", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "",
         "v1", "PodExecOptions", "connect", False, "connect GET requests to exec of Pod",
         SPEC_URL.format(ref="v1.8.0"), "get", True, "2017-09-28"),
        ("1.8.0", V, "stable", "core", "/api/", None, None, None, None, False,
         "get available API versions", SPEC_URL.format(ref="v1.8.0"), "get", True, "2017-09-28"),
        ("1.8.0", J, "beta", "batch", "/apis/batch/v1beta1/cronjobs", "batch", "v1beta1",
         "CronJob", "list", False, "list or watch objects of kind CronJob",
         SPEC_URL.format(ref="v1.8.0"), "get", True, "2017-09-28"),
        ("1.8.0", G, "stable", "core", "/api/v1/nodes", "", "v1", "Node", "list", False,
         "list or watch objects of kind Node", SPEC_URL.format(ref="v1.8.0"), "get", True,
         "2017-09-28"),
        ("1.8.0", A, "stable", "core", "/api/v1/namespaces/{name}", "", "v1", "Namespace", "get",
         False, "read the specified Namespace", SPEC_URL.format(ref="v1.8.0"), "get", True,
         "2017-09-28")]
    # tests conformance.yaml does not list (none is loaded yet): historical
    assert table(conn, "SELECT codename, testname, release, file, description, historical"
                 " FROM conformance.test ORDER BY codename") == [
        (C_OLD, "Namespace, read", "1.7.0", "test/e2e/apimachinery/namespace.go", None, True),
        (C_NEW, "Namespace, read", "1.7.0", "test/e2e/apimachinery/namespace.go", None, True),
        (C_DEP, "Deployment, create", "1.10.0", "test/e2e/apps/deployment.go", None, True)]
    assert table(conn, "SELECT kind, release, source, rows, details->>'hit_rows',"
                 " details->'sources' FROM load_log ORDER BY id") == [
        ("history", "1.7.0", f"{raw_url}/1.7.json", 4, "1", []),
        ("history", "1.8.0", source, 9, "4", [f"{PROW_JOB}/180"]),
        ("history", "1.9.0", f"{raw_url}/1.9.0.json", 9, "3", [f"{PROW_JOB}/190"]),
        ("history", "1.10.0", f"{raw_url}/1.10.0.json", 13, "7", [f"{PROW_JOB}/1100"])]


def test_views_give_back_the_published_coverage(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str
) -> None:
    import_all(conn, fetcher, raw_url)
    assert table(conn, "SELECT endpoint, tested, conf_tested, tests FROM endpoint_coverage"
                 " WHERE release = '1.8.0' ORDER BY endpoint") == [
        (E, True, True, [N1]), (V, False, False, []), (J, True, False, [N2]),
        (G, False, False, []), (A, True, True, [C_OLD])]
    for release, endpoints in COVERAGE.items():
        assert table(conn, "SELECT endpoint, tested, conf_tested, tests FROM endpoint_coverage"
                     " WHERE release = %s ORDER BY endpoint", release) == [
            (name, tested, conf, sorted({t for t in tests if t is not None}))
            for name, (tested, conf, tests) in sorted(endpoints.items())]
    assert table(conn, "SELECT release, test, conformance_test, testname FROM audit_event_test"
                 " WHERE release = '1.9.0'") == [
        ("1.9.0", "", False, None), ("1.9.0", C_NEW, True, "Namespace, read"),
        ("1.9.0", N1, False, None)]


def test_reimport_leaves_the_same_rows(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str
) -> None:
    import_all(conn, fetcher, raw_url)
    snapshot = [table(conn, f"SELECT * FROM {name} ORDER BY 1, 2, 3, 4, 5, 6")
                for name in ("endpoint_hit", "open_api", "conformance.test")]
    report = import_all(conn, fetcher, raw_url)
    assert [r.release for r in report.imported] == ["1.7.0", "1.8.0", "1.9.0", "1.10.0"]
    assert [table(conn, f"SELECT * FROM {name} ORDER BY 1, 2, 3, 4, 5, 6")
            for name in ("endpoint_hit", "open_api", "conformance.test")] == snapshot


def test_raw_events_win(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, raw_url: str, tmp_path: Path
) -> None:
    import_all(conn, fetcher, raw_url)
    log = tmp_path / "audit.log"
    log.write_text(json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "r1", "verb": "get",
        "requestURI": "/api/v1/namespaces/default", "stage": "ResponseComplete",
        "userAgent": f"e2e.test/v1.10.0 (linux/amd64) kubernetes/abc -- {C_NEW}"}) + "\n")
    # mapped with the imported spec rows of 1.10.0
    report = load_log_files(conn, fetcher, settings, RELEASES, [log], parse_release("1.10"))
    assert report.matched == 1
    assert hits(conn, "1.10.0") == [(A, C_NEW, True, True, 1, False, log.resolve().as_uri())]
    assert table(conn, "SELECT count(*) FROM endpoint_hit WHERE release = '1.9.0'") == [(3,)]
    # a later import keeps the raw events of 1.10.0 and imports the rest again
    again = import_all(conn, fetcher, raw_url)
    assert ([r.release for r in again.imported], again.raw) == (
        ["1.7.0", "1.8.0", "1.9.0"], ["1.10.0"])
    assert hits(conn, "1.10.0") == [(A, C_NEW, True, True, 1, False, log.resolve().as_uri())]
    coverage, source = history.fetch(fetcher, raw_url, parse_release("1.10"))
    assert history.load(conn, coverage, source) is None
    assert table(conn, "SELECT endpoint, tested, conf_tested, tests FROM endpoint_coverage"
                 " WHERE release = '1.10.0' AND tested") == [(A, True, True, [C_NEW])]


def test_loaded_spec_is_kept(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str, shared_data: Path
) -> None:
    spec_file = str(shared_data / "openapi" / "swagger-1.8.json.gz")
    spec.load(conn, fetcher, spec_file, "1.8.0", None)
    before = table(conn, "SELECT count(*), bool_or(imported) FROM open_api")
    report = import_all(conn, fetcher, raw_url, up_to="1.8.0")
    assert [(r.release, r.open_api_rows) for r in report.imported] == [("1.7.0", 3), ("1.8.0", 0)]
    assert table(conn, "SELECT count(*), bool_or(imported) FROM open_api"
                 " WHERE release = '1.8.0'") == before
    assert table(conn, "SELECT DISTINCT spec FROM open_api WHERE release = '1.8.0'") == [
        (spec_file,)]
    assert table(conn, "SELECT tested, conf_tested, tests FROM endpoint_coverage"
                 " WHERE release = '1.8.0' AND endpoint = %s", E) == [(True, True, [N1])]


def test_missing_files(
    conn: psycopg.Connection, fetcher: Fetcher, published: tuple[Path, str], raw_url: str
) -> None:
    (published[0] / "1.9.0.json").unlink()
    report = import_all(conn, fetcher, raw_url, up_to="1.11.0")
    assert ([r.release for r in report.imported], report.missing) == (
        ["1.7.0", "1.8.0", "1.10.0"], ["1.9.0", "1.11.0"])
    with pytest.raises(SnoopError) as error:
        history.import_history(conn, fetcher, raw_url, RELEASES, parse_release("1.9"),
                               required=parse_release("1.9"))
    assert str(error.value) == (f"no published coverage for release 1.9.0: {raw_url}/1.9.0.json:"
                                " not found (nor 1.9.json)")


ENTRY = {"endpoint": "x", "path": "/x", "level": "beta", "tested": False, "conf_tested": False,
         "tests": [None]}


def malformed(*endpoints: dict, release: object = "1.8.0", **top: object) -> str:
    return json.dumps({"release": release, **top, "endpoints": list(endpoints)})


@pytest.mark.parametrize(("content", "message"), [
    ('{"release": "1.8.0", "endpoints": [', "not JSON: "),
    ('[{"endpoint": "x"}]', "not a published coverage file (no `endpoints` list)"),
    (malformed({**ENTRY, "tested": None}), "endpoint 'x': `tested` is not true or false"),
    (malformed({**ENTRY, "tests": "x"}), "endpoint 'x': `tests` is not a list of strings"),
    (malformed({**ENTRY, "level": None}), "endpoint 'x': `level` is missing"),
    (malformed(release="eight"), "bad release 'eight'"),
    (malformed(release=None), "`release` is missing"),
    (malformed(spec=8), "`spec` is not a string"),
    (malformed(ENTRY, ENTRY), "endpoint x is listed twice"),
    (malformed(release="1.9.0"), "is the coverage of release 1.9.0, not 1.8.0"),
])
def test_malformed_file_is_a_one_line_error_naming_it(
    conn: psycopg.Connection, fetcher: Fetcher, published: tuple[Path, str], raw_url: str,
    content: str, message: str,
) -> None:
    (published[0] / "1.8.0.json").write_text(content)
    with pytest.raises(InputError) as error:
        import_all(conn, fetcher, raw_url)
    assert str(error.value).startswith(f"{raw_url}/1.8.0.json: {message}")
    assert "\n" not in str(error.value)
    # 1.7.0 committed before, nothing of 1.8.0 written
    assert table(conn, "SELECT DISTINCT release FROM open_api") == [("1.7.0",)]
    assert table(conn, "SELECT DISTINCT release FROM endpoint_hit") == [("1.7.0",)]


def test_conformance_yaml_keeps_historical_tests(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str, tmp_path: Path
) -> None:
    yaml_file = tmp_path / "conformance.yaml"
    yaml_file.write_text(CONFORMANCE_YAML)
    import_all(conn, fetcher, raw_url)
    for _ in range(2):
        assert conformance.load(conn, fetcher, str(yaml_file), "1.10.0") == 2
        assert table(conn, "SELECT codename, release, description IS NOT NULL, historical"
                     " FROM conformance.test ORDER BY codename") == [
            (C_OLD, "1.7.0", False, True), (C_NEW, "1.7.0", True, False),
            (C_DEP, "1.10.0", True, False)]
    # an import never overwrites what conformance.yaml says
    import_all(conn, fetcher, raw_url)
    assert table(conn, "SELECT codename, historical FROM conformance.test ORDER BY codename") == [
        (C_OLD, True), (C_NEW, False), (C_DEP, False)]


def test_progress_counts_no_historical_test_twice(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str
) -> None:
    import_all(conn, fetcher, raw_url)
    query = "SELECT new_tests FROM conformance.progress WHERE release = '1.8.0'"
    before = table(conn, query)[0][0]
    conn.execute("INSERT INTO conformance.test (testname, codename, release, historical) VALUES"
                 " ('renamed', 'old name of a test', '1.8.0', true),"
                 " ('current', 'a test of conformance.yaml', '1.8.0', false)")
    assert table(conn, query) == [(before + 1,)]


@pytest.fixture
def releases_file(tmp_path: Path) -> str:
    path = tmp_path / "releases.yaml"
    path.write_text(RELEASES_YAML)
    return str(path)


def test_load_past_release_imports_history_by_default(
    conn: psycopg.Connection, raw_url: str, releases_file: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "--release", "1.10", "--only", "audit",
                 "--releases-file", releases_file]) == 0
    out, err = capsys.readouterr()
    # nothing but history and audit events asked for: no line about the release's files
    lines = out.splitlines()
    assert [line.split(" (")[0] for line in lines[:4]] == [
        (f"history 1.7.0: 3 endpoints, 1 hit rows, 3 open_api rows, 0 historical tests from "
        f"{raw_url}/1.7.json"),
        (f"history 1.8.0: 5 endpoints, 4 hit rows, 5 open_api rows, 1 historical tests from "
        f"{raw_url}/1.8.0.json"),
        (f"history 1.9.0: 6 endpoints, 3 hit rows, 6 open_api rows, 1 historical tests from "
        f"{raw_url}/1.9.0.json"),
        (f"history 1.10.0: 6 endpoints, 7 hit rows, 6 open_api rows, 2 historical tests from "
        f"{raw_url}/1.10.0.json")]
    assert lines[4].startswith(f"history up to 1.10.0 from {raw_url}: 4 releases imported "
                               "(15 hit rows), 0 kept their raw audit events, 0 not published; ")
    assert lines[5:] == [(f"coverage of 1.10.0: apisnoop's published coverage, imported from "
                         f"{raw_url}/1.10.0.json")]
    assert err == ""
    assert table(conn, "SELECT count(*) FROM endpoint_hit WHERE imported") == [(15,)]


def test_load_no_history(
    conn: psycopg.Connection, raw_url: str, releases_file: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "--release", "1.10", "--only", "audit", "--no-history",
                 "--releases-file", releases_file]) == 0
    assert "CI runs of past releases are gone" in capsys.readouterr().err
    assert table(conn, "SELECT count(*) FROM endpoint_hit") == [(0,)]


def test_load_history_only_from_a_directory(
    conn: psycopg.Connection, published: tuple[Path, str], settings: Settings,
    releases_file: str, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = published[0]
    # no --release: up to the newest, 1.11.0, not published: a warning, not an error
    assert main(["load", "--only", "history", "--history-dir", str(folder),
                 "--releases-file", releases_file]) == 0
    out, err = capsys.readouterr()
    assert err == f"warning: no published coverage in {folder} for 1.11.0\n"
    assert f"history 1.8.0: 5 endpoints, 4 hit rows, 5 open_api rows, 1 historical tests from " \
           f"{folder}/1.8.0.json" in out
    assert "4 releases imported (15 hit rows), 0 kept their raw audit events, 1 not published" \
        in out
    assert table(conn, "SELECT DISTINCT source FROM endpoint_hit ORDER BY 1") == [
        (f"{folder}/{name}",) for name in ("1.10.0.json", "1.7.json", "1.8.0.json", "1.9.0.json")]


def test_load_errors(
    conn: psycopg.Connection, published: tuple[Path, str], raw_url: str, releases_file: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (published[0] / "1.9.0.json").unlink()
    assert main(["load", "--release", "1.9", "--only", "audit",
                 "--releases-file", releases_file]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snoopdb: error: no published coverage for release 1.9.0: {raw_url}/1.9.0.json: "
        "not found (nor 1.9.json)")
    assert main(["load", "--only", "spec", "--releases-file", releases_file]) == 2
    assert capsys.readouterr().err == (
        "snoopdb: error: --release is required (with --history it defaults to the newest)\n")
    assert main(["load", "--history", "--history-dir", str(published[0] / "nope"),
                 "--only", "history", "--releases-file", releases_file]) == 2
    assert capsys.readouterr().err == (
        f"snoopdb: error: --history-dir {published[0] / 'nope'}: not a directory\n")


# conformance-progress.json of the dataset, worked out by hand from the table above
# (eligible: A B E G V; first conformance test: A and E 1.7.0 (C_OLD, C_NEW), B 1.10.0).
PROGRESS = [
    {"release": "1.8.0", "total": {"endpoints": 4, "tested": 2, "new": 1, "new_with_tests": 0,
                                   "old_tested": 0, "new_tested": 1, "still_untested": 0}},
    {"release": "1.9.0", "total": {"endpoints": 5, "tested": 2, "new": 1, "new_with_tests": 0,
                                   "old_tested": 0, "new_tested": 0, "still_untested": 0}},
    {"release": "1.10.0", "total": {"endpoints": 5, "tested": 3, "new": 0, "new_with_tests": 0,
                                    "old_tested": 1, "new_tested": 0, "still_untested": 0}},
]


def test_compare_published(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
    published: tuple[Path, str], raw_url: str, releases_file: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (published[0] / PROGRESS_FILE).write_text(json.dumps(PROGRESS, indent=4))
    yaml_file = tmp_path / "conformance.yaml"
    yaml_file.write_text(CONFORMANCE_YAML)
    conformance.load(conn, fetcher, str(yaml_file), "1.10.0")
    import_all(conn, fetcher, raw_url)
    assert main(["compare-published", "--releases-file", releases_file]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"1.7.0: same as {raw_url}/1.7.json (3 endpoints)",
        f"1.8.0: same as {raw_url}/1.8.0.json (5 endpoints)",
        f"1.9.0: same as {raw_url}/1.9.0.json (6 endpoints)",
        f"1.10.0: same as {raw_url}/1.10.0.json (6 endpoints)",
        f"{PER_RELEASE_FILE}: not published ({raw_url}/{PER_RELEASE_FILE})",
        ("0 of 4 releases differ from the published coverage; progress and per-release totals:"
         " 3 releases same, 0 differ, 0 not comparable")]

    # raw events of 1.10.0 replace its published coverage: one conformance hit of A
    log = tmp_path / "audit.log"
    log.write_text(json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "r1", "verb": "get",
        "requestURI": "/api/v1/namespaces/default", "stage": "ResponseComplete",
        "userAgent": f"e2e.test/v1.10.0 (linux/amd64) kubernetes/abc -- {C_NEW}"}) + "\n")
    load_log_files(conn, fetcher, settings, RELEASES, [log], parse_release("1.10"))
    assert main(["compare-published", "--release", "1.10", "--tests",
                 "--releases-file", releases_file]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"1.10.0: 5 of 6 endpoints differ from {raw_url}/1.10.0.json",
        f"  {E}: tested False (published True), conf_tested False (published True), tests +0 -2",
        f"    - {C_NEW}",
        f"    - {N1}",
        f"  {B}: tested False (published True), conf_tested False (published True), tests +0 -1",
        f"    - {C_DEP}",
        f"  {J}: tested False (published True), tests +0 -1",
        f"    - {N2}",
        f"  {G}: tested False (published True)",
        f"  {A}: tests +0 -1",
        f"    - {N2}",
        f"{PER_RELEASE_FILE}: not published ({raw_url}/{PER_RELEASE_FILE})",
        f"{PROGRESS_FILE} 1.10.0: tested 1 (published 3), old_tested 0 (published 1)",
        ("1 of 1 releases differ from the published coverage; progress and per-release totals:"
         " 0 releases same, 1 differ, 0 not comparable")]


# The same files, but in 1.9.0 the conformance test C_NEW also hit G, which no test
# hits in 1.10.0. apisnoop computes its totals from the newest release's coverage,
# so G stays untested; counting every imported release's hits (as snoopdb did) would
# call G tested from 1.7.0 on. Worked out by hand: eligible A B E G V (J is beta);
# in 1.10.0's coverage A and E are hit by C_NEW (promoted 1.7.0), B by C_DEP (1.10.0);
# first releases A G V 1.7.0, E 1.8.0, B 1.9.0.
PER_RELEASE = [
    {"release": "1.7.0", "new endpoints": 3, "tested": 1, "untested": 2, "total tested": 1,
     "total untested": 2, "total endpoints": 3},
    {"release": "1.8.0", "new endpoints": 1, "tested": 1, "untested": 0, "total tested": 2,
     "total untested": 2, "total endpoints": 4},
    {"release": "1.9.0", "new endpoints": 1, "tested": 1, "untested": 0, "total tested": 3,
     "total untested": 2, "total endpoints": 5},
    {"release": "1.10.0", "new endpoints": 0, "tested": 0, "untested": 0, "total tested": 3,
     "total untested": 2, "total endpoints": 5},
]


def test_compare_published_totals_from_the_newest_release(
    conn: psycopg.Connection, fetcher: Fetcher, published: tuple[Path, str], raw_url: str,
    releases_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = published[0]
    release_19 = coverage_file("1.9.0")
    for entry in release_19["endpoints"]:
        if entry["endpoint"] == G:
            entry.update(tested=True, conf_tested=True, tests=[C_NEW])
    release_19["tests"].append({"file": NAMED_TESTS[C_NEW][1], "test": C_NEW,
                                "release": "1.9.0", "testname": NAMED_TESTS[C_NEW][0],
                                "conformance_test": True, "promotion_release": "1.7.0"})
    (folder / "1.9.0.json").write_text(json.dumps(release_19, indent=4))
    (folder / PROGRESS_FILE).write_text(json.dumps(PROGRESS, indent=4))
    (folder / PER_RELEASE_FILE).write_text(json.dumps(PER_RELEASE, indent=4))
    yaml_file = tmp_path / "conformance.yaml"
    yaml_file.write_text(CONFORMANCE_YAML)
    conformance.load(conn, fetcher, str(yaml_file), "1.10.0")
    import_all(conn, fetcher, raw_url)
    assert dict(table(conn, "SELECT endpoint, first_conformance_test FROM"
                            " conformance.eligible_endpoint_coverage")) == {
        A: "1.7.0", B: "1.10.0", E: "1.7.0", G: None, V: None}
    assert main(["compare-published", "--releases-file", releases_file]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "0 of 4 releases differ from the published coverage; progress and per-release totals:"
        " 4 releases same, 0 differ, 0 not comparable")
    # without 1.7.0's spec, what 1.8.0 and later added cannot be told apart
    conn.execute("DELETE FROM open_api WHERE release = '1.7.0'")
    conn.execute("SELECT refresh_coverage()")
    assert main(["compare-published", "--releases-file", releases_file]) == 0
    reason = ("no spec of 1.7.0 loaded or imported: the endpoints those releases added cannot"
              " be told apart")
    assert capsys.readouterr().out.splitlines()[-4:] == [
        f"totals 1.8.0: not comparable ({reason})",
        f"totals 1.9.0: not comparable ({reason})",
        f"totals 1.10.0: not comparable ({reason})",
        ("0 of 3 releases differ from the published coverage; progress and per-release totals:"
         " 0 releases same, 0 differ, 3 not comparable")]


def test_compare_published_without_files(
    conn: psycopg.Connection, fetcher: Fetcher, raw_url: str, published: tuple[Path, str],
    releases_file: str, capsys: pytest.CaptureFixture[str],
) -> None:
    import_all(conn, fetcher, raw_url, up_to="1.7.0")
    (published[0] / "1.7.json").unlink()
    # nothing was compared: that is no "0 of 1 releases differ", it cannot decide (3)
    assert main(["compare-published", "--releases-file", releases_file]) == 3
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"1.7.0: not published ({raw_url}/1.7.0.json: not found (nor 1.7.json))",
        f"{PROGRESS_FILE}: not published ({raw_url}/{PROGRESS_FILE})",
        f"{PER_RELEASE_FILE}: not published ({raw_url}/{PER_RELEASE_FILE})"]
    assert err == ("snoopdb: compare-published cannot decide: nothing published to compare "
                   f"with in {raw_url} (no coverage file of a loaded release, no totals of "
                   "one)\n")
    assert main(["compare-published", "--release", "1.9", "--releases-file", releases_file]) == 1
    assert capsys.readouterr().err == "snoopdb: error: release 1.9.0 is not loaded: nothing to compare\n"


def test_export_round_trip(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, raw_url: str,
    releases_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    yaml_file = tmp_path / "conformance.yaml"
    yaml_file.write_text(CONFORMANCE_YAML)
    conformance.load(conn, fetcher, str(yaml_file), "1.10.0")
    import_all(conn, fetcher, raw_url)
    # 1.10.0 from raw events instead: a conformance test and a kubelet (no test)
    log = tmp_path / "audit.log"
    log.write_text("".join(json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": audit_id, "verb": verb,
        "requestURI": uri, "stage": "ResponseComplete", "userAgent": agent}) + "\n"
        for audit_id, verb, uri, agent in (
            ("r1", "get", "/api/v1/namespaces/default",
             f"e2e.test/v1.10.0 (linux/amd64) kubernetes/abc -- {C_NEW}"),
            ("r2", "list", "/api/v1/nodes", "kubelet/v1.10.0 (linux/amd64) kubernetes/abc"))))
    load_log_files(conn, fetcher, settings, RELEASES, [log], parse_release("1.10"))
    exported = tmp_path / "exported"
    for release in COVERAGE:
        export(conn, exported, parse_release(release))
    # the exported files say what the imported ones said
    for release in ("1.7.0", "1.8.0", "1.9.0"):
        document = json.loads((exported / f"{release}.json").read_text())
        assert {e["endpoint"]: (e["tested"], e["conf_tested"], sorted(e["tests"]))
                for e in document["endpoints"]} == {
            name: (tested, conf, sorted(t for t in tests if t is not None))
            for name, (tested, conf, tests) in COVERAGE[release].items()}
    coverage_sql = ("SELECT release, endpoint, tested, conf_tested, tests FROM endpoint_coverage"
                    " ORDER BY release_key(release), endpoint")
    progress_sql = "SELECT * FROM conformance.progress"
    before = (table(conn, coverage_sql), table(conn, progress_sql))

    # a database with nothing but the conformance list imports the exported files
    drop_all_runs(conn)
    conn.execute("TRUNCATE open_api, conformance.test, load_log")
    conformance.load(conn, fetcher, str(yaml_file), "1.10.0")
    report = history.import_history(conn, fetcher, str(exported), RELEASES,
                                    parse_release("1.10"))
    assert [r.release for r in report.imported] == list(COVERAGE)
    assert (table(conn, coverage_sql), table(conn, progress_sql)) == before
    assert table(conn, "SELECT codename FROM conformance.test WHERE historical") == [(C_OLD,)]
    assert main(["compare-published", "--history-dir", str(exported),
                 "--releases-file", releases_file]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "0 of 4 releases differ from the published coverage; progress and per-release totals:"
        " 4 releases same, 0 differ, 0 not comparable")
