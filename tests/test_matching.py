"""Mapping audit events to operations (snoopdb.coverage.matching), on the real specs and audit logs.

The round-trip property test builds its requests with testkit.auditgen's
`example_request`, the builder of the benchmark logs, so both agree on what an
API server logs; `request_info` is checked here against every real event.
"""

from __future__ import annotations

import functools
import gzip
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from snoopdb.core.errors import DatabaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.matching import (
    IGNORED_PATH,
    NO_METHOD,
    REASONS,
    UNKNOWN_GROUP,
    UNKNOWN_PATH,
    UNKNOWN_VERB,
    Matcher,
)
from snoopdb.loaders import spec
from testkit import auditgen

SPEC_VERSIONS = tuple(f"1.{minor}" for minor in (*range(8, 23), *range(28, 37)))
GCE_SAMPLE = "gce-e2e-v1.37-2065053743543488512-sample.log"


@functools.cache
def _operations(data: Path, version: str) -> tuple[spec.Operation, ...]:
    location = data / "openapi" / f"swagger-{version}.json.gz"
    with gzip.open(location) as stream:
        return tuple(spec.read_operations(stream, str(location)))


@functools.cache
def _matcher(data: Path, version: str) -> Matcher:
    operations = _operations(data, version)
    return Matcher.from_operations((o.method, o.path, o.endpoint) for o in operations)


def _expect(expected: str) -> tuple[str | None, str | None]:
    return (None, expected) if expected in REASONS else (expected, None)


def test_shipped_specs_are_the_ones_tested(shared_data: Path) -> None:
    shipped = {p.name for p in (shared_data / "openapi").glob("swagger-*.json.gz")}
    assert shipped == {f"swagger-{v}.json.gz" for v in SPEC_VERSIONS}


