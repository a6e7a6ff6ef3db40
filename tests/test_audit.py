"""Audit ingestion: local logs and prow runs on a loopback GCS into audit_event and endpoint_hit."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.core.config import Settings
from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import spec
from snoopdb.loaders.ci_runs import load_ci_run
from snoopdb.loaders.local_logs import load_log_files
from testkit.gcs_server import GcsServer

CONFORMANCE_UA = ("e2e.test/v1.36.0 (linux/amd64) kubernetes/abc1234 -- "
                  "[sig-node] Pods should get a pod [Conformance]")
DASHED_UA = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc1234 -- [sig-cli] a -- b works"
BINDING_TEST = "[sig-node] Pods should delete a collection of pods [Conformance]"


def event(verb: str, uri: str, useragent: str | None, audit_id: str,
          api_version: str = "audit.k8s.io/v1", stage: str = "ResponseComplete") -> dict:
    e = {"kind": "Event", "apiVersion": api_version, "level": "Metadata", "auditID": audit_id,
         "stage": stage, "requestURI": uri, "verb": verb, "user": {"username": "u"},
         "responseStatus": {"code": 200}}
    if useragent is not None:
        e["userAgent"] = useragent
    return e


EVENTS = [
    event("get", "/api/v1/namespaces/ns/pods/p", CONFORMANCE_UA, "a1"),
    event("watch", "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=1",
          "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc1234", "a2"),
    event("get", "/api/v1/nodes/n1", "kubelet/v1.36.0 (linux/amd64) kubernetes/abc1234", "a3"),
    event("get", "/healthz", "kube-probe/1.36", "a4"),
    event("list", "/apis/metrics.k8s.io/v1beta1/nodes", "kubectl/v1.36.0", "a5"),
    event("create", "/api/v1/namespaces/pods-123/pods/test-pod-abc/binding",
          "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc1234/scheduler", "a6"),
    event("create", "/api/v1/namespaces/default/pods/other/binding",
          "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc1234/scheduler", "a7"),
    event("list", "/api/v1/namespaces/ns/configmaps", DASHED_UA, "a8",
          api_version="audit.k8s.io/v1beta1", stage="RequestReceived"),
    event("get", "/api/v1/namespaces/ns/pods/p", CONFORMANCE_UA, "a9"),
    event("delete", "/api/v1/namespaces/ns/configmaps/c", None, "a10"),
]
EXPECTED_EVENTS = [
    ("a1", "readCoreV1NamespacedPod", CONFORMANCE_UA,
     "[sig-node] Pods should get a pod [Conformance]", True, True, None),
    ("a2", "listCoreV1NamespacedPod", "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc1234",
     "", True, False, None),
    ("a3", "readCoreV1Node", "kubelet/v1.36.0 (linux/amd64) kubernetes/abc1234",
     None, False, False, None),
    ("a4", None, "kube-probe/1.36", None, False, False, "ignored path"),
    ("a5", None, "kubectl/v1.36.0", None, False, False, "unknown API group"),
    ("a6", "createCoreV1NamespacedPodBinding",
     "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc1234/scheduler",
     BINDING_TEST, True, True, None),
    ("a7", "createCoreV1NamespacedPodBinding",
     "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc1234/scheduler",
     None, False, False, None),
    ("a8", "listCoreV1NamespacedConfigMap", DASHED_UA, "[sig-cli] a -- b works", True, False,
     None),
    ("a9", "readCoreV1NamespacedPod", CONFORMANCE_UA,
     "[sig-node] Pods should get a pod [Conformance]", True, True, None),
    ("a10", "deleteCoreV1NamespacedConfigMap", None, None, False, False, None),
]
EXPECTED_HITS = [
    ("createCoreV1NamespacedPodBinding", None, False, False, 1),
    ("createCoreV1NamespacedPodBinding", BINDING_TEST, True, True, 1),
    ("deleteCoreV1NamespacedConfigMap", None, False, False, 1),
    ("listCoreV1NamespacedConfigMap", "[sig-cli] a -- b works", True, False, 1),
    ("listCoreV1NamespacedPod", "", True, False, 1),
    ("readCoreV1NamespacedPod", "[sig-node] Pods should get a pod [Conformance]", True, True, 2),
    ("readCoreV1Node", None, False, False, 1),
]


def write_log(path: Path, events: list[dict], compress: bool = False) -> Path:
    text = "".join(json.dumps(e) + "\n" for e in events).encode()
    path.write_bytes(gzip.compress(text) if compress else text)
    return path


@pytest.fixture
def spec_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def events_of(conn: psycopg.Connection, table: str = "audit_event") -> list[tuple]:
    return conn.execute(
        "SELECT audit_id, endpoint, useragent, test, test_hit, conf_test_hit, error"
        f" FROM {table} ORDER BY id").fetchall()


def hits_of(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT endpoint, test, test_hit, conf_test_hit, hits FROM endpoint_hit"
                        " ORDER BY endpoint, test NULLS FIRST").fetchall()


def load_files(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
               paths: list[Path], **options: bool):
    return load_log_files(conn, fetcher, settings, Releases.load(), paths,
                          parse_release("1.36"), **options)


def test_local_log_rows_and_summary(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "kube-apiserver-audit.log", EVENTS)
    report = load_files(conn, fetcher, settings, [log])
    assert (report.events, report.matched, dict(report.unmatched)) == (
        10, 8, {"ignored path": 1, "unknown API group": 1})
    assert events_of(conn) == EXPECTED_EVENTS
    assert hits_of(conn) == EXPECTED_HITS
    assert conn.execute("SELECT DISTINCT release, release_date, source FROM audit_event"
                        ).fetchall() == [("1.36.0", "2026-04-22", log.resolve().as_uri())]
    stored = conn.execute("SELECT data FROM audit_event WHERE audit_id = 'a8'").fetchone()[0]
    assert stored == EVENTS[7]
    # the summary is exactly the aggregate of the events
    assert conn.execute("""
        SELECT endpoint, test, test_hit, conf_test_hit, count(*) FROM audit_event
        WHERE endpoint IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY endpoint, test NULLS FIRST
        """).fetchall() == EXPECTED_HITS


def test_reload_replaces_the_run(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "audit.log", EVENTS)
    load_files(conn, fetcher, settings, [log])
    load_files(conn, fetcher, settings, [log])
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (10,)
    assert hits_of(conn) == EXPECTED_HITS
    assert conn.execute("SELECT kind, rows, details->>'matched' FROM load_log WHERE kind = 'audit' ORDER BY id"
                        ).fetchall() == [("audit", 10, "8"), ("audit", 10, "8")]


def test_rotated_gzipped_logs_read_oldest_first(conn, fetcher, settings, spec_1_36,
                                                tmp_path) -> None:
    live = write_log(tmp_path / "kube-apiserver-audit.log", EVENTS[6:])
    older = write_log(tmp_path / "kube-apiserver-audit.log-20260611-1718000100.gz",
                      EVENTS[3:6], compress=True)
    oldest = write_log(tmp_path / "kube-apiserver-audit.log-20260611-1718000000.gz",
                       EVENTS[:3], compress=True)
    report = load_files(conn, fetcher, settings, [live, older, oldest])
    assert report.files == 3
    assert events_of(conn) == EXPECTED_EVENTS


def test_malformed_line_names_file_and_line_and_keeps_loaded_rows(
        conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "audit.log", EVENTS)
    load_files(conn, fetcher, settings, [log])
    lines = log.read_text().splitlines()
    lines[3] = lines[3][:40]
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"^{log.resolve()}:4: malformed audit event: "):
        load_files(conn, fetcher, settings, [log])
    assert events_of(conn) == EXPECTED_EVENTS  # the earlier load is untouched
    report = load_files(conn, fetcher, settings, [log], skip_bad_lines=True)
    assert (report.events, report.bad_lines) == (9, 1)
    assert [row[0] for row in events_of(conn)] == ["a1", "a2", "a3", "a5", "a6", "a7", "a8",
                                                   "a9", "a10"]


def test_truncated_gzip_is_an_error(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "audit.log-1.gz", EVENTS * 50, compress=True)
    log.write_bytes(log.read_bytes()[:-200])
    with pytest.raises(InputError, match=rf"^{log.resolve()}:\d+: truncated or corrupt gzip"):
        load_files(conn, fetcher, settings, [log])
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)
    report = load_files(conn, fetcher, settings, [log], skip_bad_lines=True)
    assert report.bad_lines >= 1 and 0 < report.events < 500


def test_testing_logs_go_to_the_live_table(conn, fetcher, settings, spec_1_36, tmp_path) -> None:
    log = write_log(tmp_path / "audit.log", EVENTS[:3])
    load_files(conn, fetcher, settings, [log], testing=True)
    assert events_of(conn, "testing.audit_event") == EXPECTED_EVENTS[:3]
    assert conn.execute("SELECT DISTINCT release FROM testing.audit_event").fetchall() == [
        ("live",)]
    loaded_ms = conn.execute("SELECT DISTINCT release_date::bigint FROM testing.audit_event"
                             ).fetchone()[0]
    assert abs(loaded_ms - time.time() * 1000) < 60_000
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM endpoint_hit").fetchone() == (0,)


def test_real_v1_37_sample(conn, fetcher, settings, spec_1_36, shared_data) -> None:
    sample = shared_data / "audit" / "gce-e2e-v1.37-2065053743543488512-sample.log"
    report = load_files(conn, fetcher, settings, [sample])
    assert (report.events, report.matched) == (12, 12)
    assert conn.execute("SELECT count(*) FILTER (WHERE test_hit), count(DISTINCT test)"
                        " FROM audit_event").fetchone() == (7, 6)
    assert conn.execute("SELECT endpoint, count(*) FROM audit_event WHERE data->'objectRef'"
                        "->>'subresource' IN ('exec', 'token') GROUP BY 1 ORDER BY 1").fetchall() \
        == [("connectCoreV1GetNamespacedPodExec", 3),
           ("createCoreV1NamespacedServiceAccountToken", 1)]


# --- prow runs on a loopback GCS ---------------------------------------------------

JOB = "ci-kubernetes-e2e-gci-gce"
COMMIT = "1b23e20abc"


def put(root: Path, name: str, content: bytes | str) -> None:
    path = root / "kubernetes-ci-logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)


def finished(result: str, version: str = f"v1.37.0-alpha.1.5+{COMMIT}") -> str:
    return json.dumps({"timestamp": 1781180000, "passed": result == "SUCCESS", "result": result,
                       "metadata": {"job-version": version}})


@pytest.fixture
def raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings,
        shared_data: Path) -> Iterator[str]:
    """A loopback GitHub raw server with the spec at COMMIT and at master (the v1.37
    alpha runs' own specs; 1.36's real spec stands in for them)."""
    from testkit.servers import serve_directory
    for ref in (COMMIT, "master"):
        path = tmp_path / "raw" / "kubernetes" / "kubernetes" / ref / "api" / "openapi-spec"
        path.mkdir(parents=True)
        (path / "swagger.json").symlink_to(shared_data / "openapi" / "swagger-1.36.json.gz")
    url, server = serve_directory(tmp_path / "raw")
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", url)
    yield url
    server.shutdown()
    server.server_close()


def spec_at(raw_url: str, ref: str) -> str:
    return f"{raw_url}/kubernetes/kubernetes/{ref}/api/openapi-spec/swagger.json"


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings,
        raw: str) -> Iterator[GcsServer]:
    root = tmp_path / "gcs"
    logs = f"logs/{JOB}"
    put(root, f"{logs}/latest-build.txt", "1003")
    put(root, f"{logs}/1003/finished.json", finished("FAILURE"))
    put(root, f"{logs}/1002/finished.json", finished("SUCCESS"))
    put(root, f"{logs}/1001/finished.json", finished("SUCCESS"))
    master = f"{logs}/1002/artifacts/bootstrap-e2e-master"
    put(root, f"{logs}/1002/artifacts/bootstrap-e2e-minion-group-1/kubelet.log", "x")
    put(root, f"{master}/kube-apiserver-audit.log-20260611-1718000000.gz",
        gzip.compress("".join(json.dumps(e) + "\n" for e in EVENTS[:5]).encode()))
    put(root, f"{master}/kube-apiserver-audit.log",
        "".join(json.dumps(e) + "\n" for e in EVENTS[5:]))
    put(root, f"{master}/kube-scheduler.log", "not an audit log")
    server = GcsServer(root)
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    yield server
    server.close()


def test_latest_successful_run(conn, fetcher, settings, spec_1_36, gcs, raw) -> None:
    report = load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", JOB)
    assert report.source == f"https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/{JOB}/1002"
    assert events_of(conn) == EXPECTED_EVENTS
    # v1.37.0-alpha.1.5+COMMIT: release 1.37.0, not folded into 1.36 (the newest listed);
    # in development, so no date, and its spec is the run's commit's
    assert conn.execute("SELECT DISTINCT release, release_date FROM audit_event").fetchall() \
        == [("1.37.0", None)]
    assert report.spec == spec_at(raw, COMMIT)
    assert conn.execute("SELECT DISTINCT release, release_date, spec FROM open_api"
                        " WHERE release = '1.37.0'").fetchall() == [
        ("1.37.0", None, spec_at(raw, COMMIT))]
    assert hits_of(conn) == EXPECTED_HITS
    # a second load downloads nothing again and replaces the run
    before = sum(gcs.requests.values())
    load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", JOB, "1002")
    # finished.json and started.json only; logs come from cache
    assert sum(gcs.requests.values()) - before == 2
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (10,)


def test_transient_500_is_retried(conn, fetcher, settings, spec_1_36, gcs) -> None:
    name = f"logs/{JOB}/1002/artifacts/bootstrap-e2e-master/kube-apiserver-audit.log"
    gcs.fail_first[name] = 2
    report = load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", JOB)
    assert report.events == 10 and gcs.requests[name] == 3
    assert not list(settings.cache_dir.rglob(".partial-*"))


def test_missing_job_is_a_one_line_error(conn, settings, spec_1_36, gcs, capsys) -> None:
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", "no-such-job"]) == 1
    err = capsys.readouterr().err
    assert err == (f"snoopdb: error: {gcs.url}/kubernetes-ci-logs/logs/no-such-job/"
                   "latest-build.txt: not found (404)\n")


def test_kind_job_layout_and_commit_spec(conn, fetcher, settings, spec_1_36, gcs, tmp_path,
                                         monkeypatch, shared_data) -> None:
    job = "ci-kubernetes-audit-kind-conformance"
    root = gcs.root
    put(root, f"logs/{job}/latest-build.txt", "7")
    put(root, f"logs/{job}/7/finished.json", json.dumps({"result": "SUCCESS"}))
    put(root, f"logs/{job}/7/started.json", json.dumps({"repo-commit": "f" * 40}))
    put(root, f"logs/{job}/7/artifacts/logs/kind-control-plane/kubernetes-version.txt",
        "v1.35.2\n")
    put(root, f"logs/{job}/7/artifacts/audit/audit.log",
        "".join(json.dumps(e) + "\n" for e in EVENTS))
    raw = tmp_path / "raw" / "kubernetes" / "kubernetes" / ("f" * 40) / "api" / "openapi-spec"
    raw.mkdir(parents=True)
    shutil.copy(shared_data / "openapi" / "swagger-1.35.json.gz", raw / "swagger.json")
    from testkit.servers import serve_directory
    url, server = serve_directory(tmp_path / "raw")
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", url)
    try:
        report = load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", job)
    finally:
        server.shutdown()
        server.server_close()
    assert (report.release, report.events, report.matched) == ("1.35.0", 10, 8)
    assert conn.execute("SELECT DISTINCT release, release_date FROM audit_event").fetchall() == [
        ("1.35.0", "2025-12-17")]


def test_cli_loads_default_jobs_for_newest_release(conn, settings, spec_1_36, gcs, raw,
                                                   capsys) -> None:
    for job in ("ci-kubernetes-gce-conformance-latest", "ci-kubernetes-audit-kind-conformance"):
        put(gcs.root, f"logs/{job}/latest-build.txt", "5")
        put(gcs.root, f"logs/{job}/5/finished.json", finished("SUCCESS", "v1.36.1"))
        put(gcs.root, f"logs/{job}/5/artifacts/logs/kind-control-plane/kubernetes-version.txt",
            "v1.36.1")
    master = "logs/ci-kubernetes-gce-conformance-latest/5/artifacts/cluster-logs/e2e-master"
    put(gcs.root, f"{master}/kube-apiserver-audit.log", json.dumps(EVENTS[0]) + "\n")
    put(gcs.root, "logs/ci-kubernetes-audit-kind-conformance/5/artifacts/audit/k.log",
        json.dumps(EVENTS[2]) + "\n")
    assert main(["load", "--release", "1.36", "--only", "audit"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3].startswith(f"audit 1.37.0 from https://prow.k8s.io/view/gs/kubernetes-ci-logs/"
                              f"logs/{JOB}/1002: 10 events, 8 matched, 2 unmatched "
                              "(1 ignored path, 1 unknown API group); release spec from "
                              f"{spec_at(raw, COMMIT)}; ")
    assert " 1 event, 1 matched, 0 unmatched; " in out[-2]
    assert conn.execute("SELECT source, count(*) FROM audit_event GROUP BY 1 ORDER BY 1"
                        ).fetchall() == [
        ("https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/"
         "ci-kubernetes-audit-kind-conformance/5", 1),
        ("https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/1002", 10),
        ("https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/"
         "ci-kubernetes-gce-conformance-latest/5", 1)]


def test_past_release_loads_no_audit_without_a_run(conn, settings, spec_1_36, capsys) -> None:
    # --no-history: without it, apisnoop's published coverage is imported (test_history.py)
    assert main(["load", "--release", "1.36", "--only", "audit", "--no-history",
                 "--releases-file", str(write_releases(settings.data_dir))]) == 0
    assert "CI runs of past releases are gone" in capsys.readouterr().err
    assert conn.execute("SELECT count(*) FROM endpoint_hit").fetchone() == (0,)


def write_releases(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "releases.yaml"
    path.write_text("- {version: 1.37.0, release_date: '2026-08-26'}\n"
                    "- {version: 1.36.0, release_date: '2026-04-22'}\n")
    return path


def test_unknown_job_takes_every_audit_log_under_artifacts(conn, fetcher, settings, spec_1_36,
                                                           gcs) -> None:
    job = "ci-my-own-e2e"
    put(gcs.root, f"logs/{job}/latest-build.txt", "9")
    put(gcs.root, f"logs/{job}/9/finished.json", finished("SUCCESS", "v1.36.2"))
    put(gcs.root, f"logs/{job}/9/artifacts/node/kube-apiserver-audit.log-1.gz",
        gzip.compress((json.dumps(EVENTS[0]) + "\n").encode()))
    put(gcs.root, f"logs/{job}/9/artifacts/node/kube-apiserver-audit.log",
        json.dumps(EVENTS[1]) + "\n")
    put(gcs.root, f"logs/{job}/9/artifacts/node/kubelet.log", "not audit\n")
    report = load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", job)
    assert (report.release, report.files, report.events) == ("1.36.0", 2, 2)
    assert [row[0] for row in events_of(conn)] == ["a1", "a2"]


def test_run_of_a_release_no_list_names(conn, fetcher, settings, spec_1_36, gcs, raw) -> None:
    # v1.38.0-alpha.2: 1.38 is in no list and its commit is not on the raw server:
    # release 1.38.0, in development, its spec read at master
    job = "ci-next-release-e2e"
    put(gcs.root, f"logs/{job}/latest-build.txt", "3")
    put(gcs.root, f"logs/{job}/3/finished.json",
        finished("SUCCESS", "v1.38.0-alpha.2.41+0123456789abcdef"))
    put(gcs.root, f"logs/{job}/3/artifacts/kube-apiserver-audit.log",
        "".join(json.dumps(e) + "\n" for e in EVENTS[:3]))
    report = load_ci_run(conn, fetcher, Settings(), Releases.load(), "kubernetes-ci-logs", job)
    assert (report.release, report.events, report.spec) == ("1.38.0", 3, spec_at(raw, "master"))
    assert conn.execute("SELECT DISTINCT release, release_date FROM audit_event").fetchall() == [
        ("1.38.0", None)]
    assert conn.execute("SELECT release, count(*) > 0 FROM open_api GROUP BY 1 ORDER BY 1"
                        ).fetchall() == [("1.36.0", True), ("1.38.0", True)]


def test_cli_development_release_then_dated(conn, settings, raw, shared_data, capsys) -> None:
    sample = shared_data / "audit" / "gce-e2e-v1.37-2065053743543488512-sample.log"
    assert main(["load", "--release", "1.37", "--only", "spec,audit",
                 "--audit-log", str(sample)]) == 0
    # (the raw server has no past specs: each is a warning)
    assert capsys.readouterr().err.splitlines()[0] == (
        "note: release 1.37 is newer than every release https://raw.githubusercontent.com/"
        "kubernetes-sigs/apisnoop/main/resources/coverage/releases.yaml (cached) lists: loading"
        " it as the release in development (its files at master)")
    assert conn.execute("SELECT DISTINCT release_date, spec FROM open_api"
                        " WHERE release = '1.37.0'").fetchall() == [(None, spec_at(raw, "master"))]
    assert conn.execute("SELECT release, count(*) FROM audit_event GROUP BY 1").fetchall() == [
        ("1.37.0", 12)]
    # a list that dates 1.37 fills its release_date in, loading nothing again
    listed = settings.data_dir / "releases.yaml"
    listed.parent.mkdir(parents=True, exist_ok=True)
    listed.write_text("- {version: 1.38.0, release_date: ''}\n"
                      "- {version: 1.37.0, release_date: '2026-08-26'}\n")
    assert main(["load", "--release", "1.37", "--only", "spec",
                 "--releases-file", str(listed)]) == 0
    assert "spec 1.37.0: released on 2026-08-26; its release_date is filled in" in \
        capsys.readouterr().out
    assert conn.execute("SELECT DISTINCT release_date::date::text FROM open_api"
                        " WHERE release = '1.37.0'").fetchall() == [("2026-08-26",)]
