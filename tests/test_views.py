"""snoopDB's coverage views over a small hand-made dataset, every row written out.

The dataset (see `coverage`): releases 1.7.0, 1.9.0 and 1.10.0 (1.10.0 is the
latest; text order would pick 1.9.0), CI runs in 1.9.0 and 1.10.0 (two runs), an
imported history row for 1.7.0, and live events in testing.audit_event.

A readCoreV1Namespace (1.7 1.9 1.10): hit by C1 (promoted 1.9) and C2 (1.10), by a
  non-conformance test and by a controller.
B createAppsV1NamespacedDeployment (1.9 1.10): hit by an unnamed e2e.test in 1.9;
  its conformance test C2 was promoted in 1.10, after it.
C createCoreV1NamespacedPodBinding (1.10): first appears in 1.10, covered by C3, a
  test promoted in 1.9.
D listCoreV1ComponentStatus (1.9 1.10): ineligible, untested.
W watchCoreV1NamespacedPod (1.9 1.10): deprecated, so in no coverage view although
  C1 hit it.
F createFlowcontrolApiserverV1beta3FlowSchema (1.10): beta, hit by a non-conformance
  test.
G listCoreV1Node (1.7 1.9 1.10): hit only by kubelet, a non-test user agent.
H replaceCoreV1NamespaceStatus (1.9 1.10): hit by conformance test C1 in the 1.9 run
  only.
P deleteCoreV1NamespacedPodTemplate (1.10): new in 1.10, never hit in CI.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection
from snoopdb.db.schema import ensure_semver, migrate
from snoopdb.loaders import spec
from testkit.databases import scratch_database
from testkit.hits import drop_all_runs, insert_hits

A = "readCoreV1Namespace"
B = "createAppsV1NamespacedDeployment"
C = "createCoreV1NamespacedPodBinding"
D = "listCoreV1ComponentStatus"
W = "watchCoreV1NamespacedPod"
F = "createFlowcontrolApiserverV1beta3FlowSchema"
G = "listCoreV1Node"
H = "replaceCoreV1NamespaceStatus"
P = "deleteCoreV1NamespacedPodTemplate"

C1 = "[sig-api-machinery] Namespaces [Serial] should read a namespace [Conformance]"
C2 = "[sig-apps] Deployment should create a deployment [Conformance]"
C3 = "[sig-scheduling] Binding should bind a pod to a node [Conformance]"
C4 = "[sig-node] Pods should be submitted and removed [Conformance]"
N1 = "[sig-api-machinery] FlowSchema should be created"

# conformance.test: codename -> (testname, promotion release, file)
CONFORMANCE = {
    C1: ("Namespace, read", "1.9.0", "test/e2e/apimachinery/namespace.go"),
    C2: ("Deployment, create", "1.10.0", "test/e2e/apps/deployment.go"),
    C3: ("Binding, bind", "1.9.0", "test/e2e/scheduling/binding.go"),
    C4: ("Pods, submit and remove", "1.10.0", "test/e2e/common/node/pods.go"),
}

# endpoint -> (level, category, path, description, kind, version, group, action,
#              deprecated, method, releases)
ENDPOINTS = {
    A: ("stable", "core", "/api/v1/namespaces/{name}", "read the specified Namespace",
        "Namespace", "v1", "", "get", False, "get", ("1.7.0", "1.9.0", "1.10.0")),
    B: ("stable", "apps", "/apis/apps/v1/namespaces/{namespace}/deployments",
        "create a Deployment", "Deployment", "v1", "apps", "post", False, "post",
        ("1.9.0", "1.10.0")),
    C: ("stable", "core", "/api/v1/namespaces/{namespace}/pods/{name}/binding",
        "create binding of a Pod", "Binding", "v1", "", "post", False, "post", ("1.10.0",)),
    D: ("stable", "core", "/api/v1/componentstatuses", "list objects of kind ComponentStatus",
        "ComponentStatus", "v1", "", "list", False, "get", ("1.9.0", "1.10.0")),
    W: ("stable", "core", "/api/v1/watch/namespaces/{namespace}/pods/{name}",
        ("watch changes to an object of kind Pod. deprecated: use the 'watch' parameter with a"
         " list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
        "Pod", "v1", "", "watch", True, "get", ("1.9.0", "1.10.0")),
    F: ("beta", "flowcontrolApiserver", "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
        "create a FlowSchema", "FlowSchema", "v1beta3", "flowcontrol.apiserver.k8s.io", "post",
        False, "post", ("1.10.0",)),
    G: ("stable", "core", "/api/v1/nodes", "list or watch objects of kind Node", "Node", "v1", "",
        "list", False, "get", ("1.7.0", "1.9.0", "1.10.0")),
    H: ("stable", "core", "/api/v1/namespaces/{name}/status",
        "replace status of the specified Namespace", "Namespace", "v1", "", "put", False, "put",
        ("1.9.0", "1.10.0")),
    P: ("stable", "core", "/api/v1/namespaces/{namespace}/podtemplates/{name}",
        "delete a PodTemplate", "PodTemplate", "v1", "", "delete", False, "delete", ("1.10.0",)),
}

PROW = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs"
RUN_19 = f"{PROW}/ci-kubernetes-e2e-gci-gce/1900"
RUN_110A = f"{PROW}/ci-kubernetes-e2e-gci-gce/2000"
RUN_110B = f"{PROW}/ci-kubernetes-gce-conformance-latest/2001"
IMPORTED_17 = ("https://raw.githubusercontent.com/kubernetes-sigs/apisnoop/main/"
               "resources/coverage/1.7.0.json")

# endpoint_hit: (release, source, endpoint, test, test_hit, conf_test_hit, hits, imported)
HITS = [
    ("1.7.0", IMPORTED_17, A, C1, True, True, 1, True),
    ("1.9.0", RUN_19, A, C1, True, True, 3, False),
    ("1.9.0", RUN_19, B, "", True, False, 1, False),
    ("1.9.0", RUN_19, H, C1, True, True, 2, False),
    ("1.9.0", RUN_19, G, None, False, False, 5, False),
    ("1.10.0", RUN_110A, A, C1, True, True, 4, False),
    ("1.10.0", RUN_110A, A, N1, True, False, 1, False),
    ("1.10.0", RUN_110A, B, C2, True, True, 2, False),
    ("1.10.0", RUN_110A, C, C3, True, True, 1, False),
    ("1.10.0", RUN_110A, W, C1, True, True, 1, False),
    ("1.10.0", RUN_110A, G, None, False, False, 7, False),
    ("1.10.0", RUN_110B, A, C1, True, True, 2, False),
    ("1.10.0", RUN_110B, A, C2, True, True, 1, False),
    ("1.10.0", RUN_110B, F, N1, True, False, 3, False),
    ("1.10.0", RUN_110B, A, None, False, False, 9, False),
]

E2E_UA = "e2e.test/v1.10.0 (linux/amd64) kubernetes/0123abc"
# testing.audit_event: (useragent, endpoint, number of events)
LIVE = [
    ("live-test-writing", A, 2),
    ("live-test-writing", G, 3),
    ("live-test-writing", H, 1),
    ("live-test-writing", W, 1),     # deprecated: not in the latest endpoint_coverage
    ("live-test-writing", None, 1),  # /healthz: no endpoint
    ("live-other", P, 1),
    ("live-other", G, 1),
    ("kubectl/v1.10.0 (linux/amd64) kubernetes/0123abc", D, 1),  # not a live... agent
    (f"{E2E_UA} -- {C1}", B, 1),
]


def rows(conn: psycopg.Connection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def column_names(conn: psycopg.Connection, sql: str) -> list[str]:
    description = conn.execute(sql).description
    assert description is not None
    return [column.name for column in description]


def insert_dataset(conn: psycopg.Connection) -> None:
    """The dataset of the module docstring, with plain INSERTs, then the summaries refreshed."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO open_api (release, endpoint, level, category, path, description,"
            " k8s_kind, k8s_version, k8s_group, k8s_action, deprecated, method, spec)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(release, endpoint, *meta[:10], f"swagger-{release}.json")
             for endpoint, meta in ENDPOINTS.items() for release in meta[10]])
        cur.executemany(
            "INSERT INTO conformance.test (codename, testname, release, file, description)"
            " VALUES (%s, %s, %s, %s, 'checks it')",
            [(codename, *test) for codename, test in CONFORMANCE.items()])
        cur.execute(
            "INSERT INTO conformance.ineligible_endpoint (endpoint, reason, link) VALUES"
            " (%s, 'pending deprecation', 'https://github.com/kubernetes/community/pull/0')",
            (D,))
        insert_hits(conn, HITS)
        cur.executemany(
            "INSERT INTO testing.audit_event (release, audit_id, endpoint, useragent, test,"
            " test_hit, conf_test_hit, data, source, error)"
            " SELECT 'live', gen_random_uuid()::text, %(endpoint)s::text, %(ua)s, NULL, false,"
            "        false, '{}', 'auditlogger',"
            "        CASE WHEN %(endpoint)s::text IS NULL THEN 'ignored path' END"
            " FROM generate_series(1, %(events)s)",
            [{"ua": ua, "endpoint": endpoint, "events": events} for ua, endpoint, events in LIVE])
        cur.execute("SELECT refresh_coverage()")