# (verb, requestURI, operationId or reason) against swagger-1.36.
CASES_1_36 = [
    # core, cluster-scoped and namespaced; list vs get; every verb
    ("get", "/api/v1/nodes/bootstrap-e2e-minion-group-3cds", "readCoreV1Node"),
    ("list", "/api/v1/nodes", "listCoreV1Node"),
    ("create", "/api/v1/nodes", "createCoreV1Node"),
    ("update", "/api/v1/nodes/n1", "replaceCoreV1Node"),
    ("patch", "/api/v1/nodes/n1", "patchCoreV1Node"),
    ("delete", "/api/v1/nodes/n1", "deleteCoreV1Node"),
    ("deletecollection", "/api/v1/nodes", "deleteCoreV1CollectionNode"),
    ("get", "/api/v1/namespaces/kube-system/pods/kube-proxy-1", "readCoreV1NamespacedPod"),
    ("list", "/api/v1/namespaces/kube-system/pods?limit=500", "listCoreV1NamespacedPod"),
    ("list", "/api/v1/pods", "listCoreV1PodForAllNamespaces"),
    ("create", "/api/v1/namespaces/pods-5718/pods", "createCoreV1NamespacedPod"),
    ("update", "/api/v1/namespaces/pods-5718/pods/p", "replaceCoreV1NamespacedPod"),
    ("patch", "/api/v1/namespaces/pods-5718/pods/p", "patchCoreV1NamespacedPod"),
    ("delete", "/api/v1/namespaces/pods-5718/pods/p", "deleteCoreV1NamespacedPod"),
    ("deletecollection", "/api/v1/namespaces/pods-5718/pods",
     "deleteCoreV1CollectionNamespacedPod"),
    # groups, cluster-scoped and namespaced
    ("get", "/apis/apps/v1/namespaces/ns/deployments/web", "readAppsV1NamespacedDeployment"),
    ("list", "/apis/apps/v1/deployments", "listAppsV1DeploymentForAllNamespaces"),
    ("get", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:x",
     "readRbacAuthorizationV1ClusterRole"),
    ("list", "/apis/storage.k8s.io/v1/storageclasses", "listStorageV1StorageClass"),
    # watches: ?watch=true on a list is the list operation; /watch/ paths their own
    ("watch", "/api/v1/namespaces/ns/pods?allowWatchBookmarks=true&watch=true",
     "listCoreV1NamespacedPod"),
    ("watch", "/api/v1/namespaces/ns/pods?fieldSelector=metadata.name%3Dp&watch=true",
     "listCoreV1NamespacedPod"),
    ("watch", "/api/v1/watch/namespaces/ns/pods", "watchCoreV1NamespacedPodList"),
    ("watch", "/api/v1/watch/namespaces/ns/pods/p?timeoutSeconds=300", "watchCoreV1NamespacedPod"),
    ("watch", "/api/v1/watch/namespaces/ns", "watchCoreV1Namespace"),
    ("watch", "/apis/apps/v1/watch/deployments", "watchAppsV1DeploymentListForAllNamespaces"),
    # subresources
    ("get", "/api/v1/namespaces/ns/pods/p/status", "readCoreV1NamespacedPodStatus"),
    ("update", "/api/v1/namespaces/ns/pods/p/status", "replaceCoreV1NamespacedPodStatus"),
    ("patch", "/api/v1/nodes/n1/status", "patchCoreV1NodeStatus"),
    ("update", "/apis/apps/v1/namespaces/ns/deployments/web/scale",
     "replaceAppsV1NamespacedDeploymentScale"),
    ("create", "/api/v1/namespaces/ns/pods/p/binding", "createCoreV1NamespacedPodBinding"),
    ("create", "/api/v1/namespaces/ns/bindings", "createCoreV1NamespacedBinding"),
    ("create", "/api/v1/namespaces/ns/pods/p/eviction", "createCoreV1NamespacedPodEviction"),
    ("get", "/api/v1/namespaces/ns/pods/p/log?container=c&follow=true",
     "readCoreV1NamespacedPodLog"),
    ("create", "/api/v1/namespaces/kube-system/serviceaccounts/namespace-controller/token",
     "createCoreV1NamespacedServiceAccountToken"),
    # connect: websocket (GET, logged `get`) and SPDY (POST, logged `create`)
    ("get", "/api/v1/namespaces/ns/pods/p/exec?command=sh&stdout=true",
     "connectCoreV1GetNamespacedPodExec"),
    ("create", "/api/v1/namespaces/ns/pods/p/exec?command=sh&stdout=true",
     "connectCoreV1PostNamespacedPodExec"),
    ("get", "/api/v1/namespaces/ns/pods/p/attach?stdin=true",
     "connectCoreV1GetNamespacedPodAttach"),
    ("create", "/api/v1/namespaces/ns/pods/p/attach", "connectCoreV1PostNamespacedPodAttach"),
    ("get", "/api/v1/namespaces/ns/pods/p/portforward?ports=80",
     "connectCoreV1GetNamespacedPodPortforward"),
    ("create", "/api/v1/namespaces/ns/pods/p/portforward",
     "connectCoreV1PostNamespacedPodPortforward"),
    # namespaces: status and finalize through the general mechanism
    ("get", "/api/v1/namespaces/x/status", "readCoreV1NamespaceStatus"),
    ("update", "/api/v1/namespaces/x/status", "replaceCoreV1NamespaceStatus"),
    ("patch", "/api/v1/namespaces/x/status", "patchCoreV1NamespaceStatus"),
    ("update", "/api/v1/namespaces/x/finalize", "replaceCoreV1NamespaceFinalize"),
    ("get", "/api/v1/namespaces/status", "readCoreV1Namespace"),
    ("list", "/api/v1/namespaces/status/pods", "listCoreV1NamespacedPod"),
    ("get", "/api/v1/namespaces/finalize/pods/status", "readCoreV1NamespacedPod"),
    # proxy: everything after `proxy` is the one {path}
    ("get", "/api/v1/namespaces/ns/services/svc/proxy/a/b/c",
     "connectCoreV1GetNamespacedServiceProxyWithPath"),
    ("get", "/api/v1/namespaces/ns/services/svc/proxy", "connectCoreV1GetNamespacedServiceProxy"),
    ("get", "/api/v1/namespaces/ns/services/svc/proxy/", "connectCoreV1GetNamespacedServiceProxy"),
    ("get", "/api/v1/namespaces/ns/services/https:svc:443/proxy/healthz?x=1",
     "connectCoreV1GetNamespacedServiceProxyWithPath"),
    ("create", "/api/v1/namespaces/ns/pods/p/proxy/some/path/with/POST",
     "connectCoreV1PostNamespacedPodProxyWithPath"),
    ("update", "/api/v1/namespaces/ns/pods/p/proxy?method=PUT",
     "connectCoreV1PutNamespacedPodProxy"),
    ("patch", "/api/v1/namespaces/ns/pods/p/proxy", "connectCoreV1PatchNamespacedPodProxy"),
    ("delete", "/api/v1/nodes/n1/proxy", "connectCoreV1DeleteNodeProxy"),
    ("get", "/api/v1/nodes/n1/proxy/stats/summary", "connectCoreV1GetNodeProxyWithPath"),
    ("get", "/api/v1/nodes/n1/proxy/proxy/status", "connectCoreV1GetNodeProxyWithPath"),
    ("", "/api/v1/nodes/n1/proxy/metrics", "connectCoreV1OptionsNodeProxyWithPath"),
    ("", "/api/v1/namespaces/ns/services/svc/proxy", "connectCoreV1OptionsNamespacedServiceProxy"),
    # HEAD is logged as `get`; the proxy conformance tests end such URIs in HEAD
    ("get", "/api/v1/namespaces/ns/pods/agnhost/proxy?method=HEAD",
     "connectCoreV1HeadNamespacedPodProxy"),
    ("get", "/api/v1/namespaces/ns/services/svc/proxy/some/path/with/HEAD",
     "connectCoreV1HeadNamespacedServiceProxyWithPath"),
    ("get", "/api/v1/namespaces/ns/pods/p?x=HEAD", NO_METHOD),
    # non-resource paths: logged with the lowercased HTTP method
    ("get", "/api", "getCoreAPIVersions"),
    ("get", "/api/?timeout=32s", "getCoreAPIVersions"),
    ("get", "/api/v1", "getCoreV1APIResources"),
    ("get", "/apis", "getAPIVersions"),
    ("get", "/apis/apps", "getAppsAPIGroup"),
    ("get", "/apis/apps/v1", "getAppsV1APIResources"),
    ("get", "/apis/rbac.authorization.k8s.io/", "getRbacAuthorizationAPIGroup"),
    ("get", "/version", "getCodeVersion"),
    ("get", "/version/?timeout=32s", "getCodeVersion"),
    ("get", "/.well-known/openid-configuration", "getServiceAccountIssuerOpenIDConfiguration"),
    ("get", "/openid/v1/jwks", "getServiceAccountIssuerOpenIDKeyset"),
    ("get", "/logs", "logFileListHandler"),
    ("get", "/logs/kube-apiserver.log", "logFileHandler"),
    ("get", "/logs/containers/etcd.log", "logFileHandler"),
    ("post", "/version", NO_METHOD),
    ("head", "/version", NO_METHOD),
    ("options", "/apis", NO_METHOD),
    # health, metrics, the API server's own OpenAPI documents
    ("get", "/healthz", IGNORED_PATH),
    ("get", "/healthz/etcd", IGNORED_PATH),
    ("get", "/livez?verbose", IGNORED_PATH),
    ("get", "/readyz/shutdown", IGNORED_PATH),
    ("get", "/metrics", IGNORED_PATH),
    ("get", "/metrics/slis", IGNORED_PATH),
    ("get", "/openapi/v2", IGNORED_PATH),
    ("get", "/openapi/v3", IGNORED_PATH),
    ("get", "/openapi/v3/apis/apps/v1?hash=8F1A", IGNORED_PATH),
    ("get", "/debug/pprof/profile", IGNORED_PATH),
    # aggregated API groups this spec does not have
    ("list", "/apis/metrics.k8s.io/v1beta1/nodes", UNKNOWN_GROUP),
    ("get", "/apis/metrics.k8s.io", UNKNOWN_GROUP),
    ("list", "/apis/wardle.example.com/v1alpha1/namespaces/ns/flunders", UNKNOWN_GROUP),
    # unknown paths, methods and verbs
    ("list", "/apis/apps/v1beta1/deployments", UNKNOWN_PATH),
    ("list", "/apis/apps/v1/frobnicators", UNKNOWN_PATH),
    ("list", "/api/v2/pods", UNKNOWN_PATH),
    ("get", "/", UNKNOWN_PATH),
    ("get", "/api/v1/namespaces/ns/pods/p/exec/extra", UNKNOWN_PATH),
    ("patch", "/api/v1/namespaces/ns/pods/p/exec", NO_METHOD),
    ("create", "/api/v1/nodes/n1", NO_METHOD),
    ("deletecollection", "/api/v1/namespaces", NO_METHOD),
    ("connect", "/api/v1/namespaces/ns/pods/p/exec", UNKNOWN_VERB),
    ("bind", "/api/v1/namespaces/ns/pods/p", UNKNOWN_VERB),
    ("GET", "/api/v1/nodes", UNKNOWN_VERB),
]


