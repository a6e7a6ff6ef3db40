"""snoopdb auditlogger: the real ASGI app under uvicorn on a loopback port, posting
EventLists made of the real audit events in ../shared/data/audit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import requests
import uvicorn
from starlette.applications import Starlette

from snoopdb.cli import main
from snoopdb.core.config import Settings
from snoopdb.core.errors import ConfigError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import spec
from snoopdb.loaders.local_logs import load_log_files
from snoopdb.web.auditlogger import create_app, parse_duration, parse_size
from snoopdb.web.server import Limits, server_config
from testkit.hits import insert_hits

GCE_SAMPLE = "gce-e2e-v1.37-2065053743543488512-sample.log"
V1BETA1_SAMPLE = "apisnoop-example-user-agent-v1beta1.log"
SOURCE = "webhook 127.0.0.1"
E2E_UA = "e2e.test/v1.37.0 (linux/amd64) kubernetes/1b23e20 -- "
ROW_SQL = ("SELECT audit_id, endpoint, error, useragent, test, test_hit, conf_test_hit"
           " FROM testing.audit_event ORDER BY id")


def real_events(shared_data: Path, name: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (shared_data / "audit" / name).read_bytes().splitlines()
            if line.strip()]


def event_list(items: list[dict[str, Any]], version: str = "audit.k8s.io/v1") -> bytes:
    return orjson.dumps({"kind": "EventList", "apiVersion": version, "items": items})


def as_agent(event: dict[str, Any], useragent: str, audit_id: str | None = None) -> dict[str, Any]:
    return {**event, "userAgent": useragent, "auditID": audit_id or event["auditID"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, ws="none",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def spec_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


@pytest.fixture
def newer_spec_without_data(conn: psycopg.Connection, fetcher: Fetcher,
                            shared_data: Path) -> None:
    """1.35 with CI coverage data, 1.36 loaded with none: live events are mapped
    against 1.36 (loaders/live.py), the views' latest release is 1.35."""
    for release in ("1.35", "1.36"):
        spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-{release}.json.gz"),
                  f"{release}.0", None)
    insert_hits(conn, [("1.35.0", "https://prow.k8s.io/view/gs/b/logs/job/1",
                        "readCoreV1NamespacedPod", "[sig-node] Pods should get a pod "
                        "[Conformance]", True, True, 1)])
    conn.execute("SELECT refresh_coverage()")
    assert conn.execute("SELECT latest_release()").fetchone() == ("1.35.0",)


@pytest.fixture
def gce(shared_data: Path) -> list[dict[str, Any]]:
    return real_events(shared_data, GCE_SAMPLE)