@pytest.fixture
def coverage(conn: psycopg.Connection) -> psycopg.Connection:
    insert_dataset(conn)
    return conn


def coverage_row(release: str, endpoint: str, tested: bool, conf_tested: bool,
                 tests: list[str]) -> tuple:
    level, category, path, description, kind, version, group, action = ENDPOINTS[endpoint][:8]
    return (release, endpoint, level, category, path, description, kind, version, group, action,
            tested, conf_tested, tests)


def test_endpoint_coverage(coverage: psycopg.Connection) -> None:
    assert rows(coverage, "SELECT * FROM endpoint_coverage") == [
        coverage_row("1.9.0", B, True, False, [""]),
        coverage_row("1.10.0", B, True, True, [C2]),
        coverage_row("1.10.0", C, True, True, [C3]),
        coverage_row("1.10.0", P, False, False, []),
        coverage_row("1.9.0", D, False, False, []),
        coverage_row("1.10.0", D, False, False, []),
        coverage_row("1.7.0", G, False, False, []),
        coverage_row("1.9.0", G, False, False, []),
        coverage_row("1.10.0", G, False, False, []),
        coverage_row("1.7.0", A, True, True, [C1]),
        coverage_row("1.9.0", A, True, True, [C1]),
        coverage_row("1.10.0", A, True, True, [N1, C1, C2]),
        coverage_row("1.9.0", H, True, True, [C1]),
        coverage_row("1.10.0", H, False, False, []),
        coverage_row("1.10.0", F, True, False, [N1]),
    ]


