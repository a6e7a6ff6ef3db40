"""snoopdb serve in a real headless browser: Debian's chromium driven by Playwright,
over test_views' hand-made dataset. Each test loads pages, reads the numbers on
screen, compares them with the database, clicks through the sunburst, the charts,
the endpoint table and the live page, and saves screenshots in its tmp dir.

Chromium is required, not optional: without /usr/bin/chromium these tests fail
(.ci/run installs it with apt-get)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_auditlogger import running
from test_views import A, B, C, D, F, G, H, P, insert_dataset

from snoopdb.web.routes import create_app
from testkit.hits import drop_all_runs

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
PAGES = ("/", "/progress", "/endpoints", f"/endpoints/{A}", "/live")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install '.[test]'", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: the dashboard's browser tests need Debian's chromium "
                    "(apt-get update && apt-get install -y chromium; .ci/run does this)",
                    pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def coverage(conn: psycopg.Connection) -> psycopg.Connection:
    insert_dataset(conn)
    return conn


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    with running(create_app(database_url)) as base:
        yield base


class Screen:
    """A browser tab on the dashboard that fails the test on any script error."""

    def __init__(self, browser: Any, base: str, shots: Path, viewport: dict[str, int]) -> None:
        self.page = browser.new_page(viewport=viewport)
        self.base, self.shots, self.errors = base, shots, []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error"
                     and self.errors.append(message.text))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.ready()

    def ready(self) -> None:
        self.page.wait_for_selector("body[data-ready=true]", timeout=10_000)
        assert self.errors == []

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path

    def text(self, selector: str) -> str:
        # text_content, not inner_text: SVG text elements are not HTML elements
        return (self.page.locator(selector).text_content() or "").strip()

    def texts(self, selector: str) -> list[str]:
        return [text.strip() for text in self.page.locator(selector).all_inner_texts()]

    def click_arc(self, type_: str, name: str) -> None:
        """A real mouse click inside the sunburst arc of node (type_, name)."""
        group = self.page.locator(f'#sunburst g.node[data-type="{type_}"][data-name="{name}"]')
        group.scroll_into_view_if_needed()
        point = group.evaluate(INSIDE_POINT)
        assert point is not None, f"no visible point inside the arc of {type_} {name}"
        self.page.mouse.click(*point)

    def centre(self) -> tuple[str, str, str, str]:
        return (self.text("#sunburst-centre text.name"),
                *(self.text(f'#sunburst-centre [data-centre="{k}"]')
                  for k in ("total", "tested", "conf_tested")))

    def focus(self) -> tuple[int, int, int]:
        return tuple(int(self.text(f'[data-focus="{k}"]'))  # type: ignore[return-value]
                     for k in ("total", "tested", "conf_tested"))


# A point (in page coordinates) inside the group's arc where the arc itself is the
# topmost element: found on a grid over the arc's bounding box.
INSIDE_POINT = """group => {
  const outline = group.querySelector("path.outline");
  const box = outline.getBBox(), ctm = outline.getScreenCTM();
  const point = outline.ownerSVGElement.createSVGPoint();
  for (let i = 1; i < 24; i++) for (let j = 1; j < 24; j++) {
    point.x = box.x + box.width * i / 24;
    point.y = box.y + box.height * j / 24;
    if (!outline.isPointInFill(point)) continue;
    const screen = point.matrixTransform(ctm);
    const hit = document.elementFromPoint(screen.x, screen.y);
    if (hit && hit.closest("g.node") === group) return [screen.x, screen.y];
  }
  return null;
}"""


@pytest.fixture
def screen(browser: Any, url: str, tmp_path: Path) -> Iterator[Screen]:
    opened = Screen(browser, url, tmp_path, WIDE)
    yield opened
    opened.page.close()


def counts(conn: psycopg.Connection, where: str = "TRUE") -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE tested), count(*) FILTER (WHERE conf_tested)"
        f" FROM endpoint_coverage WHERE release = latest_release() AND {where}").fetchone()
    assert row is not None
    return row


def test_overview_numbers_and_sunburst_zoom(coverage, screen: Screen) -> None:
    screen.open("/")
    total, tested, conf_tested = counts(coverage)
    assert (total, tested, conf_tested) == (8, 4, 3)
    assert [screen.text(f'[data-count="{k}"]') for k in ("total", "tested", "conf_tested")] == [
        str(total), str(tested), str(conf_tested)]
    assert screen.texts('[data-table="level"] tbody tr') == [
        "stable\t7\t3\t42.9%\t3\t42.9%", "beta\t1\t1\t100.0%\t0\t0.0%"]
    # one outer arc per endpoint of the release, coloured by its state
    leaves = screen.page.locator("#sunburst g.node[data-type=endpoint]")
    assert sorted(leaves.evaluate_all("nodes => nodes.map(n => n.dataset.name)")) == sorted(
        r[0] for r in coverage.execute(
            "SELECT endpoint FROM endpoint_coverage WHERE release = '1.10.0'"))
    colours = leaves.evaluate_all(
        "nodes => nodes.map(n => [n.dataset.name, n.querySelector('path').getAttribute('class')])")
    assert dict(colours) == {
        A: "conformance-fill", B: "conformance-fill", C: "conformance-fill", F: "tested-fill",
        D: "untested-fill", G: "untested-fill", H: "untested-fill", P: "untested-fill"}
    assert screen.centre() == ("1.10.0", "8 endpoints", "4 tested", "3 conformance")
    screen.shot("overview")

    screen.click_arc("category", "core")
    assert screen.centre() == ("core", "6 endpoints", "2 tested", "2 conformance")
    assert screen.focus() == counts(coverage, "category = 'core'") == (6, 2, 2)
    assert screen.page.locator("#sunburst g.node[data-type=endpoint]").count() == 6
    screen.shot("overview-core")

    screen.click_arc("kind", "Namespace")
    assert screen.focus() == counts(coverage, "kind = 'Namespace'") == (2, 1, 1)
    assert screen.texts("#sunburst-focus .children li a") == [A, H]
    screen.shot("overview-namespace")

    screen.page.locator("#sunburst-centre circle").click()  # back out one level
    assert screen.centre()[:2] == ("core", "6 endpoints")
    screen.page.locator("#sunburst-focus .crumbs button", has_text="1.10.0").click()
    assert screen.centre()[:2] == ("1.10.0", "8 endpoints")

    screen.click_arc("endpoint", H)  # an endpoint opens its page
    screen.page.wait_for_url(f"**/endpoints/{H}")
    screen.ready()
    assert screen.text("h1") == H


def test_overview_release_picker(coverage, screen: Screen) -> None:
    screen.open("/")
    with screen.page.expect_navigation():
        screen.page.select_option("form.picker select", "1.9.0")
    screen.ready()
    assert screen.page.url.endswith("/?release=1.9.0")
    assert screen.text("h1") == "Release 1.9.0"
    row = coverage.execute(
        "SELECT count(*), count(*) FILTER (WHERE tested), count(*) FILTER (WHERE conf_tested)"
        " FROM endpoint_coverage WHERE release = '1.9.0'").fetchone()
    assert row == (5, 3, 2)
    assert tuple(int(screen.text(f'[data-count="{k}"]'))
                 for k in ("total", "tested", "conf_tested")) == row


def test_progress_and_debt_charts(coverage, screen: Screen) -> None:
    screen.open("/progress")
    progress = coverage.execute(
        "SELECT release, total_endpoints, total_tested_endpoints, new_endpoints,"
        " new_endpoints_covered_by_new_tests, new_endpoints_covered_by_old_tests,"
        " old_endpoints_covered_by_new_tests, new_tests, endpoints_still_untested_today"
        " FROM conformance.progress").fetchall()
    assert progress == [("1.9.0", 4, 1, 2, 0, 0, 1, 2, 1), ("1.10.0", 6, 3, 2, 0, 1, 1, 2, 1)]
    assert screen.texts('[data-table="progress"] tbody tr') == [
        "\t".join(str(value) for value in row) for row in progress]
    per_release = coverage.execute(
        "SELECT release, tested, untested FROM conformance.coverage_per_release").fetchall()
    assert per_release == [("1.7.0", 1, 1), ("1.9.0", 1, 1), ("1.10.0", 1, 1)]

    def bars(chart: str) -> list[tuple[str, str, int]]:
        return [(series, label, int(value)) for series, label, value in screen.page.locator(
            f"#{chart} rect.bar").evaluate_all(
            "rects => rects.map(r => [r.dataset.series, r.dataset.label, r.dataset.value])")]

    assert sorted(bars("chart-new")) == sorted(
        (series, row[0], row[index]) for row in progress for index, series in (
            (3, "new_endpoints"), (4, "new_endpoints_covered_by_new_tests"),
            (5, "new_endpoints_covered_by_old_tests"), (6, "old_endpoints_covered_by_new_tests")))
    assert sorted(bars("chart-debt")) == sorted(
        [("tested", release, tested) for release, tested, _ in per_release]
        + [("untested", release, untested) for release, _, untested in per_release])
    points = screen.page.locator("#chart-totals circle.point").evaluate_all(
        "dots => dots.map(d => [d.dataset.series, d.dataset.label, Number(d.dataset.value)])")
    assert sorted(points) == sorted(
        [["total_endpoints", row[0], row[1]] for row in progress]
        + [["total_tested_endpoints", row[0], row[2]] for row in progress])
    # 1.8.0 has no row (no spec loaded): marked where the debt chart jumps over it
    assert screen.page.locator("#chart-debt g.gap").evaluate_all(
        "marks => marks.map(m => m.dataset.missing)") == ["1.8.0"]
    assert screen.page.locator("#chart-totals g.gap").count() == 0
    assert screen.texts('[data-table="coverage_per_release"] tr.gap') == [
        "1.8.0: no data (no spec loaded)"]
    screen.shot("progress")

    # the legend hides and shows a series
    toggle = screen.page.locator('#chart-new .legend button[data-series="new_endpoints"]')
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert {series for series, _, _ in bars("chart-new")} == {
        "new_endpoints_covered_by_new_tests", "new_endpoints_covered_by_old_tests",
        "old_endpoints_covered_by_new_tests"}
    toggle.click()
    assert len(bars("chart-new")) == 8


def test_endpoint_table_filters_and_endpoint_page(coverage, screen: Screen) -> None:
    screen.open("/endpoints")
    rows = screen.page.locator('[data-table="endpoints"] tbody tr')
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.endpoint)") == [
        P, G, H, B, C, D, A, F]
    assert screen.page.locator('[data-table="endpoints"] tbody tr.wanted').count() == len(
        coverage.execute("SELECT FROM testing.untested_stable_endpoint WHERE eligible").fetchall())
    screen.shot("endpoints")

    with screen.page.expect_navigation():
        screen.page.select_option('form.filters select[name="state"]', "untested")
    screen.ready()
    assert screen.page.url.endswith("/endpoints?release=1.10.0&state=untested")  # no blanks
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.endpoint)") == [P, G, H, D]
    assert screen.text('[data-count="endpoints"]') == "4"

    screen.page.fill('input[name="q"]', "namespace")
    with screen.page.expect_navigation():
        screen.page.press('input[name="q"]', "Enter")
    screen.ready()
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.endpoint)") == [P, H]
    screen.shot("endpoints-filtered")

    with screen.page.expect_navigation():
        screen.page.click(f'[data-table="endpoints"] a[href="/endpoints/{H}"]')
    screen.ready()
    assert screen.text("h1") == H
    assert screen.text('[data-k="path"]') == "/api/v1/namespaces/{name}/status"
    in_releases = coverage.execute(
        "SELECT release, tested, conf_tested, cardinality(tests) FROM endpoint_coverage"
        " WHERE endpoint = %s ORDER BY release_key(release)", (H,)).fetchall()
    assert in_releases == [("1.9.0", True, True, 1), ("1.10.0", False, False, 0)]
    assert screen.texts('[data-table="releases"] tbody tr') == [
        f"{release}\t{'yes' if tested else 'no'}\t{'yes' if conf else 'no'}\t{tests}"
        for release, tested, conf, tests in in_releases]
    assert screen.texts('[data-table="tests"] [data-k="promotion_release"]') == ["1.9.0"]
    # hit by its conformance test in the 1.9.0 run only: untested, as apisnoop counts
    assert screen.text('[data-k="eligibility"]') == (
        "eligible, untested: no conformance test hits it in the newest release's coverage")
    screen.shot("endpoint")


def test_live_testing_refreshes_on_demand(coverage, screen: Screen) -> None:
    screen.open("/live")

    def projected() -> dict[str, int]:
        return {key: int(screen.text(f'[data-count="{key}"]').lstrip("+"))
                for key in ("total_endpoints", "old_coverage", "new_coverage", "change_in_number")}

    def in_database() -> dict[str, int]:
        row = coverage.execute("SELECT total_endpoints, old_coverage, new_coverage,"
                               " change_in_number FROM testing.projected_change_in_coverage"
                               ).fetchone()
        assert row is not None
        return dict(zip(("total_endpoints", "old_coverage", "new_coverage",
                         "change_in_number"), row, strict=False))

    assert projected() == in_database() == {
        "total_endpoints": 8, "old_coverage": 4, "new_coverage": 7, "change_in_number": 3}
    writing = screen.page.locator('[data-useragent="live-test-writing"]')
    assert writing.locator('[data-k="newly_covered"]').inner_text() == "2"
    assert writing.locator("tr.wanted").evaluate_all(
        "rows => rows.map(r => r.dataset.endpoint)") == [G, H]
    screen.shot("live")

    # the test being written goes on to hit D, untested in CI
    coverage.execute(
        "INSERT INTO testing.audit_event (release, audit_id, endpoint, useragent, test_hit,"
        " conf_test_hit, data, source) VALUES ('live', 'x1', %s, 'live-test-writing', false,"
        " false, '{}', 'auditlogger')", (D,))
    screen.page.evaluate("window.notReloaded = true")
    screen.page.click("#refresh")
    screen.page.wait_for_function(
        "document.querySelector('[data-count=change_in_number]').textContent === '+4'")
    assert screen.page.evaluate("window.notReloaded") is True  # refreshed in place
    assert projected() == in_database() == {
        "total_endpoints": 8, "old_coverage": 4, "new_coverage": 8, "change_in_number": 4}
    assert writing.locator("tr.wanted").evaluate_all(
        "rows => rows.map(r => r.dataset.endpoint)") == [D, G, H]
    assert screen.text("#updated").startswith("as of ")
    screen.shot("live-refreshed")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280px", "phone"])
def test_pages_fit_the_screen(coverage, browser: Any, url: str, tmp_path: Path,
                              viewport: dict[str, int]) -> None:
    """No page scrolls sideways: wide tables scroll inside their own box."""
    screen = Screen(browser, url, tmp_path, viewport)
    try:
        for path in PAGES:
            screen.open(path)
            overflow = screen.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow == 0, f"{path} is {overflow}px wider than the screen"
            if path == "/":
                box = screen.page.locator("#sunburst").bounding_box()
                assert box is not None and box["width"] <= viewport["width"]
                assert box["width"] >= min(300, viewport["width"] - 80)
            screen.shot(f"{viewport['width']}{path.replace('/', '_')}")
    finally:
        screen.page.close()


def test_endpoint_field_tree(conn, fetcher, settings, shared_data, screen: Screen,
                             tmp_path: Path) -> None:
    """The real 1.36 spec, the real v1.37 sample and a conformance test's hand-made
    ClusterRoleBinding: the field tree shows each field's state and its tests."""
    from test_fields import CRB, GCE_SAMPLE, HAND_MADE, write_log

    from snoopdb.core.releases import Releases, parse_release
    from snoopdb.loaders import spec
    from snoopdb.loaders.local_logs import load_log_files

    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    logs = [shared_data / "audit" / GCE_SAMPLE, write_log(tmp_path / "audit.log", HAND_MADE)]
    load_log_files(conn, fetcher, settings, Releases.load(), logs, parse_release("1.36"))
    screen.open(f"/endpoints/{CRB}")
    states = dict(conn.execute(
        "SELECT field, CASE WHEN conf_tested THEN 'conformance' WHEN tested THEN 'tested'"
        " ELSE 'untested' END FROM endpoint_field_coverage WHERE endpoint = %s", (CRB,)))
    page = screen.page
    shown = page.eval_on_selector_all(
        '[data-table="fields"] li.field', "items => items.map(i => [i.dataset.field, i.dataset.state])")
    assert dict(shown) == states and len(shown) == 40
    assert states["roleRef.name"] == "conformance"
    assert states["subjects[].namespace"] == "tested"
    assert states["metadata.finalizers"] == "tested"
    assert states["metadata.managedFields[].manager"] == "untested"
    summary = conn.execute("SELECT fields, tested_fields, conf_tested_fields, observed_bodies"
                           " FROM field_coverage_summary WHERE endpoint = %s", (CRB,)).fetchone()
    assert tuple(int(screen.text(f'[data-k="field-summary"] [data-k="{k}"]')) for k in (
        "fields", "tested_fields", "conf_tested_fields", "observed_bodies")) == summary
    # folded where no test reached, unfolded where one did; a click unfolds
    managed = page.locator('li[data-field="metadata.managedFields"] > .leaf, '
                           'li[data-field="metadata.managedFields"] > details > summary')
    manager = page.locator('li[data-field="metadata.managedFields[].manager"]')
    assert page.locator('li[data-field="subjects[].namespace"]').is_visible()
    assert not manager.is_visible()
    managed.click()
    assert manager.is_visible()
    namespace_tests = page.locator('li[data-field="subjects[].namespace"] details.field-tests')
    assert screen.text('li[data-field="subjects[].namespace"] [data-k="field-tests"]') == "4 tests"
    assert not namespace_tests.locator("li").first.is_visible()
    namespace_tests.locator("summary").click()
    tests = screen.texts('li[data-field="subjects[].namespace"] details.field-tests li')
    assert len(tests) == 4 and all(t.startswith("[sig-storage]") for t in tests)
    page.locator('li[data-field="roleRef.name"] details.field-tests summary').click()
    assert screen.texts('li[data-field="roleRef.name"] details.field-tests li')[0] == (
        "[sig-auth] binds [Conformance]")
    assert screen.texts('[data-table="unknown-fields"] tbody td:first-child') == [
        "extra", "subjects[].zone"]
    managed.click()
    screen.shot("endpoint-fields")
    # an endpoint with no body says so
    screen.open("/endpoints/readCoreV1NamespacedPod")
    assert "takes no request body" in screen.text('[data-k="no-fields"]')


