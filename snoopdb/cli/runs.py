"""`snoopdb runs`: the loaded CI runs, listed, dropped and pruned."""

from __future__ import annotations

import argparse

from snoopdb.cli.context import Context
from snoopdb.cli.parsing import add_command
from snoopdb.commands import runs


def _size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return ""


def _print_runs(listed: list[runs.Run]) -> None:
    print(f"{'release':<10} {'events':>12} {'size':>10}  {'loaded at':<19}  source")
    for run in listed:
        print(f"{run.release:<10} {run.events:>12,} {_size(run.bytes):>10}  "
              f"{run.loaded_at:%Y-%m-%d %H:%M:%S}  {run.source}")


def cmd_runs(args: argparse.Namespace, ctx: Context) -> int:
    """List the loaded CI runs (by job, newest first), or drop or prune them.

    Each run's events are a table of their own: dropping a run drops that table
    (no rows deleted one by one) and the run's endpoint_hit rows, and refreshes the
    coverage views, in one transaction.

    Example: snoopdb runs
    """
    with ctx.connect() as conn:
        listed = runs.list_runs(conn)
    _print_runs(listed)
    print(f"{len(listed)} runs, {sum(r.events for r in listed):,} events, "
          f"{_size(sum(r.bytes for r in listed))}")
    return 0


def _print_drop(report: runs.DropReport) -> None:
    for run in report.dropped:
        print(f"dropped {run.source} ({run.release}, {run.events:,} events)")
    print(f"{len(report.dropped)} runs dropped ({report.events:,} events, "
          f"{_size(report.bytes)}), {len(report.kept)} kept, in {report.seconds:.2f}s")


def cmd_runs_drop(args: argparse.Namespace, ctx: Context) -> int:
    """Drop loaded runs, named by their source (as `snoopdb runs` lists it).

    All or none: a source that is not a loaded run is an error and nothing is dropped.

    Example: snoopdb runs drop https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/ci-kubernetes-e2e-gci-gce/1800000000000000000
    """
    with ctx.connect() as conn:
        _print_drop(runs.drop_runs(conn, args.sources))
    return 0


def cmd_runs_prune(args: argparse.Namespace, ctx: Context) -> int:
    """Keep the newest N runs of each job (by build number, else by load time) and drop
    the others.

    Example: snoopdb runs prune --keep 3
    """
    with ctx.connect() as conn:
        _print_drop(runs.prune_runs(conn, args.keep))
    return 0


def add_runs(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "runs", cmd_runs)
    runs_sub = parser.add_subparsers(dest="runs_command", metavar="COMMAND")
    drop = add_command(runs_sub, "drop", cmd_runs_drop)
    drop.add_argument("sources", nargs="+", metavar="SOURCE", help="source of a run to drop")
    prune = add_command(runs_sub, "prune", cmd_runs_prune)
    prune.add_argument("--keep", type=int, required=True, metavar="N",
                       help="runs to keep per job (at least 1)")
