"""snoopdb ticket: the mock test ticket of a live test, on a small hand-made dataset."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.commands.ticket import ticket
from snoopdb.core.errors import InputError
from testkit import depth_data
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

## Parameters and status codes conformance tests leave out

The spec of 1.36.0 declares no query parameter and no status code for the endpoints it hit.

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

## Parameters and status codes conformance tests leave out

The spec of 1.36.0 declares no query parameter and no status code for the endpoints it hit.

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

## Parameters and status codes conformance tests leave out

The spec of 1.36.0 declares no query parameter and no status code for the endpoints it hit.

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


# A test being written, its events loaded with `load --testing` beside testkit/depth_data's
# CI run: it lists ConfigMaps watching from a resource version, creates one dry-run
# and reads one.
LIVE_UA = "live-configmaps"
LIVE_DEPTH = [
    depth_data.event(101, LIVE_UA, "watch", "/api/v1/namespaces/ns/configmaps"
                     "?watch=true&resourceVersion=7", 200),
    depth_data.event(102, LIVE_UA, "create", "/api/v1/namespaces/ns/configmaps?dryRun=All",
                     201),
    depth_data.event(103, LIVE_UA, "get", "/api/v1/namespaces/ns/configmaps/x", 200),
]


def checklist(markdown: str) -> str:
    return markdown.split("## Parameters and status codes conformance tests leave out\n\n",
                          1)[1].split("\n\n## ", 1)[0]


def test_ticket_checklist_of_what_conformance_tests_leave_out(conn, fetcher, settings,
                                                               tmp_path) -> None:
    """The declared parameters and codes of each endpoint the live test hit that no
    conformance test of the CI run exercised, ticked where the live test did."""
    depth_data.load_depth_data(conn, fetcher, settings, tmp_path, testing=LIVE_DEPTH)
    assert checklist(ticket(conn, LIVE_UA)) == """\
The query parameters (`pretty` aside) and status codes the spec of 1.36.0 declares for the \
endpoints it hit that no conformance test of 1.36.0 passed or saw: the next test's checklist, \
ticked where this test's requests passed the parameter or got the code.

- createCoreV1NamespacedConfigMap
  - [x] parameter `dryRun`
  - [ ] parameter `fieldManager`
  - [ ] status 200
  - [x] status 201
  - [ ] status 202
  - [ ] status 401
- listCoreV1NamespacedConfigMap
  - [x] parameter `resourceVersion`
  - [x] parameter `watch`
  - [ ] status 401
- readCoreV1NamespacedConfigMap
  - [x] status 200
  - [ ] status 401"""


def test_ticket_checklist_without_events_is_no_data(conn, fetcher, settings, tmp_path) -> None:
    """Published coverage only (hits, no events): which parameters conformance tests
    pass is unknown, and the checklist lists every declared one as such."""
    depth_data.load_depth_data(conn, fetcher, settings, tmp_path, events=[],
                               testing=LIVE_DEPTH[2:])
    insert_hits(conn, [("1.36.0", "published", depth_data.READ, depth_data.CONFORMANCE, True,
                        True, 1, True)])
    conn.execute("SELECT refresh_coverage()")
    assert checklist(ticket(conn, LIVE_UA)) == """\
No data: no audit events of 1.36.0 are loaded, so which of them conformance tests exercise is \
unknown. Every query parameter (`pretty` aside) and status code the spec of 1.36.0 declares for \
the endpoints it hit, ticked where this test's requests passed the parameter or got the code:

- readCoreV1NamespacedConfigMap
  - [x] status 200
  - [ ] status 401"""


def test_ticket_checklist_when_conformance_tests_exercise_everything(conn, fetcher, settings,
                                                                     tmp_path) -> None:
    events = [*depth_data.EVENTS,
              depth_data.event(8, depth_data.E2E + depth_data.CONFORMANCE, "get",
                               "/api/v1/namespaces/ns/configmaps/y", 200),
              depth_data.event(9, depth_data.E2E + depth_data.CONFORMANCE, "get",
                               "/api/v1/namespaces/ns/configmaps/y", 401)]
    depth_data.load_depth_data(conn, fetcher, settings, tmp_path, events=events,
                               testing=LIVE_DEPTH[2:])
    assert checklist(ticket(conn, LIVE_UA)) == """\
The query parameters (`pretty` aside) and status codes the spec of 1.36.0 declares for the \
endpoints it hit that no conformance test of 1.36.0 passed or saw: the next test's checklist, \
ticked where this test's requests passed the parameter or got the code.

Conformance tests exercise every declared query parameter and status code of \
readCoreV1NamespacedConfigMap."""


def test_ticket_checklist_on_the_real_spec_and_sample(conn, fetcher, settings, shared_data,
                                                      tmp_path) -> None:
    """The real 1.36 spec and v1.37 CI sample (its exec calls are by e2e tests, none a
    conformance test), and a live test that execs into a pod and lists ConfigMaps by
    label: every declared parameter of both is left out by conformance tests, and the
    ones the live test passed are ticked."""
    from snoopdb.core.releases import Releases, parse_release
    from snoopdb.loaders import spec
    from snoopdb.loaders.local_logs import load_log_files

    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    load_log_files(conn, fetcher, settings, Releases.load(),
                   [shared_data / "audit" / "gce-e2e-v1.37-2065053743543488512-sample.log"],
                   parse_release("1.36"))
    live = [depth_data.event(1, "live-exec", "get", "/api/v1/namespaces/ns/pods/p/exec"
                             "?command=date&container=c&stdout=true&stderr=true", 101),
            depth_data.event(2, "live-exec", "list",
                             "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db&limit=2", 200)]
    load_log_files(conn, fetcher, settings, Releases.load(),
                   [depth_data.write_json_lines(tmp_path / "live.log", live)], None, testing=True)
    assert checklist(ticket(conn, "live-exec")).split("\n\n", 1)[1] == """\
- connectCoreV1GetNamespacedPodExec
  - [x] parameter `command`
  - [x] parameter `container`
  - [x] parameter `stderr`
  - [ ] parameter `stdin`
  - [x] parameter `stdout`
  - [ ] parameter `tty`
  - [ ] status 200
  - [ ] status 401
- listCoreV1NamespacedConfigMap
  - [ ] parameter `allowWatchBookmarks`
  - [ ] parameter `continue`
  - [ ] parameter `fieldSelector`
  - [x] parameter `labelSelector`
  - [x] parameter `limit`
  - [ ] parameter `resourceVersion`
  - [ ] parameter `resourceVersionMatch`
  - [ ] parameter `sendInitialEvents`
  - [ ] parameter `shardSelector`
  - [ ] parameter `timeoutSeconds`
  - [ ] parameter `watch`
  - [x] status 200
  - [ ] status 401"""
