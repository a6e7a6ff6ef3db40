"""Benchmark: `snoopdb load --only history` of a generated folder of apisnoop's
published coverage files, one per known release (1.5–1.36).

    python -m bench.history [--database-url URL] [--data ../shared/data] [--seed N] [--out DIR]

Generates the folder (deterministic for a seed; into a temporary folder unless
--out), creates a scratch database on the server of --database-url, runs
`snoopdb load --only history --history-dir DIR` there and prints its wall time
and peak RSS, the rows it produced (endpoint_hit, open_api, historical
conformance.test), the releases conformance.progress and
conformance.coverage_per_release cover, and the time of importing the same folder
again. Then it loads the conformance.yaml and ineligible list the summaries were
computed with and prints what `snoopdb compare-published` says of the folder (every
release the same, when the views compute the totals as apisnoop does). The
database is dropped at the end.

The generated folder looks like apisnoop's resources/coverage/:

* one file per release, listing the operations of the real spec of that release
  in ../shared/data/openapi (the nearest one where none is shipped), without the
  watch and deprecated ones, as apisnoop does. Releases up to 1.16 are in the old
  form (`1.15.json`, compact, release "1.15", no `tests` section): the loader
  finds them with its second try. Later ones are `1.17.0.json`, indented, with
  the `tests` section and the totals;
* `conformance-progress.json`, `conformance-coverage-per-release.json` and
  `ineligible_endpoints.json`, computed from the generated files. The import does
  not read them (`snoopdb compare-published` reads the first).

Coverage is made up, but shaped like the real files:

* each endpoint gets a fixed profile (seeded by the seed and its name): a
  threshold that decides from which release on it is tested (the share of tested
  endpoints grows release by release, more for stable endpoints), and the tests
  that hit it once they exist. The number of tests is log-normal, and a few
  endpoints every test uses (namespaces, pods) are tested in every release, by
  80 % of the tests. Files come out about as large as the real ones (1.36.0.json
  3.9 MB, apisnoop's 3.5 MB; 1.15.json 1.4 MB, apisnoop's 1.9 MB);
* conformance tests come from conformance-1.36.yaml. A test is listed with its
  codename from its promotion release on, and without ` [Conformance]` in the
  two releases before that. Before 1.20, `[sig-node] X` tests are named
  `[k8s.io] X`, as they were then; no conformance.yaml lists those names. Stable
  endpoints are hit by conformance tests, first those whose name has the
  endpoint's kind;
* the other tests are `[sig-…] subject should …` names, 600 in 1.5 and 30 more
  in each later release;
* the special cases of the real files: `tests: [null]` for an untested endpoint,
  a trailing null (hits from other user agents), an unnamed e2e.test (`""`), a
  tested endpoint with no named test, and a conformance-tested endpoint whose
  conformance test name was cut short (apisnoop cut names at `--`).

With conformance.yaml not loaded (`--only history` loads nothing else), every
conformance test the files name becomes a historical conformance.test row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, parse_release
from snoopdb.loaders import conformance, ineligible
from snoopdb.loaders.conformance import ConformanceTest
from snoopdb.loaders.spec import Operation, read_operations
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent

DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_SEED = 20260422
CONFORMANCE_TAG = " [Conformance]"
# The last release whose file has apisnoop's old form (`1.16.json`, no tests section).
LAST_OLD_FORM = 16
# Before this release the sig-node conformance tests were named `[k8s.io] …`.
SIG_NODE_RENAMED = 20
# A conformance test runs (without the tag) this many releases before its promotion.
RUNS_BEFORE_PROMOTION = 2
# Endpoints (almost) every test uses: creating its namespace, its pods, waiting for nodes.
HEAVY_HITTERS = frozenset({
    "readCoreV1Namespace", "createCoreV1Namespace", "deleteCoreV1Namespace",
    "listCoreV1NamespacedPod", "createCoreV1NamespacedPod", "readCoreV1NamespacedPod",
    "listCoreV1Node", "listCoreV1NamespacedServiceAccount",
})
SPEC_URL = "https://raw.githubusercontent.com/kubernetes/kubernetes/{tag}/api/openapi-spec/swagger.json"
PROW_URL = "https://prow.k8s.io/view/gs/kubernetes-jenkins/logs/{job}/{build}"

# Subjects and behaviours of the generated non-conformance test names, by SIG.
OTHER_TESTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sig-storage": (
        ("CSI Mock volume", "PersistentVolumes-local", "Dynamic Provisioning",
         "In-tree Volumes [Driver: local] [Testpattern: Pre-provisioned PV] subPath",
         "CSI Volumes [Driver: csi-hostpath] [Testpattern: Dynamic PV] provisioning",
         "Ephemeralstorage", "VolumeAttachment"),
        ("should provision storage with mount options", "should support existing directory",
         "should expand volume without restarting pod", "should store data",
         "should be able to unmount after the subpath directory is deleted",
         "should not mount unused volumes", "should report an error and create no PV",
         "should support readOnly file")),
    "sig-network": (
        ("Services", "DNS", "Networking Granular Checks: Services", "EndpointSlice",
         "Conntrack", "NetworkPolicy [Feature:NetworkPolicy]", "HostPort", "Netpol"),
        ("should be able to up and down services", "should function for pod-Service: http",
         "should create endpoints for unready pods", "should allow pods to hairpin back",
         "should resolve DNS of partial qualified names",
         "should be able to preserve UDP traffic when server pod cycles",
         "should enforce policy to allow traffic only from a different namespace",
         "should support configurable pod resolv.conf")),
    "sig-apps": (
        ("Deployment", "StatefulSet Basic StatefulSet functionality [StatefulSetBasic]",
         "CronJob", "Job", "DisruptionController", "ReplicaSet", "Daemon set [Serial]"),
        ("should schedule jobs", "should delete pods when suspended",
         "should run a job to completion with CPU requests",
         "should not update pod when spec was updated and update strategy is OnDelete",
         "should observe PodDisruptionBudget status updated",
         "should surge pods onto nodes when spec was updated",
         "should remove from active list jobs that have been deleted",
         "should adopt matching orphans and release non-matching pods")),
    "sig-node": (
        ("Pods Extended", "Container Runtime blackbox test", "Probing container",
         "Security Context", "RuntimeClass", "Kubelet", "NodeLease", "Downward API"),
        ("should be submitted and removed", "should have an terminated reason",
         "should report termination message if TerminationMessagePath is set",
         "should be restarted with a GRPC liveness probe",
         "should support seccomp runtime/default",
         "should reject a Pod requesting a deleted RuntimeClass",
         "should create and update a lease in the kube-node-lease namespace",
         "should provide pod UID as env vars")),
    "sig-cli": (
        ("Kubectl client Kubectl apply", "Kubectl client Simple pod", "Kubectl logs",
         "Kubectl Port forwarding With a server listening on localhost",
         "Kubectl client Kubectl diff", "Kubectl client Update Demo"),
        ("should apply a new configuration to an existing RC",
         "should support exec through an HTTP proxy", "should support forwarding over websockets",
         "should be able to retrieve and filter logs",
         "should check if kubectl diff finds a difference",
         "should support inline execution and attach", "should return command exit codes",
         "should handle in-cluster config")),
    "sig-api-machinery": (
        ("Garbage collector", "ResourceQuota", "Watchers", "ServerSideApply",
         "CustomResourceDefinition resources [Privileged:ClusterAdmin]",
         "Servers with support for API chunking", "API priority and fairness",
         "Etcd failure [Disruptive]"),
        ("should orphan pods created by rc if deleteOptions.OrphanDependents is nil",
         "should create a ResourceQuota and capture the life of a persistent volume claim",
         "should return chunks of results for list calls",
         "should receive events on concurrent watches in same order",
         "should work for subresources",
         "should ensure that requests can be classified by adding FlowSchema",
         "should support cascading deletion of custom resources",
         "should verify ResourceQuota with terminating scopes through scope selectors")),
    "sig-auth": (
        ("ServiceAccounts", "Certificates API [Privileged:ClusterAdmin]", "SubjectReview",
         "ValidatingAdmissionPolicy [Privileged:ClusterAdmin]", "NodeAuthorizer",
         "PodSecurity"),
        ("should mount projected service account token",
         "should support building a client with a CSR",
         "should support SubjectReview API operations", "should type check validation expressions",
         "Getting a non-existent secret should exit with the Forbidden error",
         "should support ServiceAccount admission controller migration",
         "should enforce the restricted policy", "should set ownership and permission")),
    "sig-scheduling": (
        ("SchedulerPredicates [Serial]", "SchedulerPreemption [Serial]", "LimitRange",
         "PodTopologySpread Filtering", "SchedulerPriorities [Serial]"),
        ("validates that NodeAffinity is respected if not matching",
         "validates lower priority pod preemption by critical pod",
         "should create a LimitRange with defaults",
         "validates 4 pods with MaxSkew=1 are evenly distributed into 2 nodes",
         "Pod should be scheduled to node that don't match the PodAntiAffinity terms",
         "validates pod overhead is considered along with resource limits of pods")),
    "sig-instrumentation": (
        ("Events API", "MetricsGrabber", "Events", "Logging soak [Performance] [Slow]"),
        ("should grab all metrics from API server", "should manage the lifecycle of an event",
         "should delete a collection of events", "should survive logging 1KB every 1s seconds")),
    "sig-autoscaling": (
        ("[Feature:HPA] Horizontal pod autoscaling (scale resource: CPU)",
         "[Feature:HPA] Horizontal pod autoscaling (non-default behavior)",
         "DNS horizontal autoscaling"),
        ("should scale from 1 pod to 3 pods and from 3 to 5",
         "should scale kube-dns pods in both nonfaulty and faulty scenarios",
         "with short downscale stabilization window should scale down soon",
         "ReplicationController light Should scale from 2 pods to 1 pod")),
}
# Tag variants that tell apart tests of the same subject and behaviour.
VARIANTS = ("", " [LinuxOnly]", " [Slow]", " [Serial]", " [NodeConformance]")

MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
print(time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class Inputs:
    """What the files are made of: releases, the real specs' operations, the tests."""

    releases: list[tuple[Release, dt.date | None]]  # oldest first
    specs: dict[int, Path]  # minor → swagger-1.<minor>.json.gz
    conformance_tests: tuple[ConformanceTest, ...]
    ineligible: list[tuple[str, str, str]]  # (endpoint, reason, link)