@pytest.mark.parametrize(("verb", "uri", "expected"), CASES_1_36)
def test_matches_release_1_36(shared_data: Path, verb: str, uri: str, expected: str) -> None:
    assert _matcher(shared_data, "1.36").match(verb, uri) == _expect(expected)


# Before 1.10, /api/v1/proxy/… paths: logged with the verb `proxy` whatever the method.
CASES_1_8 = [
    ("proxy", "/api/v1/proxy/nodes/n1", "proxyCoreV1GETNode"),
    ("proxy", "/api/v1/proxy/nodes/n1/stats/summary", "proxyCoreV1GETNodeWithPath"),
    ("proxy", "/api/v1/proxy/namespaces/ns/services/svc/a/b",
     "proxyCoreV1GETNamespacedServiceWithPath"),
    ("proxy", "/api/v1/proxy/namespaces/ns/pods/p", "proxyCoreV1GETNamespacedPod"),
    ("get", "/api/v1/namespaces/ns/pods/p/proxy/x/y", "connectCoreV1GetNamespacedPodProxyWithPath"),
    ("list", "/apis/extensions/v1beta1/namespaces/ns/deployments",
     "listExtensionsV1beta1NamespacedDeployment"),
    ("get", "/apis/admissionregistration.k8s.io/v1alpha1",
     "getAdmissionregistrationV1alpha1APIResources"),
    ("get", "/.well-known/openid-configuration", UNKNOWN_PATH),
    ("list", "/apis/coordination.k8s.io/v1/leases", UNKNOWN_GROUP),
]


