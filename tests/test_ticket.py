"""snoopdb ticket: the mock test ticket of a live test, on a small hand-made dataset."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.commands.ticket import ticket
from snoopdb.core.errors import InputError
from testkit.hits import drop_all_runs, insert_hits

CM = "/api/v1/namespaces/{namespace}/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
# endpoint, path, group, version, kind, action, method, deprecated (all stable, 1.36.0)
SPEC = [
    ("createCoreV1NamespacedConfigMap", CM, "", "v1", "ConfigMap", "post", "post", False),
    ("listCoreV1NamespacedConfigMap", CM, "", "v1", "ConfigMap", "list", "get", False),
    ("readCoreV1NamespacedConfigMap", CM + "/{name}", "", "v1", "ConfigMap", "get", "get", False),
    ("patchCoreV1NamespacedConfigMap", CM + "/{name}", "", "v1", "ConfigMap", "patch", "patch",
     False),
    ("deleteCoreV1NamespacedConfigMap", CM + "/{name}", "", "v1", "ConfigMap", "delete", "delete",
     False),
    ("listCoreV1ConfigMapForAllNamespaces", "/api/v1/configmaps", "", "v1", "ConfigMap", "list",
     "get", False),
    ("watchCoreV1NamespacedConfigMap", "/api/v1/watch/namespaces/{namespace}/configmaps/{name}",
     "", "v1", "ConfigMap", "watch", "get", True),
    ("createAppsV1NamespacedDeployment", DEPLOYMENTS, "apps", "v1", "Deployment", "post", "post",
     False),
    ("replaceAppsV1NamespacedDeployment", DEPLOYMENTS + "/{name}", "apps", "v1", "Deployment",
     "put", "put", False),
    ("readAppsV1NamespacedDeploymentStatus", DEPLOYMENTS + "/{name}/status", "apps", "v1",
     "Deployment", "get", "get", False),
    ("patchAppsV1NamespacedDeploymentStatus", DEPLOYMENTS + "/{name}/status", "apps", "v1",
     "Deployment", "patch", "patch", False),
    ("getCoreAPIVersions", "/api/", None, None, None, None, "get", False),
]
# CI of 1.36: (endpoint, test_hit); listCoreV1NamespacedConfigMap only by a non-test agent
CI_HITS = [("createCoreV1NamespacedConfigMap", True), ("readCoreV1NamespacedConfigMap", True),
           ("createAppsV1NamespacedDeployment", True), ("listCoreV1NamespacedConfigMap", False)]
# CI request-body fields: (endpoint, field, conformance test)
CI_FIELDS = [("createCoreV1NamespacedConfigMap", "metadata.name", True),
             ("createCoreV1NamespacedConfigMap", "data", False)]
# live request-body fields: (user agent, endpoint, field, known, bodies)
LIVE_FIELDS = [
    ("live-test-writing", "createCoreV1NamespacedConfigMap", "metadata.name", True, 1),
    ("live-test-writing", "createCoreV1NamespacedConfigMap", "data", True, 1),
    ("live-test-writing", "createCoreV1NamespacedConfigMap", "metadata.labels", True, 1),
    ("live-test-writing", "createCoreV1NamespacedConfigMap", "dta", False, 1),
    ("live-test-writing", "patchCoreV1NamespacedConfigMap", "metadata.labels", True, 2),
]
LIVE_BODIES = [("live-test-writing", "createCoreV1NamespacedConfigMap", 1),
               ("live-test-writing", "patchCoreV1NamespacedConfigMap", 2)]
# live events: (user agent, endpoint)
LIVE = [
    ("live-test-writing", "createCoreV1NamespacedConfigMap"),
    ("live-test-writing", "patchCoreV1NamespacedConfigMap"),
    ("live-test-writing", "patchCoreV1NamespacedConfigMap"),
    ("live-test-writing", "readCoreV1NamespacedConfigMap"),
    ("live-test-writing", "listCoreV1NamespacedConfigMap"),
    ("live-test-writing", "deleteCoreV1NamespacedConfigMap"),
    ("live-test-writing", "watchCoreV1NamespacedConfigMap"),  # deprecated: not counted
    ("live-test-writing", "replaceAppsV1NamespacedDeployment"),
    ("live-test-writing", "patchAppsV1NamespacedDeploymentStatus"),
    ("live-test-writing", "getCoreAPIVersions"),
    ("live-test-writing", None),  # /healthz
    ("live-other", "listCoreV1ConfigMapForAllNamespaces"),  # another live test
    ("live-done", "createCoreV1NamespacedConfigMap"),
    ("kubelet/v1.36.0", "deleteCoreV1NamespacedConfigMap"),  # not a live test
]

EXPECTED = """\
# Mock test ticket: live-test-writing