def test_audit_event_test(coverage: psycopg.Connection) -> None:
    def conformance(release: str, codename: str) -> tuple:
        testname, promotion, file = CONFORMANCE[codename]
        return (release, codename, True, testname, file, promotion)

    assert rows(coverage, "SELECT * FROM audit_event_test") == [
        conformance("1.7.0", C1),
        ("1.9.0", "", False, None, None, None),
        conformance("1.9.0", C1),
        ("1.10.0", N1, False, None, None, None),
        conformance("1.10.0", C1),
        conformance("1.10.0", C2),
        conformance("1.10.0", C3),
    ]


def test_eligible_endpoint(coverage: psycopg.Connection) -> None:
    # Latest release only (C and P are new in it); not D (ineligible), W (deprecated), F (beta).
    assert rows(coverage, "SELECT * FROM conformance.eligible_endpoint") == [
        (B,), (C,), (P,), (G,), (A,), (H,)]


def test_eligible_endpoint_coverage(coverage: psycopg.Connection) -> None:
    def first(codename: str) -> tuple:
        testname, promotion, file = CONFORMANCE[codename]
        return (promotion, testname, codename, file)

    untested = (None, None, None, None)
    assert rows(coverage, "SELECT * FROM conformance.eligible_endpoint_coverage") == [
        (B, *first(C2), "1.9.0", ["1.10.0"]),
        (C, *first(C3), "1.10.0", ["1.9.0"]),
        (P, *untested, "1.10.0", []),
        (G, *untested, "1.7.0", []),
        # C1 (1.9.0) comes before C2 (1.10.0): semantic, not text, order
        (A, *first(C1), "1.7.0", ["1.9.0", "1.10.0"]),
        # hit by C1 in the 1.9.0 run only: untested, as apisnoop publishes it (it
        # counts the newest release's coverage only)
        (H, *untested, "1.9.0", []),
    ]


