"""`snoopdb presubmit` on a pull request built from the real 1.36 spec: a git checkout
whose head adds two stable operations and a beta one, a conformance test and a pending
entry; its run and three baseline runs on a loopback GCS."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gzip
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from snoopdb.cli import build_parser, main
from snoopdb.commands import presubmit as presubmit_module
from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import ci_runs, ineligible, pending, spec
from testkit.gcs_server import GcsServer

REPO = Path(__file__).resolve().parent.parent
BUCKET = "kubernetes-ci-logs"
BASELINE = "ci-kubernetes-audit-kind-conformance"
PULL = "pull-kubernetes-e2e-kind"
PR_LOGS = "pr-logs/pull/kubernetes_kubernetes/4242/pull-kubernetes-audit-kind-conformance/3001"
TESTDATA = "test/conformance/testdata"
CONFORMANCE = ("[sig-api-machinery] Namespaces [Serial] should ensure that all services are"
               " removed when a namespace is deleted [Conformance]")
NEW_TEST = "[sig-api-machinery] Widgets should be created and listed [Conformance]"
# an e2e test that is no conformance test, its name written to break a comment
HOSTILE = "[sig-x] <img src=x onerror=alert(1)> | @kubernetes/sig-x `code` \x1b[2J"
STEADY = "listCoreV1NamespacedConfigMap"  # conformance tests hit it in every run
FLAKY = "readCoreV1Namespace"  # in baseline runs 1001 and 1003, not in the pull request's
PENDING = "listCoreV1NamespacedWidget"  # new, stable, on the pending list, hit by no test
TESTED = "createCoreV1NamespacedWidget"  # new, stable, hit by the new test
BETA = "listWidgetsV1beta1Gadget"  # new, beta
BUILDS = {1001: True, 1002: False, 1003: True}  # build: its conformance tests reach FLAKY


JUNIT = f"""\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="snoopdb presubmit" tests="3" failures="1" errors="0" skipped="0">
  <testsuite name="new eligible operations" tests="2" failures="1" errors="0" skipped="0">
    <testcase classname="snoopdb.presubmit.operations" name="{TESTED}">
      <system-out>tested by {NEW_TEST}</system-out>
    </testcase>
    <testcase classname="snoopdb.presubmit.operations" name="{PENDING}">
      <failure type="untested" message="no conformance test of the run hits it, and the \
pending list does not name it">GET /api/v1/namespaces/{{namespace}}/widgets</failure>
    </testcase>
  </testsuite>
  <testsuite name="conformance coverage against the baseline" tests="1" failures="0" \
errors="0" skipped="0">
    <testcase classname="snoopdb.presubmit.flaky" name="{FLAKY}">
      <system-err>warning (flaky, not counted): conformance tests reached it in 2 of 3 \
baseline runs, not in the pull request's run</system-err>
    </testcase>
  </testsuite>
</testsuites>
"""


def event(n: int, verb: str, uri: str, test: str) -> dict:
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": f"id-{n}", "stage": "ResponseComplete", "requestURI": uri,
            "verb": verb, "responseStatus": {"code": 200},
            "userAgent": f"e2e.test/v1.36.1 (linux/amd64) kubernetes/abc1234 -- {test}"}


def log(*events: dict) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def put(root: Path, name: str, content: str) -> None:
    path = root / BUCKET / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


def finished(start: int) -> str:
    return json.dumps({"timestamp": start + 3000, "passed": True, "result": "SUCCESS",
                       "metadata": {"job-version": "v1.36.1"}})


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[GcsServer]:
    """Three finished builds of the baseline job; build 2001 of the pull request's job."""
    root = tmp_path / "gcs"
    for build, reaches_flaky in BUILDS.items():
        prefix = f"logs/{BASELINE}/{build}"
        start = 1781170000 + build * 10000
        put(root, f"{prefix}/started.json", json.dumps({"timestamp": start}))
        put(root, f"{prefix}/finished.json", finished(start))
        put(root, f"{prefix}/artifacts/logs/kind-control-plane/kubernetes-version.txt",
            "v1.36.1\n")
        made = [event(1, "list", "/api/v1/namespaces/ns/configmaps", CONFORMANCE)]
        if reaches_flaky:
            made.append(event(2, "get", "/api/v1/namespaces/ns", CONFORMANCE))
        put(root, f"{prefix}/artifacts/audit/kube-apiserver-audit.log", log(*made))
    pull_log = log(event(1, "list", "/api/v1/namespaces/ns/configmaps", CONFORMANCE),
                   event(2, "create", "/api/v1/namespaces/ns/widgets", NEW_TEST),
                   event(3, "list", "/apis/widgets.example.io/v1beta1/gadgets", HOSTILE))
    prefix = f"logs/{PULL}/2001"
    put(root, f"{prefix}/started.json", json.dumps({"timestamp": 1781300000}))
    put(root, f"{prefix}/finished.json", finished(1781300000))
    put(root, f"{prefix}/artifacts/audit/kube-apiserver-audit.log", pull_log)
    # the same run as a presubmit of kubernetes/kubernetes stores it
    put(root, f"{PR_LOGS}/artifacts/audit/kube-apiserver-audit.log", pull_log)
    server = GcsServer(root)
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    yield server
    server.close()


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def operation(endpoint: str, action: str, group: str, version: str, kind: str) -> dict:
    return {"operationId": endpoint, "description": f"{action} objects of kind {kind}",
            "tags": [f"{group or 'core'}_{version}"], "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind},
            "responses": {"200": {"description": "OK"}}}