def test_batch_is_stored_with_endpoints_and_test_fields(conn, database_url, spec_1_36, gce) -> None:
    before = int(time.time() * 1000)
    with running(create_app(database_url)) as url:
        response = requests.post(f"{url}/events", data=event_list(gce), timeout=10)
    after = int(time.time() * 1000)
    assert (response.status_code, response.json()) == (200, {"events": 12})
    assert conn.execute(ROW_SQL).fetchall() == [
        ("9e03a350-e54e-4abf-9f55-c433385d8a90", "createRbacAuthorizationV1ClusterRoleBinding",
         None, "kube-apiserver/v1.37.0 (linux/amd64) kubernetes/1b23e20", None, False, False),
        ("647ecc15-c7e8-49d1-89c9-8c8f6ef67ada", "createRbacAuthorizationV1NamespacedRoleBinding",
         None, "kube-apiserver/v1.37.0 (linux/amd64) kubernetes/1b23e20", None, False, False),
        ("619fd260-2162-476d-b743-b3063d12ce19", "createCoreV1NamespacedServiceAccountToken",
         None, gce[2]["userAgent"], None, False, False),
        ("798fdf84-dbbe-49d2-b66b-3542b59382b7", "readCoreV1NamespacedPod",
         None, "kubelet/v1.37.0 (linux/amd64) kubernetes/1b23e20", None, False, False),
        ("ce777224-e69c-46e4-bdc2-382725b296ed", "createRbacAuthorizationV1ClusterRoleBinding",
         None, gce[4]["userAgent"], gce[4]["userAgent"].removeprefix(E2E_UA), True, False),
        ("f92fd9d9-e737-46f0-9d25-24b561a1d032", "readCoreV1NamespacedSecret",
         None, gce[5]["userAgent"], gce[5]["userAgent"].removeprefix(E2E_UA), True, False),
        ("c31ce327-217f-4137-80fa-4f7f6c053a47", "createRbacAuthorizationV1ClusterRoleBinding",
         None, gce[6]["userAgent"], gce[6]["userAgent"].removeprefix(E2E_UA), True, False),
        ("5745dcf1-f04b-48c3-b3a0-8616ba2afe53", "createRbacAuthorizationV1ClusterRoleBinding",
         None, gce[7]["userAgent"], gce[7]["userAgent"].removeprefix(E2E_UA), True, False),
        ("f057546c-fb55-4580-9acb-ede188639fbe", "connectCoreV1GetNamespacedPodExec",
         None, gce[8]["userAgent"], gce[8]["userAgent"].removeprefix(E2E_UA), True, False),
        ("5f81f58c-263e-49a7-b6e3-ac2752ea983f", "connectCoreV1GetNamespacedPodExec",
         None, gce[9]["userAgent"], gce[9]["userAgent"].removeprefix(E2E_UA), True, False),
        ("012b41d4-601b-45df-bbd0-5837fcbb4bb8", "connectCoreV1GetNamespacedPodExec",
         None, "kubectl/v1.37.0 (linux/amd64) kubernetes/1b23e20", None, False, False),
        ("05f83b93-2923-4f1f-a101-0928decb50e4", "createRbacAuthorizationV1ClusterRoleBinding",
         None, gce[11]["userAgent"], gce[11]["userAgent"].removeprefix(E2E_UA), True, False),
    ]
    assert gce[4]["userAgent"].startswith(E2E_UA)
    assert [row[0] for row in conn.execute(
        "SELECT data FROM testing.audit_event ORDER BY id")] == gce
    ((release, source, date_low, date_high),) = conn.execute(
        "SELECT DISTINCT release, source, min(release_date::bigint), max(release_date::bigint)"
        " FROM testing.audit_event GROUP BY 1, 2").fetchall()
    # release_date: when the batch arrived, in epoch milliseconds, as apisnoop's live rows
    assert (release, source, date_low == date_high) == ("live", SOURCE, True)
    assert before <= date_low <= after
    # the CI tables are untouched
    assert conn.execute("SELECT (SELECT count(*) FROM audit_event),"
                        " (SELECT count(*) FROM endpoint_hit)").fetchone() == (0, 0)


def test_v1beta1_event_list_and_unmatched_reasons(conn, database_url, spec_1_36,
                                                  shared_data) -> None:
    events = real_events(shared_data, V1BETA1_SAMPLE)
    with running(create_app(database_url)) as url:
        response = requests.post(f"{url}/events", data=event_list(events, "audit.k8s.io/v1beta1"),
                                 timeout=10)
    assert (response.status_code, response.json()) == (200, {"events": 8})
    assert [row[:3] for row in conn.execute(ROW_SQL)] == [
        ("1ee40a9b-3afa-42b2-80d2-e980d17e580e", "getCoreAPIVersions", None),
        ("4d2adf03-8a03-439c-8c3b-c8edf69e5af0", "getAPIVersions", None),
        ("f0d52beb-f9f3-426f-aa44-f9d854e9a546", "listCoreV1NamespacedPod", None),
        ("dc4ded5e-54f8-447a-ba72-e24593c452de", "listCoreV1Node", None),
        ("276a5831-ff0f-4fce-9681-d03e17602f57", "listCoreV1NamespacedServiceAccount", None),
        ("0de4580a-37b3-4f51-80cf-497974c736e8", "listCoreV1NamespacedSecret", None),
        ("460d861c-8066-4780-9545-b6d35cf8ba03", None, "ignored path"),
        ("a95c9d9c-240c-4607-8804-b4752dd5da8d", None, "unknown API group"),
    ]