def test_progress(coverage: psycopg.Connection) -> None:
    assert column_names(coverage, "SELECT * FROM conformance.progress") == [
        "release", "new_endpoints", "new_tests", "new_endpoints_promoted_with_tests",
        "new_endpoints_covered_by_new_tests", "new_endpoints_covered_by_old_tests",
        "old_endpoints_covered_by_new_tests", "total_endpoints", "total_tested_endpoints",
        "endpoints_still_untested_today"]
    assert rows(coverage, "SELECT * FROM conformance.progress") == [
        # From the newest release's (1.10.0) coverage only. new: B, H. B waits for C2
        # (1.10); H's hit by C1 was in the 1.9.0 run only: untested today. A is old,
        # first covered by C1. Tested by then: A.
        ("1.9.0", 2, 2, 0, 0, 0, 1, 4, 1, 1),
        # new: C (covered by C3, an older test), P (never). B first covered by C2.
        ("1.10.0", 2, 2, 0, 0, 1, 1, 6, 3, 1),
    ]


def test_coverage_per_release(coverage: psycopg.Connection) -> None:
    assert column_names(coverage, "SELECT * FROM conformance.coverage_per_release") == [
        "release", "new endpoints", "tested", "untested", "total tested", "total untested",
        "total endpoints"]
    assert rows(coverage, "SELECT * FROM conformance.coverage_per_release") == [
        ("1.7.0", 2, 1, 1, 1, 1, 2),   # A tested, G untested
        ("1.9.0", 2, 1, 1, 2, 2, 4),   # B (by C2, later); H not in the 1.10.0 runs
        ("1.10.0", 2, 1, 1, 3, 3, 6),  # C tested, P untested
    ]


def test_new_endpoint(coverage: psycopg.Connection) -> None:
    assert rows(coverage, "SELECT * FROM conformance.new_endpoint") == [
        (P, "1.10.0", False), (C, "1.10.0", True),
        (H, "1.9.0", False), (B, "1.9.0", True),
        (G, "1.7.0", False), (A, "1.7.0", True),
    ]


def test_older_history_does_not_change_progress(coverage: psycopg.Connection) -> None:
    # More coverage of older releases (an imported 1.7.0 file naming C3 on G, a 1.9.0
    # run hitting P's neighbour B with C3): apisnoop's published figures count the
    # newest release's coverage only, so none of the conformance views move.
    views = ("conformance.progress", "conformance.coverage_per_release",
             "conformance.eligible_endpoint_coverage", "conformance.new_endpoint")
    before = {view: rows(coverage, f"SELECT * FROM {view}") for view in views}
    insert_hits(coverage, [("1.7.0", IMPORTED_17, G, C3, True, True, 0, True),
                           ("1.9.0", RUN_19, B, C3, True, True, 1, False)])
    coverage.execute("SELECT refresh_coverage()")
    assert {view: rows(coverage, f"SELECT * FROM {view}") for view in views} == before
    assert rows(coverage, "SELECT coverage_release()") == [("1.10.0",)]
    # apisnoop's own note: refresh the materialized view by hand
    coverage.execute("refresh materialized view conformance.eligible_endpoint_coverage")
    assert rows(coverage, "SELECT * FROM conformance.progress") == before["conformance.progress"]
    # PostgreSQL 17+ refreshes with search_path = pg_catalog, pg_temp: the functions the
    # materialized views call must find their tables without it
    coverage.execute("SET search_path = pg_catalog, pg_temp")
    coverage.execute("REFRESH MATERIALIZED VIEW public.endpoint_test_hit")
    coverage.execute("REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage")
    coverage.execute("RESET search_path")
    assert rows(coverage, "SELECT * FROM conformance.progress") == before["conformance.progress"]