@pytest.mark.parametrize(("verb", "uri", "expected"), CASES_1_8)
def test_matches_release_1_8(shared_data: Path, verb: str, uri: str, expected: str) -> None:
    assert _matcher(shared_data, "1.8").match(verb, uri) == _expect(expected)


def test_literal_segment_beats_parameter_and_backtracks() -> None:
    matcher = Matcher.from_operations([
        ("get", "/apis/x.io/v1/namespaces/{namespace}/widgets/{name}", "readWidget"),
        ("get", "/apis/x.io/v1/namespaces/{namespace}/widgets/default", "readDefaultWidget"),
        ("get", "/apis/x.io/v1/namespaces/{namespace}/widgets/default/spec", "readDefaultSpec"),
        ("get", "/apis/x.io/v1/namespaces/{ns}/widgets/{widget}/status", "readWidgetStatus"),
        ("post", "/apis/x.io/v1/namespaces/{namespace}/widgets/{name}", "postWidget"),
    ])
    widgets = "/apis/x.io/v1/namespaces/a/widgets"
    assert matcher.match("get", f"{widgets}/default") == ("readDefaultWidget", None)
    assert matcher.match("get", f"{widgets}/other") == ("readWidget", None)
    assert matcher.match("get", f"{widgets}/default/spec") == ("readDefaultSpec", None)
    # the literal `default` branch has no `status`: back up to the parameter branch
    assert matcher.match("get", f"{widgets}/default/status") == ("readWidgetStatus", None)
    # nor a POST: the parameter template that has one is taken
    assert matcher.match("create", f"{widgets}/default") == ("postWidget", None)
    assert matcher.match("update", f"{widgets}/default") == (None, NO_METHOD)
    assert matcher.match("get", f"{widgets}/other/spec") == (None, UNKNOWN_PATH)


def test_catch_all_only_after_a_proxied_object() -> None:
    matcher = Matcher.from_operations([
        ("get", "/api/v1/proxy/nodes/{name}", "proxyNode"),
        ("get", "/api/v1/proxy/nodes/{name}/{path}", "proxyNodeWithPath"),
        ("get", "/api/v1/nodes/{name}/proxy/{path}", "nodeProxyWithPath"),
    ])
    assert matcher.match("get", "/api/v1/proxy/nodes/n1") == ("proxyNode", None)
    assert matcher.match("get", "/api/v1/proxy/nodes/n1/a/b") == ("proxyNodeWithPath", None)
    # `/api/v1/nodes/{name}/proxy` is no template, so {path} is one plain segment here
    assert matcher.match("get", "/api/v1/nodes/n1/proxy/a") == ("nodeProxyWithPath", None)
    assert matcher.match("get", "/api/v1/nodes/n1/proxy/a/b") == (None, UNKNOWN_PATH)


def test_cache_returns_the_same_result_and_stays_bounded(shared_data: Path) -> None:
    operations = [(o.method, o.path, o.endpoint) for o in _operations(shared_data, "1.36")]
    matcher = Matcher.from_operations(operations, cache_limit=3)
    first = matcher.match("get", "/api/v1/nodes/n1?resourceVersion=0")
    assert matcher.match("get", "/api/v1/nodes/n1") is first
    assert matcher.cache_size == 1
    for i in range(10):
        assert matcher.match("get", f"/api/v1/nodes/n{i}") == ("readCoreV1Node", None)
        assert matcher.cache_size <= 3
    # full at n3, n5, n7 and n9: each time only the newest entry was kept
    assert matcher.cache_size == 2
    assert matcher.match("get", "/api/v1/nodes/n8") == ("readCoreV1Node", None)
    assert matcher.cache_size == 2  # a hit
    assert matcher.match("get", "/api/v1/nodes/n0") == ("readCoreV1Node", None)
    assert matcher.cache_size == 3  # forgotten, resolved again


