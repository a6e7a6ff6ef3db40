"""endpoint_eligibility, the one eligibility rule: its reasons and levels on a hand-made
spec, the pending list it reads (loaded from a file, a checkout, or not found), and,
on the real 1.36 spec, every consumer agreeing with it endpoint by endpoint: the gate,
the coverage views, the dashboard, the export, the ticket's rows, projected change."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from snoopdb.commands import export, gate
from snoopdb.core.config import Settings
from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.db.queries import query
from snoopdb.loaders import conformance, ineligible, pending, spec
from snoopdb.loaders.github import Sources
from snoopdb.web import pages
from testkit.hits import insert_hits

GROUP_REASON = "group discovery of a group with no stable version"

# (release, endpoint, level by the path, path, deprecated)
SPEC = [
    ("1.36.0", "readCoreV1Pod", "stable", "/api/v1/pods/{name}", False),
    ("1.36.0", "listWidgetsV1alpha1Widget", "alpha", "/apis/widgets.example.io/v1alpha1/widgets",
     False),
    ("1.36.0", "watchCoreV1Pod", "stable", "/api/v1/watch/pods/{name}", True),
    ("1.36.0", "connectCoreV1GetNodeProxy", "stable", "/api/v1/nodes/{name}/proxy", False),
    ("1.36.0", "getCoreAPIVersions", "stable", "/api/", False),
    ("1.36.0", "listCoreV1Node", "stable", "/api/v1/nodes", False),
    ("1.36.0", "deleteCoreV1Node", "stable", "/api/v1/nodes/{name}", False),
    # widgets.example.io serves only v1alpha1 in 1.36.0, v1alpha1 and v1 in 1.37.0
    ("1.36.0", "getWidgetsAPIGroup", "stable", "/apis/widgets.example.io/", False),
    ("1.37.0", "getWidgetsAPIGroup", "stable", "/apis/widgets.example.io/", False),
    ("1.37.0", "listWidgetsV1alpha1Widget", "alpha", "/apis/widgets.example.io/v1alpha1/widgets",
     False),
    ("1.37.0", "listWidgetsV1Widget", "stable", "/apis/widgets.example.io/v1/widgets", False),
    # gadgets.example.io: v1beta1 and v1alpha2, so beta
    ("1.36.0", "getGadgetsAPIGroup", "stable", "/apis/gadgets.example.io/", False),
    ("1.36.0", "getGadgetsV1beta1APIResources", "beta", "/apis/gadgets.example.io/v1beta1/",
     False),
    ("1.36.0", "listGadgetsV1alpha2Gadget", "alpha", "/apis/gadgets.example.io/v1alpha2/gadgets",
     False),
    # a group whose versions the spec does not list: the path's level stays
    ("1.36.0", "getEmptyAPIGroup", "stable", "/apis/empty.example.io/", False),
    # on the pending list, and a discovery operation of an alpha-only group
    ("1.36.0", "getSprocketsAPIGroup", "stable", "/apis/sprockets.example.io/", False),
    ("1.36.0", "listSprocketsV1alpha1Sprocket", "alpha",
     "/apis/sprockets.example.io/v1alpha1/sprockets", False),
]
INELIGIBLE = [("connectCoreV1GetNodeProxy", "proxy: needs a node", "https://example.org/1"),
              ("getCoreAPIVersions", "  ", None)]
PENDING = ["listCoreV1Node", "watchCoreV1Pod", "getSprocketsAPIGroup"]


def store_spec(conn: psycopg.Connection, rows: list[tuple[str, str, str, str, bool]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO open_api (release, endpoint, level, path, method, deprecated, spec)"
            " VALUES (%s, %s, %s, %s, 'get', %s, 'hand-made')", rows)


def test_reasons_levels_and_their_order(conn: psycopg.Connection) -> None:
    store_spec(conn, SPEC)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO conformance.ineligible_endpoint VALUES (%s, %s, %s)",
                        INELIGIBLE)
        cur.executemany("INSERT INTO conformance.pending_eligible_endpoint VALUES (%s)",
                        [(e,) for e in PENDING])
    assert conn.execute("SELECT release, endpoint, level, eligible, reason"
                        " FROM endpoint_eligibility ORDER BY release, endpoint").fetchall() == [
        ("1.36.0", "connectCoreV1GetNodeProxy", "stable", False,
         "ineligible: proxy: needs a node"),
        ("1.36.0", "deleteCoreV1Node", "stable", True, None),
        ("1.36.0", "getCoreAPIVersions", "stable", False, "ineligible: no reason given"),
        ("1.36.0", "getEmptyAPIGroup", "stable", True, None),
        ("1.36.0", "getGadgetsAPIGroup", "beta", False, GROUP_REASON),
        ("1.36.0", "getGadgetsV1beta1APIResources", "beta", False, "not stable"),
        # alpha-only and pending: the level decides first
        ("1.36.0", "getSprocketsAPIGroup", "alpha", False, GROUP_REASON),
        ("1.36.0", "getWidgetsAPIGroup", "alpha", False, GROUP_REASON),
        ("1.36.0", "listCoreV1Node", "stable", False, "pending"),
        ("1.36.0", "listGadgetsV1alpha2Gadget", "alpha", False, "not stable"),
        ("1.36.0", "listSprocketsV1alpha1Sprocket", "alpha", False, "not stable"),
        ("1.36.0", "listWidgetsV1alpha1Widget", "alpha", False, "not stable"),
        ("1.36.0", "readCoreV1Pod", "stable", True, None),
        # deprecated and pending: deprecated first
        ("1.36.0", "watchCoreV1Pod", "stable", False, "deprecated"),
        # the same group, now serving v1: stable in this release only
        ("1.37.0", "getWidgetsAPIGroup", "stable", True, None),
        ("1.37.0", "listWidgetsV1Widget", "stable", True, None),
        ("1.37.0", "listWidgetsV1alpha1Widget", "alpha", False, "not stable"),
    ]
    # apisnoop's published rule, conformance.eligible_endpoint's, is the path's: the
    # latest release is 1.37.0, where every stable endpoint is eligible both ways
    assert [e for (e,) in conn.execute("SELECT endpoint FROM conformance.eligible_endpoint")] == [
        "getWidgetsAPIGroup", "listWidgetsV1Widget"]
    conn.execute("DELETE FROM open_api WHERE release = '1.37.0'")
    assert [e for (e,) in conn.execute("SELECT endpoint FROM conformance.eligible_endpoint")] == [
        "deleteCoreV1Node", "getEmptyAPIGroup", "getGadgetsAPIGroup", "getSprocketsAPIGroup",
        "getWidgetsAPIGroup", "listCoreV1Node", "readCoreV1Pod"]


# pending lists --------------------------------------------------------------------


def write_list(folder: Path, endpoints: list[str]) -> Path:
    path = folder / pending.PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints))
    return path


def loaded(conn: psycopg.Connection) -> list[str]:
    return [e for (e,) in conn.execute(
        "SELECT endpoint FROM conformance.pending_eligible_endpoint ORDER BY endpoint")]


def test_pending_list_from_a_checkout_replaces_the_last_and_is_logged(
        conn: psycopg.Connection, fetcher: Fetcher, tmp_path: Path) -> None:
    first = write_list(tmp_path / "a", ["readCoreV1Pod", "listCoreV1Node", "readCoreV1Pod"])
    assert pending.load(conn, fetcher, str(first), "1.36.0") == (2, None)
    assert loaded(conn) == ["listCoreV1Node", "readCoreV1Pod"]
    second = write_list(tmp_path / "b", ["deleteCoreV1Node"])
    assert pending.load(conn, fetcher, str(second), "1.37.0") == (1, None)
    assert loaded(conn) == ["deleteCoreV1Node"]
    assert conn.execute("SELECT kind, release, source, rows FROM load_log ORDER BY id").fetchall(
    ) == [("pending", "1.36.0", str(first), 2), ("pending", "1.37.0", str(second), 1)]


def test_no_pending_list_is_an_empty_one_with_a_warning(conn: psycopg.Connection,
                                                        fetcher: Fetcher, tmp_path: Path) -> None:
    write_list(tmp_path, ["readCoreV1Pod"])
    pending.load(conn, fetcher, str(tmp_path / pending.PATH), "1.36.0")
    missing = tmp_path / "missing.yaml"
    assert pending.load(conn, fetcher, str(missing), "1.20.0") == (
        0, f"{missing}: not found; release 1.20.0 has no pending endpoints list")
    assert loaded(conn) == []


@pytest.mark.parametrize(("text", "error"), [
    ("- endpoint: readCoreV1Pod\n", "expected a list of endpoint names (operationIds)"),
    ("readCoreV1Pod: true\n", "expected a list of endpoint names (operationIds)"),
    ("- readCoreV1Pod\n- ''\n", "expected a list of endpoint names (operationIds)"),
    ('- "read\\0Pod"\n', "entry #1 holds a NUL character"),
])
def test_a_malformed_pending_list_fails_in_one_line_and_keeps_the_loaded_one(
        conn: psycopg.Connection, fetcher: Fetcher, tmp_path: Path, text: str,
        error: str) -> None:
    pending.load(conn, fetcher, str(write_list(tmp_path / "good", ["readCoreV1Pod"])), "1.36.0")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InputError) as raised:
        pending.load(conn, fetcher, str(bad), "1.37.0")
    assert str(raised.value) == f"{bad}: {error}"
    assert loaded(conn) == ["readCoreV1Pod"]


# printable text (YAML folds line breaks and forbids control characters inside quotes)
NAMES = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                max_size=40)


@examples(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NAMES, max_size=30))
def test_pending_parse_reads_back_any_list_of_names(names: list[str]) -> None:
    # JSON is YAML, and round-trips where PyYAML's emitter may not
    content = json.dumps(names, ensure_ascii=False).encode()
    assert pending.parse(content, "pending.yaml") == frozenset(names)


@examples(max_examples=200)
@given(st.recursive(st.none() | st.booleans() | st.integers() | NAMES,
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(NAMES, inner, max_size=4), max_leaves=12))
def test_pending_parse_accepts_only_lists_of_names(document: object) -> None:
    content = json.dumps(document, ensure_ascii=False).encode()
    names = isinstance(document, list) and all(isinstance(e, str) and e for e in document)
    if names or document is None:
        assert pending.parse(content, "pending.yaml") == frozenset(document or [])
    else:
        with pytest.raises(InputError, match=r"^pending\.yaml: expected a list"):
            pending.parse(content, "pending.yaml")


# the real 1.36 spec: every consumer agrees ------------------------------------------

# new in 1.36 and stable; one pending, one pending and tested, one hit by no test
PENDING_NEW = "readAdmissionregistrationV1MutatingAdmissionPolicy"
PENDING_TESTED = "createAdmissionregistrationV1MutatingAdmissionPolicy"
# storagemigration.k8s.io serves only v1beta1 in 1.36: pending or not, not eligible
GROUP_BETA = "getStoragemigrationAPIGroup"
REAL_PENDING = [PENDING_NEW, PENDING_TESTED, GROUP_BETA, "readCoreV1NamespacedPod"]
CONFORMANCE_HITS = [PENDING_TESTED, GROUP_BETA, "readCoreV1NamespacedPod", "listCoreV1Node",
                    "getInternalApiserverAPIGroup"]
LIVE = "live-agreement"


@pytest.fixture
def real_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path,
              tmp_path: Path) -> Path:
    """1.35 and 1.36 specs, 1.36's conformance.yaml, the real ineligible list, a pending
    list, a CI run in which a conformance test hits a few endpoints, and a live user
    agent that hits every non-deprecated endpoint of 1.36. Returns the pending list."""
    for minor in (35, 36):
        spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-1.{minor}.json.gz"),
                  f"1.{minor}.0", None)
    conformance.load(conn, fetcher, str(shared_data / "conformance" / "conformance-1.36.yaml"),
                     "1.36.0")
    ineligible.load(conn, fetcher, str(shared_data / "conformance" / "ineligible_endpoints.yaml"),
                    "1.36.0")
    listed = write_list(tmp_path / "kubernetes", REAL_PENDING)
    pending.load(conn, fetcher, str(listed), "1.36.0")
    (codename,) = conn.execute("SELECT min(codename) FROM conformance.test").fetchone()  # type: ignore[misc]
    insert_hits(conn, [("1.36.0", "ci-run", endpoint, codename, True, True, 1)
                       for endpoint in CONFORMANCE_HITS])
    conn.execute("SELECT refresh_coverage()")
    conn.execute(
        "INSERT INTO testing.audit_event (release, source, audit_id, endpoint, useragent,"
        " test_hit, conf_test_hit, data)"
        " SELECT 'live', 'webhook', endpoint, endpoint, %s, false, false, '{}'"
        " FROM open_api WHERE release = '1.36.0' AND NOT deprecated", (LIVE,))
    return listed


def apisnoop_rule(eligible: bool, reason: str | None) -> bool:
    """The rule apisnoop's published files follow (before apisnoop#1035)."""
    return eligible or reason in ("pending", GROUP_REASON)


