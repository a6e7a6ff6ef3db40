"""`snoopdb releases`: what the database holds of each release; `releases drop`."""

from __future__ import annotations

import argparse
import json

from snoopdb.cli.context import Context, show
from snoopdb.cli.parsing import add_command, release_number
from snoopdb.commands import releases
from snoopdb.core.wording import plural

COLUMNS = ("release", "date", "endpoints", "tests", "runs", "coverage")


def _row(r: releases.LoadedRelease) -> tuple[str, ...]:
    endpoints = f"{r.endpoints:,}" + (" (published)" if r.spec_imported else "")
    tests = ("-" if r.conformance_tests is None else
             f"{r.conformance_tests:,}" + (" in use" if r.conformance_in_use else ""))
    return (r.release + (" *" if r.latest else ""),
            r.release_date.isoformat() if r.release_date else "-",
            endpoints if r.endpoints else "-", tests, str(r.runs), r.coverage)


def cmd_releases(args: argparse.Namespace, ctx: Context) -> int:
    """List the loaded releases and what each has: spec, conformance tests, CI runs,
    published coverage.

    The release marked * is the one the views and reports call the latest: the newest
    with coverage data (CI runs or imported published coverage). `tests` counts the
    conformance.yaml loaded for a release ("in use": the list in conformance.test).

    Example: snoopdb releases --json
    """
    with ctx.connect() as conn:
        listed = releases.loaded_releases(conn)
    if args.json:
        print(json.dumps([r.to_dict() for r in listed], indent=2))
        return 0
    rows = [COLUMNS, *(_row(r) for r in listed)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        show("  ".join(cell.rjust(width) if i in (2, 4) else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
              .rstrip())
    latest = next((r for r in listed if r.latest), None)
    # with no coverage data anywhere the views fall back to the newest spec
    why = ("the newest with coverage data" if latest and latest.coverage != "no data"
           else "no release has coverage data: the newest spec")
    show(plural(len(listed), "release") + (
        f"; * {latest.release}: {why}, the one the views answer for" if latest else ""))
    return 0


def cmd_releases_drop(args: argparse.Namespace, ctx: Context) -> int:
    """Remove a release: its spec, body schemas, CI runs, imported published coverage,
    and the conformance tests, ineligible and pending endpoints when those in use were
    loaded for it. One transaction; the coverage views are refreshed.

    Example: snoopdb releases drop 1.40
    """
    with ctx.connect() as conn:
        report = releases.drop_release(conn, args.release)
    dropped = report.release
    what = [f"{dropped.endpoints:,} open_api rows" if dropped.endpoints else "",
            f"{len(report.runs)} CI run{'s' * (len(report.runs) != 1)} "
            f"({sum(events for _, events in report.runs):,} events)" if report.runs else "",
            f"published coverage from {dropped.published}" if dropped.published else "",
            f"its {dropped.conformance_tests:,} conformance tests"
            if dropped.conformance_in_use else ""]
    show(f"dropped release {dropped.release}: " + (", ".join(filter(None, what)) or
                                                    "nothing but its load records")
          + f" in {report.seconds:.2f}s")
    return 0


def add_releases(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "releases", cmd_releases)
    parser.add_argument("--json", action="store_true",
                        help="print the releases as a JSON array of objects")
    releases_sub = parser.add_subparsers(dest="releases_command", metavar="COMMAND")
    drop = add_command(releases_sub, "drop", cmd_releases_drop)
    drop.add_argument("release", type=release_number, metavar="RELEASE",
                      help="the release to drop: 1.40, 1.40.0 or v1.40.0")