RBAC = "/apis/rbac.authorization.k8s.io/v1"
LEASES_1_17 = "/apis/coordination.k8s.io/v1beta1/namespaces/kube-node-lease/leases"
# audit2rbac's demos (v1.8 era): kubectl discovery and reads, then the RBAC objects it writes.
AUDIT2RBAC_READS = {
    ("list", "/api/v1/namespaces/default/pods"): "listCoreV1NamespacedPod",
    ("list", "/api/v1/namespaces/ns1/pods"): "listCoreV1NamespacedPod",
    ("list", "/api/v1/namespaces/ns1/configmaps"): "listCoreV1NamespacedConfigMap",
    ("list", "/api/v1/namespaces/ns1/secrets"): "listCoreV1NamespacedSecret",
    ("list", "/api/v1/nodes"): "listCoreV1Node",
    ("list", "/api/v1/pods"): "listCoreV1PodForAllNamespaces",
    ("get", "/api"): "getCoreAPIVersions",
    ("get", "/api/v1"): "getCoreV1APIResources",
    ("get", "/apis"): "getAPIVersions",
    **{("get", f"/apis/{group_version}"): endpoint for group_version, endpoint in [
        ("admissionregistration.k8s.io/v1alpha1", "getAdmissionregistrationV1alpha1APIResources"),
        ("apiextensions.k8s.io/v1beta1", "getApiextensionsV1beta1APIResources"),
        ("apiregistration.k8s.io/v1beta1", "getApiregistrationV1beta1APIResources"),
        ("apps/v1beta1", "getAppsV1beta1APIResources"),
        ("apps/v1beta2", "getAppsV1beta2APIResources"),
        ("authentication.k8s.io/v1", "getAuthenticationV1APIResources"),
        ("authentication.k8s.io/v1beta1", "getAuthenticationV1beta1APIResources"),
        ("authorization.k8s.io/v1", "getAuthorizationV1APIResources"),
        ("authorization.k8s.io/v1beta1", "getAuthorizationV1beta1APIResources"),
        ("autoscaling/v1", "getAutoscalingV1APIResources"),
        ("batch/v1", "getBatchV1APIResources"),
        ("batch/v1beta1", "getBatchV1beta1APIResources"),
        ("certificates.k8s.io/v1beta1", "getCertificatesV1beta1APIResources"),
        ("extensions/v1beta1", "getExtensionsV1beta1APIResources"),
        ("networking.k8s.io/v1", "getNetworkingV1APIResources"),
        ("policy/v1beta1", "getPolicyV1beta1APIResources"),
        ("rbac.authorization.k8s.io/v1", "getRbacAuthorizationV1APIResources"),
        ("rbac.authorization.k8s.io/v1beta1", "getRbacAuthorizationV1beta1APIResources"),
        ("storage.k8s.io/v1", "getStorageV1APIResources"),
        ("storage.k8s.io/v1beta1", "getStorageV1beta1APIResources"),
    ]},
}
AUDIT2RBAC_WRITES = {
    ("create", f"{RBAC}/namespaces/default/roles"): "createRbacAuthorizationV1NamespacedRole",
    ("create", f"{RBAC}/namespaces/default/rolebindings"):
        "createRbacAuthorizationV1NamespacedRoleBinding",
    ("get", f"{RBAC}/namespaces/default/roles/audit2rbac:bob"):
        "readRbacAuthorizationV1NamespacedRole",
    ("get", f"{RBAC}/namespaces/default/rolebindings/audit2rbac:bob"):
        "readRbacAuthorizationV1NamespacedRoleBinding",
    ("delete", f"{RBAC}/namespaces/default/roles/audit2rbac:bob"):
        "deleteRbacAuthorizationV1NamespacedRole",
    ("delete", f"{RBAC}/namespaces/default/rolebindings/audit2rbac:bob"):
        "deleteRbacAuthorizationV1NamespacedRoleBinding",
    ("create", f"{RBAC}/clusterroles"): "createRbacAuthorizationV1ClusterRole",
    ("create", f"{RBAC}/clusterrolebindings"): "createRbacAuthorizationV1ClusterRoleBinding",
    ("get", f"{RBAC}/clusterroles/audit2rbac:bob"): "readRbacAuthorizationV1ClusterRole",
    ("get", f"{RBAC}/clusterroles/audit2rbac:sa1"): "readRbacAuthorizationV1ClusterRole",
    ("get", f"{RBAC}/clusterrolebindings/audit2rbac:bob"):
        "readRbacAuthorizationV1ClusterRoleBinding",
    ("get", f"{RBAC}/clusterrolebindings/audit2rbac:sa1"):
        "readRbacAuthorizationV1ClusterRoleBinding",
    ("patch", f"{RBAC}/clusterroles/audit2rbac:bob"): "patchRbacAuthorizationV1ClusterRole",
    ("patch", f"{RBAC}/clusterroles/audit2rbac:sa1"): "patchRbacAuthorizationV1ClusterRole",
    ("patch", f"{RBAC}/clusterrolebindings/audit2rbac:bob"):
        "patchRbacAuthorizationV1ClusterRoleBinding",
    ("patch", f"{RBAC}/clusterrolebindings/audit2rbac:sa1"):
        "patchRbacAuthorizationV1ClusterRoleBinding",
    ("delete", f"{RBAC}/clusterroles/audit2rbac:bob"): "deleteRbacAuthorizationV1ClusterRole",
    ("delete", f"{RBAC}/clusterrolebindings/audit2rbac:bob"):
        "deleteRbacAuthorizationV1ClusterRoleBinding",
}
# Every event of every real log: the distinct (verb, path) pairs, mapped against the
# spec of the log's era; the table must name every pair the log has.
REAL_LOGS = {
    "apisnoop-embedded-events.log": ("1.17", {
        ("get", "/api/v1/nodes/bootstrap-e2e-minion-group-9s5q"): "readCoreV1Node",
        ("get", "/api/v1/namespaces/kube-system/pods/etcd-empty-dir-cleanup-bootstrap-e2e-master"):
            "readCoreV1NamespacedPod",
        ("get", "/api/v1/namespaces/kube-system/pods/kube-controller-manager-bootstrap-e2e-master"):
            "readCoreV1NamespacedPod",
        ("get", f"{LEASES_1_17}/bootstrap-e2e-master"):
            "readCoordinationV1beta1NamespacedLease",
        ("list", "/apis/storage.k8s.io/v1beta1/csidrivers"): "listStorageV1beta1CSIDriver",
        ("watch", "/api/v1/namespaces/secrets-4749/serviceaccounts"):
            "listCoreV1NamespacedServiceAccount",
        ("list", "/api/v1/namespaces/kube-system/pods"): "listCoreV1NamespacedPod",
    }),
    "apisnoop-example-user-agent-v1beta1.log": ("1.12", {
        ("get", "/api"): "getCoreAPIVersions",
        ("get", "/apis"): "getAPIVersions",
        ("get", "/openapi/v2"): IGNORED_PATH,
        ("list", "/api/v1/namespaces/default/pods"): "listCoreV1NamespacedPod",
        ("list", "/api/v1/nodes"): "listCoreV1Node",
        ("list", "/api/v1/namespaces/default/serviceaccounts"):
            "listCoreV1NamespacedServiceAccount",
        ("list", "/api/v1/namespaces/default/secrets"): "listCoreV1NamespacedSecret",
        ("list", "/apis/extensions/v1beta1/namespaces/default/deployments"):
            "listExtensionsV1beta1NamespacedDeployment",
    }),
    "audit2rbac-demo-v1beta1.log": ("1.8", {**AUDIT2RBAC_READS, **AUDIT2RBAC_WRITES}),
    "audit2rbac-demo-v1.log": ("1.8", AUDIT2RBAC_READS),
    "falco-trace-files-events.log": ("1.17", {
        ("create", "/api/v1/namespaces"): "createCoreV1Namespace",
        ("create", "/api/v1/namespaces/default/configmaps"): "createCoreV1NamespacedConfigMap",
        ("create", "/api/v1/namespaces/default/pods"): "createCoreV1NamespacedPod",
        ("create", "/api/v1/namespaces/default/services"): "createCoreV1NamespacedService",
        ("create", "/api/v1/namespaces/default/secrets"): "createCoreV1NamespacedSecret",
        ("create", "/api/v1/namespaces/kube-system/secrets"): "createCoreV1NamespacedSecret",
        ("create", "/api/v1/namespaces/sysdig-agent/secrets"): "createCoreV1NamespacedSecret",
        ("create", "/api/v1/namespaces/test2/secrets"): "createCoreV1NamespacedSecret",
        ("get", "/api/v1/namespaces/default/pods/nginx-deployment-6dfd8b84dc-6dkjc"):
            "readCoreV1NamespacedPod",
        ("delete", "/api/v1/namespaces/default/secrets/example-secret"):
            "deleteCoreV1NamespacedSecret",
        ("delete", "/api/v1/namespaces/tes/secrets/default-token-lmq4v"):
            "deleteCoreV1NamespacedSecret",
    }),
}
# The v1.37 GCE sample, event by event, against the newest shipped spec.
GCE_SAMPLE_ENDPOINTS = [
    "createRbacAuthorizationV1ClusterRoleBinding",  # kube-apiserver bootstrapping cluster-admin
    "createRbacAuthorizationV1NamespacedRoleBinding",
    "createCoreV1NamespacedServiceAccountToken",  # serviceaccounts/token, kube-controller-manager
    "readCoreV1NamespacedPod",  # kubelet
    "createRbacAuthorizationV1ClusterRoleBinding",
    "readCoreV1NamespacedSecret",
    "createRbacAuthorizationV1ClusterRoleBinding",
    "createRbacAuthorizationV1ClusterRoleBinding",
    "connectCoreV1GetNamespacedPodExec",  # pods/exec over websocket: verb get, code 101
    "connectCoreV1GetNamespacedPodExec",
    "connectCoreV1GetNamespacedPodExec",  # the same from kubectl
    "createRbacAuthorizationV1ClusterRoleBinding",
]


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_gce_sample_maps_event_by_event(shared_data: Path) -> None:
    matcher = _matcher(shared_data, "1.36")
    events = _events(shared_data / "audit" / GCE_SAMPLE)
    assert [matcher.match(e["verb"], e["requestURI"]) for e in events] == [
        (endpoint, None) for endpoint in GCE_SAMPLE_ENDPOINTS]