def test_release_without_coverage_says_no_data(coverage: psycopg.Connection) -> None:
    # 1.11.0's spec is loaded (as 1.10.0's), no run, no published file
    coverage.execute("INSERT INTO open_api SELECT '1.11.0', release_date, endpoint, level,"
                     " category, path, k8s_group, k8s_version, k8s_kind, k8s_action,"
                     " deprecated, description, spec, method FROM open_api"
                     " WHERE release = '1.10.0'")
    coverage.execute("SELECT refresh_coverage()")
    assert rows(coverage, "SELECT * FROM release_coverage") == [
        ("1.7.0", "published coverage", False), ("1.9.0", "audit events", False),
        ("1.10.0", "audit events", True), ("1.11.0", "no data", False)]
    assert rows(coverage, "SELECT DISTINCT tested, conf_tested, tests FROM endpoint_coverage"
                          " WHERE release = '1.11.0'") == [(None, None, [])]
    # the conformance views still count 1.10.0's coverage, the newest there is
    assert rows(coverage, "SELECT release, total_tested_endpoints FROM conformance.progress"
                ) == [("1.9.0", 1), ("1.10.0", 3), ("1.11.0", 3)]
    # no coverage at all: tested counts unknown, not 0
    drop_all_runs(coverage)
    coverage.execute("SELECT refresh_coverage()")
    assert rows(coverage, "SELECT DISTINCT coverage FROM release_coverage") == [("no data",)]
    assert rows(coverage, "SELECT * FROM conformance.progress WHERE release = '1.11.0'") == [
        ("1.11.0", 0, 0, None, None, None, None, 6, None, None)]
    assert rows(coverage, "SELECT * FROM conformance.coverage_per_release") == [
        ("1.7.0", 2, None, None, None, None, 2), ("1.9.0", 2, None, None, None, None, 4),
        ("1.10.0", 2, None, None, None, None, 6), ("1.11.0", 0, None, None, None, None, 6)]


def test_untested_stable_endpoint(coverage: psycopg.Connection) -> None:
    # H was tested in 1.9.0 but not in the latest release's runs; G only by kubelet.
    assert rows(coverage, "SELECT * FROM testing.untested_stable_endpoint") == [
        (*coverage_row("1.10.0", H, False, False, []), True),
        (*coverage_row("1.10.0", G, False, False, []), True),
        (*coverage_row("1.10.0", D, False, False, []), False),
        (*coverage_row("1.10.0", P, False, False, []), True),
    ]


def test_endpoint_hit_by_new_test(coverage: psycopg.Connection) -> None:
    # Only live... agents; W (deprecated) and the unmapped event are left out.
    assert rows(coverage, "SELECT * FROM testing.endpoint_hit_by_new_test") == [
        ("live-other", P, False, 1),
        ("live-other", G, False, 1),
        ("live-test-writing", G, False, 3),
        ("live-test-writing", A, True, 2),
        ("live-test-writing", H, False, 1),
    ]


def test_projected_change_in_coverage(coverage: psycopg.Connection) -> None:
    # 8 endpoints in 1.10.0 (not W); CI tests hit A, B, C, F; the live agents add G,
    # H and P. snoopDB would say 4: it leaves out H (tested in 1.9.0) and counts W
    # and the unmapped event.
    assert rows(coverage, "SELECT * FROM testing.projected_change_in_coverage") == [
        ("test_coverage", 8, 4, 7, 3)]
    # eligible (endpoint_eligibility): A, B, C, G, H, P (not D, ineligible; not F, beta);
    # a [Conformance] agent hits A, B, C in 1.10.0's runs; the live agents add G, H, P
    assert rows(coverage, "SELECT * FROM testing.projected_change_in_eligible_coverage") == [
        ("eligible_coverage", 6, 3, 6, 3)]


def test_views_before_any_load(conn: psycopg.Connection) -> None:
    conn.execute("SELECT refresh_coverage()")
    assert rows(conn, "SELECT * FROM testing.projected_change_in_coverage") == [
        ("test_coverage", 0, 0, 0, 0)]
    for view in ("endpoint_coverage", "audit_event_test", "conformance.eligible_endpoint",
                 "conformance.eligible_endpoint_coverage", "conformance.progress",
                 "conformance.coverage_per_release", "conformance.new_endpoint",
                 "testing.untested_stable_endpoint", "testing.endpoint_hit_by_new_test"):
        assert rows(conn, f"SELECT * FROM {view}") == [], view


def test_views_show_a_load_once_refreshed(coverage: psycopg.Connection) -> None:
    insert_hits(coverage, [("1.10.0", RUN_110B, P, C4, True, True, 1)])
    query = ("SELECT tested, tests FROM endpoint_coverage"
             f" WHERE release = '1.10.0' AND endpoint = '{P}'")
    assert rows(coverage, query) == [(False, [])]
    coverage.execute("SELECT refresh_coverage()")
    assert rows(coverage, query) == [(True, [C4])]
    assert rows(coverage, f"SELECT * FROM conformance.new_endpoint WHERE endpoint = '{P}'") == [
        (P, "1.10.0", True)]