def test_testing_views_show_what_the_live_test_hit(conn, database_url, fetcher, settings,
                                                   spec_1_36, gce, shared_data) -> None:
    # CI of 1.36: the sample's e2e.test events test three endpoints
    load_log_files(conn, fetcher, settings, Releases.load(), [shared_data / "audit" / GCE_SAMPLE],
                   parse_release("1.36"))
    conn.execute("SELECT refresh_coverage()")
    live = [
        as_agent(gce[0], "live-test-writing"),  # createRbacAuthorizationV1ClusterRoleBinding
        as_agent(gce[1], "live-test-writing"),  # createRbacAuthorizationV1NamespacedRoleBinding
        as_agent(gce[2], "live-test-writing"),  # createCoreV1NamespacedServiceAccountToken
        as_agent(gce[3], "live-test-writing"),  # readCoreV1NamespacedPod
        as_agent(gce[3], "live-test-writing", "again"),
        as_agent(gce[10], "live-other"),        # connectCoreV1GetNamespacedPodExec
        {**as_agent(gce[3], "live-test-writing", "probe"), "requestURI": "/healthz"},
        gce[3],                                 # the kubelet: not a live test
    ]
    with running(create_app(database_url)) as url:
        assert requests.post(f"{url}/events", data=event_list(live), timeout=10).status_code == 200
    assert conn.execute("SELECT * FROM testing.endpoint_hit_by_new_test").fetchall() == [
        ("live-other", "connectCoreV1GetNamespacedPodExec", True, 1),
        ("live-test-writing", "createCoreV1NamespacedServiceAccountToken", False, 1),
        ("live-test-writing", "createRbacAuthorizationV1ClusterRoleBinding", True, 1),
        ("live-test-writing", "createRbacAuthorizationV1NamespacedRoleBinding", False, 1),
        ("live-test-writing", "readCoreV1NamespacedPod", False, 2),
    ]
    # 1.36 has 908 non-deprecated endpoints (of 1,123); CI tests 3, the live tests 3 more.
    # Its eligible endpoints (no ineligible list loaded): 664 stable, not deprecated, less
    # the discovery operations of internal.apiserver.k8s.io (alpha only) and
    # storagemigration.k8s.io (beta only). No [Conformance] user agent hits one in CI;
    # the five the live user agents hit are all eligible.
    assert conn.execute("SELECT * FROM testing.projected_change_in_coverage").fetchall() == [
        ("test_coverage", 908, 3, 6, 3), ("eligible_coverage", 662, 0, 5, 5)]


def test_live_bodies_tally_fields(conn, database_url, fetcher, settings, spec_1_36, gce,
                                  shared_data) -> None:
    load_log_files(conn, fetcher, settings, Releases.load(), [shared_data / "audit" / GCE_SAMPLE],
                   parse_release("1.36"))
    body = {**gce[4]["requestObject"], "subjects": [{"kind": "User", "name": "u"}],
            "metadata": {"name": "n", "finalizers": ["f"]}, "surprise": True}
    live = [{**as_agent(gce[4], "live-test-writing"), "requestObject": body},
            as_agent(gce[5], "live-test-writing")]  # Metadata level: no body
    with running(create_app(database_url)) as url:
        assert requests.post(f"{url}/events", data=event_list(live), timeout=10).status_code == 200
    assert conn.execute(
        "SELECT endpoint, field, known, hit_by_ete, hit_by_conformance, hit_by_new_test"
        " FROM testing.field_hit_by_new_test WHERE NOT hit_by_ete ORDER BY field").fetchall() == [
        ("createRbacAuthorizationV1ClusterRoleBinding", "metadata.finalizers", True, False,
         False, 1),
        ("createRbacAuthorizationV1ClusterRoleBinding", "surprise", False, False, False, 1),
    ]
    assert conn.execute("SELECT source, useragent, endpoint, bodies FROM testing.body_hit"
                        ).fetchall() == [
        (SOURCE, "live-test-writing", "createRbacAuthorizationV1ClusterRoleBinding", 1)]


