"""Benchmark: every coverage view on a database holding 3,000,000 CI audit events.

Builds its own database on the server (created and dropped here): the real 1.35
and 1.36 specs, conformance.yaml and ineligible_endpoints.yaml loaded by snoopdb's
loaders; four CI runs (two per release) of generated audit events written to
runs (COPY into each run's table, as a load writes it), their hit counts as exactly
the aggregate of those events (checked); a few thousand live events. Then
refresh_coverage() and `SELECT * FROM <view>` for each view, median of 5.

    python -m bench.views [--database-url URL] [--events 3000000] [--data ../shared/data]

Tests behave as e2e tests do: each hits a fixed set of endpoints (mostly of one API
group, plus the namespace/pod/service account calls every test makes), the same in
every run; conformance runs run only the conformance tests. System components
(kubelet, controllers, scheduler, kubectl) send 38% of the events, 2% map to no
endpoint (health and metrics).
"""

from __future__ import annotations

import argparse
import collections
import functools
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg

from snoopdb.core import copytext
from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, run_store, schema
from snoopdb.loaders import conformance, ineligible, spec
from testkit.auditgen import request_info
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
COMMIT = "0123abcdef"
PROW = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs"
# (release, job, build, runs only the conformance tests)
RUNS = (
    ("1.35.0", "ci-kubernetes-e2e-gci-gce", 2001000000000000001, False),
    ("1.35.0", "ci-kubernetes-gce-conformance-latest", 2001000000000000002, True),
    ("1.36.0", "ci-kubernetes-e2e-gci-gce", 2065053743543488512, False),
    ("1.36.0", "ci-kubernetes-gce-conformance-latest", 2065053743543488513, True),
)
NON_CONFORMANCE_TESTS = 1_600
SIGS = ("api-machinery", "apps", "auth", "cli", "instrumentation", "network", "node",
        "scheduling", "storage", "windows")
SYSTEM_SHARE, UNMAPPED_SHARE = 0.38, 0.02
UNMAPPED_URIS = ("/healthz", "/livez", "/readyz", "/metrics", "/openapi/v2",
                 "/apis/metrics.k8s.io/v1beta1/nodes")
VERBS = {"get": "get", "list": "list", "watch": "watch", "watchlist": "watch", "post": "create",
         "put": "update", "patch": "patch", "delete": "delete",
         "deletecollection": "deletecollection", "connect": "get"}