VIEWS = (
    "endpoint_coverage", "audit_event_test", "conformance.eligible_endpoint",
    "conformance.eligible_endpoint_coverage", "conformance.progress",
    "conformance.coverage_per_release", "conformance.new_endpoint",
    "testing.untested_stable_endpoint", "testing.endpoint_hit_by_new_test",
    "testing.projected_change_in_coverage",
)


@pytest.mark.parametrize("view", VIEWS)
def test_views_read_summaries_not_events(conn: psycopg.Connection, view: str) -> None:
    plan = "\n".join(r[0] for r in rows(conn, f"EXPLAIN (VERBOSE) SELECT * FROM {view}"))
    assert " public.audit_event " not in plan
    assert " public.endpoint_hit " not in plan


# --- the seed's queries, verbatim -------------------------------------------------

UNTESTED_CORE = (
    "select endpoint, kind, eligible, category from testing.untested_stable_endpoint"
    " where eligible is true and category = 'core' order by kind, endpoint limit 10;")

# From the KubeCon 2020 talk that introduced snoopDB ("Identifying an untested feature").
TALK_UNTESTED_CORE = """SELECT
  endpoint,
  -- k8s_action,
  -- path,
  -- description,
  kind
  FROM testing.untested_stable_endpoint
  where eligible is true
  and category = 'core'
  order by kind, endpoint desc
  limit 5;"""

HIT_BY_NEW_TEST = (
    "select distinct useragent, endpoint, hit_by_ete, hit_by_new_test"
    " from testing.endpoint_hit_by_new_test where useragent like 'live%'"
    " order by useragent, endpoint;")


def test_seed_queries(coverage: psycopg.Connection) -> None:
    assert rows(coverage, UNTESTED_CORE) == [
        (H, "Namespace", True, "core"), (G, "Node", True, "core"),
        (P, "PodTemplate", True, "core")]
    assert rows(coverage, TALK_UNTESTED_CORE) == [
        (H, "Namespace"), (G, "Node"), (P, "PodTemplate")]
    assert rows(coverage, HIT_BY_NEW_TEST) == [
        ("live-other", P, False, 1), ("live-other", G, False, 1),
        ("live-test-writing", G, False, 3), ("live-test-writing", A, True, 2),
        ("live-test-writing", H, False, 1)]
    assert rows(coverage, "select * from testing.endpoint_hit_by_new_test;") == rows(
        coverage, HIT_BY_NEW_TEST)
    assert rows(coverage, "select * from testing.projected_change_in_coverage;") == [
        ("test_coverage", 8, 4, 7, 3)]
    assert rows(coverage, "select change_in_number\nfrom testing.projected_change_in_coverage;"
                ) == [(3,)]


# The talk's "Newly Stable Endpoints" query and docs/views.md's variant: ad-hoc
# queries written with release::semver: pg-semver's type, or snoopdb's stand-in
# where the server does not have the extension (ensure_semver).
TALK_NEWLY_STABLE = """with endpoint_and_first_release as (
 select endpoint, level,
 (array_agg(release order by release::semver))[1]
    as first_release
  from open_api group by level, endpoint)
select level, endpoint, first_release
  from endpoint_and_first_release
 where first_release = '1.20.0' and level='stable';"""

DOCS_NEWLY_STABLE = """select endpoint, min(release::semver) as first_release
from open_api where level = 'stable'
group by endpoint order by first_release desc, endpoint limit 20;"""


def test_the_pages_show_the_queries_run_here() -> None:
    """The queries these tests run are those the README and docs/views.md give."""
    def words(text: str) -> str:
        return " ".join(text.split())
    repo = Path(__file__).resolve().parent.parent
    views = words((repo / "docs" / "views.md").read_text())
    for query in (UNTESTED_CORE, HIT_BY_NEW_TEST, TALK_NEWLY_STABLE, DOCS_NEWLY_STABLE):
        assert words(query) in views, query
    assert words(UNTESTED_CORE) in words((repo / "README.md").read_text())


def test_seed_newly_stable_endpoints(
    conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path
) -> None:
    if rows(conn, "SELECT to_regtype('semver')") == [(None,)]:
        pytest.skip("no semver type: neither pg-semver nor a superuser to create the stand-in")
    assert_seed_semver_queries(conn, fetcher, shared_data)