def test_matcher_follows_the_newest_loaded_spec(conn, database_url, fetcher, shared_data) -> None:
    openapi = shared_data / "openapi"
    spec.load(conn, fetcher, str(openapi / "swagger-1.20.json.gz"), "1.20.0", None)
    csidrivers = real_events(shared_data, "apisnoop-embedded-events.log")[3]
    assert csidrivers["requestURI"].startswith("/apis/storage.k8s.io/v1beta1/csidrivers")
    with running(create_app(database_url, spec_check_interval=0)) as url:
        first = requests.post(f"{url}/events", data=event_list([csidrivers]), timeout=10)
        assert requests.get(url, timeout=10).json()["release"] == "1.20.0"
        # storage.k8s.io/v1beta1 CSIDrivers were removed in 1.22
        spec.load(conn, fetcher, str(openapi / "swagger-1.36.json.gz"), "1.36.0", None)
        second = requests.post(f"{url}/events", data=event_list([csidrivers]), timeout=10)
        assert requests.get(url, timeout=10).json()["release"] == "1.36.0"
    assert (first.status_code, second.status_code) == (200, 200)
    assert conn.execute("SELECT endpoint, error FROM testing.audit_event ORDER BY id").fetchall() == [
        ("listStorageV1beta1CSIDriver", None), (None, "unknown path")]


def test_hello_and_health(conn, database_url) -> None:
    with running(create_app(database_url)) as url:
        hello = requests.get(f"{url}/", timeout=10)
        health = requests.get(f"{url}/healthz", timeout=10)
        wrong_method = requests.get(f"{url}/events", timeout=10)
    assert hello.status_code == 200
    assert hello.json() == {
        "message": "snoopdb auditlogger: POST audit.k8s.io EventLists (a kube-apiserver audit "
                   "webhook) to /events; they are stored in testing.audit_event. GET /healthz "
                   "for the database.",
        "release": None}
    assert (health.status_code, health.json()) == (200, {"database": "reachable"})
    assert wrong_method.status_code == 405


def test_unreachable_database_is_503(conn, gce) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/snoopdb"
    with running(create_app(closed, db_timeout=0.3)) as url:
        hello = requests.get(f"{url}/", timeout=10)
        health = requests.get(f"{url}/healthz", timeout=10)
        post = requests.post(f"{url}/events", data=event_list(gce), timeout=10)
    assert hello.status_code == 200
    assert health.status_code == 503
    assert health.json() == {"database": "unreachable",
                             "error": "couldn't get a connection after 0.30 sec"}
    assert (post.status_code, post.text) == (
        503, "database unavailable: couldn't get a connection after 0.30 sec\n")


def test_no_spec_loaded_is_503_so_the_api_server_retries(conn, database_url, gce) -> None:
    with running(create_app(database_url)) as url:
        response = requests.post(f"{url}/events", data=event_list(gce), timeout=10)
    assert (response.status_code, response.text) == (
        503, ("no spec is loaded: run `snoopdb load --release X --only spec` so that live events "
              "can be mapped\n"))
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (0,)


