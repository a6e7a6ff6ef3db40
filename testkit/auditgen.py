"""Generate large, realistic kube-apiserver audit logs from an OpenAPI spec.

No multi-million-event CI log is available offline, so benchmarks of the audit
loader and the matcher run on logs made here. Every request is one a real API
server would log for some operation of the spec: the URI is filled from the
operation's path template, and the verb is the one kube-apiserver derives from
the HTTP method and the path (`request_info`, after k8s.io/apiserver's
RequestInfoFactory). About 2% of events are requests no operation serves
(health, metrics, aggregated API groups), as in real CI runs.

`example_request` is the single URI builder: tests/test_matching.py imports it
(appending this directory to sys.path) for its round-trip property test, so
the generator and the test agree on what a logged request looks like. It lives
here rather than in the package because only benchmarks and tests need it.

    python -m testkit.auditgen --spec ../shared/data/openapi/swagger-1.36.json.gz \
        --events 1000000 --out /tmp/audit [--files 4] [--seed 1] [--bodies schema]

`--bodies` chooses the request bodies (`requestObject`) of the writes logged at
RequestResponse level: `fixed` (default) a few hand-written shapes, `schema`
bodies drawn from each operation's body schema in the spec (random subsets of
its fields, nested arrays and maps included, one shape per endpoint and user
agent as a test builds the same manifest each time, now and then a field the
schema lacks), `none` no bodies at all. Bodies come from a random stream of their own,
so `schema` and `none` give the very same events otherwise (`fixed` draws
from the main stream, as it always has, so earlier logs stay reproducible).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gzip
import itertools
import random
import re
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BufferedWriter
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import parse_qsl

import orjson
import yaml

from snoopdb.coverage.fields import Field
from snoopdb.loaders.spec import Bodies, Operation, read_operations

REPO = Path(__file__).resolve().parents[1]  # testkit/auditgen.py → the repository
DEFAULT_CONFORMANCE = REPO.parent / "shared" / "data" / "conformance" / "conformance.yaml"
LOG_NAME = "kube-apiserver-audit.log"
START = dt.datetime(2026, 6, 11, 12, 53, 54, tzinfo=dt.timezone.utc)
MEAN_GAP_US = 2_500  # 1M events span about 40 minutes, a busy e2e run
COMMIT = "abc1234"
BATCH = 20_000
BODY_CHOICES = ("fixed", "schema", "none")
# schema bodies: the chance that an optional field is set, at depth 0, 1, 2, …
FIELD_SHARE = (0.5, 0.25, 0.15, 0.1)
UNKNOWN_FIELD_SHARE = 0.01  # bodies with a field their schema does not have
# what a client always sends, so that a body has the shape of a real one
ALWAYS_SET = frozenset({
    "apiVersion", "kind", "metadata", "metadata.name", "spec", "spec.selector", "roleRef",
    "subjects", "spec.containers", "spec.containers[].name", "spec.containers[].image",
    "spec.template", "spec.template.spec", "spec.template.spec.containers",
    "spec.template.spec.containers[].name", "spec.template.spec.containers[].image",
})

# kube-apiserver's verb for a resource request, by HTTP method (anything else: "").
RESOURCE_VERBS = {
    "get": "get", "head": "get", "post": "create", "put": "update",
    "patch": "patch", "delete": "delete",
}
SPECIAL_VERBS = ("proxy", "watch")
NAMESPACE_SUBRESOURCES = ("status", "finalize")

NAMESPACES = (
    "default", "kube-system", "kube-public", "kube-node-lease", "pods-5718",
    "deployment-3312", "webhook-8823", "statefulset-1002", "svcaccounts-4471",
)
POD_PREFIXES = ("agnhost", "pause-pod", "sample-pod", "test-pod")
POD_SUFFIXES = ("4txs9", "7xk2p", "b8m4q", "c2n7d", "dq9zr", "h5wlf")
NODES = (
    "bootstrap-e2e-master", "bootstrap-e2e-minion-group-3cds",
    "bootstrap-e2e-minion-group-vbb6", "bootstrap-e2e-minion-group-x9lk",
)
PROXY_TAILS = (
    "metrics", "stats/summary", "healthz", "configz", "logs/kube-proxy.log", "api/v1/foo",
)
LOG_FILES = ("kube-apiserver.log", "kube-apiserver-audit.log", "containers/etcd-server.log")
LIST_QUERIES = (
    "", "limit=500&resourceVersion=0", "labelSelector=app%3Dagnhost", "limit=500",
    "fieldSelector=metadata.name%3Dsample-pod",
)
EXEC_QUERY = (
    "command=%2Fbin%2Fsh&command=-c&command=cat+%2Fetc%2Fresolv.conf"
    "&container=agnhost-container&stderr=true&stdout=true"
)
NON_CONFORMANCE_TESTS = (
    "[sig-storage] CSI Mock volume storage capacity storage capacity unlimited",
    ("[sig-storage] In-tree Volumes [Driver: nfs] [Testpattern: Dynamic PV (default fs)] "
     "subPath should support existing single file [LinuxOnly]"),
    ("[sig-storage] PersistentVolumes-local [Volume type: block] Set fsGroup for local volume "
     "should set different fsGroup for second pod if first pod is deleted"),
    "[sig-network] Services should create endpoints for unready pods",
    "[sig-network] DNS should provide DNS for ExternalName services",
    ("[sig-network] Netpol NetworkPolicy between server and client should enforce policy to "
     "allow traffic only from a different namespace, based on NamespaceSelector "
     "[Feature:NetworkPolicy]"),
    "[sig-apps] Deployment should not disrupt a cloud load-balancer's connectivity during rollout",
    ("[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should adopt "
     "matching orphans and release non-matching pods"),
    "[sig-node] Pods should support pod readiness gates [NodeConformance]",
    "[sig-node] Probing container should be restarted with a GRPC liveness probe [NodeConformance]",
    "[sig-auth] ServiceAccounts should mount projected service account token when requested",
    "[sig-cli] Kubectl client Simple pod should support exec through an HTTP proxy",
    ("[sig-scheduling] SchedulerPreemption [Serial] validates lower priority pod preemption "
     "by critical pod"),
    ("[sig-api-machinery] API Streaming (aka. WatchList) [FeatureGate:WatchList] server "
     "supports sending resources in Table format [Beta]"),
    "[sig-instrumentation] MetricsGrabber should grab all metrics from a Scheduler.",
    ("[sig-autoscaling] DNS horizontal autoscaling kube-dns-autoscaler should scale kube-dns "
     "pods in both nonfaulty and faulty scenarios"),
)
# Requests that no operation serves: (HTTP method, path, query).
UNMATCHED = (
    ("get", "/healthz", ""), ("get", "/livez", ""), ("get", "/readyz", "verbose=1"),
    ("get", "/readyz/etcd", ""), ("get", "/metrics", ""), ("get", "/openapi/v2", ""),
    ("get", "/openapi/v3/apis/apps/v1", "hash=8F1A"),
    ("get", "/apis/metrics.k8s.io/v1beta1/nodes", ""),
    ("get", "/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods", ""),
    ("get", "/apis/wardle.example.com/v1alpha1/namespaces/aggregator-4421/flunders", ""),
)
UNMATCHED_SHARE = 0.02
RECEIVED_STAGE_SHARE = 0.12  # requests whose RequestReceived stage is logged too
WRITES = frozenset({"post", "put", "patch", "delete", "deletecollection"})  # x-kubernetes-action
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
METADATA_ONLY = frozenset({"secrets", "configmaps", "tokenreviews"})  # GCE's audit policy
E2E_WITHOUT_TEST = 0.08  # e2e framework setup and teardown: no ` -- <test>` in the user agent
# Resources the system components mostly touch (e2e tests and kubectl touch everything).
SYSTEM_RESOURCES = {
    "kube-controller-manager": frozenset({
        "pods", "replicasets", "deployments", "daemonsets", "statefulsets", "jobs",
        "cronjobs", "endpoints", "endpointslices", "events", "leases", "namespaces",
        "serviceaccounts", "secrets", "configmaps", "nodes", "persistentvolumes",
        "persistentvolumeclaims", "resourcequotas", "controllerrevisions", "services",
        "replicationcontrollers", "poddisruptionbudgets", "horizontalpodautoscalers",
    }),
    "kube-scheduler": frozenset({
        "pods", "nodes", "leases", "events", "persistentvolumeclaims", "persistentvolumes",
        "csinodes", "storageclasses", "csidrivers", "namespaces", "poddisruptionbudgets",
        "services", "replicasets", "statefulsets", "csistoragecapacities",
    }),
    "kubelet": frozenset({
        "pods", "nodes", "leases", "configmaps", "secrets", "events", "serviceaccounts",
        "csinodes", "runtimeclasses", "services",
    }),
    "kube-apiserver": frozenset({
        "leases", "endpoints", "endpointslices", "apiservices", "flowschemas",
        "prioritylevelconfigurations", "namespaces", "services", "clusterroles",
        "clusterrolebindings", "roles", "rolebindings", "priorityclasses", "configmaps",
    }),
}
POPULAR = frozenset({
    "pods", "configmaps", "secrets", "leases", "events", "namespaces", "serviceaccounts",
    "nodes", "services", "endpoints", "endpointslices", "deployments", "replicasets",
})
ACTION_WEIGHT = {
    "get": 4.0, "list": 3.0, "post": 2.0, "put": 1.5, "patch": 1.5, "delete": 1.0,
    "deletecollection": 0.3, "watch": 0.05, "watchlist": 0.05, "connect": 0.3, "proxy": 0.05,
}
DISCOVERY_WEIGHT = 0.5


# --- what kube-apiserver logs for a request ---------------------------------

def request_info(method: str, path: str, query: str = "") -> tuple[str, dict[str, str] | None]:
    """The audit verb and objectRef kube-apiserver logs for an HTTP request.

    Non-resource requests log the lowercased HTTP method and no objectRef.
    """
    parts = [s for s in path.split("/") if s]
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return method, None
    rest = parts[1:]
    group = ""
    if parts[0] == "apis":
        if len(rest) < 3:
            return method, None
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    if rest[0] in SPECIAL_VERBS and len(rest) >= 2:
        verb, rest = rest[0], rest[1:]
    else:
        verb = RESOURCE_VERBS.get(method, "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""
    if not name and verb == "get":
        params = dict(parse_qsl(query)) if "watch=" in query or "fieldSelector=" in query else {}
        verb = "watch" if params.get("watch") in ("true", "1") else "list"
        # A list or watch of one object by field selector names that object.
        selector = params.get("fieldSelector", "")
        if selector.startswith("metadata.name=") and "," not in selector:
            name = selector.removeprefix("metadata.name=")
    elif not name and verb == "delete":
        verb = "deletecollection"
    ref = {"resource": rest[0]}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if group:
        ref["apiGroup"] = group
    ref["apiVersion"] = version
    if subresource:
        ref["subresource"] = subresource
    return verb, ref


def _is_param(segment: str) -> bool:
    return segment.startswith("{")


def _object_name(resource: str, rng: random.Random) -> str:
    if resource == "nodes":
        return rng.choice(NODES)
    if resource == "namespaces":
        return rng.choice(NAMESPACES)
    # Tests and controllers come back to the same few objects again and again.
    if resource == "pods":
        return f"{rng.choice(POD_PREFIXES)}-{rng.choice(POD_SUFFIXES)}"
    return f"{resource.removesuffix('s')}-{rng.randrange(12)}"


def _fill(method: str, template: str, rng: random.Random, namespace: str | None) -> str:
    """`template` with every parameter replaced by a plausible value."""
    out = []
    previous = ""
    for segment in template.split("/"):
        if not segment:
            continue
        if not _is_param(segment):
            out.append(segment)
        elif segment == "{namespace}" or previous == "namespaces":
            out.append(namespace or rng.choice(NAMESPACES))
        elif segment == "{path}":
            # The proxy conformance tests name the method in the proxied path.
            if method == "get":
                out.append(rng.choice(PROXY_TAILS))
            else:
                out.append(f"some/path/with/{method.upper()}")
        elif segment == "{logpath}":
            out.append(rng.choice(LOG_FILES))
        else:
            out.append(_object_name(previous, rng))
        previous = segment
    return "/" + "/".join(out)


def _query(
    method: str, template: str, endpoint: str, rng: random.Random, watch_share: float
) -> str:
    if method == "head" and not template.endswith("{path}"):
        return "method=HEAD"  # how the proxy conformance tests issue HEAD
    if endpoint.startswith("list"):
        if rng.random() < watch_share:
            return (f"allowWatchBookmarks=true&resourceVersion={rng.randrange(10**6)}"
                    "&timeout=7m3s&timeoutSeconds=423&watch=true")
        return rng.choice(LIST_QUERIES)
    if endpoint.startswith("watch"):
        return f"resourceVersion={rng.randrange(10**6)}&timeoutSeconds={rng.randrange(300, 600)}"
    if endpoint.endswith(("Exec", "Attach")):
        return EXEC_QUERY
    if endpoint.endswith("Portforward"):
        return f"ports={rng.choice((80, 8080, 9376))}"
    if endpoint.endswith("Log"):
        return "container=agnhost-container&follow=true"
    if method in ("post", "put") and rng.random() < 0.3:
        return "fieldManager=e2e.test&fieldValidation=Strict"
    if template.startswith("/version"):
        return "timeout=32s"
    return ""


def example_request(
    method: str, path_template: str, endpoint: str, rng: random.Random
) -> tuple[str, str]:
    """(verb, requestURI) of a request a real API server would log for this operation."""
    path = _fill(method, path_template, rng, None)
    query = _query(method, path_template, endpoint, rng, 0.2)
    verb, _ = request_info(method, path, query)
    return verb, f"{path}?{query}" if query else path


# --- who sends requests ------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    kind: str  # e2e, kubectl, or a SYSTEM_RESOURCES key
    user_agent: str
    user: dict[str, Any]
    source_ip: str
    reason: str  # authorization.k8s.io/reason


def _x509(name: str) -> dict[str, list[str]]:
    """The `extra` of a user authenticated by a client certificate (fingerprint made up)."""
    fingerprint = uuid.uuid5(uuid.NAMESPACE_DNS, name).hex * 2
    return {"authentication.kubernetes.io/credential-id": [f"X509SHA256={fingerprint}"]}


def _rbac(binding: str, role: str, subject: str) -> str:
    return f'RBAC: allowed by ClusterRoleBinding "{binding}" of ClusterRole "{role}" to {subject}'


ADMIN = {"username": "kubecfg", "groups": ["system:masters", "system:authenticated"],
         "extra": _x509("kubecfg")}
E2E_IP = "136.113.120.209"
CONTROLLERS = (
    "replicaset-controller", "deployment-controller", "namespace-controller",
    "endpointslice-controller", "daemon-set-controller", "job-controller",
    "generic-garbage-collector", "node-controller",
)


def _actors(version: str) -> list[tuple[Actor, float]]:
    """The system actors with their share of all requests (e2e tests send the rest)."""
    suffix = f"/{version} (linux/amd64) kubernetes/{COMMIT}"
    actors: list[tuple[Actor, float]] = []
    for controller in CONTROLLERS:
        account = f"system:serviceaccount:kube-system:{controller}"
        user: dict[str, Any] = {
            "username": account, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, account)),
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                       "system:authenticated"],
        }
        reason = _rbac(f"system:controller:{controller}", f"system:controller:{controller}",
                       f'ServiceAccount "{controller}/kube-system"')
        actors.append((Actor("kube-controller-manager",
                             f"kube-controller-manager{suffix}/{controller}", user, "::1", reason),
                       0.15 / len(CONTROLLERS)))
    scheduler = {"username": "system:kube-scheduler", "uid": "uid:system:kube-scheduler",
                 "groups": ["system:authenticated"]}
    reason = _rbac("system:kube-scheduler", "system:kube-scheduler", 'User "system:kube-scheduler"')
    actors.append((Actor("kube-scheduler", f"kube-scheduler{suffix}/scheduler", scheduler, "::1",
                         reason), 0.04))
    for i, node in enumerate(NODES):
        user = {"username": f"system:node:{node}",
                "groups": ["system:nodes", "system:authenticated"], "extra": _x509(node)}
        actors.append((Actor("kubelet", f"kubelet{suffix}", user, f"34.46.84.{200 + i}", ""),
                       0.12 / len(NODES)))
    apiserver = {"username": "system:apiserver", "uid": "46327326-301d-4eff-a60d-734dcf16efe8",
                 "groups": ["system:authenticated", "system:masters"]}
    actors.append((Actor("kube-apiserver", f"kube-apiserver{suffix}", apiserver, "::1", ""), 0.04))
    actors.append((Actor("kubectl", f"kubectl{suffix}", ADMIN, E2E_IP, ""), 0.05))
    return actors


def _namespace_for(test: str, rng: random.Random) -> str:
    """An e2e framework namespace: the test's base name and a number (`pods-5718`)."""
    words = re.findall(r"[a-z]+", test.split("] ", 1)[-1].lower())
    return f"{words[0] if words else 'e2e'}-{rng.randrange(1000, 10000)}"