VIEWS = (
    "endpoint_coverage", "audit_event_test", "endpoint_eligibility",
    "conformance.eligible_endpoint", "conformance.eligible_endpoint_coverage",
    "conformance.progress",
    "conformance.coverage_per_release", "conformance.new_endpoint",
    "testing.untested_stable_endpoint", "testing.endpoint_hit_by_new_test",
    "testing.projected_change_in_coverage",
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    category: str
    uri: str
    verb: str


@dataclass(frozen=True)
class Actor:
    """A user agent with what it calls; `test` etc. as the audit loader derives them."""

    useragent: str
    username: str
    test: str | None
    conf_test_hit: bool
    endpoints: tuple[int, ...]  # indexes into the release's endpoint list
    weight: float

    @property
    def test_hit(self) -> bool:
        return self.useragent.startswith("e2e.test")


def release_endpoints(conn: psycopg.Connection, release: str) -> list[Endpoint]:
    """The release's operations with a URI and verb as a real request to each would log them."""
    rows = conn.execute(
        "SELECT endpoint, coalesce(category, ''), path, coalesce(k8s_action, method)"
        " FROM open_api WHERE release = %s ORDER BY endpoint", (release,)).fetchall()
    return [Endpoint(name, category, re.sub(r"\{(\w+)\}", fill_parameter, path),
                     VERBS.get(action, "get"))
            for name, category, path, action in rows]


def fill_parameter(match: re.Match[str]) -> str:
    return {"namespace": "e2e-tests-4821", "path": "healthz"}.get(match[1], "object-7b9d")


def test_actors(endpoints: list[Endpoint], tests: list[str], version: str,
                conformance_only: bool) -> list[Actor]:
    """One actor per test of the run, plus the e2e.test user agent that names no test."""
    # About a fifth of the endpoints no test reaches, as in real CI runs.
    untestable = set(random.Random(version).sample(range(len(endpoints)), len(endpoints) // 5))
    by_category: dict[str, list[int]] = collections.defaultdict(list)
    for index, endpoint in enumerate(endpoints):
        if index not in untestable:
            by_category[endpoint.category].append(index)
    categories = sorted(by_category)
    common = [i for i, e in enumerate(endpoints) if e.category == "core" and i not in untestable
              and re.search(r"Namespace$|NamespacedPod$|ServiceAccount$|NamespacedEvent$", e.name)]
    prefix = f"e2e.test/{version} (linux/amd64) kubernetes/{COMMIT}"
    actors = []
    for test in tests:
        if conformance_only and "[Conformance]" not in test:
            continue
        rng = random.Random(test)  # a test hits the same endpoints in every run
        home = by_category[rng.choice(categories)]
        own = rng.sample(home, min(len(home), rng.randint(3, 30)))
        calls = own + rng.sample(common, min(len(common), rng.randint(2, 10)))
        actors.append(Actor(f"{prefix} -- {test}", "kubecfg", test, "[Conformance]" in test,
                            tuple(calls), rng.uniform(0.2, 2.0)))
    actors.append(Actor(prefix, "kubecfg", "", False, tuple(common), 0.5))
    return actors


def system_actors(endpoints: list[Endpoint], version: str) -> list[Actor]:
    rng = random.Random(version)
    suffix = f"/{version} (linux/amd64) kubernetes/{COMMIT}"
    everything = range(len(endpoints))
    return [Actor(f"{component}{suffix}", user, None, False,
                  tuple(rng.sample(everything, calls)), share)
            for component, user, calls, share in (
                ("kubelet", "system:node:bootstrap-e2e-minion-group-1x2c", 40, 0.12),
                ("kube-controller-manager", "system:kube-controller-manager", 150, 0.15),
                ("kube-scheduler", "system:kube-scheduler", 20, 0.04),
                ("kube-apiserver", "system:apiserver", 30, 0.04),
                ("kubectl", "kubecfg", 60, 0.03))]


def audit_lines(endpoints: list[Endpoint], actors: list[Actor], events: int, seed: int,
                hits: collections.Counter[tuple[str, str | None, bool, bool]],
                every_call: bool = False, detailed: bool = False) -> Iterator[str]:
    """`events` rows of a hot run's table (run_store.EVENT_COLUMNS) in COPY text
    format; counts each mapped one into `hits`. With `every_call`, the first rows are
    one call of each actor to each of its endpoints (so that no call is missing from
    the run by chance), the rest drawn at random. With `detailed`, each event is as a
    GCE API server logs it rather than its bare minimum (`Detail`): the objectRef of
    its request, the response's code (some 404s and 409s), the authorizer's
    annotations, and a small body on a create."""
    rng = random.Random(seed)
    tests = [a for a in actors if a.test is not None]
    system = [a for a in actors if a.test is None]
    test_weight = sum(a.weight for a in tests)
    system_weight = sum(a.weight for a in system)
    # each actor's share of all events, with the unmapped requests as a last "actor"
    population: list[Actor | None] = [*tests, *system, None]
    weights = ([a.weight / test_weight * (1 - SYSTEM_SHARE - UNMAPPED_SHARE) for a in tests]
               + [a.weight / system_weight * SYSTEM_SHARE for a in system] + [UNMAPPED_SHARE])
    fixed = {id(a): (copytext.value(orjson.dumps(a.useragent).decode()),
                     copytext.value(a.useragent), copytext.value(a.test),
                     "t" if a.test_hit else "f", "t" if a.conf_test_hit else "f", a.username,
                     (a.test, a.test_hit, a.conf_test_hit))
             for a in actors}
    unmapped_actor = system[0]
    calls = [(a, i) for a in actors for i in a.endpoints] if every_call else []
    drawn: list[tuple[Actor | None, int | None]] = [
        (a, None) for a in rng.choices(population, weights, k=max(0, events - len(calls)))]
    for number, (actor, called) in enumerate([*calls, *drawn]):
        audit_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if actor is None:
            actor, endpoint, uri, verb = unmapped_actor, None, rng.choice(UNMAPPED_URIS), "get"
        else:
            endpoint = endpoints[rng.choice(actor.endpoints) if called is None else called]
            uri, verb = endpoint.uri, endpoint.verb
        ua_json, ua, test, test_hit, conf_test_hit, user, hit_class = fixed[id(actor)]
        if endpoint:
            hits[(endpoint.name, *hit_class)] += 1
        second, micro = divmod(number * 2_500, 1_000_000)  # an event every 2.5 ms
        hour, minute = 12 + second // 3600, second // 60 % 60
        stamp = f"2026-06-11T{hour:02d}:{minute:02d}:{second % 60:02d}.{micro:06d}Z"
        if detailed and endpoint is not None:
            level, ref, status, extra = detail(endpoint, verb, user, rng)
        else:
            level, ref, status, extra = "Metadata", "", '{"metadata":{},"code":200}', ""
        data = (f'{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{level}",'
                f'"auditID":"{audit_id}","stage":"ResponseComplete","requestURI":"{uri}",'
                f'"verb":"{verb}","user":{{"username":"{user}","groups":["system:authenticated"]}},'
                f'"sourceIPs":["10.64.0.12"],"userAgent":{ua_json},{ref}'
                f'"responseStatus":{status},{extra}'
                f'"requestReceivedTimestamp":"{stamp}","stageTimestamp":"{stamp}"}}')
        error = r"\N" if endpoint else "ignored path"
        name = endpoint.name if endpoint else r"\N"
        yield (f"{number}\t{audit_id}\t{name}\t{error}\t{ua}\t{test}\t{test_hit}\t"
               f"{conf_test_hit}\t{data}\n")


# a quote inside a JSON string, in COPY text: \" with its backslash doubled
QUOTE = '\\\\"'
_HTTP_METHODS = {"get": "get", "list": "get", "watch": "get", "create": "post",
                 "update": "put", "patch": "patch", "delete": "delete",
                 "deletecollection": "delete"}


@functools.cache
def _object_ref(uri: str, verb: str) -> tuple[str, str, str]:
    """The objectRef kube-apiserver logs for a request to `uri` (testkit.auditgen's
    request_info), as JSON text with a trailing comma; its resource; its name."""
    _, ref = request_info(_HTTP_METHODS.get(verb, "get"), uri)
    if ref is None:
        return "", "", ""
    return (f'"objectRef":{orjson.dumps(ref).decode()},', ref["resource"],
            ref.get("name", "object-7b9d"))


def detail(endpoint: Endpoint, verb: str, user: str,
           rng: random.Random) -> tuple[str, str, str, str]:
    """What a detailed event adds (audit_lines): its level, objectRef, responseStatus and
    annotations (and a creation's requestObject), each as JSON text."""
    ref, resource, name = _object_ref(endpoint.uri, verb)
    draw = rng.random()
    code = (409 if draw < 0.03 else 201) if verb == "create" else (
        404 if verb in ("get", "delete") and draw < 0.05 else 200)
    if code < 400:
        status = f'{{"metadata":{{}},"code":{code}}}'
    else:
        reason = "NotFound" if code == 404 else "AlreadyExists"
        said = "not found" if code == 404 else "already exists"
        status = (f'{{"metadata":{{}},"status":"Failure","message":"{resource} {QUOTE}{name}'
                  f'{QUOTE} {said}","reason":"{reason}","code":{code}}}')
    extra = ('"annotations":{"authorization.k8s.io/decision":"allow",'
             f'"authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding {QUOTE}'
             f'{user.split(":")[-1]}{QUOTE}"}},')
    if verb == "create" and ref:
        extra += (f'"requestObject":{{"kind":"{resource.rstrip("s").title()}",'
                  f'"apiVersion":"v1","metadata":{{"name":"{name}","labels":'
                  f'{{"e2e-run":"{rng.getrandbits(32):08x}"}}}}}},')
    return ("RequestResponse" if verb in ("create", "update", "patch") else "Request",
            ref, status, extra)


def load_run(conn: psycopg.Connection, release: str, source: str, endpoints: list[Endpoint],
             actors: list[Actor], events: int, seed: int) -> int:
    """One run's events and its hit counts in one transaction, stored as a load stores
    a run (loaders/run_store.py)."""
    hits: collections.Counter[tuple[str, str | None, bool, bool]] = collections.Counter()
    with conn.transaction():
        run = run_store.prepare(conn, source, release)
        with run_store.copy_events(conn, run) as copy:
            batch: list[str] = []
            for line in audit_lines(endpoints, actors, events, seed, hits):
                batch.append(line)
                if len(batch) == 20_000:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        run_store.store_summaries(
            conn, run, ((*key, count) for key, count in sorted(
                hits.items(), key=lambda item: (item[0][0], item[0][1] or ""))), (), ())
        run_store.publish(conn, run, release, None, events)
    return len(hits)


def load_live(conn: psycopg.Connection, endpoints: list[Endpoint]) -> int:
    """Live events of two tests being written and of kubectl, as the auditlogger stores them."""
    rng = random.Random("live")
    rows = []
    kubectl = f"kubectl/v1.36.0 (linux/amd64) kubernetes/{COMMIT}"
    for useragent, calls, events in (("live-test-writing", 40, 4_000), ("live-other", 15, 800),
                                     (kubectl, 60, 1_200)):
        chosen = rng.sample(endpoints, calls)
        for _ in range(events):
            endpoint = rng.choice(chosen)
            rows.append(("live", str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                         endpoint.name, useragent,
                         orjson.dumps({"requestURI": endpoint.uri, "verb": endpoint.verb,
                                       "userAgent": useragent}).decode()))
    with conn.transaction(), conn.cursor() as cur, cur.copy(
            "COPY testing.audit_event (release, audit_id, endpoint, useragent, data, test_hit,"
            " conf_test_hit, source) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, False, False, "http://127.0.0.1:9900/events"))
    return len(rows)


def check_summary(conn: psycopg.Connection) -> None:
    """endpoint_hit must be exactly the aggregate of audit_event."""
    difference = conn.execute("""
        WITH aggregate AS (
          SELECT release, source, endpoint, test, test_hit, conf_test_hit, count(*) AS hits
          FROM audit_event WHERE endpoint IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5, 6),
        summary AS (
          SELECT release, source, endpoint, test, test_hit, conf_test_hit, hits FROM endpoint_hit)
        SELECT (SELECT count(*) FROM (TABLE aggregate EXCEPT TABLE summary) a),
               (SELECT count(*) FROM (TABLE summary EXCEPT TABLE aggregate) s)""").fetchone()
    if difference != (0, 0):
        sys.exit(f"endpoint_hit differs from the aggregate of audit_event: {difference}")


def timed(conn: psycopg.Connection, sql: str) -> tuple[float, int]:
    started = time.perf_counter()
    count = len(conn.execute(sql).fetchall())
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=SERVER, help="server to create the database on")
    parser.add_argument("--events", type=int, default=3_000_000, help="CI audit events in all")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    with scratch_database(args.database_url, "snoopdb_bench_views") as url:
        schema.migrate(url)
        with connection.connect(url) as conn, tempfile.TemporaryDirectory() as cache:
            run(conn, Fetcher(Path(cache)), args.data, args.events)


def run(conn: psycopg.Connection, fetcher: Fetcher, data: Path, events: int) -> None:
    started = time.monotonic()
    for minor in (35, 36):
        spec.load(conn, fetcher, str(data / "openapi" / f"swagger-1.{minor}.json.gz"),
                  f"1.{minor}.0", None)
    conformance.load(conn, fetcher, str(data / "conformance" / "conformance.yaml"), "1.36.0")
    ineligible.load(conn, fetcher, str(data / "conformance" / "ineligible_endpoints.yaml"),
                    "1.36.0")
    codenames = [r[0] for r in conn.execute("SELECT codename FROM conformance.test ORDER BY 1")]
    rng = random.Random(0)
    others = [f"[sig-{rng.choice(SIGS)}] Feature {n} should behave as specified {n}"
              for n in range(NON_CONFORMANCE_TESTS)]
    print(f"specs 1.35 and 1.36, {len(codenames)} conformance tests, ineligible endpoints: "
          f"{time.monotonic() - started:.1f}s")

    started = time.monotonic()
    hit_rows = 0
    for number, (release, job, build, conformance_only) in enumerate(RUNS):
        endpoints = release_endpoints(conn, release)
        version = f"v{release}"
        actors = (test_actors(endpoints, codenames + others, version, conformance_only)
                  + system_actors(endpoints, version))
        hit_rows += load_run(conn, release, f"{PROW}/{job}/{build}", endpoints, actors,
                             events // len(RUNS), number)
    live = load_live(conn, release_endpoints(conn, "1.36.0"))
    print(f"{events:,} audit events in {len(RUNS)} runs, {hit_rows:,} endpoint_hit rows, "
          f"{live:,} live events, generated and COPied: {time.monotonic() - started:.1f}s")
    conn.execute("VACUUM ANALYZE")
    check_summary(conn)
    print("endpoint_hit = the aggregate of audit_event: checked")

    started = time.perf_counter()
    conn.execute("SELECT refresh_coverage()")
    conn.execute("ANALYZE release_endpoint_hit, release_test_hit, endpoint_test_hit")
    print(f"refresh_coverage(): {time.perf_counter() - started:.2f}s\n")

    print("| view | rows | `select *`, median of 5 |")
    print("|---|---:|---:|")
    for view in VIEWS:
        timings = [timed(conn, f"SELECT * FROM {view}") for _ in range(5)]
        median = statistics.median(seconds for seconds, _ in timings)
        print(f"| `{view}` | {timings[0][1]:,} | {median * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