# The endpoint table's layout, measured in the page: the table against its box, each
# header cell against the viewport, and the tallest row in lines of text (a cell's
# line height measured with a probe; a row is its padding and border plus lines).
LAYOUT_JS = """() => {
  const table = document.querySelector('[data-table="endpoints"]');
  const box = table.parentElement;
  const heights = [...table.tBodies[0].rows].map(r => [r.dataset.endpoint, r.getBoundingClientRect().height]);
  const probe = document.createElement("div");
  table.tBodies[0].rows[0].cells[1].appendChild(probe);
  probe.textContent = "x";
  const one = probe.getBoundingClientRect().height;
  probe.innerHTML = "x<br>x";
  const line = probe.getBoundingClientRect().height - one;
  probe.remove();
  const shortest = Math.min(...heights.map(h => h[1]));
  const tallest = heights.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    viewport: document.documentElement.clientWidth,
    page_overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    table: table.getBoundingClientRect().width,
    box: box.clientWidth,
    box_overflow: box.scrollWidth - box.clientWidth,
    headers: [...table.tHead.rows[0].cells].map(th => {
      const r = th.getBoundingClientRect();
      return {name: th.textContent, left: r.left, right: r.right, width: Math.round(r.width),
              clipped: th.scrollWidth > th.clientWidth};
    }),
    rows: heights.length,
    shortest: shortest,
    tallest: tallest[1],
    tallest_endpoint: tallest[0],
    tallest_lines: Math.round((tallest[1] - (shortest - line)) / line),
  };
}"""
# Words a line break cuts: in each cell of the endpoint table, every place where a
# text's next character starts a new line, unless after a space or a hyphen. The
# page's own break points (<wbr> at camel-case humps, after / and .) end a text node,
# so a break there is never inside one. Each as "…before/after…".
BROKEN_WORDS_JS = """() => {
  const cut = [];
  const range = document.createRange();
  for (const cell of document.querySelectorAll('[data-table="endpoints"] tbody td')) {
    const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      const text = node.textContent;
      let top = null;
      for (let i = 0; i < text.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        if (top !== null && box.top > top + 2 && !/[\\s-]/.test(text[i - 1])) {
          cut.push(text.slice(Math.max(0, i - 16), i) + "/" + text.slice(i, i + 16));
        }
        top = box.top;
      }
    }
  }
  return cut;
}"""
# The most lines of text a row of the real 1.36 table may take at each width (the
# longest operationIds, kinds and paths wrapped). Measured with words kept whole: 5, 3
# and 3 lines (87, 60 and 56 px; a one-line row is 29 px); before, 23 lines (396 px) at
# every width, the path column squeezed to 56 px in a table 1,404 px wide.
ROW_LINES_MAX = {1024: 5, 1400: 3, 1920: 3}