def test_bearer_token(conn, database_url, spec_1_36, gce) -> None:
    body = event_list(gce[:2])
    with running(create_app(database_url, token="s3cret")) as url:
        answers = [
            requests.post(f"{url}/events", data=body, timeout=10),
            requests.post(f"{url}/events", data=body, timeout=10,
                          headers={"Authorization": "Bearer wrong"}),
            requests.post(f"{url}/events", data=body, timeout=10,
                          headers={"Authorization": "Basic s3cret"}),
            requests.get(f"{url}/healthz", timeout=10),
            requests.get(f"{url}/", timeout=10),
        ]
        assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (0,)
        accepted = requests.post(f"{url}/events", data=body, timeout=10,
                                 headers={"Authorization": "Bearer s3cret"})
    assert [(a.status_code, a.text, a.headers["WWW-Authenticate"]) for a in answers] == [
        (401, "missing or wrong bearer token\n", "Bearer")] * 5
    assert accepted.status_code == 200
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (2,)


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"kind": "EventList",\n "apiVersion": audit}',
     "body is not JSON (error at line 2, column 16)"),
    (b'{"kind": "EventList", "apiVersion": "\xff"}', "body is not UTF-8 (byte 37)"),
    (b"[]", "body is a JSON list, not an EventList object"),
    (b'{"kind": "Event", "apiVersion": "audit.k8s.io/v1"}', "kind is 'Event', expected 'EventList'"),
    (b'{"kind": "EventList", "apiVersion": "audit.k8s.io/v2", "items": []}',
     "apiVersion is 'audit.k8s.io/v2', expected one of audit.k8s.io/v1, audit.k8s.io/v1beta1"),
    (b'{"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": {}}',
     "items is a JSON dict, not a list"),
])
def test_not_an_event_list_is_400(conn, database_url, spec_1_36, body, reason) -> None:
    with running(create_app(database_url)) as url:
        response = requests.post(f"{url}/events", data=body, timeout=10)
    assert (response.status_code, response.text) == (400, f"not an EventList: {reason}\n")


def test_one_bad_event_rejects_the_whole_batch(conn, database_url, spec_1_36, gce) -> None:
    no_verb = {k: v for k, v in gce[1].items() if k != "verb"}
    with running(create_app(database_url)) as url:
        answers = [requests.post(f"{url}/events", data=event_list(items), timeout=10)
                   for items in ([gce[0], no_verb, gce[2]], [gce[0], "text", gce[2]])]
    assert [(a.status_code, a.text) for a in answers] == [
        (400, "items[1] is not a usable audit event: no verb; nothing of this batch was "
              "stored\n"),
        (400, "not an EventList: items[1] is a JSON str, not an Event\n")]
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (0,)


def test_body_over_the_limit_is_413(conn, database_url, spec_1_36, gce) -> None:
    body = event_list(gce[:3])
    limit = len(body) - 1
    with running(create_app(database_url, max_body=limit)) as url:
        declared = requests.post(f"{url}/events", data=body, timeout=10)
        # chunked: no Content-Length, so the server counts while it reads
        streamed = requests.post(f"{url}/events", data=iter([body[:100], body[100:]]), timeout=10)
        at_limit = requests.post(f"{url}/events", data=event_list(gce[:2]), timeout=10)
    assert [(r.status_code, r.text) for r in (declared, streamed)] == [
        (413, f"body larger than the {limit} byte limit\n")] * 2
    assert streamed.request.headers["Transfer-Encoding"] == "chunked"
    assert len(event_list(gce[:2])) <= limit and at_limit.status_code == 200
    assert conn.execute("SELECT audit_id FROM testing.audit_event ORDER BY id").fetchall() == [
        (gce[0]["auditID"],), (gce[1]["auditID"],)]


def test_delete_older_test_events(conn) -> None:
    conn.execute(
        "INSERT INTO testing.audit_event (release, source, audit_id, test_hit, conf_test_hit,"
        " data, ingested_at) SELECT 'live', 'webhook', a, false, false, '{}', localtimestamp - age"
        " FROM (VALUES ('3h', interval '3 hours'), ('2h', interval '2 hours'),"
        " ('10m', interval '10 minutes')) AS v(a, age)")
    assert conn.execute("SELECT delete_older_test_events('1 hour')").fetchone() == (
        "2 events removed",)
    assert conn.execute("SELECT audit_id FROM testing.audit_event").fetchall() == [("10m",)]
    assert conn.execute(
        "SELECT obj_description('delete_older_test_events(interval)'::regprocedure),"
        " obj_description('testing.audit_event_ingested_at'::regclass)").fetchone() == (
        ('Delete the live events (testing.audit_event) and their field tallies ingested'
         ' longer than the interval ago; returns "N events removed"'),
        "Finds the live events older than a cutoff for delete_older_test_events()")