def assert_seed_semver_queries(conn: psycopg.Connection, fetcher: Fetcher,
                               shared_data: Path) -> None:
    for minor in (19, 20):
        spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-1.{minor}.json.gz"),
                  f"1.{minor}.0", None)
    # On the real specs: the talk's getInternalApiserverAPIGroup (it was given before
    # 1.20 shipped) and RuntimeClass, which went GA in 1.20.
    new_in_1_20 = [
        "createNodeV1RuntimeClass", "deleteNodeV1CollectionRuntimeClass",
        "deleteNodeV1RuntimeClass", "getInternalApiserverAPIGroup", "getNodeV1APIResources",
        "listNodeV1RuntimeClass", "patchNodeV1RuntimeClass", "readNodeV1RuntimeClass",
        "replaceNodeV1RuntimeClass", "watchNodeV1RuntimeClass", "watchNodeV1RuntimeClassList"]
    assert rows(conn, TALK_NEWLY_STABLE) == [("stable", e, "1.20.0") for e in new_in_1_20]
    in_1_19 = [
        "connectCoreV1DeleteNamespacedPodProxy", "connectCoreV1DeleteNamespacedPodProxyWithPath",
        "connectCoreV1DeleteNamespacedServiceProxy",
        "connectCoreV1DeleteNamespacedServiceProxyWithPath", "connectCoreV1DeleteNodeProxy",
        "connectCoreV1DeleteNodeProxyWithPath", "connectCoreV1GetNamespacedPodAttach",
        "connectCoreV1GetNamespacedPodExec", "connectCoreV1GetNamespacedPodPortforward"]
    assert rows(conn, DOCS_NEWLY_STABLE) == (
        [(e, "1.20.0") for e in new_in_1_20] + [(e, "1.19.0") for e in in_1_19])


def test_seed_semver_queries_without_pg_semver(database_server: str, fetcher: Fetcher,
                                              shared_data: Path) -> None:
    """On a server without pg-semver (simulated in a scratch database: the extension
    dropped, ensure_semver told it is missing), the stand-in runs the seed's queries
    verbatim; once the extension is there, ensure_semver swaps it in."""
    with scratch_database(database_server, "snoopdb_semver") as url:
        migrate(url)
        with connection.connect(url) as db:
            db.execute("DROP EXTENSION IF EXISTS semver")
            assert ensure_semver(db, extension=False) == "fallback"
            assert ensure_semver(db, extension=False) == "fallback"  # idempotent
            assert rows(db, "SELECT v::semver, min(v::semver) OVER (), max(v::semver) OVER ()"
                            " FROM unnest(ARRAY['1.10.0', '1.9.0', '1.20.0-alpha.1', '1.20.0'])"
                            " AS v ORDER BY v::semver DESC") == [
                (v, "1.9.0", "1.20.0") for v in ("1.20.0", "1.20.0-alpha.1", "1.10.0", "1.9.0")]
            assert rows(db, "SELECT '1.10.0'::semver > '1.9.0'::semver,"
                            " ARRAY['1.8.0'::semver] @> ARRAY['1.8.0'::semver]") == [(True, True)]
            assert_seed_semver_queries(db, fetcher, shared_data)
            # the extension is available on this server: the stand-in makes way for it
            if ensure_semver(db) != "extension":
                pytest.fail("pg-semver is installed on the test server; the stand-in must yield")
            assert rows(db, "SELECT count(*) FROM pg_proc WHERE proname ~ '^semver_fallback_'"
                        ) == [(0,)]
            assert rows(db, "SELECT extname FROM pg_extension WHERE extname = 'semver'") == [
                ("semver",)]
            assert_seed_semver_queries(db, fetcher, shared_data)
            # a stand-in something of the user's uses stays
            db.execute("DROP EXTENSION semver")
            assert ensure_semver(db, extension=False) == "fallback"
            db.execute("CREATE TABLE my_versions (v semver)")
            assert ensure_semver(db) == "fallback"
            assert rows(db, "SELECT to_regtype('semver')::text") == [("semver",)]


# --- describe_* ------------------------------------------------------------------