def test_endpoint_table_fits_from_1024_to_1920_px(conn, fetcher, settings, shared_data, browser,
                                                  url: str, tmp_path: Path) -> None:
    """The real 1.36 spec (the longest operationIds, kinds and paths there are) and the
    real v1.37 sample's coverage with hand-made conformance hits: at 1024, 1400 and
    1920 px the table is no wider than its box, no header cell is off-screen or cut,
    no row has more than ROW_LINES_MAX lines, and no line break cuts a word (only
    camel-case humps, / and . are break points)."""
    from test_fields import GCE_SAMPLE, HAND_MADE, write_log

    from snoopdb.core.releases import Releases, parse_release
    from snoopdb.loaders import spec
    from snoopdb.loaders.local_logs import load_log_files

    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    logs = [shared_data / "audit" / GCE_SAMPLE, write_log(tmp_path / "audit.log", HAND_MADE)]
    load_log_files(conn, fetcher, settings, Releases.load(), logs, parse_release("1.36"))
    endpoints = conn.execute("SELECT count(*) FROM endpoint_coverage WHERE release = '1.36.0'"
                             ).fetchone()
    states = dict(conn.execute(
        "SELECT CASE WHEN conf_tested THEN 'conformance' WHEN tested THEN 'tested'"
        " ELSE 'untested' END, count(*) FROM endpoint_coverage WHERE release = '1.36.0'"
        " GROUP BY 1"))
    assert set(states) == {"conformance", "tested", "untested"}  # every badge's width
    for width, most in ROW_LINES_MAX.items():
        screen = Screen(browser, url, tmp_path, {"width": width, "height": 900})
        try:
            screen.open("/endpoints")
            layout = screen.page.evaluate(LAYOUT_JS)
            cut = screen.page.evaluate(BROKEN_WORDS_JS)
            screen.page.screenshot(path=str(tmp_path / f"endpoints-{width}.png"), full_page=True,
                                   clip={"x": 0, "y": 0, "width": width, "height": 1800})
        finally:
            screen.page.close()
        assert (layout["rows"], layout["viewport"]) == (endpoints[0], width)
        assert layout["page_overflow"] == 0
        assert layout["table"] <= layout["box"] and layout["box_overflow"] == 0, (width, layout)
        for header in layout["headers"]:
            assert 0 <= header["left"] and header["right"] <= width, (width, header)
            assert not header["clipped"], (width, header)
        assert layout["tallest_lines"] <= most, (width, layout)
        assert cut == [], (width, cut)  # lines break between words, never inside one