What the test running as user agent `live-test-writing` hit in a live cluster, against the Kubernetes 1.36.0 API.

## Endpoints hit

| endpoint | path | hits | tested by CI today |
|---|---|---|---|
| createCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | 1 | yes |
| deleteCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 1 | **no** |
| getCoreAPIVersions | `/api/` | 1 | **no** |
| listCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | 1 | **no** |
| patchAppsV1NamespacedDeploymentStatus | `/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status` | 1 | **no** |
| patchCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 2 | **no** |
| readCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 1 | yes |
| replaceAppsV1NamespacedDeployment | `/apis/apps/v1/namespaces/{namespace}/deployments/{name}` | 1 | **no** |

## Untested endpoints it covers

| endpoint | path | kind | level | eligible for conformance |
|---|---|---|---|---|
| deleteCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | ConfigMap | stable | yes |
| getCoreAPIVersions | `/api/` |  | stable | no: ineligible: discovery |
| listCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | ConfigMap | stable | yes |
| patchAppsV1NamespacedDeploymentStatus | `/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status` | Deployment | stable | yes |
| patchCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | ConfigMap | stable | yes |
| replaceAppsV1NamespacedDeployment | `/apis/apps/v1/namespaces/{namespace}/deployments/{name}` | Deployment | stable | yes |

## Fields it sets that no conformance test sets

From 3 request bodies.

| endpoint | field | set by other CI tests today | bodies |
|---|---|---|---|
| createCoreV1NamespacedConfigMap | `data` | yes | 1 |
| createCoreV1NamespacedConfigMap | `metadata.labels` | no | 1 |
| patchCoreV1NamespacedConfigMap | `metadata.labels` | no | 2 |

Paths it set that the endpoint's schema does not have: `dta` (createCoreV1NamespacedConfigMap).

## Projected change in coverage

If a test with these calls gets merged, **test coverage will go up by 6 endpoints**: from 3 to 9 of the 11 endpoints of 1.36.0 (27.27% to 81.82%).

## Test outline

### ConfigMap (core/v1)

```
Feature: Test create, patch, get, list and delete of ConfigMap (core/v1)
```

- createCoreV1NamespacedConfigMap

```
Scenario: the test can create a ConfigMap
  Given the e2e test has a valid ConfigMap manifest with a label
  When the test creates the ConfigMap
  Then the requested action is accepted without any error
  And the ConfigMap is found with the label
```

- patchCoreV1NamespacedConfigMap (untested)

```
Scenario: the test can patch a ConfigMap
  Given the e2e test has created a ConfigMap
  When the test patches the ConfigMap with a new label
  Then the requested action is accepted without any error
  And the patched label is found
```

- readCoreV1NamespacedConfigMap

```
Scenario: the test can get a ConfigMap
  Given the e2e test has patched the ConfigMap
  When the test gets the ConfigMap by name
  Then the requested action is accepted without any error
  And the ConfigMap has the patched label
```

- listCoreV1ConfigMapForAllNamespaces (untested)
- listCoreV1NamespacedConfigMap (untested)

```
Scenario: the test can list a ConfigMap
  Given the e2e test has created a ConfigMap with a label
  When the test lists ConfigMap objects with a label selector
  Then the requested action is accepted without any error
  And exactly one ConfigMap is found
```

- deleteCoreV1NamespacedConfigMap (untested)

```
Scenario: the test can delete a ConfigMap
  Given the e2e test has a ConfigMap
  When the test deletes the ConfigMap
  Then the requested action is accepted without any error
  And the ConfigMap is no longer found
```

### Deployment (apps/v1)

```
Feature: Test create, patchAppsV1NamespacedDeploymentStatus and replaceAppsV1NamespacedDeployment of Deployment (apps/v1)
```

- createAppsV1NamespacedDeployment

```
Scenario: the test can create a Deployment
  Given the e2e test has a valid Deployment manifest with a label
  When the test creates the Deployment
  Then the requested action is accepted without any error
  And the Deployment is found with the label
```