@pytest.mark.parametrize("name", sorted(REAL_LOGS))
def test_real_audit_logs_map_every_event(shared_data: Path, name: str) -> None:
    version, expected = REAL_LOGS[name]
    matcher = _matcher(shared_data, version)
    events = _events(shared_data / "audit" / name)
    assert {(e["verb"], e["requestURI"].partition("?")[0]) for e in events} == set(expected)
    for event in events:
        key = (event["verb"], event["requestURI"].partition("?")[0])
        assert matcher.match(event["verb"], event["requestURI"]) == _expect(expected[key]), key


def test_every_real_log_is_covered(shared_data: Path) -> None:
    assert {p.name for p in (shared_data / "audit").glob("*.log")} == {*REAL_LOGS, GCE_SAMPLE}


HTTP_METHOD_OF_VERB = {"get": "get", "list": "get", "watch": "get", "create": "post",
                       "update": "put", "patch": "patch", "delete": "delete",
                       "deletecollection": "delete"}
# Trimmed by hand where apisnoop quotes it: a resource request without its objectRef.
TRIMMED_EVENT = "6dfb7495-7cae-44d7-a341-b71676ce2a11"


def test_request_info_reproduces_every_real_event(shared_data: Path) -> None:
    """The generator's verb and objectRef are what real API servers logged."""
    checked = 0
    for log in sorted((shared_data / "audit").glob("*.log")):
        for event in _events(log):
            if event["auditID"] == TRIMMED_EVENT:
                continue
            path, _, query = event["requestURI"].partition("?")
            verb, ref = auditgen.request_info(HTTP_METHOD_OF_VERB[event["verb"]], path, query)
            logged = event.get("objectRef")
            if logged is not None:
                # A created object's name comes from the request body, not the URI.
                body_only = ("uid", "resourceVersion", *(
                    ("name",) if event["verb"] == "create" and "name" not in (ref or {}) else ()))
                logged = {k: v for k, v in logged.items() if k not in body_only}
            assert (verb, ref) == (event["verb"], logged), (log.name, event["requestURI"])
            checked += 1
    assert checked == 866