def test_every_consumer_agrees_with_the_relation(real_1_36: Path, conn: psycopg.Connection,
                                                 fetcher: Fetcher,
                                                 settings: Settings) -> None:
    relation = {endpoint: (level, eligible, reason) for endpoint, level, eligible, reason in
                conn.execute("SELECT endpoint, level, eligible, reason FROM endpoint_eligibility"
                             " WHERE release = '1.36.0'")}
    eligible = {e for e, (_, ok, _) in relation.items() if ok}
    # facts of the real spec and lists the comparisons below lean on
    assert relation[PENDING_NEW] == ("stable", False, "pending")
    assert relation[GROUP_BETA] == ("beta", False, GROUP_REASON)
    assert relation["getInternalApiserverAPIGroup"] == (
        "alpha", False, "ineligible: Not eligible for conformance yet")
    assert relation["getAppsAPIGroup"] == ("stable", True, None)
    # 1,123 operations; 521 stable, not deprecated, not ineligible, less 3 pending
    assert len(relation) == 1123 and len(eligible) == 518
    assert {reason for _, _, reason in relation.values()} >= {
        None, "not stable", "deprecated", "pending", GROUP_REASON}

    # conformance.eligible_endpoint, which the views reproducing apisnoop's files read:
    # apisnoop's rule, the path's level, the same set as before the relation
    published = {e for e, (_, ok, reason) in relation.items() if apisnoop_rule(ok, reason)}
    assert {e for (e,) in conn.execute("SELECT endpoint FROM conformance.eligible_endpoint")
            } == published == {e for (e,) in conn.execute(
                "SELECT endpoint FROM open_api o WHERE release = '1.36.0' AND level = 'stable'"
                " AND NOT deprecated AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint"
                " i WHERE i.endpoint = o.endpoint)")}
    assert published - eligible == {PENDING_NEW, PENDING_TESTED, GROUP_BETA,
                                    "readCoreV1NamespacedPod"}
    # ... and the export's conformance-endpoints.json, made from it
    files = export.render(conn)
    assert {e["endpoint"] for e in json.loads(files["conformance-endpoints.json"])} == published

    # stable coverage counts the relation's eligible endpoints
    assert {e for (e,) in conn.execute(
        "SELECT endpoint FROM conformance.stable_coverage WHERE release = '1.36.0'")} == eligible

    # untested_stable_endpoint: the relation's level and eligibility
    untested = conn.execute("SELECT endpoint, level, eligible FROM"
                            " testing.untested_stable_endpoint").fetchall()
    assert untested and all((level, ok) == relation[e][:2] for e, level, ok in untested)
    assert {e for e, _, _ in untested} == {
        e for e, (level, _, reason) in relation.items()
        if level == "stable" and reason != "deprecated" and e not in CONFORMANCE_HITS}

    # the gate, with the loaded list as its own: its verdicts map onto the reasons
    result = gate.run(conn, fetcher, Sources(settings, Releases.load()),
                      parse_release("1.36"), pending_file=real_1_36)
    assert result.verdicts and not result.pending_differs
    expected = {None: {"tested", "untested"}, "pending": {"tested", "pending"},
                "not stable": {"not stable"}, GROUP_REASON: {"not stable"},
                "deprecated": {"deprecated"}}
    for v in result.verdicts:
        level, _, reason = relation[v.endpoint]
        assert v.level == level, v.endpoint
        assert v.verdict in expected.get(reason, {"ineligible"}), v.endpoint
        assert v.pending == (reason == "pending"), v.endpoint
    verdicts = {v.endpoint: v.verdict for v in result.verdicts}
    assert (verdicts[PENDING_NEW], verdicts[PENDING_TESTED]) == ("pending", "tested")

    # the dashboard's endpoint table of 1.36: eligible, and why not
    table = pages.endpoints(conn, parse_release("1.36"))["endpoints"]
    (shown,) = conn.execute("SELECT count(*) FROM open_api WHERE release = '1.36.0'"  # type: ignore[misc]
                            " AND NOT deprecated").fetchone()
    assert len(table) == shown == 908
    for row in table:
        level, ok, reason = relation[row["endpoint"]]
        assert row["eligible"] == ok, row["endpoint"]
        shown = {"not stable": f"not stable ({level})", GROUP_REASON: f"group discovery ({level})"}
        assert row["ineligible"] == shown.get(reason, reason), row["endpoint"]
    page = pages.endpoint(conn, GROUP_BETA)
    assert page is not None and page["ineligible"] == "group discovery (beta)"

    # depth coverage (endpoint_depth, which the Depth page, the ticket's checklist and
    # depth.json read): the relation's level and eligibility
    depth = {e: (level, ok) for e, level, ok in conn.execute(
        "SELECT endpoint, level, eligible FROM endpoint_depth WHERE release = '1.36.0'")}
    assert depth == {e: (level, ok) for e, (level, ok, _) in relation.items()}

    # the ticket's rows for a live test that hit every endpoint
    hits = conn.execute(query("ticket_hits.sql"), (LIVE,)).fetchall()
    assert len(hits) == len(table)
    for endpoint, *_, level, ok, reason in hits:
        assert (level, ok, reason) == relation[endpoint], endpoint

    # projected change: the eligible endpoints, those conformance tests hit, the rest
    hit_eligible = len(eligible & set(CONFORMANCE_HITS))
    assert conn.execute("SELECT * FROM testing.projected_change_in_eligible_coverage"
                        ).fetchall() == [
        ("eligible_coverage", len(eligible), hit_eligible, len(eligible),
         len(eligible) - hit_eligible)]