- patchAppsV1NamespacedDeploymentStatus (untested)

```
Scenario: the test calls patchAppsV1NamespacedDeploymentStatus for a Deployment
  Given the e2e test has created what patchAppsV1NamespacedDeploymentStatus needs
  When the test calls patchAppsV1NamespacedDeploymentStatus
  Then the requested action is accepted without any error
```

- replaceAppsV1NamespacedDeployment (untested)

```
Scenario: the test calls replaceAppsV1NamespacedDeployment for a Deployment
  Given the e2e test has created what replaceAppsV1NamespacedDeployment needs
  When the test calls replaceAppsV1NamespacedDeployment
  Then the requested action is accepted without any error
```
"""


@pytest.fixture
def dataset(conn: psycopg.Connection) -> None:
    with conn.transaction():
        for endpoint, path, group, version, kind, action, method, deprecated in SPEC:
            conn.execute(
                "INSERT INTO open_api (release, endpoint, level, category, path, k8s_group,"
                " k8s_version, k8s_kind, k8s_action, deprecated, description, spec, method)"
                " VALUES ('1.36.0', %s, 'stable', 'core', %s, %s, %s, %s, %s, %s, '', 'hand',"
                " %s)", (endpoint, path, group, version, kind, action, deprecated, method))
        insert_hits(
            conn,
            [("1.36.0", "ci", endpoint, "[sig-x] a test" if test_hit else None, test_hit, False,
              1) for endpoint, test_hit in CI_HITS],
            [("1.36.0", "ci", endpoint, field, True,
              "[sig-x] a test [Conformance]" if conformance else "[sig-x] a test", True,
              conformance, 1) for endpoint, field, conformance in CI_FIELDS])
        for useragent, endpoint, field, known, hits in LIVE_FIELDS:
            conn.execute("INSERT INTO testing.field_hit (source, useragent, endpoint, field, known,"
                         " hits) VALUES ('webhook', %s, %s, %s, %s, %s)",
                         (useragent, endpoint, field, known, hits))
        conn.cursor().executemany("INSERT INTO testing.body_hit (source, useragent, endpoint, bodies)"
                                  " VALUES ('webhook', %s, %s, %s)", LIVE_BODIES)
        conn.execute("INSERT INTO conformance.ineligible_endpoint (endpoint, reason, link)"
                     " VALUES ('getCoreAPIVersions', 'discovery', '')")
        for n, (useragent, endpoint) in enumerate(LIVE):
            conn.execute(
                "INSERT INTO testing.audit_event (release, source, audit_id, endpoint, useragent,"
                " test_hit, conf_test_hit, data) VALUES ('live', 'webhook', %s, %s, %s, false,"
                " false, '{}')", (str(n), endpoint, useragent))
        conn.execute("SELECT refresh_coverage()")


def test_ticket_markdown(conn, dataset) -> None:
    assert ticket(conn, "live-test-writing") == EXPECTED


def test_ticket_when_ci_tests_everything_it_hit(conn, dataset) -> None:
    assert ticket(conn, "live-done") == """\
# Mock test ticket: live-done

What the test running as user agent `live-done` hit in a live cluster, against the Kubernetes 1.36.0 API.

## Endpoints hit

| endpoint | path | hits | tested by CI today |
|---|---|---|---|
| createCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | 1 | yes |

## Untested endpoints it covers

None: CI already tests every endpoint this test hit.

## Fields it sets that no conformance test sets

No request body of this test was logged: the cluster's audit policy must log writes at \
the `Request` or `RequestResponse` level for fields to be seen.

## Projected change in coverage

If a test with these calls gets merged, **test coverage will go up by 0 endpoints**: \
from 3 to 3 of the 11 endpoints of 1.36.0 (27.27% to 27.27%).

## Test outline

