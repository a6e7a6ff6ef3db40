"""The commands that read the views and report: `ticket`, `gate` and `export`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from snoopdb.cli.context import Context, say, show
from snoopdb.cli.exits import hint
from snoopdb.cli.parsing import add_command, from_option, release_number, share
from snoopdb.commands import gate
from snoopdb.commands.export import export
from snoopdb.commands.ticket import ticket as mock_ticket
from snoopdb.core.errors import ConfigError, SnoopError
from snoopdb.loaders.github import Sources


def cmd_ticket(args: argparse.Namespace, ctx: Context) -> int:
    """Write the mock test ticket (Markdown) of a test being written against a live cluster.

    It lists the endpoints its user agent hit and whether CI tests them today, the untested ones
    it newly covers, the projected change in coverage, and a test outline for their kinds.

    Example: snoopdb ticket --useragent live-test-writing --output ticket.md
    """
    with ctx.connect() as conn:
        text = mock_ticket(conn, args.useragent)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        say(f"wrote {args.output}")
    return 0


def add_ticket(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "ticket", cmd_ticket)
    parser.add_argument("--useragent", required=True,
                        help="the live test's user agent (starts with live), "
                             "e.g. live-test-writing")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write the Markdown to FILE instead of standard output")


def cmd_gate(args: argparse.Namespace, ctx: Context) -> int:
    """Release-blocking check: do the stable endpoints new in a release have conformance tests?

    Fails when a stable, conformance-eligible endpoint new in the release (default: the
    newest loaded release with coverage data) is hit by no conformance test in the
    release's audit events (with --min-share S: in less than share S of the release's
    runs); those in the release's pending_eligible_endpoints.yaml may wait. Prints a
    verdict and its reason for every new endpoint, and warns of every flaky stable,
    eligible endpoint, new or not (conformance tests hit it in some runs only; a warning
    fails nothing); --ga-only: fails too when a conformance test called an alpha or beta
    operation, naming each; --json: the whole result as JSON.
    Exit status: 0 pass, 1 fail, 3 cannot decide (no spec, no earlier release to
    compare with, no audit data, no conformance tests, no pending list).

    Example: snoopdb gate --release 1.36 --junit junit_gate.xml
    """
    try:
        with ctx.connect() as conn:
            sources = Sources(ctx.settings, ctx.releases(args.from_dir), args.from_dir)
            result = gate.run(conn, ctx.fetcher(), sources, args.release, args.pending_file,
                              args.min_share, args.ga_only)
    except ConfigError:
        raise  # a setting or option to correct: an error, not a verdict
    except SnoopError as exc:
        if args.debug:
            raise
        problem = f"{exc}{hint(exc, ctx.settings, args.instead) or ''}"
        result = gate.GateResult(args.release, problem=problem)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    if result.problem is not None:
        say(f"snoopdb: gate cannot decide: {result.problem}")
        return result.exit_code
    if not args.json:
        print(gate.render(result))
    if args.junit is not None:
        args.junit.write_text(gate.junit(result))
        say(f"wrote {args.junit}")
    return result.exit_code


def add_gate(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "gate", cmd_gate, instead={
        "SNOOPDB_GITHUB_RAW_URL": ("--from DIR", "--pending-file FILE")})
    parser.add_argument("--release", type=release_number, help="1.36, 1.36.0 or v1.36.0 "
                        "(default: the newest loaded release with coverage data)")
    parser.add_argument("--junit", type=Path, metavar="FILE",
                        help="also write JUnit XML: one testcase per new eligible endpoint")
    parser.add_argument("--json", action="store_true",
                        help="print the result (every verdict, or the problem) as JSON")
    parser.add_argument("--pending-file", type=Path, metavar="FILE",
                        help="pending_eligible_endpoints.yaml to use instead of the "
                             "release's from the GitHub raw base URL")
    from_option(parser)
    parser.add_argument("--min-share", type=share, metavar="S",
                        help="count an endpoint as tested only when a conformance test hit it "
                             "in at least share S of the release's runs (0 < S <= 1; default: "
                             "in any run)")
    parser.add_argument("--ga-only", action="store_true",
                        help="fail too when a conformance test called an alpha or beta "
                             "operation in the release's runs (each named)")


def cmd_export(args: argparse.Namespace, ctx: Context) -> int:
    """Write the coverage files the apisnoop web app reads (its resources/coverage/ folder).

    Twelve files, every number from the views: <release>.json (default: the newest
    loaded release with coverage data), <release>-fields.json (its request-body
    fields), conformance-progress.json, conformance-coverage-per-release.json,
    conformance-endpoints.json, new-endpoints.json, ineligible_endpoints.json,
    releases.yaml, untested-endpoints.txt, and snoopdb's own runs.json (every CI
    run's coverage), stability.json (coverage across runs) and depth.json (the
    parameters and status codes its tests exercise).

    Example: snoopdb export --release 1.36 --out resources/coverage
    """
    with ctx.connect() as conn:
        written = export(conn, args.out, args.release)
    for file in written:
        show(f"{file.path} ({file.bytes:,} bytes)")
    return 0


def add_export(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "export", cmd_export)
    parser.add_argument("--release", type=release_number, help="release of <release>.json and "
                        "of the untested list (default: the newest loaded release with "
                        "coverage data)")
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                        help="folder to write the files to (default: .)")