# --- round trip: every operation of every spec, from a request an API server logs ---

OLD_PROXY_METHODS = ("PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")
# Before 1.10 the API server logged the verb `proxy` for every method on the
# /api/v1/proxy/… paths, so only GET can be told: the other six methods of those
# six paths map to their GET twin and can never be found.
UNREACHABLE_BEFORE_1_10 = {
    f"proxyCoreV1{method}{kind}{suffix}": f"proxyCoreV1GET{kind}{suffix}"
    for method in OLD_PROXY_METHODS
    for kind in ("NamespacedPod", "NamespacedService", "Node")
    for suffix in ("", "WithPath")
}
UNREACHABLE = {"1.8": UNREACHABLE_BEFORE_1_10, "1.9": UNREACHABLE_BEFORE_1_10}
SAMPLES_PER_OPERATION = 3


@functools.cache
def _round_trip(data: Path, version: str) -> tuple[int, dict[str, str | None]]:
    """(operations, {operationId: what its requests mapped to instead})."""
    operations = _operations(data, version)
    matcher = _matcher(data, version)
    rng = random.Random(version)
    missed: dict[str, str | None] = {}
    for op in operations:
        for _ in range(SAMPLES_PER_OPERATION):
            verb, uri = auditgen.example_request(op.method, op.path, op.endpoint, rng)
            endpoint, reason = matcher.match(verb, uri)
            if endpoint != op.endpoint:
                missed[op.endpoint] = endpoint or reason
    return len(operations), missed


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_every_operation_round_trips(shared_data: Path, version: str) -> None:
    _, missed = _round_trip(shared_data, version)
    assert missed == UNREACHABLE.get(version, {})


def test_round_trip_totals(shared_data: Path) -> None:
    results = [_round_trip(shared_data, version) for version in SPEC_VERSIONS]
    total = sum(count for count, _ in results)
    found = total - sum(len(missed) for _, missed in results)
    print(f"\n{found} of {total} operations of {len(SPEC_VERSIONS)} specs round-trip; "
          f"{total - found} cannot (proxy verb before 1.10)")
    assert (found, total) == (24007, 24079)


