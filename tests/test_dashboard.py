"""snoopdb serve: the dashboard's JSON API under uvicorn on a loopback port, checked
row for row against the views on test_views' hand-made dataset (see its docstring:
releases 1.7.0, 1.9.0 and 1.10.0; endpoints A to P; live user agents)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg.rows import dict_row
from test_auditlogger import free_port, running, wait_for
from test_views import C1, C2, CONFORMANCE, ENDPOINTS, N1, A, B, C, D, F, G, H, P, W, insert_dataset

from snoopdb.web.dashboard import create_app


@pytest.fixture
def coverage(conn: psycopg.Connection) -> psycopg.Connection:
    insert_dataset(conn)
    return conn


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    with running(create_app(database_url)) as base:
        yield base


def get(url: str, path: str, status: int = 200) -> Any:
    response = requests.get(f"{url}{path}", timeout=10)
    assert response.status_code == status, response.text
    return response.json()


def view(conn: psycopg.Connection, sql: str, *params: object) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def flatten(node: dict[str, Any], path: tuple[str | None, ...] = ()) -> list[tuple]:
    """The sunburst in preorder: (path, total, tested, conf_tested, colour counts)."""
    here = (*path, node["name"])
    states = node["states"]
    rows = [(here, node["total"], node["tested"], node["conf_tested"],
             (states["conformance"], states["tested"], states["untested"]))]
    for child in node.get("children", []):
        rows += flatten(child, here)
    return rows


def test_overview_counts_the_newest_release(coverage, url) -> None:
    document = get(url, "/api/overview")
    assert (document["release"], document["releases"]) == ("1.10.0", ["1.10.0", "1.9.0", "1.7.0"])
    assert document["totals"] == {"total": 8, "tested": 4, "conf_tested": 3}
    assert document["by_level"] == [
        {"level": "stable", "total": 7, "tested": 3, "conf_tested": 3},
        {"level": "beta", "total": 1, "tested": 1, "conf_tested": 0},
    ]
    assert document["by_category"] == [
        {"category": "apps", "total": 1, "tested": 1, "conf_tested": 1},
        {"category": "core", "total": 6, "tested": 2, "conf_tested": 2},
        {"category": "flowcontrolApiserver", "total": 1, "tested": 1, "conf_tested": 0},
    ]
    # the same counts straight from the view
    counts = "count(*) AS total, count(*) FILTER (WHERE tested) AS tested, " \
             "count(*) FILTER (WHERE conf_tested) AS conf_tested"
    assert [document["totals"]] == view(
        coverage, f"SELECT {counts} FROM endpoint_coverage WHERE release = '1.10.0'")
    assert document["by_level"] == view(
        coverage, f"SELECT level, {counts} FROM endpoint_coverage WHERE release = '1.10.0'"
                  " GROUP BY level ORDER BY level DESC")
    assert document["by_category"] == view(
        coverage, f"SELECT category, {counts} FROM endpoint_coverage WHERE release = '1.10.0'"
                  " GROUP BY category ORDER BY category")


def test_overview_sunburst_nests_endpoint_coverage(coverage, url) -> None:
    sunburst = get(url, "/api/overview")["sunburst"]
    conf, tested, untested = (1, 0, 0), (0, 1, 0), (0, 0, 1)
    core = ("1.10.0", "stable", "core")
    assert flatten(sunburst) == [
        (("1.10.0",), 8, 4, 3, (3, 1, 4)),
        (("1.10.0", "stable"), 7, 3, 3, (3, 0, 4)),
        (("1.10.0", "stable", "apps"), 1, 1, 1, conf),
        (("1.10.0", "stable", "apps", "Deployment"), 1, 1, 1, conf),
        (("1.10.0", "stable", "apps", "Deployment", B), 1, 1, 1, conf),
        (core, 6, 2, 2, (2, 0, 4)),
        ((*core, "Binding"), 1, 1, 1, conf),
        ((*core, "Binding", C), 1, 1, 1, conf),
        ((*core, "ComponentStatus"), 1, 0, 0, untested),
        ((*core, "ComponentStatus", D), 1, 0, 0, untested),
        ((*core, "Namespace"), 2, 1, 1, (1, 0, 1)),
        ((*core, "Namespace", A), 1, 1, 1, conf),  # conformance-tested first within a kind
        ((*core, "Namespace", H), 1, 0, 0, untested),
        ((*core, "Node"), 1, 0, 0, untested),
        ((*core, "Node", G), 1, 0, 0, untested),
        ((*core, "PodTemplate"), 1, 0, 0, untested),
        ((*core, "PodTemplate", P), 1, 0, 0, untested),
        (("1.10.0", "beta"), 1, 1, 0, tested),
        (("1.10.0", "beta", "flowcontrolApiserver"), 1, 1, 0, tested),
        (("1.10.0", "beta", "flowcontrolApiserver", "FlowSchema"), 1, 1, 0, tested),
        (("1.10.0", "beta", "flowcontrolApiserver", "FlowSchema", F), 1, 1, 0, tested),
    ]
    leaves = sorted((path[1:], tested_, conf_tested) for path, _, tested_, conf_tested, _
                    in flatten(sunburst) if len(path) == 5)
    assert leaves == sorted(
        ((r["level"], r["category"], r["kind"], r["endpoint"]), int(r["tested"]),
         int(r["conf_tested"]))
        for r in view(coverage, "SELECT * FROM endpoint_coverage WHERE release = '1.10.0'"))


def test_overview_of_another_release(coverage, url) -> None:
    document = get(url, "/api/overview?release=v1.9")
    assert document["release"] == "1.9.0"
    # B (tested by an unnamed e2e.test), D, G, A and H; W is deprecated
    assert document["totals"] == {"total": 5, "tested": 3, "conf_tested": 2}
    assert [(n["name"], n["total"]) for n in document["sunburst"]["children"]] == [("stable", 5)]


@pytest.mark.parametrize(("query", "error"), [
    ("?release=1.99", "release 1.99.0 is not loaded; loaded: 1.10.0, 1.9.0, 1.7.0"),
    ("?release=latest", "bad release 'latest': expected 1.20, 1.20.0 or v1.20.0"),
])
def test_overview_of_a_release_not_loaded(coverage, url, query: str, error: str) -> None:
    assert get(url, f"/api/overview{query}", 404) == {"error": error}


def test_progress_is_the_views_row_for_row(coverage, url) -> None:
    document = get(url, "/api/progress")
    assert document["progress"] == view(coverage, "SELECT * FROM conformance.progress")
    assert [tuple(row.values()) for row in document["progress"]] == [
        ("1.9.0", 2, 2, 0, 0, 0, 1, 4, 1, 1),
        ("1.10.0", 2, 2, 0, 0, 1, 1, 6, 3, 1),
    ]
    assert [tuple(row.values()) for row in document["coverage_per_release"]] == [
        tuple(row) for row in coverage.execute("SELECT * FROM conformance.coverage_per_release")]
    assert list(document["coverage_per_release"][0]) == [
        "release", "new_endpoints", "tested", "untested", "total_tested", "total_untested",
        "total_endpoints"]
    assert [tuple(row.values()) for row in document["coverage_per_release"]] == [
        ("1.7.0", 2, 1, 1, 1, 1, 2),
        ("1.9.0", 2, 1, 1, 2, 2, 4),
        ("1.10.0", 2, 1, 1, 3, 3, 6),
    ]


def test_release_without_coverage_says_no_data(coverage, url) -> None:
    # 1.11.0's spec is loaded (1.10.0's endpoints), with no run and no published file
    coverage.execute("INSERT INTO open_api SELECT '1.11.0', release_date, endpoint, level,"
                     " category, path, k8s_group, k8s_version, k8s_kind, k8s_action,"
                     " deprecated, description, spec, method FROM open_api"
                     " WHERE release = '1.10.0'")
    coverage.execute("SELECT refresh_coverage()")
    document = get(url, "/api/overview")
    assert (document["release"], document["coverage"]) == ("1.11.0", "no data")
    assert document["totals"] == {"total": 8, "tested": 0, "conf_tested": 0}
    page = requests.get(f"{url}/", timeout=10).text
    assert 'id="no-data"' in page and ">no data</div>" in page
    assert get(url, "/api/overview?release=1.10.0")["coverage"] == "audit events"
    assert 'id="no-data"' not in requests.get(f"{url}/?release=1.10.0", timeout=10).text


def endpoint_row(endpoint: str, state: str, tests: int, eligible: bool = True,
                 wanted: bool = False) -> dict[str, Any]:
    level, category, path, _, kind = ENDPOINTS[endpoint][:5]
    return {"endpoint": endpoint, "level": level, "category": category, "kind": kind,
            "path": path, "state": state, "tested": state != "untested",
            "conf_tested": state == "conformance", "eligible": eligible,
            "untested_stable_eligible": wanted, "tests": tests}


def test_endpoint_table_puts_untested_stable_eligible_endpoints_first(coverage, url) -> None:
    document = get(url, "/api/endpoints")
    assert document["endpoints"] == [
        endpoint_row(P, "untested", 0, wanted=True),
        endpoint_row(G, "untested", 0, wanted=True),
        endpoint_row(H, "untested", 0, wanted=True),
        endpoint_row(B, "conformance", 1),
        endpoint_row(C, "conformance", 1),
        endpoint_row(D, "untested", 0, eligible=False),
        endpoint_row(A, "conformance", 3),
        endpoint_row(F, "tested", 1, eligible=False),
    ]
    assert document["count"] == 8
    assert document["options"] == {
        "category": ["apps", "core", "flowcontrolApiserver"],
        "kind": ["Binding", "ComponentStatus", "Deployment", "FlowSchema", "Namespace", "Node",
                 "PodTemplate"],
        "level": ["beta", "stable"],
        "state": ["conformance", "tested", "untested"],
    }
    # the first three are exactly testing.untested_stable_endpoint's eligible rows
    assert sorted(row["endpoint"] for row in document["endpoints"][:3]) == sorted(
        row["endpoint"] for row in view(
            coverage, "SELECT endpoint FROM testing.untested_stable_endpoint WHERE eligible"))
    assert {(r["endpoint"], r["path"], r["tested"], r["conf_tested"], r["tests"])
            for r in document["endpoints"]} == {
        (r["endpoint"], r["path"], r["tested"], r["conf_tested"], len(r["tests"]))
        for r in view(coverage, "SELECT * FROM endpoint_coverage WHERE release = '1.10.0'")}


@pytest.mark.parametrize(("query", "endpoints"), [
    ("state=untested", [P, G, H, D]),
    ("state=tested", [F]),
    ("state=conformance", [B, C, A]),
    ("category=apps", [B]),
    ("kind=Namespace", [H, A]),
    ("level=beta", [F]),
    ("category=core&state=untested&level=stable", [P, G, H, D]),
    ("q=NAMESPACE", [P, H, B, C, A]),     # in the name, any case
    ("q=objects+of+kind", [G, D]),        # in the description
    ("q=%7Bnamespace%7D%2Fpods", [C]),    # in the path: {namespace}/pods
    ("q=%25", []),                        # a plain character, not a LIKE wildcard
    ("category=&kind=&q=+", [P, G, H, B, C, D, A, F]),  # blank means any
    ("release=1.9&state=untested", [D, G]),
])
def test_endpoint_table_filters(coverage, url, query: str, endpoints: list[str]) -> None:
    document = get(url, f"/api/endpoints?{query}")
    assert [row["endpoint"] for row in document["endpoints"]] == endpoints
    assert document["count"] == len(endpoints)


def test_endpoint_table_of_an_older_release(coverage, url) -> None:
    document = get(url, "/api/endpoints?release=1.9.0&category=core")
    assert document["release"] == "1.9.0"
    assert document["filters"] == {"category": "core", "kind": None, "level": None,
                                   "state": None, "q": None}
    # only the latest release has untested stable endpoints to write tests for
    assert [(r["endpoint"], r["state"], r["untested_stable_eligible"])
            for r in document["endpoints"]] == [
        (D, "untested", False), (G, "untested", False), (A, "conformance", False),
        (H, "conformance", False)]


@pytest.mark.parametrize(("query", "error"), [
    ("level=gamma", "level must be one of stable, beta, alpha, not 'gamma'"),
    ("state=covered", "state must be one of conformance, tested, untested, not 'covered'"),
])
def test_endpoint_table_rejects_unknown_filters(coverage, url, query: str, error: str) -> None:
    assert get(url, f"/api/endpoints?{query}", 400) == {"error": error}


@pytest.mark.parametrize(("path", "name"), [
    ("/api/endpoints?q=%00", "q"), ("/endpoints?q=a%00b", "q"),
    ("/api/endpoints?category=%00", "category"), ("/api/overview?release=1.%00", "release"),
    ("/api/endpoints/%00", "name"), ("/endpoints/read%00Pod", "name"),
    ("/api/endpoints?kind=%01", "kind"),
])
def test_parameters_with_control_characters_are_400(coverage, url, path: str, name: str) -> None:
    response = requests.get(f"{url}{path}", timeout=10)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"error": f"parameter {name!r} holds a control character"}


@pytest.mark.parametrize("query", ["release=1.99999999999999999999999", "release=%ff%fe",
                                   "release=" + "9" * 5000, "q=" + "%" * 3, "q=" + "x" * 20000])
def test_odd_parameters_are_never_a_500(coverage, url, query: str) -> None:
    for page in ("/api/overview", "/api/endpoints", "/endpoints"):
        assert requests.get(f"{url}{page}?{query}", timeout=10).status_code in (200, 400, 404)


def test_endpoint_page(coverage, url) -> None:
    document = get(url, f"/api/endpoints/{A}")
    # its coverage across runs: one run per release here (test_runs_browser has more)
    runs = document.pop("runs")
    assert [(s["release"], s["runs"], s["runs_hit"]) for s in runs["stability"]] == [
        (r, 1, 1) for r in ("1.10.0", "1.10.0", "1.9.0", "1.7.0")]
    assert {t["test"] for t in runs["tests"]} == {C1, C2, N1}
    assert document == {
        "endpoint": A, "level": "stable", "category": "core", "path": "/api/v1/namespaces/{name}",
        "description": "read the specified Namespace", "kind": "Namespace", "version": "v1",
        "group": "", "action": "get",
        "releases": [
            {"release": "1.7.0", "tested": True, "conf_tested": True, "tests": 1},
            {"release": "1.9.0", "tested": True, "conf_tested": True, "tests": 1},
            {"release": "1.10.0", "tested": True, "conf_tested": True, "tests": 3},
        ],
        "tests": [
            {"test": C1, "conformance_test": True, "testname": "Namespace, read",
             "promotion_release": "1.9.0", "releases": ["1.7.0", "1.9.0", "1.10.0"]},
            {"test": C2, "conformance_test": True, "testname": "Deployment, create",
             "promotion_release": "1.10.0", "releases": ["1.10.0"]},
            {"test": N1, "conformance_test": False, "testname": None, "promotion_release": None,
             "releases": ["1.10.0"]},
        ],
        "eligibility": {"first_release": "1.7.0", "first_conformance_test": "1.9.0",
                        "test": "Namespace, read", "codename": C1,
                        "file": CONFORMANCE[C1][2], "all_test_releases": ["1.9.0", "1.10.0"]},
        "fields": None,  # no spec with body schemas is loaded (test_fields has those)
    }


def test_endpoint_page_against_the_views(coverage, url) -> None:
    for name in (A, B, C, D, F, G, H, P):
        document = get(url, f"/api/endpoints/{name}")
        rows = view(coverage, "SELECT ec.* FROM endpoint_coverage ec JOIN release_order r"
                              " USING (release) WHERE endpoint = %s ORDER BY r.sort_key", name)
        assert document["releases"] == [
            {"release": r["release"], "tested": r["tested"], "conf_tested": r["conf_tested"],
             "tests": len(r["tests"])} for r in rows]
        assert {(t["test"], release) for t in document["tests"] for release in t["releases"]} == {
            (test, r["release"]) for r in rows for test in r["tests"]}
        eligibility = view(coverage, "SELECT first_release, first_conformance_test, test,"
                                     " codename, file, all_test_releases"
                                     " FROM conformance.eligible_endpoint_coverage"
                                     " WHERE endpoint = %s", name)
        assert document["eligibility"] == (eligibility[0] if eligibility else None)


def test_endpoint_page_of_untested_and_unnamed_tests(coverage, url) -> None:
    untested = get(url, f"/api/endpoints/{P}")
    assert (untested["tests"], untested["eligibility"]) == ([], {
        "first_release": "1.10.0", "first_conformance_test": None, "test": None,
        "codename": None, "file": None, "all_test_releases": []})
    assert get(url, f"/api/endpoints/{D}")["eligibility"] is None  # ineligible
    # an e2e.test user agent naming no test hit B in 1.9.0: listed after the conformance test
    assert get(url, f"/api/endpoints/{B}")["tests"] == [
        {"test": C2, "conformance_test": True, "testname": "Deployment, create",
         "promotion_release": "1.10.0", "releases": ["1.10.0"]},
        {"test": "", "conformance_test": False, "testname": None, "promotion_release": None,
         "releases": ["1.9.0"]},
    ]


@pytest.mark.parametrize("name", [W, "noSuchEndpoint"])  # W is deprecated: in no coverage view
def test_endpoint_page_of_an_unknown_endpoint(coverage, url, name: str) -> None:
    assert get(url, f"/api/endpoints/{name}", 404) == {
        "error": f"no loaded release has a non-deprecated endpoint {name!r}"}


def test_live_testing(coverage, url) -> None:
    document = get(url, "/api/live")
    hits = view(coverage, "SELECT * FROM testing.endpoint_hit_by_new_test")
    assert [hit for agent in document["agents"] for hit in agent["hits"]] == sorted(
        hits, key=lambda h: (h["useragent"], h["hit_by_ete"], h["endpoint"]))
    assert [{k: v for k, v in agent.items() if k != "hits"} for agent in document["agents"]] == [
        {"useragent": "live-other", "endpoints": 2, "newly_covered": 2, "events": 2},
        {"useragent": "live-test-writing", "endpoints": 3, "newly_covered": 2, "events": 6},
    ]
    assert [(h["endpoint"], h["hit_by_ete"], h["hit_by_new_test"])
            for h in document["agents"][1]["hits"]] == [(G, False, 3), (H, False, 1), (A, True, 2)]
    assert document["projected"] == {"release": "1.10.0", **view(
        coverage, "SELECT * FROM testing.projected_change_in_coverage")[0]}
    assert document["projected"] == {
        "release": "1.10.0", "category": "test_coverage", "total_endpoints": 8,
        "old_coverage": 4, "new_coverage": 7, "change_in_number": 3}


def test_an_empty_database(conn, url) -> None:
    error = {"error": "no spec is loaded: run `snoopdb load --release X` first"}
    assert get(url, "/api/overview", 404) == error
    assert get(url, "/api/endpoints", 404) == error
    assert get(url, "/api/progress") == {"progress": [], "coverage_per_release": []}
    assert get(url, "/api/live") == {"agents": [], "projected": None}
    page = requests.get(f"{url}/", timeout=10)
    assert page.status_code == 404 and "no spec is loaded" in page.text


PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.DOTALL)


@pytest.mark.parametrize(("page", "api"), [
    ("/", "/api/overview"),
    ("/?release=1.9", "/api/overview?release=1.9"),
    ("/progress", "/api/progress"),
])
def test_charts_are_drawn_from_the_api_document(coverage, url, page: str, api: str) -> None:
    response = requests.get(f"{url}{page}", timeout=10)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert json.loads(PAGE_DATA.search(response.text)[1]) == get(url, api)
    assert f'href="{api}"' in response.text.replace("&amp;", "&")


@pytest.mark.parametrize(("page", "status", "text"), [
    ("/endpoints?state=untested", 200, f'<tr data-endpoint="{P}" class="wanted">'),
    (f"/endpoints/{A}", 200, "/api/v1/namespaces/{name}"),
    ("/live", 200, '<div class="value" data-count="change_in_number">+3</div>'),
    ("/endpoints/noSuchEndpoint", 404,
     "no loaded release has a non-deprecated endpoint &#39;noSuchEndpoint&#39;"),
    ("/endpoints?level=gamma", 400,
     "level must be one of stable, beta, alpha, not &#39;gamma&#39;"),
])
def test_pages(coverage, url, page: str, status: int, text: str) -> None:
    response = requests.get(f"{url}{page}", timeout=10)
    assert (response.status_code, response.headers["content-type"]) == (
        status, "text/html; charset=utf-8")
    assert text in response.text


def test_static_files_are_served(url) -> None:
    script = requests.get(f"{url}/static/dashboard.js", timeout=10)
    style = requests.get(f"{url}/static/dashboard.css", timeout=10)
    assert (script.status_code, style.status_code) == (200, 200)
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "function sunburst(" in script.text and "--conformance" in style.text


def test_database_down_is_a_503(coverage) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=1"
    with running(create_app(closed, db_timeout=1)) as base:
        document = get(base, "/api/overview", 503)
        health = requests.get(f"{base}/healthz", timeout=10)
    assert document["error"].startswith("database unavailable: ")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"


def test_cli_serves_until_terminated(coverage, database_url) -> None:
    port = free_port()
    server = subprocess.Popen(
        # the installed entry point, as users run it (not the checkout's package)
        [str(Path(sys.executable).with_name("snoopdb")), "serve", "--port", str(port),
         "--log-level", "warning"],
        env={**os.environ, "DATABASE_URL": database_url}, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return False

    try:
        wait_for(healthy, 30)
        totals = get(base, "/api/overview")["totals"]
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert totals == {"total": 8, "tested": 4, "conf_tested": 3}
    assert server.returncode == -signal.SIGTERM
    assert stderr.splitlines() == [
        f"dashboard: http://127.0.0.1:{port}/ over {database_url}; releases 1.7.0 to 1.10.0"]