def test_no_data_is_said_not_drawn(coverage, screen: Screen) -> None:
    """A spec loaded without coverage: the dashboard opens on the newest release with
    data and says so; picked, the release without data says "no data" everywhere a
    tested count or flag would be, and no empty sunburst is drawn."""
    from test_dashboard import give_runs_events, load_spec_without_data

    load_spec_without_data(coverage)
    give_runs_events(coverage)
    screen.open("/")
    assert screen.text("h1") == "Release 1.10.0"
    assert " ".join(screen.text("#release-note").split()) == (
        "1.10.0: the newest release with coverage data (from audit events: 2 runs, 19"
        " events). Newer release 1.11.0 has no coverage data yet: pick it above to see its"
        " endpoints.")
    assert screen.page.locator("#sunburst g.node").count() > 0
    with screen.page.expect_navigation():
        screen.page.select_option("form.picker select", "1.11.0")
    screen.ready()
    assert screen.text("h1") == "Release 1.11.0"
    assert " ".join(screen.text("#no-data").split()) == (
        "No data: no CI run of release 1.11.0 is loaded and no published coverage of it is"
        " imported, so whether its endpoints are tested is unknown (not untested). The newest"
        " release with coverage data is 1.10.0.")
    assert screen.texts(".cards .card .value") == ["8", "no data", "no data"]
    assert screen.texts('[data-table="level"] tbody tr') == [
        "stable\t7\tno data\t\tno data", "beta\t1\tno data\t\tno data"]  # no percentages
    assert screen.page.locator("#sunburst").count() == 0
    screen.shot("overview-no-data")
    screen.page.click("#no-data a")  # back to the newest release with data
    screen.ready()
    assert screen.page.url.endswith("/?release=1.10.0")

    screen.open("/endpoints?release=1.11.0")
    assert screen.texts('[data-table="endpoints"] [data-k="state"]') == ["no data"] * 8
    assert screen.page.locator('[data-table="endpoints"] tr.wanted').count() == 0
    screen.shot("endpoints-no-data")
    screen.open(f"/endpoints/{A}")
    assert screen.texts('[data-table="releases"] tbody tr') == [
        "1.7.0\tyes\tyes\t1", "1.9.0\tyes\tyes\t1", "1.10.0\tyes\tyes\t3",
        "1.11.0\tno data\tno data\tno data"]