def read_inputs(data: Path) -> Inputs:
    known = Releases.load()
    releases = [(r, known.date(r)) for r in known.up_to(known.newest)]
    specs = {parse_release(p.name.removeprefix("swagger-").removesuffix(".json.gz")).minor: p
             for p in (data / "openapi").glob("swagger-1.*.json.gz")}
    yaml_path = data / "conformance" / "conformance-1.36.yaml"
    ineligible_path = data / "conformance" / "ineligible_endpoints.yaml"
    return Inputs(
        releases=releases,
        specs=specs,
        conformance_tests=tuple(conformance.parse(yaml_path.read_bytes(), str(yaml_path))),
        ineligible=ineligible.parse(ineligible_path.read_bytes(), str(ineligible_path)))


def nearest_spec(specs: dict[int, Path], minor: int) -> int:
    """The shipped spec closest to `minor` (the newer one on a tie)."""
    return min(specs, key=lambda m: (abs(m - minor), -m))


def published_operations(path: Path) -> list[Operation]:
    """The operations a published file lists: no watch or deprecated ones, stable
    first, then beta, then alpha, each by operationId (apisnoop's order)."""
    stream = io.BytesIO(gzip.decompress(path.read_bytes()))
    operations = [op for op in read_operations(stream, str(path))
                  if not op.deprecated and op.k8s_action not in ("watch", "watchlist")]
    by_name = sorted(operations, key=lambda op: op.endpoint)
    return sorted(by_name, key=lambda op: op.level, reverse=True)  # stable > beta > alpha


