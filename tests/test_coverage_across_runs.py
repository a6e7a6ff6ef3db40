"""Coverage across runs (revision 0013): the newest builds of a prow job on a loopback
GCS loaded as runs of their own, with what their started.json and finished.json say;
how stable each endpoint's coverage is over them (endpoint_stability,
test_endpoint_stability, conformance.stable_*); `snoopdb runs diff`; the gate with
--min-share."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snoopdb.cli import main
from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import ci_runs, conformance, spec
from testkit.gcs_server import GcsServer
from testkit.hits import insert_hits

JOB = "ci-history-e2e"
BUCKET = "kubernetes-ci-logs"
PROW = f"https://prow.k8s.io/view/gs/{BUCKET}/logs/{JOB}"
CONFORMANCE = ("[sig-api-machinery] Namespaces [Serial] should ensure that all services are"
               " removed when a namespace is deleted [Conformance]")
OTHER = "[sig-apps] ReplicaSet should adopt pods"
# new in 1.36 (not in 1.35's spec), stable, eligible: the endpoint only builds 1001 and
# 1003 reach
FLAKY = "readAdmissionregistrationV1MutatingAdmissionPolicy"
FLAKY_URI = "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/p"
STEADY = "listCoreV1NamespacedConfigMap"
# build: (start, result, conformance test reaches FLAKY, the other test sets a body)
BUILDS = {1001: (1781180000, "SUCCESS", True, False),
          1002: (1781190000, "FAILURE", False, False),
          1003: (1781200000, "SUCCESS", True, True)}


def agent(test: str) -> str:
    return f"e2e.test/v1.36.1 (linux/amd64) kubernetes/abc1234 -- {test}"


def event(n: int, verb: str, uri: str, test: str, body: dict | None = None) -> dict:
    made = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": f"id-{n}", "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
            "userAgent": agent(test), "responseStatus": {"code": 200}}
    if body is not None:
        made["requestObject"] = body
    return made


def build_log(build: int) -> str:
    _, _, reaches_flaky, sets_body = BUILDS[build]
    made = [event(1, "list", "/api/v1/namespaces/ns/configmaps", CONFORMANCE),
            event(2, "get", "/api/v1/namespaces/ns/pods/p", OTHER)]
    if reaches_flaky:
        made.append(event(3, "get", FLAKY_URI, CONFORMANCE))
    if sets_body:
        made.append(event(4, "create", "/api/v1/namespaces/ns/configmaps", OTHER,
                          {"metadata": {"name": "c"}, "data": {"k": "v"}}))
    return "".join(json.dumps(e) + "\n" for e in made)


def put(root: Path, name: str, content: str) -> None:
    path = root / BUCKET / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[GcsServer]:
    """Job JOB with builds 1001–1003 finished, 1004 still running, 1000 older."""
    root = tmp_path / "gcs"
    for build, (start, result, _, _) in {1000: (1781170000, "SUCCESS", False, False),
                                         **BUILDS}.items():
        prefix = f"logs/{JOB}/{build}"
        put(root, f"{prefix}/started.json",
            json.dumps({"timestamp": start, "repo-commit": f"{build:x}" * 4}))
        put(root, f"{prefix}/finished.json", json.dumps(
            {"timestamp": start + 3000, "passed": result == "SUCCESS", "result": result,
             "metadata": {"job-version": "v1.36.1"}}))
        put(root, f"{prefix}/artifacts/master/kube-apiserver-audit.log",
            build_log(build) if build in BUILDS else build_log(1002))
    put(root, f"logs/{JOB}/1004/started.json", json.dumps({"timestamp": 1781210000}))
    server = GcsServer(root)
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def loaded(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> psycopg.Connection:
    for release in ("1.35", "1.36"):
        spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-{release}.json.gz"),
                  f"{release}.0", None)
    conformance.load(conn, fetcher, str(shared_data / "conformance" / "conformance-1.36.yaml"),
                     "1.36.0")
    return conn


def test_three_builds_one_flaky_endpoint(loaded, gcs, tmp_path, capsys) -> None:
    conn = loaded
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB,
                 "--last", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    # oldest first, each a run; the running build 1004 and the older 1000 not loaded
    assert [line.split(" from ")[1].split(": ")[0] for line in out if line.startswith("audit ")
            ] == [f"{PROW}/{build}" for build in (1001, 1002, 1003)]
    assert conn.execute("SELECT build, started, commit, result, state FROM audit_run"
                        " ORDER BY build").fetchall() == [
        (str(build), dt.datetime.fromtimestamp(start, dt.timezone.utc), None, result,
         "hot" if build == 1003 else "compact")
        for build, (start, result, _, _) in BUILDS.items()]

    # endpoint_stability: 3 runs of the job, the flaky endpoint hit in 2
    assert conn.execute(
        "SELECT endpoint, runs, runs_hit, runs_test_hit, runs_conf_hit, first_seen, last_seen"
        " FROM endpoint_stability WHERE job = %s ORDER BY endpoint", (PROW,)).fetchall() == [
        ("createCoreV1NamespacedConfigMap", 3, 1, 1, 0, *[dt.datetime.fromtimestamp(
            BUILDS[1003][0], dt.timezone.utc)] * 2),
        ("listCoreV1NamespacedConfigMap", 3, 3, 3, 3,
         dt.datetime.fromtimestamp(BUILDS[1001][0], dt.timezone.utc),
         dt.datetime.fromtimestamp(BUILDS[1003][0], dt.timezone.utc)),
        ("readAdmissionregistrationV1MutatingAdmissionPolicy", 3, 2, 2, 2,
         dt.datetime.fromtimestamp(BUILDS[1001][0], dt.timezone.utc),
         dt.datetime.fromtimestamp(BUILDS[1003][0], dt.timezone.utc)),
        ("readCoreV1NamespacedPod", 3, 3, 3, 0,
         dt.datetime.fromtimestamp(BUILDS[1001][0], dt.timezone.utc),
         dt.datetime.fromtimestamp(BUILDS[1003][0], dt.timezone.utc))]
    # the test behind it ran in every run, reached it in two
    assert conn.execute("SELECT test, runs_test_ran, runs_hit FROM test_endpoint_stability"
                        " WHERE endpoint = %s", (FLAKY,)).fetchall() == [(CONFORMANCE, 3, 2)]
    assert conn.execute("SELECT build, events, endpoints_hit, tested_stable, conf_tested_stable"
                        " FROM run_coverage ORDER BY started").fetchall() == [
        ("1001", 3, 3, 3, 2), ("1002", 2, 2, 2, 1), ("1003", 4, 4, 4, 2)]

    # runs diff of builds 2 and 3: the endpoint gained, with its test
    assert main(["runs", "diff", f"{JOB}#1002", f"{JOB}#1003", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert (diff["a"]["build"], diff["b"]["build"]) == ("1002", "1003")
    assert diff["endpoints"] == {
        "gained": [{"endpoint": "createCoreV1NamespacedConfigMap", "was": "not hit",
                    "now": "tested", "tests": [OTHER]},
                   {"endpoint": FLAKY, "was": "not hit", "now": "conformance",
                    "tests": [CONFORMANCE]}],
        "lost": []}
    assert diff["tests"] == {"gained": [], "lost": []}
    assert diff["fields"] == {"gained": [
        {"endpoint": "createCoreV1NamespacedConfigMap", "field": field, "tests": [OTHER]}
        for field in ("data", "metadata", "metadata.name")], "lost": []}
    assert main(["runs", "diff", f"{PROW}/1003", f"{JOB}#1002"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[2:5] == ["endpoints: 0 gained, 2 lost",
                         "  - createCoreV1NamespacedConfigMap: tested → not hit; by " + OTHER,
                         f"  - {FLAKY}: conformance → not hit; by {CONFORMANCE}"]

    # the export: each run, and the endpoint's stability
    assert main(["export", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    exported = json.loads((tmp_path / "out" / "runs.json").read_text())
    assert [(r["build"], r["started"], r["result"], r["state"], r["conf_tested_stable"])
            for r in exported] == [
        ("1001", "2026-06-11T12:13:20Z", "SUCCESS", "compact", 2),
        ("1002", "2026-06-11T15:00:00Z", "FAILURE", "compact", 1),
        ("1003", "2026-06-11T17:46:40Z", "SUCCESS", "hot", 2)]
    stability = json.loads((tmp_path / "out" / "stability.json").read_text())
    assert stability["min_share"] == 1
    assert [(e["endpoint"], e["runs"], e["runs_conf_hit"]) for e in stability["endpoints"]
            if e["flaky"]] == [(FLAKY, 3, 2)]
    assert stability["tests"] == [{"release": "1.36.0", "job": PROW, "test": OTHER,
                                   "endpoint": "createCoreV1NamespacedConfigMap",
                                   "runs_test_ran": 3, "runs_hit": 1},
                                  {"release": "1.36.0", "job": PROW, "test": CONFORMANCE,
                                   "endpoint": FLAKY, "runs_test_ran": 3, "runs_hit": 2}]

    # the gate: with --min-share 1.0 the endpoint is untested, and named flaky either way
    # (with every stable, eligible endpoint hit in only some runs, new or not)
    pending = tmp_path / "pending.yaml"
    pending.write_text("[]\n")
    gate = ["gate", "--release", "1.36", "--pending-file", str(pending)]
    assert main([*gate, "--min-share", "1.0"]) == 1
    report = capsys.readouterr().out.splitlines()
    line = next(line for line in report if f"  {FLAKY} " in line)
    assert line.startswith("UNTESTED")
    assert line.endswith(f'conformance tests hit it in only 2 of 3 runs ("{CONFORMANCE}"), '
                         "under --min-share")
    assert report[-3:-1] == WARNING
    assert main(gate) == 1  # other new endpoints are untested anyway
    report = capsys.readouterr().out.splitlines()
    line = next(line for line in report if f"  {FLAKY} " in line)
    assert line.startswith("TESTED") and "; flaky: a conformance test hit it in 2 of 3 runs" \
        in line
    assert report[-3:-1] == WARNING


WARNING = ["WARNING: 1 stable, eligible endpoint hit by conformance tests in only some of the"
           " 3 runs of 1.36.0 (flaky coverage):",
           f"  {FLAKY} (GET /apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/"
           "{name}): 2 of 3 runs (67%); new in 1.36.0"]


def test_stable_views_count_the_share_of_runs(loaded, gcs, database_url) -> None:
    conn = loaded
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB,
                 "--last", "3"]) == 0
    share = ("SELECT runs, runs_conf_hit, conf_tested_share, conf_tested"
             " FROM conformance.stable_coverage WHERE release = '1.36.0' AND endpoint = %s")
    assert conn.execute(share, (FLAKY,)).fetchone() == (3, 2, Decimal("0.6667"), False)
    assert conn.execute(share, (STEADY,)).fetchone() == (3, 3, 1, True)
    # a share the database keeps, read by sessions started before it was set too
    assert main(["runs", "min-share", "0.6"]) == 0
    assert conn.execute(share, (FLAKY,)).fetchone()[3] is True
    conn.execute("SET snoopdb.min_share = 0.9")
    assert conn.execute(share, (FLAKY,)).fetchone()[3] is False
    conn.execute("SET snoopdb.min_share = 'half'")
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match="must be a share of runs above 0 and at most 1, not 'half'"):
        conn.execute(share, (FLAKY,))
    conn.execute("RESET snoopdb.min_share")
    with psycopg.connect(database_url) as fresh:
        assert fresh.execute("SELECT min_share_setting()").fetchone() == (Decimal("0.6"),)
    progress = ("SELECT release, total_tested_endpoints FROM {} WHERE release = '1.36.0'")
    # conformance.progress keeps apisnoop's rule; stable_progress drops what is hit
    # in fewer runs than the share
    assert conn.execute(progress.format("conformance.progress")).fetchone() == conn.execute(
        progress.format("conformance.stable_progress")).fetchone()
    main(["runs", "min-share", "1"])
    with psycopg.connect(database_url) as fresh:
        ours = fresh.execute(progress.format("conformance.stable_progress")).fetchone()
        apisnoop = fresh.execute(progress.format("conformance.progress")).fetchone()
    assert ours[1] == apisnoop[1] - 1


def test_newest_builds_skip_loaded_ones_and_read_since(loaded, gcs, capsys) -> None:
    conn = loaded
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB,
                 "--last", "1"]) == 0
    capsys.readouterr()
    since = dt.datetime.fromtimestamp(BUILDS[1002][0], dt.timezone.utc).isoformat()
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB,
                 "--since", since]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"build 1003 of {JOB}: skipped, already loaded" in out
    assert conn.execute("SELECT build FROM audit_run ORDER BY build").fetchall() == [
        ("1002",), ("1003",)]
    # the newest started stays hot whatever the load order
    assert conn.execute("SELECT build FROM audit_run WHERE state = 'hot'").fetchall() == [
        ("1003",)]
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB, "--build",
                 "1002", "--last", "2"]) == 2  # a usage error
    assert capsys.readouterr().err == ("snoopdb: error: --last and --since load a job's newest "
                                       "builds, --build one build: choose one\n")


def test_runs_diff_names_what_it_cannot_find(loaded, gcs, capsys) -> None:
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB,
                 "--last", "2"]) == 0
    capsys.readouterr()
    assert main(["runs", "diff", f"{JOB}#1001", f"{JOB}#1003"]) == 1
    assert capsys.readouterr().err == (f"snoopdb: error: no loaded run of job {JOB} has "
                                       "build 1001\n")
    assert main(["runs", "diff", "nowhere", f"{JOB}#1003"]) == 1
    assert capsys.readouterr().err.startswith("snoopdb: error: no loaded run has source nowhere")


def test_runs_diff_names_every_test_and_each_once(conn, capsys) -> None:
    """An e2e.test user agent naming no test gets a visible name, body fields the same
    tests set share one line, and each run is shown by its name, then its source."""
    third = "[sig-apps] ReplicaSet should serve a basic image"
    nameless = "(e2e.test, no test name)"
    configmap = "createCoreV1NamespacedConfigMap"
    a, b = f"{PROW}/2001", f"{PROW}/2002"
    insert_hits(conn, [
        ("1.36.0", a, "readCoreV1Namespace", CONFORMANCE, True, True, 1),
        ("1.36.0", b, "readCoreV1Namespace", CONFORMANCE, True, True, 1),
        ("1.36.0", b, "listCoreV1Node", "", True, False, 2),
        ("1.36.0", b, configmap, OTHER, True, False, 1),
        ("1.36.0", b, configmap, third, True, False, 1),
    ], [("1.36.0", b, configmap, field, True, test, True, False, 1)
        for field in ("data", "metadata", "metadata.name") for test in (OTHER, third)]
       + [("1.36.0", b, configmap, "immutable", True, OTHER, True, False, 1)])
    conn.execute("UPDATE audit_run SET build = '2002' WHERE source = %s", (b,))
    conn.execute("SELECT refresh_coverage()")
    assert main(["runs", "diff", a, f"{JOB}#2002"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"A: {JOB} (1.36.0, 0 events) {a}",
        f"B: {JOB}#2002 (1.36.0, 0 events) {b}",
        "endpoints: 2 gained, 0 lost",
        f"  + {configmap}: not hit → tested; by {OTHER}, {third}",
        f"  + listCoreV1Node: not hit → tested; by {nameless}",
        "tests: 3 gained, 0 lost",
        f"  + {nameless} (1 endpoint)",
        f"  + {OTHER} (1 endpoint)",
        f"  + {third} (1 endpoint)",
        "body fields: 4 gained, 0 lost",
        f"  + {configmap}: data, metadata, metadata.name; by {OTHER}, {third}",
        f"  + {configmap}: immutable; by {OTHER}"]


# --- what started.json and finished.json may hold -----------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)


@given(JSON_VALUES)
def test_prow_time_is_a_time_of_the_prow_era_or_none(value) -> None:
    when = ci_runs.prow_time(value)
    if when is not None:
        assert ci_runs.EARLIEST_TIME <= when <= ci_runs.LATEST_TIME
        assert isinstance(value, int | float) and not isinstance(value, bool)


@given(JSON_VALUES)
def test_prow_text_is_short_printable_text_or_none(value) -> None:
    text = ci_runs.prow_text(value)
    if text is not None:
        assert isinstance(value, str) and text == value.strip()
        assert 0 < len(text) <= ci_runs.MAX_FACT_LENGTH
        assert all(ord(c) >= 32 and c != "\x7f" for c in text)


@given(st.dictionaries(st.sampled_from(["timestamp", "repo-commit", "result", "metadata"]),
                       JSON_VALUES))
def test_build_files_of_any_shape_give_facts_or_none(document) -> None:
    files = ci_runs.BuildFiles(document, document)
    assert files.start is None or files.start.tzinfo is dt.timezone.utc
    assert files.result is None or isinstance(files.result, str)
    assert files.repo_commit is None or isinstance(files.repo_commit, str)


def test_prow_time_reads_a_real_finished_json(shared_data: Path) -> None:
    finished = json.loads((shared_data / "prow" /
                           "finished-ci-kubernetes-e2e-gci-gce-1178464478988079104.json"
                           ).read_text())
    files = ci_runs.BuildFiles(None, finished)
    assert files.result == "SUCCESS"
    assert ci_runs.prow_time(finished["timestamp"]) == dt.datetime(
        2019, 9, 30, 1, 1, 1, tzinfo=dt.timezone.utc)
