"""`snoopdb mirror`: what `load` reads, into a folder `load --from DIR` reads offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from snoopdb.cli.context import Context, say, show
from snoopdb.cli.parsing import add_command, release_number
from snoopdb.commands.mirror import MirroredFile, mirror, read_releases
from snoopdb.core.errors import ReleaseError, UsageError


def cmd_mirror(args: argparse.Namespace, ctx: Context) -> int:
    """Download what `snoopdb load --release X.Y` reads into DIR, for loads offline.

    The releases list, the specs of every release up to X.Y, its conformance.yaml,
    ineligible and pending endpoint lists, and, for a past release (or with --history),
    apisnoop's published coverage of every release up to it; each download verified
    whole and read through as load reads it. Then `snoopdb load --from DIR --release
    X.Y` (and `gate`, `compare-published` with --from DIR) need no network. CI runs
    (GCS) are not mirrored: name local logs with `load --audit-log`.

    Example: snoopdb mirror --release 1.20 --out mirror && snoopdb load --from mirror --release 1.20
    """
    fetcher = ctx.fetcher()
    releases, text, _ = read_releases(fetcher, ctx.settings, ctx.releases_file)
    try:
        release = releases.resolve(args.release)
    except ReleaseError as exc:
        raise UsageError(str(exc)) from exc
    history_wanted = True if args.history else False if args.no_history else None
    report = mirror(fetcher, ctx.settings, releases, text, release, args.out,
                    history_wanted=history_wanted, on_file=_print_file)
    if report.missing:
        say(f"note: not upstream (404), so not in the mirror; load does without them: "
            f"{', '.join(report.missing)}")
    history_note = ("with published coverage" if report.history
                    else "without published coverage (--history adds it)")
    show(f"mirrored release {release.minor_name} {history_note}: {len(report.files)} files, "
          f"{report.bytes:,} bytes in {args.out} in {report.seconds:.1f}s; load it with "
          f"`snoopdb load --from {args.out} --release {release.minor_name}`")
    return 0


def _print_file(written: MirroredFile) -> None:
    show(f"{written.what}: {written.bytes:,} bytes from {written.url}")


def add_mirror(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "mirror", cmd_mirror)
    parser.add_argument("--release", type=release_number, required=True,
                        help="1.20, 1.20.0 or v1.20.0: mirror what loading it reads")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the mirror's folder (created; files in it are replaced)")
    history_choice = parser.add_mutually_exclusive_group()
    history_choice.add_argument(
        "--history", action="store_true",
        help="also mirror apisnoop's published coverage for the current release (load "
             "--history imports it); a past release's is mirrored by default")
    history_choice.add_argument("--no-history", action="store_true",
                                help="never mirror published coverage")