# --- the event stream ----------------------------------------------------------

@dataclass(frozen=True)
class _Op:
    op: Operation
    resource: str | None  # None: a non-resource operation
    weight: float


class AuditLogGenerator:
    """A deterministic stream of audit events (serialized JSON lines) for one spec."""

    def __init__(self, operations: Sequence[Operation], tests: Sequence[str], *,
                 version: str, seed: int, parallel_tests: int = 12,
                 bodies: str = "fixed", schemas: SchemaBodies | None = None) -> None:
        if bodies == "schema" and schemas is None:
            raise ValueError("schema bodies need the spec's body schemas (SchemaBodies)")
        self.rng = random.Random(seed)
        self.bodies = bodies
        self.schemas = schemas
        self.body_rng = random.Random(seed + 1)
        self.tests = list(tests)
        weighted = [self._weighted(op) for op in operations]
        system = _actors(version)
        self.system = [actor for actor, _ in system]
        # Cumulative shares of the system actors; a draw above the last one is an e2e test.
        self.system_cum = list(itertools.accumulate(share for _, share in system))
        self.pickers: dict[str, tuple[list[_Op], list[float]]] = {}
        for kind in ("e2e", *SYSTEM_RESOURCES):
            chosen = [o for o in weighted if kind == "e2e" or o.resource in SYSTEM_RESOURCES[kind]]
            self.pickers[kind] = (chosen, list(itertools.accumulate(o.weight for o in chosen)))
        self.pickers["kubectl"] = self.pickers["e2e"]
        self.e2e_plain = Actor("e2e", f"e2e.test/{version} (linux/amd64) kubernetes/{COMMIT}",
                               ADMIN, E2E_IP, "")
        self.running = [self._new_test() for _ in range(parallel_tests)]
        self.clock_us = int(START.timestamp() * 1_000_000)
        self._second = -1
        self._second_text = ""

    @staticmethod
    def _weighted(op: Operation) -> _Op:
        _, ref = request_info(op.method, op.path)
        if ref is None:
            return _Op(op, None, DISCOVERY_WEIGHT)
        weight = ACTION_WEIGHT.get(op.k8s_action or "", 0.2)
        rare_method = op.method in ("head", "options")
        if rare_method or (op.k8s_action == "connect" and op.method not in ("get", "post")):
            weight = 0.02
        if ref["resource"] in POPULAR:
            weight *= 8
        if op.level == "alpha":
            weight *= 0.2
        if "subresource" in ref:
            weight *= 0.25
        return _Op(op, ref["resource"], weight)

    def _new_test(self) -> tuple[Actor, str, int]:
        """(actor, namespace, requests left) of a test that just started."""
        rng = self.rng
        test = rng.choice(self.tests)
        actor = Actor("e2e", f"{self.e2e_plain.user_agent} -- {test}", ADMIN, E2E_IP, "")
        return actor, _namespace_for(test, rng), rng.randrange(50, 2000)

    def _timestamp(self, micros: int) -> str:
        second, fraction = divmod(micros, 1_000_000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{fraction:06d}Z"

    def _pick_actor(self) -> tuple[Actor, str | None]:
        """Who sends the next request, and the namespace of its test (e2e only)."""
        rng = self.rng
        r = rng.random()
        if r < self.system_cum[-1]:
            return self.system[bisect.bisect_right(self.system_cum, r)], None
        if rng.random() < E2E_WITHOUT_TEST:
            return self.e2e_plain, None
        slot = rng.randrange(len(self.running))
        actor, namespace, left = self.running[slot]
        self.running[slot] = (actor, namespace, left - 1) if left > 1 else self._new_test()
        return actor, namespace

    def lines(self, count: int) -> Iterator[bytes]:
        """The next `count` events, each one JSON line, in time order."""
        rng = self.rng
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        left = count
        while left:
            previous = self.clock_us
            self.clock_us += 1 + int(rng.expovariate(1.0 / MEAN_GAP_US))
            actor, namespace = self._pick_actor()
            op: Operation | None = None
            if rng.random() < UNMATCHED_SHARE:
                method, path, query = rng.choice(UNMATCHED)
            else:
                items, cum = self.pickers[actor.kind]
                op = items[bisect.bisect_right(cum, rng.random() * cum[-1])].op
                method = op.method
                path = _fill(method, op.path, rng, namespace)
                watch_share = 0.1 if actor.kind == "e2e" else 0.5
                query = _query(method, op.path, op.endpoint, rng, watch_share)
            verb, ref = request_info(method, path, query)
            if verb == "create" and ref is not None and "name" not in ref:
                # The API server names the created object (from the body) in objectRef.
                ref = _named(ref, _object_name(ref["resource"], rng))
            done = self.clock_us
            # A watch's ResponseComplete comes when the watch ends, minutes after it began.
            if verb == "watch":
                latency = rng.randrange(30_000_000, 600_000_000)
            else:
                latency = rng.randrange(800, 60_000)
            event: dict[str, Any] = {
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": _level(verb, ref),
                "auditID": _uuid4(rng),
                "stage": "ResponseComplete", "requestURI": f"{path}?{query}" if query else path,
                "verb": verb, "user": actor.user, "sourceIPs": [actor.source_ip],
                "userAgent": actor.user_agent,
            }
            if ref is not None:
                event["objectRef"] = ref
            if verb != "watch" and left > 1 and rng.random() < RECEIVED_STAGE_SHARE:
                # Logged when the request arrived: between the previous event and this
                # one, so that the file stays in time order.
                latency = rng.randrange(0, done - previous)
                early = {**event, "stage": "RequestReceived"}
                early["requestReceivedTimestamp"] = self._timestamp(done - latency)
                early["stageTimestamp"] = early["requestReceivedTimestamp"]
                early["annotations"] = _annotations(actor)
                yield dumps(early, option=newline)
                left -= 1
            code = _status_code(verb, ref, op, rng)
            event["responseStatus"] = _status(code, verb, ref)
            if (op is not None and op.k8s_action in WRITES and event["level"] == "RequestResponse"
                    and self.bodies != "none"):
                # fixed bodies draw from the main stream, as they always have, so
                # earlier generated logs stay reproducible
                body_rng = rng if self.bodies == "fixed" else self.body_rng
                if self.schemas is not None and self.bodies == "schema":
                    body = self.schemas.body(op, ref, verb, body_rng, actor.user_agent)
                else:
                    body = _body(op, ref, verb, body_rng)
                event["requestObject"] = body
                if code == 201:
                    created = self._timestamp(done)
                    event["responseObject"] = _created(body, event["auditID"], created,
                                                       body_rng)
            event["requestReceivedTimestamp"] = self._timestamp(done - latency)
            event["stageTimestamp"] = self._timestamp(done)
            event["annotations"] = _annotations(actor)
            yield dumps(event, option=newline)
            left -= 1

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock_us / 1_000_000, dt.timezone.utc)