def other_test_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct non-conformance test names, in the order they appear."""
    names = [f"[{sig}] {subject} {behaviour}{variant}"
             for sig, (subjects, behaviours) in OTHER_TESTS.items()
             for subject in subjects for behaviour in behaviours for variant in VARIANTS]
    if count > len(names):
        raise SystemExit(f"only {len(names)} distinct test names can be made, {count} wanted")
    return rng.sample(names, count)


def others_in(minor: int) -> int:
    """How many non-conformance tests hit endpoints in release 1.<minor>."""
    return 600 + 30 * max(minor - 5, 0)


# --------------------------------------------------------------------------- coverage

def promotion_minor(test: ConformanceTest) -> int:
    return parse_release(test.release).minor


def name_in(test: ConformanceTest, minor: int) -> str | None:
    """The name conformance test `test` runs under in release 1.<minor>: None before
    it exists, without the tag before its promotion, `[k8s.io] …` for sig-node
    tests before the rename."""
    promoted = promotion_minor(test)
    if minor < promoted - RUNS_BEFORE_PROMOTION:
        return None
    name = test.codename if minor >= promoted else test.codename.removesuffix(CONFORMANCE_TAG)
    if minor < SIG_NODE_RENAMED and name.startswith("[sig-node] "):
        name = "[k8s.io] " + name.removeprefix("[sig-node] ")
    return name


def cut(name: str) -> str:
    """A test name cut short at a word boundary (the tag lost with the rest)."""
    return name[:name.rfind(" ", 0, len(name) // 2)]


@dataclass(frozen=True)
class Profile:
    """How one endpoint is covered across releases (fixed for a seed and its name)."""

    threshold: float  # tested in a release whose tested share exceeds this
    conformance: tuple[ConformanceTest, ...]  # conformance tests hitting it, once they exist
    others: tuple[int, ...]  # indices of the other tests hitting it (pool order)
    unnamed: bool  # also hit by an e2e.test user agent without a test name ("")
    nameless: bool  # tested, but no test named (`tests: [null]`)
    trailing_null: bool  # also hit by non-test user agents (a null in `tests`)
    name_cut: bool  # its first conformance test is listed cut short


def tested_share(level: str, minor: int) -> float:
    """The share of endpoints of `level` tested in release 1.<minor>, growing with time."""
    progress = (minor - 5) / 31
    return {"stable": 0.45 + 0.45 * progress, "beta": 0.25 + 0.2 * progress}.get(
        level, 0.05 + 0.1 * progress)


def make_profile(operation: Operation, seed: int, tests: Sequence[ConformanceTest],
                 others: int) -> Profile:
    """The endpoint's profile, drawn from a generator seeded by the seed and its name
    alone, so it does not depend on which releases or endpoints came before."""
    rng = random.Random(f"{seed}:{operation.endpoint}")
    threshold = rng.random()
    if operation.endpoint in HEAVY_HITTERS:
        threshold = 0.0  # tested from the start
        count = int(0.8 * (others + len(tests)))
        conformance_count = int(0.8 * len(tests))
    else:
        count = min(int(math.exp(rng.gauss(1.85, 1.4))) + 1, others)
        conformance_count = 0
        if operation.level == "stable":
            conformance_count = max(round(0.35 * count), 1 if rng.random() < 0.9 else 0)
    chosen = pick_conformance(rng, operation, tests, conformance_count)
    return Profile(
        threshold=threshold,
        conformance=chosen,
        others=tuple(sorted(rng.sample(range(others), max(min(count - len(chosen), others), 0)))),
        unnamed=rng.random() < 0.02,
        nameless=rng.random() < 0.01,
        trailing_null=rng.random() < 0.5,
        name_cut=rng.random() < 0.01)


def pick_conformance(rng: random.Random, operation: Operation,
                     tests: Sequence[ConformanceTest], count: int) -> tuple[ConformanceTest, ...]:
    """`count` conformance tests: about half of them (when there are enough) among
    those whose name has the endpoint's kind, the rest at random."""
    if count <= 0:
        return ()
    kind = (operation.k8s_kind or "").lower()
    related = [t for t in tests if kind and kind in t.codename.lower()]
    chosen = rng.sample(related, min(len(related), count // 2 + 1))
    rest = [t for t in tests if t not in chosen]
    chosen += rng.sample(rest, min(len(rest), count - len(chosen)))
    return tuple(chosen)


@dataclass
class Listing:
    """One endpoint's coverage in one release, as the file lists it."""

    tested: bool
    conf_tested: bool
    tests: list[str | None]
    conformance: dict[str, ConformanceTest]  # the conformance-tagged names it lists


def listing(profile: Profile, level: str, minor: int, others: Sequence[str]) -> Listing:
    """The endpoint's coverage in release 1.<minor>: untested while its threshold is
    above the release's tested share, else the tests of its profile that exist by then
    (conf_tested when one of them is a promoted conformance test)."""
    if profile.threshold >= tested_share(level, minor):
        return Listing(False, False, [None], {})
    promoted: dict[str, ConformanceTest] = {}
    names: set[str] = set()
    for test in profile.conformance:
        name = name_in(test, minor)
        if name is None:
            continue
        if minor >= promotion_minor(test):
            promoted[name] = test
        names.add(name)
    conf_tested = bool(promoted)
    if profile.name_cut and promoted:
        first = min(promoted)
        names.discard(first)
        names.add(cut(first))
        del promoted[first]
    available = others_in(minor)
    names.update(others[i] for i in profile.others if i < available)
    if profile.unnamed:
        names.add("")
    if profile.nameless:
        names.clear()
        promoted.clear()
    tests: list[str | None] = [*sorted(names)]
    if profile.trailing_null or not tests:
        tests.append(None)  # `[null]` alone: tested, but no test named
    return Listing(True, conf_tested, tests, promoted)


# --------------------------------------------------------------------------- files

@dataclass
class Generated:
    """What the folder holds, and what the summary files are computed from."""

    files: int = 0  # published files
    summary_files: int = 0
    bytes: int = 0
    endpoints: int = 0
    test_entries: int = 0
    listed: dict[str, set[str]] = field(default_factory=dict)  # release → its endpoints
    levels: dict[str, str] = field(default_factory=dict)  # endpoint → level when last listed
    first_release: dict[str, str] = field(default_factory=dict)  # endpoint → release
    # endpoint → promotion releases of the conformance tests hitting it when last listed
    test_releases: dict[str, set[Release]] = field(default_factory=dict)


def endpoint_entry(operation: Operation, release: str, cover: Listing,
                   old_form: bool) -> dict[str, object]:
    """An `endpoints` row, with its keys in the order apisnoop writes them."""
    if old_form:
        return {"endpoint": operation.endpoint, "level": operation.level,
                "category": operation.category, "path": operation.path,
                "description": operation.description, "kind": operation.k8s_kind,
                "version": operation.k8s_version, "group": operation.k8s_group,
                "action": operation.k8s_action, "tested": cover.tested,
                "conf_tested": cover.conf_tested, "tests": cover.tests}
    return {"kind": operation.k8s_kind, "path": operation.path, "group": operation.k8s_group,
            "level": operation.level, "tests": cover.tests, "action": operation.k8s_action,
            "tested": cover.tested, "release": release, "version": operation.k8s_version,
            "category": operation.category, "endpoint": operation.endpoint,
            "conf_tested": cover.conf_tested, "description": operation.description}


def tests_section(release: str, covers: Iterable[Listing]) -> list[dict[str, object]]:
    """The `tests` rows: every test named, with conformance details for promoted ones."""
    named: dict[str, ConformanceTest | None] = {}
    for cover in covers:
        for test in cover.tests:
            if test is not None:
                named.setdefault(test, None)
        named.update(cover.conformance)
    return [{"file": t.file if t else None, "test": name, "release": release,
             "testname": t.testname if t else None, "conformance_test": t is not None,
             "promotion_release": t.release if t else None}
            for name, t in sorted(named.items())]


def write_folder(out: Path, inputs: Inputs, seed: int) -> Generated:
    """Every release's published file into `out`, then the summary files."""
    rng = random.Random(seed)
    others = other_test_names(rng, others_in(inputs.releases[-1][0].minor))
    tests = inputs.conformance_tests
    profiles: dict[str, Profile] = {}
    operations: dict[int, list[Operation]] = {}
    generated = Generated()
    for release, date in inputs.releases:
        spec = nearest_spec(inputs.specs, release.minor)
        if spec not in operations:
            operations[spec] = published_operations(inputs.specs[spec])
        old_form = release.minor <= LAST_OLD_FORM
        entries = []
        covers = []
        for operation in operations[spec]:
            profile = profiles.get(operation.endpoint)
            if profile is None:
                profile = make_profile(operation, seed, tests, len(others))
                profiles[operation.endpoint] = profile
            cover = listing(profile, operation.level, release.minor, others)
            covers.append(cover)
            entries.append(endpoint_entry(operation, str(release), cover, old_form))
            generated.first_release.setdefault(operation.endpoint, str(release))
            generated.levels[operation.endpoint] = operation.level
            # the newest listing wins: apisnoop's totals count the newest release's hits
            generated.test_releases[operation.endpoint] = {
                parse_release(t.release) for t in cover.conformance.values()}
            generated.test_entries += sum(1 for t in cover.tests if t is not None)
        generated.listed[str(release)] = {op.endpoint for op in operations[spec]}
        day = (date or dt.date(2026, 4, 22)).isoformat()
        if old_form:
            name = f"{release.minor_name}.json"
            document: dict[str, object] = {
                "release": release.minor_name, "release_date": f"{day}T00:00:00",
                "spec": SPEC_URL.format(tag=release.tag), "endpoints": entries}
            text = json.dumps(document, separators=(",", ":"))
        else:
            name = f"{release}.json"
            tested = sum(1 for c in covers if c.tested)
            document = {
                "spec": SPEC_URL.format(tag=release.tag),
                "tests": tests_section(str(release), covers),
                "release": str(release),
                "sources": sources(rng, release),
                "endpoints": entries,
                "release_date": f"{day}T{rng.randrange(24):02}:{rng.randrange(60):02}:"
                                f"{rng.randrange(60):02}",
                "total endpoints": len(entries),
                "tested endpoints": tested}
            text = json.dumps(document, indent=4)
        (out / name).write_text(text)
        generated.files += 1
        generated.bytes += len(text)
        generated.endpoints += len(entries)
    write_summaries(out, inputs, generated)
    return generated


def sources(rng: random.Random, release: Release) -> list[str]:
    """The prow runs a file says it was computed from."""
    jobs = ["ci-kubernetes-e2e-gci-gce"]
    if release.minor >= 19:
        jobs.append("ci-kubernetes-gce-conformance-latest")
    return [PROW_URL.format(job=job, build=rng.randrange(10**18, 10**19)) for job in jobs]


def write_summaries(out: Path, inputs: Inputs, generated: Generated) -> None:
    """conformance-progress.json and conformance-coverage-per-release.json (with the
    definitions of the views conformance.progress and coverage_per_release, over the
    endpoints eligible in the newest release and the conformance tests hitting them in
    the newest release's file, as apisnoop computes them), and ineligible_endpoints.json."""
    newest = str(inputs.releases[-1][0])
    excluded = {endpoint for endpoint, _, _ in inputs.ineligible}
    eligible = {e for e in generated.listed[newest]
                if generated.levels[e] == "stable" and e not in excluded}
    first_test = {e: min(generated.test_releases[e], default=None) for e in eligible}

    def covered_by(endpoint: str, release: Release) -> bool:
        """A conformance test promoted in `release` or earlier hits `endpoint`."""
        first = first_test[endpoint]
        return first is not None and first <= release

    progress = []
    per_release = []
    totals = {"tested": 0, "untested": 0, "endpoints": 0}
    for release, _ in inputs.releases:
        here = eligible & generated.listed[str(release)]
        new = {e for e in here if generated.first_release[e] == str(release)}
        new_tested = {e for e in new if first_test[e] is not None}
        totals["tested"] += len(new_tested)
        totals["untested"] += len(new) - len(new_tested)
        totals["endpoints"] += len(new)
        per_release.append({
            "release": str(release), "new endpoints": len(new), "tested": len(new_tested),
            "untested": len(new) - len(new_tested), "total tested": totals["tested"],
            "total untested": totals["untested"], "total endpoints": totals["endpoints"]})
        if release.minor < 8:
            continue
        covered = {e for e in here if covered_by(e, release)}
        progress.append({"release": str(release), "total": {
            "endpoints": len(here),
            "tested": len(covered),
            "new": len(new),
            "new_with_tests": sum(1 for e in new if release in generated.test_releases[e]),
            "old_tested": sum(1 for e in here - new if first_test[e] == release),
            "new_tested": len(new & covered),
            "still_untested": len(new) - len(new_tested)}})
    summaries = {
        "conformance-progress.json": progress,
        "conformance-coverage-per-release.json": per_release,
        "ineligible_endpoints.json": [{"endpoint": e, "reason": r, "link": link}
                                      for e, r, link in inputs.ineligible]}
    for name, document in summaries.items():
        text = json.dumps(document, indent=4)
        (out / name).write_text(text)
        generated.summary_files += 1
        generated.bytes += len(text)


# --------------------------------------------------------------------------- database

@dataclass(frozen=True)
class Rows:
    """What an import left in the database."""

    endpoint_hit: int
    open_api: int
    historical_tests: int
    progress: list[str]
    coverage_per_release: list[str]


def count_rows(url: str) -> Rows:
    with psycopg.connect(url) as conn:
        def one(sql: str) -> int:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0

        def releases(view: str) -> list[str]:
            return [r for (r,) in conn.execute(
                f"SELECT release FROM {view} ORDER BY release_key(release)")]

        return Rows(
            endpoint_hit=one("SELECT count(*) FROM endpoint_hit"),
            open_api=one("SELECT count(*) FROM open_api"),
            historical_tests=one("SELECT count(*) FROM conformance.test WHERE historical"),
            progress=releases("conformance.progress"),
            coverage_per_release=releases("conformance.coverage_per_release"))


def span(releases: list[str]) -> str:
    if not releases:
        return "no release"
    first, last = (parse_release(r).minor_name for r in (releases[0], releases[-1]))
    return f"{first}–{last} ({len(releases)} releases)"


def measured_import(snoopdb: str, folder: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one `snoopdb load --only history`, and its
    summary line. A wrapper process runs it, so the RSS is the loader's alone."""
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, snoopdb, "load", "--only", "history", "--history-dir",
         str(folder)], check=True, env=env, capture_output=True, text=True)
    *output, figures = measured.stdout.strip().splitlines()
    seconds, peak = (float(x) for x in figures.split())
    summary = next((line for line in output if line.startswith("history up to")), "")
    return seconds, peak, summary


def run(args: argparse.Namespace, folder: Path) -> None:
    started = time.monotonic()
    generated = write_folder(folder, read_inputs(args.data), args.seed)
    print(f"generated {generated.files} published files + {generated.summary_files} summary files "
          f"({generated.bytes / 1e6:.1f} MB of JSON; {generated.endpoints:,} endpoint rows, "
          f"{generated.test_entries:,} test names listed) in {time.monotonic() - started:.1f}s "
          f"(seed {args.seed}) into {folder}")

    snoopdb = str(Path(sys.executable).parent / "snoopdb")
    with scratch_database(args.database_url, "snoopdb_bench") as url, \
            tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, DATABASE_URL=url, SNOOPDB_CACHE_DIR=cache)
        subprocess.run([snoopdb, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
        seconds, peak, summary = measured_import(snoopdb, folder, env)
        print(summary)
        with psycopg.connect(url) as conn:
            refresh_started = time.monotonic()
            conn.execute("SELECT refresh_coverage()")
            refresh = time.monotonic() - refresh_started
        rows = count_rows(url)
        print(f"import into a fresh database: {seconds:.1f}s wall (process start included; "
              f"the refresh_coverage() it ends with takes {refresh:.1f}s when run again "
              f"alone), peak RSS {peak:.0f} MB")
        print(f"rows: {rows.endpoint_hit:,} endpoint_hit, {rows.open_api:,} open_api, "
              f"{rows.historical_tests:,} historical conformance.test")
        print(f"conformance.progress covers {span(rows.progress)}; "
              f"conformance.coverage_per_release covers {span(rows.coverage_per_release)}")
        again, again_peak, _ = measured_import(snoopdb, folder, env)
        same = count_rows(url) == rows
        print(f"re-import of the same folder: {again:.1f}s wall, peak RSS {again_peak:.0f} MB"
              f" ({'the same rows' if same else 'ROWS DIFFER'})")
        if not same:
            raise SystemExit("the re-import changed the row counts")
        print(compared(snoopdb, folder, args.data, url, env))


def compared(snoopdb: str, folder: Path, data: Path, url: str, env: dict[str, str]) -> str:
    """`snoopdb compare-published` of the folder once the conformance.yaml and ineligible
    list the summaries were computed with are loaded, as apisnoop had them: its summary
    and the releases it could not compare."""
    with psycopg.connect(url, autocommit=True) as conn:
        fetcher = Fetcher(Path(env["SNOOPDB_CACHE_DIR"]))
        conformance.load(conn, fetcher, str(data / "conformance" / "conformance-1.36.yaml"),
                         "1.36.0")
        ineligible.load(conn, fetcher, str(data / "conformance" / "ineligible_endpoints.yaml"),
                        "1.36.0")
    result = subprocess.run([snoopdb, "compare-published", "--history-dir", str(folder)],
                            env=env, capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    differing = [line for line in lines if line.startswith(("conformance-", "totals "))
                 or " endpoints differ from " in line]
    return "\n".join(["compare-published after conformance-1.36.yaml and the ineligible list"
                      f" (exit {result.returncode}):", *differing, lines[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the server to create the scratch database on")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the shared data folder (openapi/, conformance/)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path,
                        help="write the files into this folder and keep them")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        run(args, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(args, Path(tmp))


if __name__ == "__main__":
    main()
