"""snoopdb serve: the dashboard's JSON API under uvicorn on a loopback port, checked
row for row against the views on test_views' hand-made dataset (see its docstring:
releases 1.7.0, 1.9.0 and 1.10.0; endpoints A to P; live user agents)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row
from test_auditlogger import free_port, guarded, running, wait_for
from test_views import (
    C1,
    C2,
    CONFORMANCE,
    ENDPOINTS,
    N1,
    RUN_110A,
    RUN_110B,
    A,
    B,
    C,
    D,
    F,
    G,
    H,
    P,
    W,
    insert_dataset,
)

from snoopdb.core.releases import Releases
from snoopdb.web.pages import gaps
from snoopdb.web.routes import create_app
from snoopdb.web.server import Limits
from testkit.hits import drop_all_runs, insert_hits


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


def give_runs_events(conn: psycopg.Connection) -> None:
    """Events to the hand-made runs of 1.10.0 (stored with none): 12 and 7."""
    conn.execute("UPDATE audit_run SET events = CASE source WHEN %s THEN 12 ELSE 7 END"
                 " WHERE source IN (%s, %s)", (RUN_110A, RUN_110A, RUN_110B))


def load_spec_without_data(conn: psycopg.Connection, release: str = "1.11.0") -> None:
    """`release`'s spec loaded (1.10.0's endpoints), with no run and no published file."""
    conn.execute("INSERT INTO open_api SELECT %s, release_date, endpoint, level,"
                 " category, path, k8s_group, k8s_version, k8s_kind, k8s_action,"
                 " deprecated, description, spec, method FROM open_api"
                 " WHERE release = '1.10.0'", (release,))
    conn.execute("SELECT refresh_coverage()")


class _Texts(HTMLParser):
    """The text of every element whose opening tag has attribute `name` = `value`."""

    VOID = {"br", "col", "img", "input", "link", "meta", "wbr"}

    def __init__(self, name: str, value: str) -> None:
        super().__init__()
        self.wanted, self.found = (name, value), []
        self.open: list[tuple[str, list[str]]] = []  # (tag, text) of each element being read
        self.depth: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        for index, (open_tag, _) in enumerate(self.open):
            if open_tag == tag:
                self.depth[index] += 1
        if self.wanted in attrs:
            self.open.append((tag, []))
            self.depth.append(1)

    def handle_endtag(self, tag: str) -> None:
        for index in reversed(range(len(self.open))):
            if self.open[index][0] == tag:
                self.depth[index] -= 1
                if self.depth[index] == 0:
                    self.found.append(" ".join("".join(self.open[index][1]).split()))
                    del self.open[index], self.depth[index]

    def handle_data(self, data: str) -> None:
        for _, text in self.open:
            text.append(data)


def html_texts(page: str, name: str, value: str) -> list[str]:
    """The texts (tags dropped, white space collapsed) of `page`'s elements with
    `name="value"`, in document order of their ends."""
    parser = _Texts(name, value)
    parser.feed(page)
    return parser.found


def page(url: str, path: str, status: int = 200) -> str:
    response = requests.get(f"{url}{path}", timeout=10)
    assert (response.status_code, response.headers["content-type"]) == (
        status, "text/html; charset=utf-8"), response.text
    return response.text


def test_progress_names_the_releases_it_jumps_over(coverage, url) -> None:
    """conformance.progress starts at 1.8.0, coverage_per_release has 1.7.0 and then
    1.9.0: 1.8.0 has no row (no spec loaded), and the charts mark it."""
    document = get(url, "/api/progress")
    assert (document["progress_gaps"], document["coverage_per_release_gaps"]) == (
        [], [{"after": "1.7.0", "before": "1.9.0", "missing": ["1.8.0"]}])
    assert gaps(["1.22.0", "1.28.0", "1.29.0", "2.0.0"]) == [
        {"after": "1.22.0", "before": "1.28.0",
         "missing": ["1.23.0", "1.24.0", "1.25.0", "1.26.0", "1.27.0"]}]


def test_default_release_is_the_newest_with_coverage_data(coverage, url) -> None:
    """A spec loaded with no coverage (a typo's development release, say) no longer
    makes the dashboard open on it: the default is the newest release with data, and
    the pages say which it is, what is newer, and how much data backs the numbers."""
    load_spec_without_data(coverage)
    give_runs_events(coverage)
    document = get(url, "/api/overview")
    assert {key: document[key] for key in (
        "release", "default_release", "coverage", "releases", "releases_without_data", "runs",
        "events")} == {
        "release": "1.10.0", "default_release": "1.10.0", "coverage": "audit events",
        "releases": ["1.11.0", "1.10.0", "1.9.0", "1.7.0"], "releases_without_data": ["1.11.0"],
        "runs": 2, "events": 19}
    assert document["totals"] == {"total": 8, "tested": 4, "conf_tested": 3}
    table = get(url, "/api/endpoints")
    assert (table["release"], table["default_release"]) == ("1.10.0", "1.10.0")
    assert [row["endpoint"] for row in table["endpoints"] if row["untested_stable_eligible"]] == [
        P, G, H]
    note = ("1.10.0: the newest release with coverage data (from audit events: 2 runs, 19"
            " events). Newer release 1.11.0 has no coverage data yet: pick it above to see its"
            " endpoints.")
    overview_page = page(url, "/")
    assert html_texts(overview_page, "data-k", "release-note") == [note]
    assert html_texts(overview_page, "id", "no-data") == []
    assert '<option value="1.11.0">1.11.0 (no data)</option>' in overview_page
    assert '<option value="1.10.0" selected>1.10.0</option>' in overview_page
    endpoints_page = page(url, "/endpoints")
    assert html_texts(endpoints_page, "data-k", "release-note") == [note]
    assert "<h1>Endpoints of 1.10.0</h1>" in endpoints_page
    assert html_texts(page(url, "/?release=1.7"), "data-k", "release-note") == [
        "1.7.0: coverage from published coverage. The newest release with coverage data is"
        " 1.10.0."]
    # without the typo, the newest release is the default and nothing newer is named
    assert html_texts(page(url, "/?release=1.10"), "data-k", "release-note") == [
        note]


def test_a_release_without_coverage_data_says_no_data(coverage, url) -> None:
    """Asked for, a release without coverage data shows its endpoints as "no data"
    (null in JSON), never as untested or 0 tested."""
    load_spec_without_data(coverage)
    document = get(url, "/api/overview?release=1.11")
    assert (document["release"], document["coverage"]) == ("1.11.0", "no data")
    assert document["totals"] == {"total": 8, "tested": None, "conf_tested": None}
    assert document["by_level"] == [
        {"level": "stable", "total": 7, "tested": None, "conf_tested": None},
        {"level": "beta", "total": 1, "tested": None, "conf_tested": None}]
    assert document["sunburst"]["states"] == {"conformance": 0, "tested": 0, "untested": 0,
                                              "no_data": 8}
    overview_page = page(url, "/?release=1.11")
    assert html_texts(overview_page, "id", "no-data") == [
        "No data: no CI run of release 1.11.0 is loaded and no published coverage of it is"
        " imported, so whether its endpoints are tested is unknown (not untested). The newest"
        " release with coverage data is 1.10.0."]
    assert html_texts(overview_page, "data-k", "tested") == ["no data"] * 5  # levels, categories
    assert 'id="sunburst"' not in overview_page  # an empty chart would read as untested
    # with data, the tables show numbers (and the sunburst is drawn)
    assert html_texts(page(url, "/?release=1.10"), "data-k", "tested") == ["3", "1", "1", "2", "1"]

    table = get(url, "/api/endpoints?release=1.11")
    assert {(row["state"], row["tested"], row["conf_tested"], row["untested_stable_eligible"],
             row["tests"]) for row in table["endpoints"]} == {(None, None, None, False, None)}
    assert table["count"] == 8
    assert get(url, "/api/endpoints?release=1.11&state=untested")["count"] == 0
    endpoints_page = page(url, "/endpoints?release=1.11")
    assert html_texts(endpoints_page, "data-k", "state") == ["no data"] * 8
    assert html_texts(endpoints_page, "data-k", "tests") == ["no data"] * 8
    assert 'class="wanted"' not in endpoints_page

    assert get(url, f"/api/endpoints/{A}")["releases"][-2:] == [
        {"release": "1.10.0", "tested": True, "conf_tested": True, "tests": 3},
        {"release": "1.11.0", "tested": None, "conf_tested": None, "tests": None}]
    endpoint_page = page(url, f"/endpoints/{A}")
    assert html_texts(endpoint_page, "data-k", "tested") == ["yes", "yes", "yes", "no data"]
    assert html_texts(endpoint_page, "data-k", "conf_tested") == ["yes", "yes", "yes", "no data"]
    assert html_texts(endpoint_page, "data-k", "tests") == ["1", "1", "3", "no data"]


def test_with_no_coverage_data_at_all(coverage, url) -> None:
    """Specs, conformance tests and live events, but no CI run and no published
    coverage: every page says "no data" where it would count tested endpoints."""
    drop_all_runs(coverage)
    coverage.execute("SELECT refresh_coverage()")
    document = get(url, "/api/overview")
    assert (document["release"], document["coverage"], document["releases_without_data"]) == (
        "1.10.0", "no data", ["1.10.0", "1.9.0", "1.7.0"])
    assert html_texts(page(url, "/"), "id", "no-data") == [
        "No data: no CI run of release 1.10.0 is loaded and no published coverage of it is"
        " imported, so whether its endpoints are tested is unknown (not untested). No loaded"
        " release has coverage data: load a CI run or apisnoop's published coverage"
        " (snoopdb load --release 1.10)."]

    live = get(url, "/api/live")
    assert live["projected"] == {
        "release": "1.10.0", "coverage": "no data", "category": "test_coverage",
        "total_endpoints": 8, "old_coverage": None, "new_coverage": None,
        "change_in_number": None}
    assert [(agent["useragent"], agent["newly_covered"]) for agent in live["agents"]] == [
        ("live-other", None), ("live-test-writing", None)]
    assert {hit["hit_by_ete"] for agent in live["agents"] for hit in agent["hits"]} == {None}
    live_page = page(url, "/live")
    assert html_texts(live_page, "id", "no-data") == [
        "No data: no CI run of release 1.10.0 is loaded and no published coverage of it is"
        " imported, so which of these endpoints CI tests is unknown, and so is what the live"
        " tests would add."]
    assert [html_texts(live_page, "data-count", key) for key in (
        "total_endpoints", "old_coverage", "new_coverage", "change_in_number")] == [
        ["8"], ["no data"], ["no data"], ["no data"]]
    assert html_texts(live_page, "data-k", "newly_covered") == ["no data", "no data"]
    assert html_texts(live_page, "data-k", "hit_by_ete") == ["no data"] * 5
    assert 'class="wanted"' not in live_page

    progress = get(url, "/api/progress")
    assert [(row["release"], row["tested"], row["untested"])
            for row in progress["coverage_per_release"]] == [
        ("1.7.0", None, None), ("1.9.0", None, None), ("1.10.0", None, None)]
    progress_page = page(url, "/progress")
    assert html_texts(progress_page, "data-k", "total_tested_endpoints") == ["no data"] * 2
    assert html_texts(progress_page, "data-k", "tested") == ["no data"] * 3
    assert html_texts(progress_page, "data-k", "total_endpoints") == ["4", "6", "2", "4", "6"]


def endpoint_row(endpoint: str, state: str, tests: int, ineligible: str | None = None,
                 wanted: bool = False) -> dict[str, Any]:
    level, category, path, _, kind = ENDPOINTS[endpoint][:5]
    return {"endpoint": endpoint, "level": level, "category": category, "kind": kind,
            "path": path, "state": state, "tested": state != "untested",
            "conf_tested": state == "conformance", "eligible": ineligible is None,
            "ineligible": ineligible, "untested_stable_eligible": wanted, "tests": tests}


def test_endpoint_table_puts_untested_stable_eligible_endpoints_first(coverage, url) -> None:
    document = get(url, "/api/endpoints")
    assert document["endpoints"] == [
        endpoint_row(P, "untested", 0, wanted=True),
        endpoint_row(G, "untested", 0, wanted=True),
        endpoint_row(H, "untested", 0, wanted=True),
        endpoint_row(B, "conformance", 1),
        endpoint_row(C, "conformance", 1),
        endpoint_row(D, "untested", 0, ineligible="ineligible: pending deprecation"),
        endpoint_row(A, "conformance", 3),
        endpoint_row(F, "tested", 1, ineligible="not stable (beta)"),
    ]
    assert document["count"] == 8
    assert document["options"] == {
        "category": ["apps", "core", "flowcontrolApiserver"],
        "kind": ["Binding", "ComponentStatus", "Deployment", "FlowSchema", "Namespace", "Node",
                 "PodTemplate"],
        "level": ["beta", "stable"],
        "state": ["conformance", "tested", "untested"],
    }
    # the eligible column says why an endpoint is not eligible
    assert html_texts(page(url, "/endpoints"), "data-k", "eligible") == [
        "eligible", "eligible", "eligible", "eligible", "eligible",
        "ineligible ineligible: pending deprecation", "eligible", "ineligible not stable (beta)"]
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
        "ineligible": None,
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
    ineligible = get(url, f"/api/endpoints/{D}")
    assert (ineligible["eligibility"], ineligible["ineligible"]) == (None, "ineligible: pending deprecation")
    assert html_texts(page(url, f"/endpoints/{D}"), "data-k", "eligibility") == [
        "not eligible: ineligible: pending deprecation"]
    assert get(url, f"/api/endpoints/{F}")["ineligible"] == "not stable (beta)"
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
    assert document["projected"] == {"release": "1.10.0", "coverage": "audit events", **view(
        coverage, "SELECT * FROM testing.projected_change_in_coverage")[0]}
    assert document["projected"] == {
        "release": "1.10.0", "coverage": "audit events", "category": "test_coverage",
        "total_endpoints": 8, "old_coverage": 4, "new_coverage": 7, "change_in_number": 3}


def test_an_empty_database(conn, url) -> None:
    """Before anything is loaded the front page is the overview saying what to load
    (200, not "Not found"); the pages of a release say none is loaded."""
    newest = Releases.load().newest.minor_name
    assert get(url, "/api/overview") == {
        "release": None, "releases": [], "default_release": None, "coverage": "no data",
        "releases_without_data": [], "runs": 0, "events": 0, "totals": None,
        "by_level": [], "by_category": [], "sunburst": None,
        "load": f"snoopdb load --release {newest}"}
    front = page(url, "/")
    assert html_texts(front, "data-k", "nothing-loaded") == [
        "Nothing is loaded yet. Load a release's spec, conformance tests and CI runs:"
        f" snoopdb load --release {newest} (offline, from a mirror: snoopdb load --from DIR"
        f" --release {newest}), then reload this page."]
    assert "<title>Overview · snoopdb</title>" in front
    error = {"error": "no spec is loaded: run `snoopdb load --release X` first"}
    assert get(url, "/api/endpoints", 404) == error
    assert get(url, "/api/progress") == {"progress": [], "coverage_per_release": [],
                                         "progress_gaps": [], "coverage_per_release_gaps": []}
    assert get(url, "/api/live") == {"agents": [], "projected": None}
    assert "no spec is loaded" in page(url, "/endpoints", 404)


def test_the_runs_page_with_one_run(conn, url) -> None:
    """The state after anyone's first load: one run, and nothing to compare it with."""
    conn.execute("INSERT INTO open_api (release, endpoint, level, category, path, method, spec,"
                 " deprecated) VALUES ('1.36.0', %s, 'stable', 'core', '/api/v1/nodes', 'get',"
                 " 'swagger.json', false)", (G,))
    run = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/7"
    insert_hits(conn, [("1.36.0", run, G, "", True, False, 1)])
    conn.execute("UPDATE audit_run SET build = '7'")
    conn.execute("SELECT refresh_coverage()")
    document = get(url, "/api/runs")
    assert (document["choices"], document["diff"]) == (["ci-kubernetes-e2e-gci-gce#7"], None)
    runs_page = page(url, "/runs")
    assert html_texts(runs_page, "data-run", "ci-kubernetes-e2e-gci-gce#7")[0].startswith(
        "ci-kubernetes-e2e-gci-gce#7")
    assert html_texts(runs_page, "data-k", "no-diff") == [
        "One run is loaded: a second one to compare it with comes with the next load of its"
        " job (snoopdb load --release X --job J --last 2 loads the newest two)."]


def test_the_runs_page_diff_names_every_test_and_each_once(conn, url) -> None:
    """An e2e.test user agent naming no test gets a visible name; body fields the
    same tests set share one line; one endpoint is 1 endpoint."""
    for endpoint in (A, G):
        conn.execute("INSERT INTO open_api (release, endpoint, level, category, path, method,"
                     " spec, deprecated) VALUES ('1.36.0', %s, 'stable', 'core', %s, 'get',"
                     " 'swagger.json', false)", (endpoint, ENDPOINTS[endpoint][2]))
    job = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce"
    insert_hits(conn, [("1.36.0", f"{job}/1", A, C1, True, True, 1),
                       ("1.36.0", f"{job}/2", A, C1, True, True, 1),
                       ("1.36.0", f"{job}/2", G, "", True, False, 1),
                       ("1.36.0", f"{job}/2", A, "", True, False, 1),
                       ("1.36.0", f"{job}/2", B, N1, True, False, 1)],
                [("1.36.0", f"{job}/2", B, field, True, test, True, False, 1)
                 for field in ("metadata", "metadata.name", "spec") for test in ("", N1)])
    conn.execute("UPDATE audit_run SET build = right(source, 1)")
    conn.execute("SELECT refresh_coverage()")
    diff = page(url, "/runs?a=ci-kubernetes-e2e-gci-gce%231&b=ci-kubernetes-e2e-gci-gce%232")
    nameless = "(e2e.test, no test name)"
    assert html_texts(diff, "data-endpoint", G)[0].endswith(f"tested{nameless}")
    assert html_texts(diff, "data-table", "diff-tests") == [
        f"+ {nameless} (2 endpoints) + {N1} (1 endpoint)"]
    assert html_texts(diff, "data-table", "diff-fields") == [
        f"+ {B}: metadata, metadata.name, spec {nameless}, {N1}"]


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


@pytest.mark.slow
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
        # the 16 KiB head limit holds in the real server too (the 20 KB URL)
        too_long = exchange(port, URL_20K)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert totals == {"total": 8, "tested": 4, "conf_tested": 3}
    assert too_long.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert server.returncode == -signal.SIGTERM
    assert stderr.splitlines() == [
        f"dashboard: http://127.0.0.1:{port}/ over {database_url}; releases 1.7.0 to 1.10.0"]


def exchange(port: int, *pieces: bytes) -> bytes:
    """Send `pieces` one by one over a raw socket, stopping early once the server
    answers; everything it answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        for piece in pieces:
            client.sendall(piece)
            if select.select([client], [], [], 0.02)[0]:  # answered (and closing)
                break
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def head(path: str, *headers: str) -> bytes:
    return "".join([f"GET {path} HTTP/1.1\r\nHost: x\r\n", *(f"{h}\r\n" for h in headers),
                    "Connection: close\r\n\r\n"]).encode()


CRLF = b"\r\n"
LIMIT = "the limit is 16,384 bytes of request line and headers"
URL_20K = head("/api/overview?pad=" + "x" * 20_000)
HEADERS_17K = head("/api/overview", *(f"X-Pad-{i}: {'y' * 990}" for i in range(17)))
HEADERS_40K = head("/api/overview", *(f"X-Pad-{i}: {'y' * 990}" for i in range(40)))


@pytest.mark.parametrize(("request_head", "piece", "status", "message"), [
    # a 20 KB URL in one read: h11 alone let it through
    (URL_20K, None, 414, f"request line of {URL_20K.index(CRLF) + 2:,} bytes: {LIMIT}"),
    (URL_20K, 1000, 414, f"request line of at least [0-9,]+ bytes: {LIMIT}"),
    (HEADERS_17K, None, 431, f"request line and headers of {len(HEADERS_17K):,} bytes: {LIMIT}"),
    (HEADERS_40K, 1000, 431, f"request line and headers of at least [0-9,]+ bytes: {LIMIT}"),
], ids=["url-one-read", "url-in-pieces", "headers-one-read", "headers-in-pieces"])
def test_request_heads_over_16_kib_are_refused(coverage, database_url, request_head: bytes,
                                               piece: int | None, status: int,
                                               message: str) -> None:
    """docs/bounds.md, HTTP clients: at most 16 KiB of request line and headers, whether the head
    arrives in one read or in many: 414 when the request line alone is longer, 431
    otherwise; the page is never served."""
    pieces = [request_head] if piece is None else [
        request_head[i:i + piece] for i in range(0, len(request_head), piece)]
    with guarded(create_app(database_url), Limits()) as (_, port):
        answer = exchange(port, *pieces).decode()
    status_line, _, rest = answer.partition("\r\n")
    headers, _, body = rest.partition("\r\n\r\n")
    assert status_line == f"HTTP/1.1 {status} " + (
        "URI Too Long" if status == 414 else "Request Header Fields Too Large")
    assert "connection: close" in headers.lower()
    assert re.fullmatch(message + "\n", body), body
    if piece is not None:  # h11 stopped it once past the limit, before its end
        assert int(re.search(r"least ([0-9,]+)", body)[1].replace(",", "")) > 16 * 1024


def test_a_head_of_exactly_16_kib_is_served(coverage, database_url) -> None:
    short = head("/api/overview?pad=")
    exact = head("/api/overview?pad=" + "x" * (16 * 1024 - len(short)))
    over = head("/api/overview?pad=" + "x" * (16 * 1024 - len(short) + 1))
    assert (len(exact), len(over)) == (16 * 1024, 16 * 1024 + 1)
    with guarded(create_app(database_url), Limits()) as (_, port):
        assert exchange(port, exact).startswith(b"HTTP/1.1 200 ")
        # one byte more: 431, the request line alone being within the limit
        assert exchange(port, over).startswith(b"HTTP/1.1 431 ")
        # pipelined behind a good request on a kept-alive connection: the good one is
        # answered, the oversized one refused
        good = head("/api/overview").replace(b"Connection: close", b"Connection: keep-alive")
        answers = exchange(port, good + over)
    assert answers.startswith(b"HTTP/1.1 200 ")
    assert answers.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 431 " in answers


@pytest.mark.parametrize(("method", "path", "status", "message"), [
    ("GET", "/nonexistent", 404, "no page at /nonexistent"),
    ("GET", "/endpoints/A/more", 404, "no page at /endpoints/A/more"),
    ("GET", "/static/missing.css", 404, "no page at /static/missing.css"),
    ("POST", "/", 405, "POST is not allowed at /: the dashboard only answers GET"),
])
def test_unknown_pages_are_styled(url, method: str, path: str, status: int, message: str) -> None:
    """Starlette's own errors look like the dashboard's: its page, styled, with the
    way back; not a line of plain text."""
    response = requests.request(method, f"{url}{path}", timeout=10)
    assert (response.status_code, response.headers["content-type"]) == (
        status, "text/html; charset=utf-8")
    title = {404: "Not found", 405: "Method not allowed"}[status]
    assert f"<title>{title} · snoopdb</title>" in response.text
    assert '<link rel="stylesheet" href="/static/dashboard.css' in response.text
    assert html_texts(response.text, "data-k", "status") == [str(status)]
    assert html_texts(response.text, "data-k", "error") == [message]
    assert html_texts(response.text, "data-k", "pages") == [
        "The dashboard's pages: Overview, Progress, Endpoints, Live testing, Runs; each as"
        " JSON under /api/ (/api/overview)."]
    if status == 405:
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}  # a set's order


@pytest.mark.parametrize(("method", "path", "status", "error"), [
    ("GET", "/api/nonexistent", 404, "no page at /api/nonexistent"),
    ("GET", "/api/endpoints/A/more", 404, "no page at /api/endpoints/A/more"),
    ("DELETE", "/api/overview", 405,
     "DELETE is not allowed at /api/overview: the dashboard only answers GET"),
])
def test_unknown_api_paths_are_json(url, method: str, path: str, status: int, error: str) -> None:
    response = requests.request(method, f"{url}{path}", timeout=10)
    assert (response.status_code, response.headers["content-type"]) == (
        status, "application/json")
    assert response.json() == {"error": error}


def test_long_lists_fold_behind_their_count(coverage, url) -> None:
    """An endpoint hit by more than 10 tests lists them behind their count, and a
    test that hit it in more than 3 releases names the first and the last."""
    load_spec_without_data(coverage)
    run = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/2100"
    insert_hits(coverage, [("1.11.0", run, A, C1, True, True, 1)] + [
        ("1.11.0", run, A, f"[sig-x] test {i:02}", True, False, 1) for i in range(10)])
    coverage.execute("SELECT refresh_coverage()")
    document = get(url, f"/api/endpoints/{A}")
    assert len(document["tests"]) == 13
    assert document["tests"][0]["releases"] == ["1.7.0", "1.9.0", "1.10.0", "1.11.0"]
    endpoint_page = page(url, f"/endpoints/{A}")
    assert html_texts(endpoint_page, "id", "tests") == ["Tests that hit it (13)"]
    assert html_texts(endpoint_page, "data-k", "tests-summary") == [
        "13 tests, 2 of them conformance tests: show them"]
    assert html_texts(endpoint_page, "data-k", "releases")[:2] == [
        "4 releases: 1.7.0 … 1.11.0 1.7.0, 1.9.0, 1.10.0, 1.11.0",  # summary, then the list
        "1.10.0"]
    # a short list stays as it is
    assert "<details" not in page(url, f"/endpoints/{B}").split('id="tests"')[1].split(
        'id="fields"')[0]


@pytest.fixture(scope="module")
def guarded_port(database_url: str) -> Iterator[int]:
    """The dashboard served as `snoopdb serve` serves it (its Limits), for a module."""
    with guarded(create_app(database_url), Limits()) as (_, port):
        yield port


@given(target=st.integers(0, 24_000),
       headers=st.lists(st.integers(0, 6_000), max_size=6),
       filler=st.sampled_from("x%~-._9"))
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_head_is_served_or_refused_by_its_size(guarded_port: int, target: int,
                                                  headers: list[int], filler: str) -> None:
    """Heads of every size around the limit, sent whole: at most 16,384 bytes of request
    line and headers reach the app (a 404 for this unknown page), a longer request line
    is 414, longer headers 431; the refusal names the exact size."""
    request_head = head("/nope?q=" + filler * target,
                        *(f"X-Pad-{i}: {'v' * size}" for i, size in enumerate(headers)))
    line = request_head.index(CRLF) + 2
    status_line, _, rest = exchange(guarded_port, request_head).decode().partition("\r\n")
    body = rest.partition("\r\n\r\n")[2]
    if len(request_head) <= 16 * 1024:
        assert status_line == "HTTP/1.1 404 Not Found"
    elif line > 16 * 1024:
        assert (status_line, body) == ("HTTP/1.1 414 URI Too Long",
                                       f"request line of {line:,} bytes: {LIMIT}\n")
    else:
        assert (status_line, body) == (
            "HTTP/1.1 431 Request Header Fields Too Large",
            f"request line and headers of {len(request_head):,} bytes: {LIMIT}\n")
