"""Live events (loaders/live.py): `load --testing` and the auditlogger store the same
rows for the same events, mapped and tallied against one release — the newest loaded
spec, even when an older release has the only coverage data — and the auditlogger's
`GET /` and the ticket name that release (its start line too:
test_auditlogger.test_cli_serves_until_terminated)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from test_auditlogger import event_list, newer_spec_without_data, running  # noqa: F401 (a fixture)

from snoopdb.cli import main
from snoopdb.commands.ticket import ticket
from snoopdb.loaders import live
from snoopdb.web.auditlogger import create_app

LIVE_UA = "live-test-writing"
POD_BODY = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}],
                     # new in 1.36, and gone from it (1.35 has it)
                     "schedulingGroup": {"podGroupName": "g"}, "workloadRef": {"name": "w"}}}
EVENTS = [
    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "pod",
     "verb": "create", "requestURI": "/api/v1/namespaces/ns/pods", "userAgent": LIVE_UA,
     "requestObject": POD_BODY},
    # an endpoint new in 1.36
    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "map",
     "verb": "create", "requestURI": "/apis/admissionregistration.k8s.io/v1/"
     "mutatingadmissionpolicies", "userAgent": LIVE_UA,
     "requestObject": {"metadata": {"name": "m"}, "spec": {"failurePolicy": "Fail"}}},
    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "read",
     "verb": "get", "requestURI": "/api/v1/namespaces/ns/pods/p", "userAgent": LIVE_UA},
]
# What a path writes, every column but those naming the path and the time it ran.
WRITTEN = {
    "testing.audit_event": "SELECT release, audit_id, endpoint, error, useragent, test,"
                           " test_hit, conf_test_hit, data FROM testing.audit_event"
                           " WHERE source {} ORDER BY audit_id",
    "testing.field_hit": "SELECT useragent, endpoint, field, known, hits FROM testing.field_hit"
                         " WHERE source {} ORDER BY endpoint, field",
    "testing.body_hit": "SELECT useragent, endpoint, bodies FROM testing.body_hit"
                        " WHERE source {} ORDER BY endpoint",
}


def written(conn: psycopg.Connection, source: str, same: bool) -> dict[str, list[Any]]:
    where = "= %s" if same else "<> %s"
    return {table: conn.execute(sql.format(where), (source,)).fetchall()
            for table, sql in WRITTEN.items()}


def test_both_paths_write_the_same_rows_against_the_newest_spec(
    conn: psycopg.Connection, database_url: str, newer_spec_without_data: None,  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "live.log"
    log.write_text("".join(json.dumps(event) + "\n" for event in EVENTS))
    assert main(["load", "--release", "1.36", "--only", "audit", "--testing",
                 "--audit-log", str(log)]) == 0
    assert f"audit live from {log.as_uri()}: 3 events, 3 matched" in capsys.readouterr().out
    with running(create_app(database_url)) as url:
        # the release before any batch came, as after
        assert requests.get(url, timeout=10).json()["release"] == "1.36.0"
        posted = requests.post(f"{url}/events", data=event_list(EVENTS), timeout=10)
        assert requests.get(url, timeout=10).json()["release"] == "1.36.0"
    assert (posted.status_code, posted.json()) == (200, {"events": 3})
    from_file = written(conn, log.as_uri(), same=True)
    assert written(conn, log.as_uri(), same=False) == from_file
    # mapped and tallied against 1.36: its new endpoint, its schema's fields
    assert [row[:3] for row in from_file["testing.audit_event"]] == [
        ("live", "map", "createAdmissionregistrationV1MutatingAdmissionPolicy"),
        ("live", "pod", "createCoreV1NamespacedPod"),
        ("live", "read", "readCoreV1NamespacedPod")]
    fields = {(endpoint, field): known
              for _, endpoint, field, known, _ in from_file["testing.field_hit"]}
    assert fields[("createCoreV1NamespacedPod", "spec.schedulingGroup.podGroupName")] is True
    assert fields[("createCoreV1NamespacedPod", "spec.workloadRef")] is False
    assert fields[("createAdmissionregistrationV1MutatingAdmissionPolicy",
                   "spec.failurePolicy")] is True
    assert from_file["testing.body_hit"] == [
        (LIVE_UA, "createAdmissionregistrationV1MutatingAdmissionPolicy", 1),
        (LIVE_UA, "createCoreV1NamespacedPod", 1)]
    # the ticket names the same release, and the one CI's coverage is of
    assert ("against the Kubernetes 1.36.0 API. What CI tests is that of 1.35.0, the newest "
            "release with coverage data.") in " ".join(ticket(conn, LIVE_UA).split())
    assert live.live_release(conn) == "1.36.0"