No untested endpoint of a Kubernetes kind: nothing to outline.
"""


@pytest.mark.parametrize(("useragent", "error"), [
    ("kubelet/v1.36.0", "user agent 'kubelet/v1.36.0': the testing views follow only user agents "
                        "starting with 'live', e.g. live-test-writing"),
    ("live-nobody", "no live events of user agent 'live-nobody' map to an endpoint of the latest "
                    "release: is the cluster's audit webhook pointing at `snoopdb auditlogger`, "
                    "and did the test set that user agent?"),
])
def test_ticket_errors(conn, dataset, useragent, error) -> None:
    with pytest.raises(InputError) as raised:
        ticket(conn, useragent)
    assert str(raised.value) == error


def test_cli_writes_the_ticket(conn, dataset, settings, capsys, tmp_path: Path) -> None:
    output = tmp_path / "ticket.md"
    assert main(["ticket", "--useragent", "live-test-writing", "--output", str(output)]) == 0
    assert capsys.readouterr().err == f"wrote {output}\n"
    assert output.read_text() == EXPECTED
    assert main(["ticket", "--useragent", "live-test-writing"]) == 0
    assert capsys.readouterr().out == EXPECTED
    assert main(["ticket", "--useragent", "live-nobody"]) == 1
    assert capsys.readouterr().err.startswith(
        "snoopdb: error: no live events of user agent 'live-nobody'")


NO_DATA_EXPECTED = """\
# Mock test ticket: live-test-writing

What the test running as user agent `live-test-writing` hit in a live cluster, against the \
Kubernetes 1.36.0 API.

**No data**: no CI run of 1.36.0 is loaded and no published coverage of it is imported, so \
which of these endpoints CI tests today is unknown. `snoopdb load --release 1.36` loads it.

## Endpoints hit

| endpoint | path | hits | tested by CI today |
|---|---|---|---|
| createCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | 1 | no data |
| deleteCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 1 | no data |
| getCoreAPIVersions | `/api/` | 1 | no data |
| listCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps` | 1 | no data |
| patchAppsV1NamespacedDeploymentStatus | \
`/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status` | 1 | no data |
| patchCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 2 | no data |
| readCoreV1NamespacedConfigMap | `/api/v1/namespaces/{namespace}/configmaps/{name}` | 1 | no data |
| replaceAppsV1NamespacedDeployment | `/apis/apps/v1/namespaces/{namespace}/deployments/{name}` \
| 1 | no data |

## Untested endpoints it covers

No data: which of them CI leaves untested is unknown.

## Fields it sets that no conformance test sets

From 3 request bodies.

No data: which fields conformance tests set is unknown; the fields it set:

| endpoint | field | set by other CI tests today | bodies |
|---|---|---|---|
| createCoreV1NamespacedConfigMap | `data` | no data | 1 |
| createCoreV1NamespacedConfigMap | `metadata.labels` | no data | 1 |
| createCoreV1NamespacedConfigMap | `metadata.name` | no data | 1 |
| patchCoreV1NamespacedConfigMap | `metadata.labels` | no data | 2 |

Paths it set that the endpoint's schema does not have: `dta` (createCoreV1NamespacedConfigMap).

## Projected change in coverage

No data: with no coverage data of 1.36.0, how test coverage would change is unknown. The test \
hit 8 of the 11 endpoints of 1.36.0.

## Test outline
"""


def test_ticket_without_coverage_data_says_no_data(conn, dataset) -> None:
    """No CI run and no published coverage of the release: whether CI tests what the
    live test hit is unknown, and the ticket says "no data" (it said "**no**", and
    "test coverage will go up by 8 endpoints: from 0 to 8")."""
    drop_all_runs(conn)
    conn.execute("SELECT refresh_coverage()")
    markdown = ticket(conn, "live-test-writing")
    head, outline = markdown.split("\n\n### ", 1)
    assert head + "\n" == NO_DATA_EXPECTED
    # every endpoint of the kinds it hit is outlined, each marked "(no data)", not
    # "(untested)"
    assert [line for line in outline.splitlines() if line.startswith(("### ", "- "))] == [
        "- createCoreV1NamespacedConfigMap (no data)",
        "- patchCoreV1NamespacedConfigMap (no data)",
        "- readCoreV1NamespacedConfigMap (no data)",
        "- listCoreV1ConfigMapForAllNamespaces (no data)",
        "- listCoreV1NamespacedConfigMap (no data)",
        "- deleteCoreV1NamespacedConfigMap (no data)",
        "### Deployment (apps/v1)",
        "- createAppsV1NamespacedDeployment (no data)",
        "- patchAppsV1NamespacedDeploymentStatus (no data)",
        "- replaceAppsV1NamespacedDeployment (no data)",
    ]
    assert outline.startswith("ConfigMap (core/v1)\n")
    assert "**no**" not in markdown and "(untested)" not in markdown