def _uuid4(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from `rng`: uuid.UUID is three times slower."""
    h = f"{rng.getrandbits(122):031x}"
    return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{'89ab'[int(h[15], 16) & 3]}{h[16:19]}-{h[19:31]}"


def _named(ref: dict[str, str], name: str) -> dict[str, str]:
    """`ref` with `name`, keys in the order kube-apiserver writes them."""
    order = ("resource", "namespace", "name", "apiGroup", "apiVersion", "subresource")
    merged = {**ref, "name": name}
    return {key: merged[key] for key in order if key in merged}


def _level(verb: str, ref: dict[str, str] | None) -> str:
    """The level GCE's audit policy gives: secrets and tokens Metadata, reads Request."""
    if ref is None or ref["resource"] in METADATA_ONLY or ref.get("subresource") == "token":
        return "Metadata"
    return "RequestResponse" if verb in WRITE_VERBS else "Request"


def _status_code(
    verb: str, ref: dict[str, str] | None, op: Operation | None, rng: random.Random
) -> int:
    if op is None:
        return 200
    streams = ref is not None and ref.get("subresource") in ("exec", "attach", "portforward")
    if op.k8s_action == "connect" and verb in ("get", "create") and streams:
        return 101  # the connection is upgraded to a stream
    r = rng.random()
    if verb == "create":
        return 409 if r < 0.03 else 201
    if verb in ("get", "delete") and r < 0.05:
        return 404
    if verb in ("update", "patch") and r < 0.02:
        return 409
    return 200


def _status(code: int, verb: str, ref: dict[str, str] | None) -> dict[str, Any]:
    if code < 400:
        return {"metadata": {}, "code": code}
    what = f'{ref["resource"]} "{ref.get("name", "")}"' if ref else "the object"
    if code == 404:
        reason, message = "NotFound", f"{what} not found"
    elif verb == "create":
        reason, message = "AlreadyExists", f"{what} already exists"
    else:
        reason = "Conflict"
        message = f"Operation cannot be fulfilled on {what}: the object has been modified"
    return {"metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def _annotations(actor: Actor) -> dict[str, str]:
    return {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": actor.reason}


POD_SPEC = {
    "containers": [{
        "name": "agnhost-container",
        "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
        "args": ["netexec", "--http-port=8080"],
        "resources": {"limits": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }],
    "restartPolicy": "Never",
    "terminationGracePeriodSeconds": 30,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
}
GENERIC_SPEC = {"selector": {"matchLabels": {"app": "agnhost"}}, "replicas": 1,
                "template": {"metadata": {"labels": {"app": "agnhost"}}}}
DELETE_OPTIONS = {
    "kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "propagationPolicy": "Background",
}


def _body(
    op: Operation, ref: dict[str, str] | None, verb: str, rng: random.Random
) -> dict[str, Any]:
    """The request body: the object (or patch, or DeleteOptions) the client sent."""
    if verb in ("delete", "deletecollection"):
        return DELETE_OPTIONS
    name = (ref or {}).get("name") or f"e2e-{rng.randrange(16**6):06x}"
    metadata: dict[str, Any] = {"name": name}
    if ref and "namespace" in ref:
        metadata["namespace"] = ref["namespace"]
    metadata["labels"] = {"app": "agnhost", "e2e-run": "4e8a1d2c-9a57-4b1e-8a6a-3b0f3f1e9c21"}
    if verb == "patch":
        return {"metadata": {"labels": metadata["labels"]}}
    group = op.k8s_group or ""
    api_version = f"{group}/{op.k8s_version}" if group else (op.k8s_version or "v1")
    return {"kind": op.k8s_kind or "Unknown", "apiVersion": api_version, "metadata": metadata,
            "spec": POD_SPEC if op.k8s_kind == "Pod" else GENERIC_SPEC}


def _created(body: dict[str, Any], uid: str, when: str, rng: random.Random) -> dict[str, Any]:
    metadata = {**(body.get("metadata") or {}), "uid": uid,
                "resourceVersion": str(rng.randrange(10**7)), "creationTimestamp": when[:19] + "Z"}
    return {**body, "metadata": metadata}


class SchemaBodies:
    """Request bodies drawn from the spec's body schemas: `apiVersion`, `kind` and
    `metadata.name` always, every other field with a chance that falls with depth;
    an array of objects gets one or two items, a map of objects one key."""

    def __init__(self, bodies: Bodies, operations: Sequence[Operation]) -> None:
        self.trees: dict[str, list[_FieldNode]] = {}
        self.by_endpoint: dict[str, str] = {}
        self.shapes: dict[tuple[str, str], bytes] = {}
        for op in operations:
            found = bodies.body_of(op)
            if found is None:
                continue
            definition = found[0]
            self.by_endpoint[op.endpoint] = definition
            if definition not in self.trees:
                self.trees[definition] = _field_tree(bodies.fields(definition))

    @classmethod
    def read(cls, spec: Path) -> tuple[SchemaBodies, list[Operation]]:
        bodies = Bodies()
        with spec.open("rb") as raw:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw) if spec.suffix == ".gz" else raw)
            operations = list(read_operations(stream, str(spec), bodies))
        return cls(bodies, operations), operations

    def body(self, op: Operation, ref: dict[str, str] | None, verb: str,
             rng: random.Random, sender: str) -> dict[str, Any]:
        """A body for `op` from `sender` (a user agent): one sender sends one shape
        of body to an endpoint, as a test's code builds the same manifest each
        time; only the object's name changes (and, now and then, an unknown field)."""
        definition = self.by_endpoint.get(op.endpoint)
        if definition is None:
            return _body(op, ref, verb, rng)
        key = (op.endpoint, sender)
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = self._shape(op, definition, rng)
        out = orjson.loads(shape)  # a fresh copy to name
        metadata = out.get("metadata")
        if isinstance(metadata, dict) and ref and "name" in ref:
            metadata["name"] = ref["name"]
        if rng.random() < UNKNOWN_FIELD_SHARE:
            out["unknownField"] = "set by a newer client"
        return out

    def _shape(self, op: Operation, definition: str, rng: random.Random) -> bytes:
        out = _fill_object(self.trees[definition], 0, rng)
        if "apiVersion" in out and op.k8s_version:
            group = op.k8s_group or ""
            out["apiVersion"] = f"{group}/{op.k8s_version}" if group else op.k8s_version
        if "kind" in out and op.k8s_kind:
            out["kind"] = op.k8s_kind
        return orjson.dumps(out)


@dataclass
class _FieldNode:
    field: Field
    children: list[_FieldNode]


def _field_tree(fields: list[Field]) -> list[_FieldNode]:
    nodes: dict[str, _FieldNode] = {}
    top: list[_FieldNode] = []
    for f in fields:
        node = nodes[f.path] = _FieldNode(f, [])
        (nodes[f.parent].children if f.parent in nodes else top).append(node)
    return top


SCALARS: dict[str, Any] = {"string": "e2e-value", "integer": 1, "number": 0.5, "boolean": True,
                           "object": {}}


def _fill_object(nodes: list[_FieldNode], depth: int, rng: random.Random) -> dict[str, Any]:
    share = FIELD_SHARE[min(depth, len(FIELD_SHARE) - 1)]
    out: dict[str, Any] = {}
    for node in nodes:
        f = node.field
        if f.path not in ALWAYS_SET and rng.random() >= share:
            continue
        out[f.name] = _value(node, depth, rng)
    return out


def _value(node: _FieldNode, depth: int, rng: random.Random) -> Any:
    f = node.field
    if f.recursion or not node.children:
        kind = f.type
        if kind.startswith("array of "):
            return [SCALARS.get(kind[9:], "e2e-value")]
        if kind.startswith("map of "):
            return {"e2e": SCALARS.get(kind[7:], "e2e-value")}
        if kind in ("array", "map"):  # cut at a recursion: an empty one will do
            return [] if kind == "array" else {}
        return SCALARS.get(kind, "e2e-value")
    if f.type == "array":
        return [_fill_object(node.children, depth + 1, rng) for _ in range(rng.randint(1, 2))]
    if f.type == "map":
        return {"e2e": _fill_object(node.children, depth + 1, rng)}
    return _fill_object(node.children, depth + 1, rng)


# --- files -----------------------------------------------------------------------

def write_logs(
    generator: AuditLogGenerator, events: int, out_dir: Path, files: int = 4
) -> list[Path]:
    """`events` events in `files` files named like a GCE job's rotated logs, oldest first.

    Older files are gzipped as `kube-apiserver-audit.log-YYYYMMDD-<unix seconds>.gz`
    (the time of rotation: their last event); the newest is the plain
    `kube-apiserver-audit.log`. A file appears under its name only once complete.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    sizes = [events // files + (1 if i < events % files else 0) for i in range(files)]
    # zlib and file writes release the GIL: one thread writes a batch while the
    # next is generated, and only one batch waits, so memory stays bounded.
    with ThreadPoolExecutor(max_workers=1) as writer:
        for index, size in enumerate(sizes):
            newest = index == files - 1
            partial = out_dir / f".{LOG_NAME}.{index}.partial"
            with partial.open("wb") as raw:
                out: BufferedWriter | gzip.GzipFile = raw if newest else gzip.GzipFile(
                    fileobj=raw, mode="wb", compresslevel=1, mtime=0)
                pending = None
                for start in range(0, size, BATCH):
                    batch = b"".join(generator.lines(min(BATCH, size - start)))
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(out.write, batch)
                if pending is not None:
                    pending.result()
                out.close()
            rotated = generator.now
            rotated_name = f"{LOG_NAME}-{rotated:%Y%m%d}-{int(rotated.timestamp())}.gz"
            name = LOG_NAME if newest else rotated_name
            partial.replace(out_dir / name)
            written.append(out_dir / name)
    return written


def load_tests(conformance: Path) -> list[str]:
    """Test names: every conformance codename, and as many non-conformance names again."""
    codenames = [t["codename"] for t in yaml.safe_load(conformance.read_text())]
    others = itertools.islice(itertools.cycle(NON_CONFORMANCE_TESTS), len(codenames))
    return [*codenames, *others]


def release_version(spec: Path) -> str:
    """`v1.36.0` for swagger-1.36.json.gz; the user agents carry it."""
    found = re.search(r"(\d+)\.(\d+)", spec.name)
    if not found:
        raise SystemExit(f"{spec}: cannot tell the release from the file name (want swagger-1.N…)")
    return f"v{found[1]}.{found[2]}.0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, required=True,
                        help="OpenAPI spec (.json or .json.gz)")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="directory for the log files")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--conformance", type=Path, default=DEFAULT_CONFORMANCE,
                        help="conformance.yaml whose codenames name the e2e tests")
    parser.add_argument("--bodies", choices=BODY_CHOICES, default="fixed",
                        help="request bodies of logged writes: hand-written shapes (fixed), "
                             "drawn from the spec's body schemas (schema), or none")
    args = parser.parse_args(argv)
    if args.files < 1 or args.events < args.files:
        parser.error("need --files >= 1 and at least one event per file")
    schemas, operations = SchemaBodies.read(args.spec)
    generator = AuditLogGenerator(operations, load_tests(args.conformance),
                                  version=release_version(args.spec), seed=args.seed,
                                  bodies=args.bodies, schemas=schemas)
    started = time.perf_counter()
    paths = write_logs(generator, args.events, args.out, args.files)
    seconds = time.perf_counter() - started
    for path in paths:
        print(f"{path}  {path.stat().st_size:,} bytes")
    print(f"{args.events:,} events in {seconds:.1f} s ({args.events / seconds:,.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
