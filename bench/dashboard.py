"""Benchmark: time to first render of each dashboard page, 3,000,000 CI events loaded.

Builds its own database on the server (created and dropped here) with bench/views.py's
data builder, after loading every other shipped spec (1.8 to 1.34) so that conformance
progress has its history: then real 1.35 and 1.36 specs, conformance.yaml, ineligible
endpoints, four generated CI runs and live events, as bench/views.py describes (it
prints its table of view timings on the way). Then serves the dashboard with uvicorn
on a loopback port and opens each page in headless chromium (Debian's, through
Playwright), each time in a fresh browser context (nothing cached):

- HTML: navigation start to the last byte of the server-rendered page;
- first paint: to the browser's first-contentful-paint;
- drawn: to the page script's `dashboard-ready` mark, once every chart is drawn;
- rendered: the later of the two, when the page is on screen with its charts.

Median of --runs loads. With --screenshots DIR, also writes a PNG of each page,
--width px wide (default 1280; docs/dashboard.md's screenshots are 1400) and at most
1,800 high, through pngquant when it is installed (Debian's `pngquant`: a third of
the size, the same to the eye).

    python -m bench.dashboard [--database-url URL] [--events 3000000] [--data ../shared/data]
                              [--runs 5] [--width 1280] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import uvicorn

from bench import views  # the data builder of the views benchmark
from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, schema
from snoopdb.loaders import spec
from snoopdb.web.routes import create_app
from testkit.databases import scratch_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT_HEIGHT = 900
SCREENSHOT_HEIGHT = 1800
# pngquant's exit statuses when it leaves the file as it was (already small enough).
PNGQUANT_KEPT = (98, 99)
# The endpoint page is measured on the endpoint hit by the most tests: its longest table.
BUSIEST_ENDPOINT_SQL = """
SELECT endpoint FROM endpoint_coverage
WHERE release = latest_release()
ORDER BY cardinality(tests) DESC, endpoint
LIMIT 1
"""
TIMING_JS = """() => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const drawn = performance.getEntriesByName("dashboard-ready")[0];
  return [navigation.responseEnd, paint ? paint.startTime : NaN, drawn.startTime];
}"""


def load_other_specs(conn: psycopg.Connection, fetcher: Fetcher, data: Path) -> int:
    """Every shipped spec but those bench/views.py loads itself."""
    loaded = 0
    for path in sorted((data / "openapi").glob("swagger-1.*.json.gz")):
        minor = path.name.removeprefix("swagger-").removesuffix(".json.gz")
        if minor not in ("1.35", "1.36"):
            spec.load(conn, fetcher, str(path), f"{minor}.0", None)
            loaded += 1
    return loaded


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The dashboard under uvicorn in a thread on a free loopback port; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(database_url), log_config=None,
                                           access_log=False, ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sys.exit("the dashboard did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def load_page(browser: Any, url: str, width: int,
              screenshot: Path | None = None) -> tuple[float, ...]:
    """(HTML, first paint, drawn) in ms for one load of `url`, `width` px wide, in a fresh
    context."""
    context = browser.new_context(viewport={"width": width, "height": VIEWPORT_HEIGHT})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        timings = tuple(page.evaluate(TIMING_JS))
        if screenshot is not None:
            height = min(page.evaluate("document.documentElement.scrollHeight"),
                         SCREENSHOT_HEIGHT)
            page.screenshot(path=str(screenshot), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": height})
            shrink(screenshot)
        return timings
    finally:
        context.close()


def shrink(png: Path) -> None:
    """Quantize `png` in place with pngquant, when it is installed."""
    if shutil.which("pngquant") is None:
        return
    done = subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality", "70-95",
                           "--output", str(png), str(png)], check=False)
    if done.returncode not in (0, *PNGQUANT_KEPT):
        sys.exit(f"pngquant failed on {png} (exit status {done.returncode})")


def measure(database_url: str, pages: list[tuple[str, str]], runs: int, width: int,
            screenshots: Path | None) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("Playwright is not installed: pip install '.[test]'")
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} not found: apt-get install -y chromium")
    with serving(database_url) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        load_page(browser, base + "/", width)  # warm the pool and the server's imports
        print("| page | HTML | first paint | drawn | rendered |")
        print("|---|---:|---:|---:|---:|")
        for name, path in pages:
            timings = [(*t, max(t[1:])) for t in (load_page(browser, base + path, width)
                                                  for _ in range(runs))]
            medians = [statistics.median(column) for column in zip(*timings, strict=False)]
            print(f"| {name} `{path}` | " + " | ".join(f"{ms:.0f} ms" for ms in medians) + " |")
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            for name, path in pages:
                target = screenshots / f"{name}.png"
                load_page(browser, base + path, width, target)
                print(f"{target} ({target.stat().st_size:,} bytes)")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=views.SERVER,
                        help="server to create the database on")
    parser.add_argument("--events", type=int, default=3_000_000, help="CI audit events in all")
    parser.add_argument("--data", type=Path, default=views.REPO.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=5, help="loads of each page (median)")
    parser.add_argument("--width", type=int, default=1280, help="browser window width, px")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="write a PNG of each page into DIR")
    args = parser.parse_args()

    with scratch_database(args.database_url, "snoopdb_bench_dashboard") as url:
        schema.migrate(url)
        with connection.connect(url) as conn, tempfile.TemporaryDirectory() as cache:
            started = time.monotonic()
            fetcher = Fetcher(Path(cache))
            count = load_other_specs(conn, fetcher, args.data)
            print(f"{count} more specs: {time.monotonic() - started:.1f}s")
            views.run(conn, fetcher, args.data, args.events)
            busiest = conn.execute(BUSIEST_ENDPOINT_SQL).fetchone()
        assert busiest is not None
        print()
        measure(url, [("overview", "/"), ("progress", "/progress"),
                      ("endpoints", "/endpoints"), ("endpoint", f"/endpoints/{busiest[0]}"),
                      ("depth", "/depth"), ("live", "/live")],
                args.runs, args.width, args.screenshots)


if __name__ == "__main__":
    main()
