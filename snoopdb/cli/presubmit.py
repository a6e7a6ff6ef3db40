"""`snoopdb presubmit`: a Kubernetes pull request's coverage, for its comment and CI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from snoopdb.cli.context import Context, say
from snoopdb.cli.exits import hint
from snoopdb.cli.parsing import add_command, positive_number, release_number, share
from snoopdb.commands import presubmit, presubmit_report
from snoopdb.core.errors import ConfigError, FetchError, NoSpecLoaded, SnoopError
from snoopdb.loaders.ci_runs import DEFAULT_BUCKET


def cmd_presubmit(args: argparse.Namespace, ctx: Context) -> int:
    """Judge a Kubernetes pull request's API coverage: operations it adds, tests that hit them.

    Reads the checkout's api/openapi-spec/swagger.json and test/conformance/testdata
    lists at its head and at its base (--base-ref REF, or a loaded --release), maps the
    pull request's e2e run (--run, --audit-log) with its own spec, and compares the run
    with the newest runs of a periodic job (--baseline, loaded when missing). Prints
    Markdown for the pull request's comment (--json: the result as JSON).
    Exit status: 1 when a new stable, eligible operation is hit by no conformance test
    of the run and not on the pull request's pending list, or when an operation the
    baseline reaches is lost; 3 when it cannot decide (no run, no baseline); 0 otherwise.

    Example: snoopdb presubmit --checkout ~/kubernetes --base-ref origin/master
      --audit-log audit.log --baseline ci-kubernetes-audit-kind-conformance --junit junit.xml
    """
    inputs = presubmit.Inputs(
        checkout=args.checkout, base_ref=args.base_ref, release=args.release, run=args.run,
        audit_logs=tuple(args.audit_log or ()), baseline=args.baseline, last=args.last,
        min_share=args.min_share, bucket=args.bucket, skip_bad_lines=args.skip_bad_lines)
    try:
        with ctx.connect(migrate=True) as conn:
            result = presubmit.run(conn, ctx.fetcher(), ctx.settings, ctx.releases(), inputs)
    except ConfigError:
        raise  # an option to correct: an error, not a verdict
    except SnoopError as exc:
        if args.debug or not _undecided(exc):
            raise
        result = presubmit.Result(problem=f"{exc}{hint(exc, ctx.settings) or ''}")
    text = (json.dumps(result.to_dict(), indent=2) + "\n" if args.json
            else presubmit_report.markdown(result))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        say(f"wrote {args.output}")
    if args.json_output is not None:
        args.json_output.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        say(f"wrote {args.json_output}")
    if args.junit is not None and result.problem is None:
        args.junit.write_text(presubmit_report.junit(result))
        say(f"wrote {args.junit}")
    if result.problem is not None:
        say(f"snoopdb: presubmit cannot decide: {result.problem}")
    return result.exit_code


def _undecided(exc: SnoopError) -> bool:
    """A run or a baseline that cannot be found or fetched, or a base release whose spec
    is not loaded, leaves the verdict open (as the gate's is without a spec)."""
    return isinstance(exc, (FetchError, NoSpecLoaded))


def add_presubmit(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "presubmit", cmd_presubmit)
    parser.add_argument("--checkout", type=Path, required=True, metavar="DIR",
                        help="the pull request's head: a Kubernetes checkout")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base-ref", metavar="REF",
                      help="the pull request's base, a git revision of the checkout "
                           "(e.g. origin/master)")
    base.add_argument("--release", type=release_number,
                      help="the pull request's base, a loaded release (1.36)")
    run = parser.add_mutually_exclusive_group()
    run.add_argument("--run", metavar="SOURCE|JOB#BUILD",
                     help="the pull request's e2e run: a loaded run, JOB#BUILD or a prow URL "
                          "on GCS")
    run.add_argument("--audit-log", type=Path, nargs="+", metavar="FILE",
                     help="the pull request's e2e run: its audit log files, in order")
    parser.add_argument("--baseline", metavar="JOB",
                        help="the periodic job the run is compared with (e.g. "
                             "ci-kubernetes-audit-kind-conformance)")
    parser.add_argument("--last", type=positive_number, default=presubmit.DEFAULT_LAST,
                        metavar="N", help="how many of the job's newest runs make the "
                                          f"baseline (default: {presubmit.DEFAULT_LAST})")
    parser.add_argument("--min-share", type=share, default=1.0, metavar="S",
                        help="an operation is reached by the baseline when its conformance "
                             "tests hit it in at least share S of its runs (0 < S <= 1; "
                             "default 1); those hit in fewer are flaky: marked, not counted")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET,
                        help=f"the GCS bucket of prow's runs (default: {DEFAULT_BUCKET})")
    parser.add_argument("--skip-bad-lines", action="store_true",
                        help="count and skip malformed audit log lines instead of failing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--junit", type=Path, metavar="FILE",
                        help="also write JUnit XML: one testcase per new eligible operation "
                             "and per lost one")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write the Markdown (or JSON) to FILE instead of standard output")
    parser.add_argument("--json-output", type=Path, metavar="FILE",
                        help="also write the result as JSON to FILE")