def test_retention_sweeps_old_events_periodically(conn, database_url, spec_1_36, gce) -> None:
    app = create_app(database_url, retain=dt.timedelta(hours=1), retention_interval=0.05)
    with running(app) as url:
        assert requests.post(f"{url}/events", data=event_list(gce[:3]), timeout=10).ok
        conn.execute("UPDATE testing.audit_event SET ingested_at = ingested_at - interval '61 min'"
                     " WHERE audit_id <> %s", (gce[2]["auditID"],))
        assert requests.post(f"{url}/events", data=event_list(gce[3:4]), timeout=10).ok
        wait_for(lambda: conn.execute("SELECT count(*) FROM testing.audit_event").fetchone()
                 == (2,))
    assert conn.execute("SELECT audit_id FROM testing.audit_event ORDER BY id").fetchall() == [
        (gce[2]["auditID"],), (gce[3]["auditID"],)]


def test_concurrent_batches_each_stored_exactly_once(conn, database_url, spec_1_36,
                                                     shared_data) -> None:
    pool = [e for name in (GCE_SAMPLE, V1BETA1_SAMPLE, "falco-trace-files-events.log",
                           "audit2rbac-demo-v1.log")
            for e in real_events(shared_data, name)]
    clients, batches, size = 8, 15, 40
    results: dict[tuple[int, int], int] = {}

    def client(number: int, url: str) -> None:
        session = requests.Session()
        for batch in range(batches):
            items = [{**pool[(number * batches + batch + i) % len(pool)],
                      "auditID": f"c{number}-b{batch}-{i}"} for i in range(size)]
            if batch % 5 == 4:  # every fifth batch carries a malformed last event
                items[-1] = {"auditID": "bad"}
            response = session.post(f"{url}/events", data=event_list(items), timeout=30)
            results[(number, batch)] = response.status_code

    with running(create_app(database_url)) as url:
        threads = [threading.Thread(target=client, args=(n, url)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(set(results.values())) == [200, 400]
    assert all(status == (400 if batch % 5 == 4 else 200)
               for (_, batch), status in results.items())
    acknowledged = {f"c{n}-b{b}-{i}" for (n, b), status in results.items() if status == 200
                    for i in range(size)}
    stored = conn.execute("SELECT audit_id, count(*) FROM testing.audit_event GROUP BY 1"
                          ).fetchall()
    assert len(acknowledged) == clients * 12 * size
    assert {audit_id for audit_id, _ in stored} == acknowledged
    assert {count for _, count in stored} == {1}


@pytest.mark.slow
def test_cli_serves_until_terminated(conn, database_url, newer_spec_without_data, gce,
                                    tmp_path) -> None:
    """The start line and GET / name the release live events are mapped against, the
    newest loaded spec (1.36, which has no coverage data; 1.35 has)."""
    token_file = tmp_path / "token"
    token_file.write_text("t0ken\n")
    token_file.chmod(0o640)  # readable by its group: warned about
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen(
        # the installed entry point, as users run it (not the checkout's package)
        [str(Path(sys.executable).with_name("snoopdb")), "auditlogger", "--port", str(port),
         "--token-file", str(token_file), "--retain", "7d", "--log-level", "warning"],
        env=env, stderr=subprocess.PIPE, text=True)
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer t0ken"}

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", headers=auth, timeout=1).status_code == 200
        except requests.ConnectionError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return False

    try:
        wait_for(healthy, 30)
        hello = requests.get(url, headers=auth, timeout=10).json()
        response = requests.post(f"{url}/events", data=event_list(gce[:4]), headers=auth,
                                 timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert (response.status_code, hello["release"]) == (200, "1.36.0")
    # uvicorn shuts down gracefully, then re-raises the signal for the exit status
    assert server.returncode == -signal.SIGTERM
    assert stderr.splitlines() == [
        f"snoopdb: warning: --token-file {token_file} is readable by its group or others "
        "(mode 640): anyone who reads it can post events; chmod 600 it", (
        f"auditlogger: POST http://127.0.0.1:{port}/events stores into testing.audit_event of "
        f"{database_url}, mapped with the spec of 1.36.0; bearer token required; bodies up to "
        "10485760 bytes; events kept for 7d")]
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (4,)


@pytest.mark.parametrize(("argv", "status", "error"), [
    (["--retain", "soon"], 2,
     "--retain: 'soon' is not a duration such as 30m, 24h or 7d (0 keeps events forever)"),
    (["--retain", "99999999999d"], 2, "--retain: 99999999999d is longer than 3650d (10 years):"
     " keep events at most that long, or forever with 0"),
    (["--retain", "999999999d"], 2, "--retain: 999999999d is longer than 3650d (10 years):"
     " keep events at most that long, or forever with 0"),
    (["--retain", "3650d1s"], 2, "--retain: 3650d1s is longer than 3650d (10 years):"
     " keep events at most that long, or forever with 0"),
    (["--max-body", "lots"], 2, "--max-body: 'lots' is not a size such as 10MB or 512KB"),
    (["--token-file", "/nonexistent/token"], 1,
     "--token-file /nonexistent/token: No such file or directory"),
    ([], 1, "no spec is loaded: run `snoopdb load --release X` first"),
])
def test_cli_errors_are_one_line(conn, settings: Settings, capsys, argv, status, error) -> None:
    assert main(["auditlogger", *argv]) == status
    assert capsys.readouterr().err == f"snoopdb: error: {error}\n"


def test_the_longest_retention_sweeps(conn) -> None:
    """A retention as long as --retain takes is one PostgreSQL can subtract from now."""
    assert conn.execute("SELECT delete_older_test_events(%s)",
                        (parse_duration("3650d"),)).fetchone() is not None


def test_parse_duration_and_size() -> None:
    assert [parse_duration(t) for t in ("90s", "30m", "24h", "7d", "1h30m", "0", "0h")] == [
        dt.timedelta(seconds=90), dt.timedelta(minutes=30), dt.timedelta(hours=24),
        dt.timedelta(days=7), dt.timedelta(minutes=90), None, None]
    assert [parse_size(t) for t in ("10MB", "512KiB", "1G", "2048", "3k")] == [
        10 * 1024**2, 512 * 1024, 1024**3, 2048, 3 * 1024]
    for bad in ("24", "h", "1h 30m", "-1h", "3651d", "87601h", "9" * 5000 + "s",
                "1" + "0" * 20 + "s"):
        with pytest.raises(ConfigError):
            parse_duration(bad)
    assert parse_duration("87600h") == parse_duration("3650d") == dt.timedelta(days=3650)
    for bad in ("0", "MB", "1T", "-5"):
        with pytest.raises(ConfigError):
            parse_size(bad)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("change", "reason"), [
    ({"userAgent": 123}, "userAgent is a number, not a string"),
    ({"userAgent": ["e2e.test"]}, "userAgent is an array, not a string"),
    ({"auditID": "a\u0000b"}, "auditID holds a NUL character"),
    ({"userAgent": "kubectl\u0000"}, "userAgent holds a NUL character"),
    ({"verb": {"get": 1}}, "verb is an object, not a string"),
    ({"requestURI": None}, "no requestURI"),
    ({"requestObject": nested(300)}, "cannot be stored as JSON: Recursion limit reached"),
])
def test_a_batch_with_an_unusable_event_is_400_naming_it(conn, database_url, spec_1_36, gce,
                                                          change, reason) -> None:
    bad = {**gce[2], **change}
    with running(create_app(database_url)) as url:
        # stdlib json: orjson, like the server, writes no more than 254 levels
        batch = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                            "items": [gce[0], gce[1], bad, gce[3]]}).encode()
        answer = requests.post(f"{url}/events", data=batch, timeout=10)
        # NUL elsewhere in an event is kept, as U+FFFD (jsonb cannot hold NUL)
        kept = {**gce[4], "requestObject": {"data": "a\u0000b"}}
        assert requests.post(f"{url}/events", data=event_list([kept]), timeout=10).status_code \
            == 200
    assert (answer.status_code, answer.text) == (
        400, f"items[2] is not a usable audit event: {reason}; nothing of this batch was stored\n")
    assert conn.execute("SELECT data->'requestObject'->>'data' FROM testing.audit_event"
                        ).fetchall() == [("a\ufffdb",)]