def test_no_coverage_at_all_on_the_live_and_progress_pages(coverage, screen: Screen) -> None:
    """No CI run, no published coverage: the live page and the progress charts say "no
    data" and draw no tested series (as 0), without a script error."""
    drop_all_runs(coverage)
    coverage.execute("SELECT refresh_coverage()")
    screen.open("/live")
    assert screen.texts('[data-table="projected"] .value') == ["8", "no data", "no data",
                                                                 "no data"]
    writing = screen.page.locator('[data-useragent="live-test-writing"]')
    assert writing.locator('[data-k="hit_by_ete"]').all_inner_texts() == ["no data"] * 3
    assert " ".join(writing.locator("p").inner_text().split()) == (
        "3 endpoints hit in 6 events; whether CI tests them today: no data.")
    screen.shot("live-no-data")
    screen.open("/progress")
    assert screen.page.locator('#chart-totals circle.point[data-series="total_tested_endpoints"]'
                               ).count() == 0
    assert screen.page.locator('#chart-totals circle.point[data-series="total_endpoints"]'
                               ).count() == 2
    assert screen.page.locator("#chart-debt rect.bar").count() == 0
    assert screen.texts('[data-table="coverage_per_release"] [data-k="tested"]') == [
        "no data"] * 3
    screen.shot("progress-no-data")