def test_describe_relations(conn: psycopg.Connection) -> None:
    relations = rows(conn, "SELECT * FROM describe_relations()")
    schemas = [r[0] for r in relations]
    assert schemas == sorted(schemas, reverse=True)
    for schema in ("testing", "public", "conformance"):
        names = [r[1] for r in relations if r[0] == schema]
        assert names == sorted(names), schema
    by_name = {(r[0], r[1]): r[2] for r in relations}
    assert ("public", "alembic_version") not in by_name
    assert by_name[("conformance", "progress")] == (
        "Per release from 1.8.0: new eligible endpoints, new conformance tests,"
        " and how many endpoints tests cover")
    assert by_name[("public", "release_endpoint_hit")].startswith("Per release and endpoint")
    for view in VIEWS:
        schema, _, name = view.rpartition(".")
        assert by_name[(schema or "public", name)], view
    assert rows(conn, "SELECT describe_relation('testing', 'untested_stable_endpoint')") == [(
        ("Stable endpoints of the latest release that no test hits,"
         " and whether they are eligible for conformance"),)]


def test_describe_columns(conn: psycopg.Connection) -> None:
    assert rows(conn, "SELECT * FROM describe_columns('testing', 'endpoint_hit_by_new_test')") == [
        ("useragent", "The live user agent, e.g. live-test-writing"),
        ("endpoint", "The operationId it hit"),
        ("hit_by_ete", "Already hit by a test user agent in the latest release's runs"),
        ("hit_by_new_test", "Number of live events of this user agent on the endpoint"),
    ]
    # public.audit_event and testing.audit_event share a name: each listed once
    # (snoopDB's describe_columns joins on the name alone and lists both twice).
    public = rows(conn, "SELECT * FROM describe_columns('public', 'audit_event')")
    assert [c for c, _ in public] == [
        "release", "release_date", "audit_id", "endpoint", "useragent", "test", "test_hit",
        "conf_test_hit", "data", "source", "id", "ingested_at", "error"]
    live = rows(conn, "SELECT * FROM describe_columns('testing', 'audit_event')")
    assert [c for c, _ in live] == [c for c, _ in public]
    # the same rules, said the same way; a CI event's id and load time are its run's
    assert [d for c, d in live if c not in ("id", "ingested_at")] == [
        d for c, d in public if c not in ("id", "ingested_at")]
    assert rows(conn, "SELECT \"column\" FROM describe_columns('public', 'release_test_hit')"
                ) == [("release",), ("test",)]
    assert rows(conn, "SELECT * FROM describe_columns('public', 'no_such_relation')") == []
    assert rows(conn, "SELECT * FROM describe_column('conformance', 'coverage_per_release',"
                      " 'total tested')") == [(
        "total tested", ("# of tested endpoints from this release and earlier"
                         " (higher than conformance.progress: counts tests promoted later)"))]


EXPECTED_COLUMNS = {
    "endpoint_coverage": ["release", "endpoint", "level", "category", "path", "description",
                          "kind", "version", "group", "action", "tested", "conf_tested", "tests"],
    "audit_event_test": ["release", "test", "conformance_test", "testname", "file",
                         "promotion_release"],
    "conformance.eligible_endpoint": ["endpoint"],
    "conformance.eligible_endpoint_coverage": ["endpoint", "first_conformance_test", "test",
                                               "codename", "file", "first_release",
                                               "all_test_releases"],
    "conformance.new_endpoint": ["endpoint", "release", "tested"],
    "testing.untested_stable_endpoint": ["release", "endpoint", "level", "category", "path",
                                         "description", "kind", "version", "group", "action",
                                         "tested", "conf_tested", "tests", "eligible"],
    "testing.endpoint_hit_by_new_test": ["useragent", "endpoint", "hit_by_ete",
                                         "hit_by_new_test"],
    "testing.projected_change_in_coverage": ["category", "total_endpoints", "old_coverage",
                                             "new_coverage", "change_in_number"],
}


@pytest.mark.parametrize("view", sorted(EXPECTED_COLUMNS))
def test_view_columns_are_snoopdbs_and_commented(conn: psycopg.Connection, view: str) -> None:
    schema, _, name = view.rpartition(".")
    columns = rows(conn, f"SELECT * FROM describe_columns('{schema or 'public'}', '{name}')")
    assert [c for c, _ in columns] == EXPECTED_COLUMNS[view]
    assert all(description for _, description in columns)