@pytest.mark.parametrize("number", ["1e131073", "-2.5e400"])
def test_a_number_too_large_to_read_is_400_naming_its_item(conn, database_url, spec_1_36, gce,
                                                           number: str) -> None:
    """orjson reads numbers as doubles and refuses a body holding one past ~1.8e308 whole:
    the answer names the item, as it does for other unusable events."""
    bad = {**gce[2], "requestObject": {"spec": {"replicas": "NUMBER"}}}
    batch = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                        "items": [gce[0], gce[1], bad, gce[3]]}).encode()
    with running(create_app(database_url)) as url:
        answer = requests.post(f"{url}/events", data=batch.replace(b'"NUMBER"', number.encode()),
                               timeout=10)
    assert (answer.status_code, answer.text) == (
        400, f"items[2] is not a usable audit event: number {number} is too large to read "
             "(beyond about 1.8e308); nothing of this batch was stored\n")
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (0,)


@contextlib.contextmanager
def guarded(app: Starlette, limits: Limits) -> Iterator[tuple[str, int]]:
    """`app` served as `snoopdb auditlogger` serves it (server_config), on a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(server_config(app, limits, log_level="warning"))
    server.config.log_config = None
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def slow_client(port: int) -> socket.socket:
    """A client that has sent one header line of a request and then nothing."""
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\n")
    return client


def closed_by_server(client: socket.socket, seconds: float) -> bool:
    client.settimeout(seconds)
    try:
        return client.recv(1) == b""
    except (TimeoutError, ConnectionResetError):
        return isinstance(sys.exc_info()[1], ConnectionResetError)


def test_slow_clients_are_cut_off_and_the_connection_count_capped(conn, database_url, spec_1_36,
                                                                   gce) -> None:
    limits = Limits(header_timeout=2.0, max_connections=20)
    with guarded(create_app(database_url), limits) as (url, port):
        session = requests.Session()
        assert session.post(f"{url}/events", data=event_list(gce[:2]), timeout=10).ok
        slow = [slow_client(port) for _ in range(40)]
        # past the cap, each new connection evicts the one waiting longest for its headers
        assert all(closed_by_server(client, 1) for client in slow[:20])
        # a new client is served though slow ones fill the cap, and so is the kept-alive one
        assert requests.post(f"{url}/events", data=event_list(gce[4:6]), timeout=10).ok
        assert session.post(f"{url}/events", data=event_list(gce[2:4]), timeout=10).ok
        # the rest are cut off when their headers are late
        assert all(closed_by_server(client, 4) for client in slow[21:])
        for client in slow:
            client.close()
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (6,)


def test_a_body_dripped_slower_than_the_body_timeout_is_408(conn, database_url,
                                                            spec_1_36, gce) -> None:
    with guarded(create_app(database_url, body_timeout=0.5), Limits()) as (url, port):
        body = event_list(gce[:2])
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        client.settimeout(5)
        assert client.recv(100).startswith(b"HTTP/1.1 408 ")
        client.close()
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (0,)
