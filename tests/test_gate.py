"""`snoopdb gate` on a hand-made dataset: every verdict, the pending list from a
loopback server in the GitHub raw layout and from a file, the undecided cases, and
the JUnit file.

The dataset: releases 1.35.0 and 1.36.0 of an API group widgets.example.io, which
serves v1alpha1 in 1.35.0 and gains v1 in 1.36.0, and a new group gadgets.example.io
that serves only v1beta1. New in 1.36.0:
  createWidgetsV1Widget     hit by two conformance tests
  readWidgetsV1Widget       hit by a [Conformance] user agent whose test is not in
                            conformance.test (and, in the 1.35.0 run, by a conformance
                            test: another release's run does not count)
  deleteWidgetsV1Widget     hit only by an e2e.test user agent naming no test
  getWidgetsAPIGroup        not new (1.35.0 had it) but newly stable: its group now
                            serves v1; hit by the discovery conformance test
  getWidgetsV1APIResources  ineligible
  watchWidgetsV1Widget      deprecated
  getGadgetsAPIGroup        new, but its group serves only a beta version
  listGadgetsV1beta1Gadget  beta
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.commands import gate
from snoopdb.core.config import Settings
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import pending as pending_list
from snoopdb.loaders.github import Sources
from testkit.hits import insert_hits
from testkit.servers import serve_directory

OLD = "readCoreV1NamespacedPod"
GROUP = "getWidgetsAPIGroup"
ALPHA_RESOURCES = "getWidgetsV1alpha1APIResources"
RESOURCES = "getWidgetsV1APIResources"
CREATE = "createWidgetsV1Widget"
READ = "readWidgetsV1Widget"
DELETE = "deleteWidgetsV1Widget"
WATCH = "watchWidgetsV1Widget"
GADGETS_GROUP = "getGadgetsAPIGroup"
GADGETS_LIST = "listGadgetsV1beta1Gadget"

CREATED = "[sig-widgets] Widgets should be created [Conformance]"
PATCHED = "[sig-widgets] Widgets should be patched [Conformance]"
DISCOVERY = ("[sig-api-machinery] Discovery should validate PreferredVersion for each "
             "APIGroup [Conformance]")
NOT_LISTED = "[sig-widgets] Widgets should be read [Conformance]"

# endpoint -> (level by the path rule, method, path, deprecated, releases)
ENDPOINTS = {
    OLD: ("stable", "get", "/api/v1/namespaces/{namespace}/pods/{name}", False,
          ("1.35.0", "1.36.0")),
    GROUP: ("stable", "get", "/apis/widgets.example.io/", False, ("1.35.0", "1.36.0")),
    ALPHA_RESOURCES: ("alpha", "get", "/apis/widgets.example.io/v1alpha1/", False,
                      ("1.35.0", "1.36.0")),
    RESOURCES: ("stable", "get", "/apis/widgets.example.io/v1/", False, ("1.36.0",)),
    CREATE: ("stable", "post", "/apis/widgets.example.io/v1/widgets", False, ("1.36.0",)),
    READ: ("stable", "get", "/apis/widgets.example.io/v1/widgets/{name}", False, ("1.36.0",)),
    DELETE: ("stable", "delete", "/apis/widgets.example.io/v1/widgets/{name}", False,
             ("1.36.0",)),
    WATCH: ("stable", "get", "/apis/widgets.example.io/v1/watch/widgets/{name}", True,
            ("1.36.0",)),
    GADGETS_GROUP: ("stable", "get", "/apis/gadgets.example.io/", False, ("1.36.0",)),
    GADGETS_LIST: ("beta", "get", "/apis/gadgets.example.io/v1beta1/gadgets", False,
                   ("1.36.0",)),
}
CONFORMANCE = [
    (CREATED, "Widget create", "1.36.0", "test/e2e/widgets/widget.go"),
    (PATCHED, "Widget patch", "1.36.0", "test/e2e/widgets/widget.go"),
    (DISCOVERY, "Discovery, validate PreferredVersion", "1.19.0",
     "test/e2e/apimachinery/discovery.go"),
]
# (release, source, endpoint, test, test_hit, conf_test_hit, hits)
HITS = [
    ("1.36.0", "run-a", OLD, None, False, False, 5),
    ("1.36.0", "run-a", CREATE, CREATED, True, True, 3),
    ("1.36.0", "run-a", CREATE, PATCHED, True, True, 1),
    ("1.36.0", "run-a", READ, NOT_LISTED, True, True, 2),
    ("1.36.0", "run-a", DELETE, "", True, False, 1),
    ("1.36.0", "run-a", GROUP, DISCOVERY, True, True, 1),
    ("1.36.0", "run-a", GADGETS_LIST, "[sig-gadgets] Gadgets should be listed", True, False, 1),
    ("1.35.0", "run-old", READ, CREATED, True, True, 1),
]
INELIGIBLE = (RESOURCES, "discovery is checked by the discovery tests", "https://example.org/1")

HEADER = """release 1.36.0: 8 new endpoints (compared with 1.35.0)
audit data: 1 run (run-a); 3 conformance tests
"""
TESTED_AND_OTHERS = f"""\
TESTED      {CREATE} (POST /apis/widgets.example.io/v1/widgets): tested by "{CREATED}" \
(Widget create, conformance since 1.36.0) and 1 more conformance test
TESTED      {GROUP} (GET /apis/widgets.example.io/): tested by "{DISCOVERY}" \
(Discovery, validate PreferredVersion, conformance since 1.19.0); API group discovery, \
stable as widgets.example.io serves v1, v1alpha1
INELIGIBLE  {RESOURCES} (GET /apis/widgets.example.io/v1/): ineligible: discovery is checked \
by the discovery tests (https://example.org/1)
DEPRECATED  {WATCH} (GET /apis/widgets.example.io/v1/watch/widgets/{{name}}): deprecated \
(its description says so)
NOT STABLE  {GADGETS_GROUP} (GET /apis/gadgets.example.io/): API group discovery; \
gadgets.example.io serves only beta versions (v1beta1)
NOT STABLE  {GADGETS_LIST} (GET /apis/gadgets.example.io/v1beta1/gadgets): beta (its path \
says so)
"""
UNTESTED_DELETE = (f"{DELETE} (DELETE /apis/widgets.example.io/v1/widgets/{{name}}): "
                   "no conformance test hit it in the 1.36.0 runs")
UNTESTED_READ = (f"{READ} (GET /apis/widgets.example.io/v1/widgets/{{name}}): no conformance "
                 f"test hit it in the 1.36.0 runs; hit only by tests not in conformance.yaml: "
                 f"\"{NOT_LISTED}\"")


@pytest.fixture
def dataset(conn: psycopg.Connection) -> psycopg.Connection:
    for endpoint, (level, method, path, deprecated, releases) in ENDPOINTS.items():
        for release in releases:
            conn.execute(
                "INSERT INTO open_api (release, endpoint, level, path, method, deprecated,"
                " description, spec) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (release, endpoint, level, path, method, deprecated,
                 "watch a Widget. deprecated: use the 'watch' parameter" if deprecated else "",
                 f"swagger-{release}.json"))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO conformance.test (codename, testname, release, file)"
                        " VALUES (%s, %s, %s, %s)", CONFORMANCE)
    insert_hits(conn, HITS)
    conn.execute("INSERT INTO conformance.ineligible_endpoint VALUES (%s, %s, %s)", INELIGIBLE)
    return conn


@pytest.fixture
def releases_file(tmp_path: Path) -> Path:
    """Both releases out (read at their tags), whatever the shipped releases.yaml says."""
    path = tmp_path / "releases.yaml"
    path.write_text("- version: 1.36.0\n  release_date: 2026-04-22\n"
                    "- version: 1.35.0\n  release_date: 2025-12-17\n")
    return path


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Path]:
    """A loopback server in the GitHub raw layout; yields the kubernetes/kubernetes folder."""
    root = tmp_path / "raw"
    repo = root / "kubernetes" / "kubernetes"
    repo.mkdir(parents=True)
    url, server = serve_directory(root)
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", url)
    yield repo
    server.shutdown()
    server.server_close()


def publish_pending(repo: Path, ref: str, endpoints: list[str]) -> str:
    path = repo / ref / pending_list.PATH
    path.parent.mkdir(parents=True)
    path.write_text("---\n" + "".join(f"- {e}\n" for e in endpoints))
    return path.relative_to(repo.parent.parent).as_posix()


def run_gate(releases_file: Path, *options: str) -> int:
    return main(["gate", "--releases-file", str(releases_file), *options])


def test_fails_on_untested_new_endpoints(dataset, github, releases_file, capsys) -> None:
    assert run_gate(releases_file) == 1
    out, err = capsys.readouterr()
    assert out == (
        HEADER
        + f"pending list: {Settings().github_raw_url}/kubernetes/kubernetes/v1.36.0/"
          f"{pending_list.PATH} (none: not found)\n"
        + f"UNTESTED    {UNTESTED_DELETE}\n"
        + f"UNTESTED    {UNTESTED_READ}\n"
        + TESTED_AND_OTHERS
        + f"FAIL: 4 new eligible endpoints: 2 untested, 2 tested; no conformance test for "
          f"{DELETE}, {READ}\n")
    assert err == ""


def test_saved_by_the_release_pending_list(dataset, github, releases_file, capsys) -> None:
    # The real list names many old endpoints too; only the new ones matter here. Loaded,
    # it is the list the coverage numbers read too: no note that they differ.
    publish_pending(github, "v1.36.0", [OLD, READ, DELETE])
    assert main(["load", "--release", "1.36", "--only", "pending",
                 "--releases-file", str(releases_file)]) == 0
    capsys.readouterr()
    assert run_gate(releases_file, "--release", "v1.36.0") == 0
    out, err = capsys.readouterr()
    pending = " (3 endpoints)"
    assert out == (
        HEADER
        + f"pending list: {Settings().github_raw_url}/kubernetes/kubernetes/v1.36.0/"
          f"{pending_list.PATH}{pending}\n"
        + f"PENDING     {UNTESTED_DELETE}; pending: allowed to wait for a test\n"
        + f"PENDING     {UNTESTED_READ}; pending: allowed to wait for a test\n"
        + TESTED_AND_OTHERS
        + "PASS: 4 new eligible endpoints: 2 pending, 2 tested\n")
    assert err == ""


def test_unreleased_release_reads_the_pending_list_of_master(
        dataset, github, tmp_path, capsys) -> None:
    future = tmp_path / "future.yaml"
    future.write_text("- version: 1.36.0\n  release_date: 2999-01-01\n"
                      "- version: 1.35.0\n  release_date: 2025-12-17\n")
    publish_pending(github, "master", [READ, DELETE])
    publish_pending(github, "v1.36.0", [])
    assert run_gate(future) == 0
    assert "/kubernetes/kubernetes/master/test/conformance" in capsys.readouterr().out


def test_pending_file_replaces_the_published_list(dataset, github, releases_file, tmp_path,
                                                  capsys) -> None:
    publish_pending(github, "v1.36.0", [READ, DELETE])
    pending = tmp_path / "pending.yaml"
    pending.write_text(f"- {READ}\n")
    assert run_gate(releases_file, "--pending-file", str(pending)) == 1
    out = capsys.readouterr().out
    assert f"pending list: {pending} (1 endpoint)\n" in out
    # the coverage numbers read the loaded list, and none is: the gate says they differ
    assert ("\nNOTE: no pending list is loaded: 1 endpoint only in the gate's, 0 endpoints "
            "only in the loaded one; coverage numbers read the loaded one (`snoopdb load "
            "--release 1.36 --only pending` loads the release's)\n") in out
    assert f"\nUNTESTED    {UNTESTED_DELETE}\nPENDING     {UNTESTED_READ}; pending: " in out
    assert out.endswith(f"FAIL: 4 new eligible endpoints: 1 untested, 1 pending, 2 tested; "
                        f"no conformance test for {DELETE}\n")


def test_notes_a_pending_file_other_than_the_loaded_list(dataset, github, releases_file,
                                                      tmp_path, capsys) -> None:
    path = publish_pending(github, "v1.36.0", [READ, DELETE])
    assert main(["load", "--release", "1.36", "--only", "pending",
                 "--releases-file", str(releases_file)]) == 0
    pending = tmp_path / "pending.yaml"
    pending.write_text(f"- {READ}\n- {CREATE}\n")
    capsys.readouterr()
    assert run_gate(releases_file, "--pending-file", str(pending), "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["pending"]["endpoints"], result["loaded_pending"], result["pending_differs"]
            ) == ([CREATE, READ], {"source": f"{Settings().github_raw_url}/{path}",
                                   "release": "1.36.0", "endpoints": [DELETE, READ]}, True)
    assert run_gate(releases_file, "--pending-file", str(pending)) == 1
    assert (f"\nNOTE: the pending list loaded ({Settings().github_raw_url}/{path}, release "
            "1.36.0) differs: 1 endpoint only in the gate's, 1 endpoint only in the loaded one; "
            "coverage numbers read the loaded one (`snoopdb load --release 1.36 --only "
            "pending` loads the release's)\n") in capsys.readouterr().out


def test_passes_when_every_new_endpoint_is_tested(dataset, github, releases_file,
                                                  capsys) -> None:
    insert_hits(dataset, [("1.36.0", "run-b", READ, PATCHED, True, True, 1),
                          ("1.36.0", "run-b", DELETE, CREATED, True, True, 1)])
    publish_pending(github, "v1.36.0", [CREATE])
    assert run_gate(releases_file) == 0
    out = capsys.readouterr().out
    assert out.startswith(HEADER.replace("1 run (run-a)", "2 runs (run-a, run-b)"))
    assert (f"TESTED      {CREATE} (POST /apis/widgets.example.io/v1/widgets): tested by "
            f"\"{CREATED}\" (Widget create, conformance since 1.36.0) and 1 more conformance "
            "test; still listed as pending: the entry can go\n") in out
    assert (f"TESTED      {DELETE} (DELETE /apis/widgets.example.io/v1/widgets/{{name}}): "
            f"tested by \"{CREATED}\" (Widget create, conformance since 1.36.0)\n") in out
    assert (f"TESTED      {READ} (GET /apis/widgets.example.io/v1/widgets/{{name}}): "
            f"tested by \"{PATCHED}\" (Widget patch, conformance since 1.36.0)\n") in out
    assert out.endswith("PASS: 4 new eligible endpoints: 4 tested\n")


def test_junit(dataset, github, releases_file, tmp_path, capsys) -> None:
    publish_pending(github, "v1.36.0", [READ])
    report = tmp_path / "junit_gate.xml"
    assert run_gate(releases_file, "--junit", str(report)) == 1
    assert capsys.readouterr().err == f"wrote {report}\n"
    assert report.read_text() == f"""\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="snoopdb gate" tests="4" failures="1" errors="0" skipped="1">
  <testsuite name="conformance gate 1.36.0" tests="4" failures="1" errors="0" skipped="1">
    <testcase classname="snoopdb.gate.1.36.0" name="{DELETE}">
      <failure type="untested" message="no conformance test hit it in the 1.36.0 runs">\
DELETE /apis/widgets.example.io/v1/widgets/{{name}}</failure>
    </testcase>
    <testcase classname="snoopdb.gate.1.36.0" name="{READ}">
      <skipped message="no conformance test hit it in the 1.36.0 runs; hit only by tests not \
in conformance.yaml: &quot;{NOT_LISTED}&quot;; pending: allowed to wait for a test" />
    </testcase>
    <testcase classname="snoopdb.gate.1.36.0" name="{CREATE}">
      <system-out>tested by "{CREATED}" (Widget create, conformance since 1.36.0) and 1 more \
conformance test</system-out>
    </testcase>
    <testcase classname="snoopdb.gate.1.36.0" name="{GROUP}">
      <system-out>tested by "{DISCOVERY}" (Discovery, validate PreferredVersion, conformance \
since 1.19.0); API group discovery, stable as widgets.example.io serves v1, v1alpha1\
</system-out>
    </testcase>
  </testsuite>
</testsuites>
"""


FLAKY_OLD = (f"  {OLD} (GET /api/v1/namespaces/{{namespace}}/pods/{{name}}): 2 of 3 runs "
             "(67%)")


def test_names_every_flaky_endpoint_not_only_new_ones(dataset, github, releases_file, tmp_path,
                                                      capsys) -> None:
    """Three runs of the release; OLD (not new in 1.36.0) is hit by a conformance test
    in two of them: a warning with its share and runs, in the text, the JSON and the
    JUnit file, and the gate still passes or fails by its own rules (here it passes,
    even with --min-share 1: every new endpoint is tested in every run or pending)."""
    insert_hits(dataset, [(release, run, endpoint, test, True, True, 1)
                          for run in ("run-b", "run-c")
                          for release, endpoint, test in (("1.36.0", OLD, DISCOVERY),
                                                          ("1.36.0", CREATE, CREATED),
                                                          ("1.36.0", GROUP, DISCOVERY))])
    dataset.execute("SELECT refresh_coverage()")
    publish_pending(github, "v1.36.0", [READ, DELETE])
    for options in ((), ("--min-share", "1")):
        assert run_gate(releases_file, *options) == 0
        report = capsys.readouterr().out.splitlines()
        assert report[-3:] == [
            "WARNING: 1 stable, eligible endpoint hit by conformance tests in only some of the"
            " 3 runs of 1.36.0 (flaky coverage):",
            FLAKY_OLD,
            "PASS: 4 new eligible endpoints: 2 pending, 2 tested"]
    assert run_gate(releases_file, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["flaky"] == [{
        "endpoint": OLD, "method": "get", "path": "/api/v1/namespaces/{namespace}/pods/{name}",
        "conformance_runs": 2, "runs": 3, "share": 0.667, "new": False}]
    assert OLD not in {verdict["endpoint"] for verdict in result["verdicts"]}
    junit = tmp_path / "junit.xml"
    assert run_gate(releases_file, "--junit", str(junit)) == 0
    text = junit.read_text()
    assert '<testsuites name="snoopdb gate" tests="5" failures="0" errors="0" skipped="2">' in text
    assert text.endswith(f"""\
  <testsuite name="flaky conformance coverage 1.36.0 (warnings)" tests="1" failures="0" \
errors="0" skipped="0">
    <testcase classname="snoopdb.gate.1.36.0.flaky" name="{OLD}">
      <system-err>warning: hit by conformance tests in only 2 of 3 runs (67%)</system-err>
    </testcase>
  </testsuite>
</testsuites>
""")


def test_group_stable_before_is_not_new(dataset, fetcher, settings, tmp_path) -> None:
    # widgets.example.io already served v1 in 1.35.0: its discovery operation (and
    # getWidgetsV1APIResources) are old news in 1.36.0.
    dataset.execute("INSERT INTO open_api (release, endpoint, level, path, method, deprecated,"
                    " spec) VALUES ('1.35.0', %s, 'stable', '/apis/widgets.example.io/v1/',"
                    " 'get', false, 'swagger-1.35.0.json')", (RESOURCES,))
    pending = tmp_path / "pending.yaml"
    pending.write_text("[]\n")
    result = gate.run(dataset, fetcher, Sources(settings, Releases.load()),
                      parse_release("1.36"), pending_file=pending)
    assert [(v.endpoint, v.verdict, v.level) for v in result.verdicts] == [
        (DELETE, "untested", "stable"),
        (READ, "untested", "stable"),
        (CREATE, "tested", "stable"),
        (WATCH, "deprecated", "stable"),
        (GADGETS_GROUP, "not stable", "beta"),
        (GADGETS_LIST, "not stable", "beta"),
    ]
    assert (result.status, result.exit_code, result.earlier_releases) == ("fail", 1, ("1.35.0",))


def test_group_first_seen_while_alpha(dataset, fetcher, settings, tmp_path) -> None:
    # In 1.35.0 widgets.example.io serves only v1alpha1: its discovery operation is
    # alpha there, whatever its versionless path says, and does not fail the gate.
    dataset.execute("INSERT INTO open_api (release, endpoint, level, path, method, deprecated,"
                    " spec) VALUES ('1.34.0', %s, 'stable', %s, 'get', false,"
                    " 'swagger-1.34.0.json')", (OLD, ENDPOINTS[OLD][2]))
    pending = tmp_path / "pending.yaml"
    pending.write_text("")
    result = gate.run(dataset, fetcher, Sources(settings, Releases.load()),
                      parse_release("1.35.0"),
                      pending_file=pending)
    assert [(v.endpoint, v.verdict, v.level, v.group_versions) for v in result.verdicts] == [
        (GROUP, "not stable", "alpha", ("v1alpha1",)),
        (ALPHA_RESOURCES, "not stable", "alpha", ()),
    ]
    assert result.verdicts[0].why("1.35.0") == (
        "API group discovery; widgets.example.io serves only alpha versions (v1alpha1)")
    assert (result.status, result.exit_code, result.earlier_releases) == ("pass", 0, ("1.34.0",))


@pytest.mark.parametrize(("change", "options", "message"), [
    ("SELECT 1", ["--release", "1.37"],
     "no spec loaded for release 1.37.0: run `snoopdb load --release 1.37`"),
    ("DELETE FROM open_api WHERE release = '1.35.0'", [],
     ("no release before 1.36.0 is loaded, so nothing tells which endpoints are new: run "
      "`snoopdb load --release 1.36 --only spec` (it loads every earlier spec)")),
    ("SELECT audit_run_drop(source) FROM audit_run WHERE release = '1.36.0'", [],
     ("no audit data for release 1.36.0: load a run (`snoopdb load --release 1.36 --only "
      "audit` with --job/--build or --audit-log)")),
    ("DELETE FROM conformance.test", [],
     "no conformance tests loaded: run `snoopdb load --release 1.36 --only tests`"),
    ("DELETE FROM open_api", [], "no spec is loaded: run `snoopdb load --release X` first"),
])
def test_cannot_decide(dataset, github, releases_file, capsys, change, options,
                       message) -> None:
    dataset.execute(change)
    assert run_gate(releases_file, *options) == 3
    assert capsys.readouterr() == ("", f"snoopdb: gate cannot decide: {message}\n")


def test_cannot_decide_without_the_pending_file_named(dataset, github, releases_file,
                                                      tmp_path, capsys) -> None:
    missing = tmp_path / "missing.yaml"
    assert run_gate(releases_file, "--pending-file", str(missing)) == 3
    assert capsys.readouterr() == ("", f"snoopdb: gate cannot decide: {missing}: no such file\n")


def test_cannot_decide_with_a_malformed_pending_list(dataset, github, releases_file,
                                                     capsys) -> None:
    path = publish_pending(github, "v1.36.0", [])
    (github.parent.parent / path).write_text("- endpoint: readWidgetsV1Widget\n")
    assert run_gate(releases_file) == 3
    assert capsys.readouterr() == ("", (
        f"snoopdb: gate cannot decide: {Settings().github_raw_url}/{path}: expected a list of "
        "endpoint names (operationIds)\n"))
