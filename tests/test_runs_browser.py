"""The dashboard's Runs page and the endpoint page's block on runs, in Debian's chromium
driven by Playwright (as tests/test_dashboard_browser.py): three builds of one job
stored as runs, one endpoint a conformance test hits in builds 1 and 3 only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_auditlogger import running
from test_dashboard_browser import WIDE, Screen, browser  # noqa: F401 (a fixture)

from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import spec
from snoopdb.web.routes import create_app
from testkit.hits import insert_hits

JOB = "https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-history-e2e"
CONFORMANCE = "[sig-node] Pods should get a pod [Conformance]"
OTHER = "[sig-apps] ReplicaSet should adopt pods"
FLAKY = "readCoreV1Namespace"
STEADY = "readCoreV1NamespacedPod"
START = dt.datetime(2026, 6, 11, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def url(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path,
        database_url: str) -> Iterator[str]:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0", None)
    hits = []
    for build in (1, 2, 3):
        source = f"{JOB}/{build}"
        hits += [("1.36.0", source, STEADY, CONFORMANCE, True, True, 5),
                 ("1.36.0", source, "listCoreV1Node", OTHER, True, False, 2)]
        if build != 2:
            hits.append(("1.36.0", source, FLAKY, CONFORMANCE, True, True, 1))
    insert_hits(conn, hits)
    for build in (1, 2, 3):
        conn.execute("UPDATE audit_run SET build = %s, started = %s WHERE source = %s",
                     (str(build), START + dt.timedelta(hours=3 * build), f"{JOB}/{build}"))
    conn.execute("SELECT refresh_coverage()")
    with running(create_app(database_url)) as base:
        yield base


def test_runs_page_charts_flaky_endpoints_and_diff(browser: Any, url: str,  # noqa: F811
                                                   tmp_path: Path) -> None:
    screen = Screen(browser, url, tmp_path, WIDE)
    screen.open("/runs")
    screen.page.wait_for_selector("body[data-runs-ready=true]", timeout=10_000)
    # one chart for the job: three series of three runs, each point its run's count
    points = screen.page.locator('[data-runs-chart="0"] circle.point')
    assert points.count() == 9
    conformance = screen.page.locator('circle[data-series="conf_tested_stable"]')
    assert [(conformance.nth(i).get_attribute("data-run"),
             conformance.nth(i).get_attribute("data-value")) for i in range(3)] == [
        ("ci-history-e2e#1", "2"), ("ci-history-e2e#2", "1"), ("ci-history-e2e#3", "2")]
    # the flaky endpoint, with its share of runs
    assert screen.texts('table[data-table="flaky"] tbody td:first-child') == [FLAKY]
    assert screen.text('table[data-table="flaky"] [data-k="runs"]') == "2 of 3"
    assert screen.text('table[data-table="flaky"] [data-k="share"]') == "67%"
    # the diff picker: builds 2 and 3
    screen.page.select_option('select[name="a"]', "ci-history-e2e#2")
    screen.page.select_option('select[name="b"]', "ci-history-e2e#3")
    screen.page.click('form.picker button[type="submit"]')
    screen.ready()
    rows = screen.page.locator('table[data-table="diff-endpoints"] tbody tr')
    assert rows.count() == 1
    assert rows.first.get_attribute("data-change") == "gained"
    assert screen.texts('table[data-table="diff-endpoints"] tbody td') == [
        "+", FLAKY, "not hit", "conformance", CONFORMANCE]
    screen.shot("runs")
    # the endpoint's page: its share across runs, and which test hit it in which builds
    screen.open(f"/endpoints/{FLAKY}")
    assert screen.text('table[data-table="run-stability"] [data-k="share"]') == "67%"
    assert screen.page.locator('table[data-table="run-stability"] tr.flaky').count() == 1
    assert screen.texts('table[data-table="run-tests"] tbody td') == [
        CONFORMANCE, "ci-history-e2e", "2 of 3 runs it ran in", "1, 3"]
    screen.shot("endpoint-runs")
    assert screen.errors == []
    screen.page.close()