# --- the matcher's speed: CPU time, best of a few runs, so a busy machine does not fail it ---

def test_build_and_cached_match_are_fast(shared_data: Path) -> None:
    operations = [(o.method, o.path, o.endpoint) for o in _operations(shared_data, "1.36")]
    builds = []
    for _ in range(5):
        started = time.process_time()
        matcher = Matcher.from_operations(operations)
        builds.append(time.process_time() - started)
    assert min(builds) < 0.050
    rng = random.Random(1)
    requests = [auditgen.example_request(*op, rng) for op in operations] * 20
    for verb, uri in requests:
        matcher.match(verb, uri)
    rates = []
    for _ in range(5):
        started = time.process_time()
        for verb, uri in requests:
            matcher.match(verb, uri)
        rates.append(len(requests) / (time.process_time() - started))
    assert max(rates) > 1_000_000


# --- the matcher of a loaded release ---

def test_for_release_matches_like_the_spec(
    conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path
) -> None:
    location = shared_data / "openapi" / "swagger-1.36.json.gz"
    spec.load(conn, fetcher, str(location), "1.36.0", None)
    matcher = Matcher.for_release(conn, "1.36.0")
    for verb, uri, expected in CASES_1_36:
        assert matcher.match(verb, uri) == _expect(expected), uri
    with pytest.raises(DatabaseError, match="release 1.35.0"):
        Matcher.for_release(conn, "1.35.0")


# --- the benchmark log generator ---

def _generate(shared_data: Path, out: Path, seed: int) -> list[Path]:
    generator = auditgen.AuditLogGenerator(
        _operations(shared_data, "1.36"),
        auditgen.load_tests(shared_data / "conformance" / "conformance.yaml"),
        version="v1.36.0", seed=seed)
    return auditgen.write_logs(generator, 6000, out, files=3)


def test_generated_logs(shared_data: Path, tmp_path: Path) -> None:
    paths = _generate(shared_data, tmp_path / "a", seed=7)
    assert [p.name for p in paths[:-1]] == sorted(p.name for p in paths[:-1])
    assert all(re.fullmatch(r"kube-apiserver-audit\.log-2026061\d-\d{10}\.gz", p.name)
               for p in paths[:-1])
    assert paths[-1].name == "kube-apiserver-audit.log"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in paths)
    lines = [line for p in paths
             for line in (gzip.decompress(p.read_bytes()) if p.suffix == ".gz"
                          else p.read_bytes()).splitlines()]
    events = [json.loads(line) for line in lines]
    assert len(events) == 6000
    stamps = [e["stageTimestamp"] for e in events]
    assert stamps == sorted(stamps)

    matcher = _matcher(shared_data, "1.36")
    reasons = Counter(matcher.match(e["verb"], e["requestURI"])[1] for e in events)
    assert set(reasons) == {None, IGNORED_PATH, UNKNOWN_GROUP}
    assert 0.01 < (reasons[IGNORED_PATH] + reasons[UNKNOWN_GROUP]) / len(events) < 0.03
    unmatched = {e["requestURI"] for e in events
                 if matcher.match(e["verb"], e["requestURI"])[0] is None}
    assert unmatched <= {f"{path}?{query}" if query else path
                         for _, path, query in auditgen.UNMATCHED}

    assert {e["kind"] for e in events} == {"Event"}
    assert {e["apiVersion"] for e in events} == {"audit.k8s.io/v1"}
    stages = Counter(e["stage"] for e in events)
    assert set(stages) == {"RequestReceived", "ResponseComplete"}
    received = {e["auditID"] for e in events if e["stage"] == "RequestReceived"}
    assert received <= {e["auditID"] for e in events if e["stage"] == "ResponseComplete"}
    agents = Counter(_agent_kind(e["userAgent"]) for e in events)
    assert set(agents) == {"e2e test", "e2e", "kube-controller-manager", "kube-scheduler",
                           "kubelet", "kube-apiserver", "kubectl"}
    assert 0.5 < (agents["e2e test"] + agents["e2e"]) / len(events) < 0.7
    sizes = [len(line) for line in lines]
    assert 800 < sum(sizes) / len(sizes) < 2000


def _agent_kind(user_agent: str) -> str:
    if user_agent.startswith("e2e.test/"):
        return "e2e test" if " -- " in user_agent else "e2e"
    return user_agent.split("/", 1)[0]


def test_generated_logs_are_deterministic_per_seed(shared_data: Path, tmp_path: Path) -> None:
    first = [p.read_bytes() for p in _generate(shared_data, tmp_path / "a", seed=3)]
    again = [p.read_bytes() for p in _generate(shared_data, tmp_path / "b", seed=3)]
    other = [p.read_bytes() for p in _generate(shared_data, tmp_path / "c", seed=4)]
    assert first == again
    assert first[-1] != other[-1]