@pytest.fixture
def checkout(tmp_path: Path, shared_data: Path) -> Path:
    """A Kubernetes checkout: `base` holds the real 1.36 spec and lists, HEAD adds two
    stable operations and a beta one, a conformance test, and a pending entry."""
    root = tmp_path / "kubernetes"
    (root / TESTDATA).mkdir(parents=True)
    (root / "api/openapi-spec").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    document = json.loads(gzip.decompress(
        (shared_data / "openapi/swagger-1.36.json.gz").read_bytes()))
    tests = yaml.safe_load((shared_data / "conformance/conformance-1.36.yaml").read_text())
    spec_file = root / "api/openapi-spec/swagger.json"
    spec_file.write_text(json.dumps(document))
    (root / TESTDATA / "conformance.yaml").write_text(yaml.safe_dump(tests))
    (root / TESTDATA / "ineligible_endpoints.yaml").write_bytes(
        (shared_data / "conformance/ineligible_endpoints.yaml").read_bytes())
    (root / TESTDATA / "pending_eligible_endpoints.yaml").write_text("[]\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "branch", "base")
    pr = copy.deepcopy(document)
    pr["paths"]["/api/v1/namespaces/{namespace}/widgets"] = {
        "get": operation(PENDING, "list", "", "v1", "Widget"),
        "post": operation(TESTED, "post", "", "v1", "Widget")}
    pr["paths"]["/apis/widgets.example.io/v1beta1/gadgets"] = {
        "get": operation(BETA, "list", "widgets.example.io", "v1beta1", "Gadget")}
    spec_file.write_text(json.dumps(pr))
    tests.append({"testname": "Widgets, create and list", "codename": NEW_TEST,
                  "release": "v1.37", "description": "Widgets can be created and listed.",
                  "file": "test/e2e/apimachinery/widgets.go"})
    (root / TESTDATA / "conformance.yaml").write_text(yaml.safe_dump(tests))
    (root / TESTDATA / "pending_eligible_endpoints.yaml").write_text(f"- {PENDING}\n")
    git(root, "commit", "-qam", "Widgets")
    return root


@pytest.fixture
def loaded(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> psycopg.Connection:
    """The baseline's runs are mapped with release 1.36's spec."""
    spec.load(conn, fetcher, str(shared_data / "openapi/swagger-1.36.json.gz"), "1.36.0", None,
              fields=False)
    return conn


def presubmit(checkout: Path, *more: str) -> list[str]:
    return ["presubmit", "--checkout", str(checkout), "--base-ref", "base", *more]


def test_a_pull_request_adding_operations(loaded, gcs, checkout, tmp_path, capsys) -> None:
    conn = loaded
    args = presubmit(checkout, "--run", f"{PULL}#2001", "--baseline", BASELINE)
    assert main([*args, "--junit", str(tmp_path / "junit.xml")]) == 0
    markdown = capsys.readouterr().out
    # the baseline was loaded on demand, for good; the pull request's spec and run not
    assert conn.execute("SELECT build FROM audit_run ORDER BY build").fetchall() == [
        ("1001",), ("1002",), ("1003",)]
    assert conn.execute("SELECT DISTINCT release FROM open_api").fetchall() == [("1.36.0",)]
    lines = markdown.splitlines()
    assert lines[0] == "### snoopdb presubmit: PASS"
    assert lines[2].startswith("**PASS**")
    # each new operation with its state, in the folded table
    rows = {line.split("<br>")[0].lstrip("| "): line for line in lines if "<br>" in line}
    assert rows.keys() == {PENDING, TESTED, BETA}
    assert "| added | stable | pending | none |" in rows[PENDING]
    assert (r"| added | stable | tested | \[sig\-api\-machinery\] Widgets should be created "
            r"and listed \[Conformance\] |") in rows[TESTED]
    assert "| added | beta | not eligible: not stable | only other tests: " in rows[BETA]
    # the flaky operation is marked, not lost
    assert f"| {FLAKY} | 2 of 3 (flaky) |" in markdown
    assert "| operations gained / lost / flaky (not counted) | 1 / 0 / 1 |" in lines
    # outside text cannot break the comment, nor the terminal
    assert "\x1b" not in markdown and "<img" not in markdown and "@kubernetes" not in markdown
    assert (r"\[sig\-x\] &lt;img src=x onerror=alert\(1\)&gt; \| &#64;kubernetes/sig\-x "
            r"\`code\` \\x1b\[2J") in markdown

    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # named by its prow page, in a periodic's layout or a presubmit's: the same answers
    for page in (ci_runs.source_of(BUCKET, PULL, "2001"),
                 f"{ci_runs.PROW_VIEW}/{BUCKET}/{PR_LOGS}"):
        assert main([*args[:-4], "--run", page, "--baseline", BASELINE, "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["run"] in (f"{PULL}#2001", "pull-kubernetes-audit-kind-conformance#3001")
        assert {**again, "run": result["run"]} == result
    assert result["status"] == "pass" and result["exit_code"] == 0
    assert {op["endpoint"]: (op["change"], op["level"], op["eligible"], op["state"],
                             op["tests"]) for op in result["operations"]} == {
        PENDING: ("added", "stable", False, "pending", []),
        TESTED: ("added", "stable", True, "tested", [NEW_TEST]),
        BETA: ("added", "beta", False, "not eligible: not stable", [])}
    assert [(r["endpoint"], r["baseline_runs"], r["runs"], r["flaky"])
            for r in result["flaky"]] == [(FLAKY, 2, 3, True)]
    assert result["lost"] == [] and [r["endpoint"] for r in result["gained"]] == [TESTED]
    assert result["conformance_tests"] == [
        {"codename": NEW_TEST, "release": "1.37.0", "endpoints": [TESTED]}]
    coverage = result["coverage"]
    # 1.36 has 521 eligible operations under its lists; the pull request one more (the
    # pending one is not eligible yet), reached by its new test
    assert coverage == {"before_tested": 1, "before_total": 521, "after_tested": 2,
                        "after_total": 522, "change": 1}
    assert ("| eligible operations conformance tests reach | 1 of 521 (0.2%) → 2 of 522 "
            "(0.4%) (+1) |") in lines

    # without the pending entry the new operation nobody tests fails, once
    (checkout / TESTDATA / "pending_eligible_endpoints.yaml").write_text("[]\n")
    git(checkout, "commit", "-qam", "No longer pending")
    junit = tmp_path / "junit.xml"
    assert main([*args, "--junit", str(junit)]) == 1
    assert capsys.readouterr().out.splitlines()[2] == (
        "**FAIL**: no conformance test of the run hits 1 new stable, eligible operation not"
        f" on the pending list ({PENDING}).")
    assert junit.read_text() == JUNIT


def test_no_run_or_no_baseline_cannot_decide(loaded, gcs, checkout, capsys) -> None:
    assert main(presubmit(checkout, "--baseline", BASELINE)) == 3
    assert capsys.readouterr().err.endswith(
        "presubmit cannot decide: no run of the pull request: give --run SOURCE|JOB#BUILD or"
        " --audit-log FILE\n")
    assert main(presubmit(checkout, "--run", f"{PULL}#2001")) == 3
    assert "cannot decide: no baseline: give --baseline JOB" in capsys.readouterr().err
    assert main(presubmit(checkout, "--run", f"{PULL}#2001", "--baseline", "no-such-job")) == 3
    assert ("cannot decide: no baseline: no finished run of job no-such-job is loaded or found"
            f" in gs://{BUCKET}") in capsys.readouterr().err
    assert main(["presubmit", "--checkout", str(checkout), "--release", "1.35", "--run",
                 f"{PULL}#2001", "--baseline", BASELINE]) == 3
    assert capsys.readouterr().err.endswith(
        "cannot decide: no spec loaded for release 1.35.0: run `snoopdb load --release 1.35`"
        " first\n")
    assert main(presubmit(checkout, "--run", f"{PULL}#2002", "--baseline", BASELINE)) == 3
    out, err = capsys.readouterr()
    assert out.startswith("### snoopdb presubmit: CANNOT DECIDE")
    assert "cannot decide: " in err and f"logs/{PULL}/2002/" in err


def test_audit_log_files_and_a_loaded_release_as_base(loaded, gcs, checkout, tmp_path,
                                                       capsys) -> None:
    conn = loaded
    pr_log = tmp_path / "audit.log"
    pr_log.write_text(log(event(1, "list", "/api/v1/namespaces/ns/configmaps", CONFORMANCE),
                          event(2, "get", "/api/v1/namespaces/ns", CONFORMANCE)))
    assert main(["presubmit", "--checkout", str(checkout), "--release", "1.36",
                 "--audit-log", str(pr_log), "--baseline", BASELINE, "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    # against the loaded release: its conformance.yaml is not loaded here, so every test
    # of the checkout's list is new; the new stable operation no test hits fails
    assert [op["endpoint"] for op in result["operations"] if op["state"] == "untested"] == [
        TESTED]
    assert result["flaky"] == [] and result["lost"] == []
    # a loaded run whose events are in the database is read from there, mapped with
    # the pull request's spec (the baseline's newest run, hot, as if it were the pull
    # request's): at --min-share 0.5 the baseline reaches both operations, so does it
    assert conn.execute("SELECT build, state FROM audit_run ORDER BY build").fetchall() == [
        ("1001", "compact"), ("1002", "compact"), ("1003", "hot")]
    base = presubmit(checkout, "--baseline", BASELINE, "--min-share", "0.5", "--json")
    assert main([*base, "--run", f"{BASELINE}#1003"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["run"], result["events"], result["lost"]) == (f"{BASELINE}#1003", 2, [])
    # a compact run's events are gone: read from GCS, build 1002 loses the operation
    # the baseline reaches in two of its three runs, which counts at --min-share 0.5
    assert main([*base, "--run", f"{BASELINE}#1002"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["run"], result["events"]) == (f"{BASELINE}#1002", 1)
    assert [(r["endpoint"], r["baseline_runs"], r["flaky"]) for r in result["lost"]] == [
        (FLAKY, 2, True)]


def presubmit_command(script: str) -> argparse.Namespace:
    """What snoopdb's own parser makes of the `presubmit` a CI script runs (its image's
    entrypoint is snoopdb)."""
    joined = script.replace("\\\n", " ")
    (line,) = [line for line in joined.splitlines() if " presubmit --checkout " in line]
    words = shlex.split(line)
    words = words[words.index("presubmit"):words.index("||")]
    return build_parser().parse_args(words)


def test_the_ci_jobs_run_presubmit_on_a_kind_clusters_audit_log() -> None:
    (config,) = yaml.safe_load_all((REPO / "ci/prow/pull-kubernetes-conformance-coverage.yaml")
                                   .read_text())
    (job,) = config["presubmits"]["kubernetes/kubernetes"]
    assert (job["name"], job["decorate"], job["path_alias"]) == (
        "pull-kubernetes-conformance-coverage", True, "k8s.io/kubernetes")
    assert re.search(job["run_if_changed"], "test/conformance/testdata/conformance.yaml")
    (container,) = job["spec"]["containers"]
    prow = presubmit_command(container["args"][0])
    workflow = yaml.safe_load((REPO / "ci/github/conformance-coverage.yaml").read_text())
    (step,) = [s for s in workflow["jobs"]["presubmit"]["steps"] if s.get("id") == "presubmit"]
    actions = presubmit_command(step["run"])
    for args, base in ((prow, "$PULL_BASE_SHA"), (actions, "$BASE_SHA")):
        assert (args.checkout, args.base_ref, args.audit_log, args.last) == (
            Path("/kubernetes"), base, [Path("$logs")], 3)
        assert args.baseline in (BASELINE, "$BASELINE") and args.junit is not None
    assert workflow["jobs"]["presubmit"]["env"]["BASELINE"] == BASELINE
    # both cluster configurations write the audit log where the job copies it from
    for script in (container["args"][0], "\n".join(
            s.get("run", "") for s in workflow["jobs"]["presubmit"]["steps"])):
        assert "value: /var/log/kubernetes/audit/kube-apiserver-audit.log" in script
        assert "docker cp pull-control-plane:/var/log/kubernetes/audit /tmp/audit/log" in script


@given(st.text(max_size=200))
def test_a_run_name_is_a_gcs_build_or_refused(name: str) -> None:
    try:
        bucket, prefix, job, build = presubmit_module._gcs_build(name, BUCKET)
    except InputError as exc:
        assert str(exc).startswith("--run ")
        return
    assert re.fullmatch("[0-9]{1,20}", build) and "/" not in job and job and bucket
    assert prefix.endswith(f"/{job}/{build}/") and prefix.startswith(("logs/", "pr-logs/pull/"))
    assert name in (f"{job}#{build}", f"{ci_runs.PROW_VIEW}/{bucket}/{prefix}",
                    f"{ci_runs.PROW_VIEW}/{bucket}/{prefix}".removesuffix("/"))


def test_run_names() -> None:
    assert presubmit_module._gcs_build(f"{PULL}#7", BUCKET) == (
        BUCKET, f"logs/{PULL}/7/", PULL, "7")
    assert presubmit_module._gcs_build(ci_runs.source_of("b", "j", "9"), BUCKET) == (
        "b", "logs/j/9/", "j", "9")
    assert presubmit_module._gcs_build(f"{ci_runs.PROW_VIEW}/b/{PR_LOGS}/", BUCKET) == (
        "b", f"{PR_LOGS}/", "pull-kubernetes-audit-kind-conformance", "3001")
    for name in ("j#", "#7", "a/b#7", "j#x7", "j#\u00b2", "j#" + "9" * 21,
                 "https://prow.k8s.io/view/gs/b/logs/j/x",
                 "https://prow.k8s.io/view/gs/b/pr-logs/pull/o_r/x/j/1"):
        with pytest.raises(InputError):
            presubmit_module._gcs_build(name, BUCKET)


def test_a_pseudo_release_is_judged_as_the_loaded_release(loaded, fetcher, checkout,
                                                          shared_data) -> None:
    """The base read from git (the real 1.36 spec and lists) gets, endpoint by endpoint,
    the eligibility endpoint_eligibility gives release 1.36.0 with the same lists
    loaded; and the rolled-back transaction leaves nothing behind."""
    conn = loaded
    lists = shared_data / "conformance/ineligible_endpoints.yaml"
    ineligible.load(conn, fetcher, str(lists), "1.36.0")
    (checkout / "pending.yaml").write_text(f"- {STEADY}\n")
    pending.load(conn, fetcher, str(checkout / "pending.yaml"), "1.36.0")
    base, operations = presubmit_module._base_from_git(checkout, "base")
    base = dataclasses.replace(base, pending=frozenset({STEADY}))
    with conn.transaction(force_rollback=True):
        presubmit_module.store_operations(conn, presubmit_module.BASE_RELEASE, operations,
                                          "base")
        judged = presubmit_module.eligibility(conn, presubmit_module.BASE_RELEASE, base)
    loaded_release = conn.execute(
        "SELECT endpoint, level, reason FROM endpoint_eligibility WHERE release = '1.36.0'"
        " ORDER BY endpoint COLLATE \"C\"").fetchall()
    assert [(e.endpoint, e.level, e.reason) for e in judged.values()] == loaded_release
    assert len(loaded_release) == len(operations)
    assert sum(e.reason is None for e in judged.values()) == 520  # 521, less the pending one
    assert judged[STEADY].reason == "pending"
    # nothing of the pseudo-release is left, and the loaded lists are back
    assert conn.execute("SELECT DISTINCT release FROM open_api").fetchall() == [("1.36.0",)]
    assert conn.execute("SELECT endpoint FROM conformance.pending_eligible_endpoint"
                        ).fetchall() == [(STEADY,)]


def test_a_base_that_is_no_revision_is_one_line(loaded, checkout, tmp_path, capsys) -> None:
    pr_log = tmp_path / "audit.log"
    pr_log.write_text(log(event(1, "list", "/api/v1/namespaces/ns/configmaps", CONFORMANCE)))
    for ref, message in (("no-such-ref", f"{checkout}: no revision no-such-ref to compare "
                                         "with"),
                         ("--output=x", "--base-ref '--output=x': not a git revision")):
        assert main(["presubmit", "--checkout", str(checkout), f"--base-ref={ref}",
                     "--audit-log", str(pr_log), "--baseline", BASELINE]) == 1
        assert capsys.readouterr().err == f"snoopdb: error: {message}\n"
    # a list the checkout holds that is no list: its file named
    (checkout / TESTDATA / "pending_eligible_endpoints.yaml").write_text("a: b\n")
    assert main(presubmit(checkout, "--audit-log", str(pr_log), "--baseline", BASELINE)) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: {checkout}: {TESTDATA}/pending_eligible_endpoints.yaml: expected a "
        "list of endpoint names (operationIds)\n")
