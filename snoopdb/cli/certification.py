"""`verify-submission`: the CNCF bot's checks on a submission, printed as its checklist or,
for --all, a summary table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from snoopdb.certification.bot import STATUSES
from snoopdb.cli.context import Context, say
from snoopdb.cli.exits import source_hint
from snoopdb.cli.parsing import add_command, release_number
from snoopdb.commands.verify import Verification, verify_submission
from snoopdb.core.errors import UsageError
from snoopdb.core.terminal import shown


def cmd_verify_submission(args: argparse.Namespace, ctx: Context) -> int:
    """Check a certification submission as the CNCF bot does, and print its labels.

    A submission folder is vX.Y/<product>/ of cncf/k8s-conformance (README.md,
    PRODUCT.yaml, e2e.log, junit_01.xml). Prints the checklist and the labels the bot
    would apply, and keeps the results in the database (conformance.submission,
    conformance.submission_missing_test, ...).
    The bot checks a pull request: --pr ROOT checks the one a checkout makes (the files
    `git diff --diff-filter=AMR BASE...HEAD` lists, read at HEAD, and its commits; every
    file under ROOT, with no commits, when it is no git checkout), --github the one on
    GitHub (through its REST API: SNOOPDB_GITHUB_API_URL, GITHUB_TOKEN): its file list is
    checked too (only the four files, one vX.Y/<product>/ folder), and its commits
    (exactly one).
    Checks the bot does not make are marked "beyond the bot"; they fail the run only
    with --strict. Exit status: 0 passed, 1 a check failed, 3 cannot be processed
    (the bot's unable-to-process: a title that is not a submission's, no vX.Y/ in the
    path, a release outside the bot's window of the newest out and the two before it,
    no conformance list for the release; or, without labels, a download failed).
    After the labels: with --github, those the bot would add and remove (it keeps
    labels it does not manage); the commit status it would set; the comment it would
    post, quoted.

    Example: snoopdb verify-submission v1.35/coolkube --title "Conformance results for v1.35/cool"
    Example: snoopdb verify-submission --pr . --title "Conformance results for v1.35/CoolKube"
    Example: snoopdb verify-submission --github cncf/k8s-conformance#3812
    """
    modes = {"DIR": args.dir, "--all": args.all, "--pr": args.pr, "--github": args.github}
    given = [name for name, value in modes.items() if value is not None]
    if len(given) != 1:
        raise UsageError("give one of a submission folder DIR, --all ROOT, --pr ROOT or"
                          " --github OWNER/REPO#N")
    mode = given[0]
    if args.title is not None and mode in ("--all", "--github"):
        raise UsageError(f"--title is one pull request's, given by you with DIR or --pr,"
                          f" not with {mode}")
    if args.pr is not None and args.title is None:
        raise UsageError("--pr needs the pull request's --title: the bot checks it")
    if args.base is not None and mode != "--pr":
        raise UsageError("--base is where the pull request of --pr starts")
    if args.release is not None and mode in ("--pr", "--github"):
        raise UsageError(f"with {mode}, the release is read from the files' paths, as the"
                          " bot reads it")
    if args.all is not None and args.conformance_file is not None and args.release is None:
        raise UsageError("--conformance-file with --all needs --release: a conformance"
                          " list belongs to one release")
    with ctx.connect(migrate=True) as conn:
        report = verify_submission(
            conn, ctx.fetcher(), ctx.settings, ctx.releases(), folder=args.dir, root=args.all,
            release=args.release, title=args.title, check_urls=args.check_urls,
            allow_private_urls=args.allow_private_urls, conformance_file=args.conformance_file,
            pull_request=args.pr, base=args.base, github=args.github)
    results = report.results
    for warning in report.warnings:
        say(f"warning: {warning}")
    if args.json:
        documents = [r.to_dict() for r in results]
        print(json.dumps(documents[0] if args.all is None else documents, indent=2))
    elif args.all is None:
        if results[0].pull_request is not None:
            say(f"pull request: {results[0].pull_request}")
        print(_checklist(results[0], _advice(results[0], ctx, args)))
    else:
        print(_summary_table(results))
        say(f"verified {len(results)} submissions in {report.seconds:.1f}s")
    return report.exit_status(args.strict)


def _advice(result: Verification, ctx: Context, args: argparse.Namespace) -> str:
    """For a submission that could not be processed for want of a download (the bot
    would have: no labels): the setting that points at the source, and
    --conformance-file, which does without it."""
    if result.error is None or result.labels:
        return ""
    return source_hint(result.error, ctx.settings, args.instead) or ""


def _checklist(result: Verification, advice: str = "") -> str:
    name = result.submission.name
    if result.error is not None:
        lines = [f"{name}: cannot be processed: {result.error}{advice}"]
    else:
        lines = [f"{name}: {result.passed_checks} of {len(result.checks)} requirements have"
                 " passed"]
    for check in result.checks:
        lines.append(f"[{'PASS' if check.passed else 'FAIL'}] {check.title}")
        if not check.passed:
            lines.append(f"  - {check.hint}")
            lines += [f"    - {detail}" for detail in check.details]
    # file names, titles and test names come from the submission: each line shown as one
    return "\n".join(map(shown, lines + _bot_lines(result)))


def _bot_lines(result: Verification) -> list[str]:
    """What the bot would do: labels (those it adds and removes, when the pull request's
    are known), the commit status it sets, the comment it posts, quoted."""
    if not result.labels:
        return []
    lines = [f"labels: {', '.join(result.labels)}"]
    if result.current_labels is not None:
        add, remove = result.label_changes
        lines += [f"add: {', '.join(add) or '-'}", f"remove: {', '.join(remove) or '-'}"]
    status = result.status
    assert status is not None, "a verdict with labels has a status"
    lines.append(f"status: {status} ({STATUSES[status]})")
    if result.comment is not None:
        lines.append("comment:")
        lines += [f"> {line}".rstrip() for line in result.comment.rstrip("\n").split("\n")]
    return lines


def _summary_table(results: list[Verification]) -> str:
    rows = [("SUBMISSION", "RESULT", "CHECKS", "FAILED CHECKS / ERROR")]
    for r in results:
        failed = r.error or ", ".join(c.name for c in r.checks if not c.passed)
        rows.append((shown(r.submission.name), r.result, f"{r.passed_checks}/{len(r.checks)}",
                     shown(failed)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
             + "  " + row[3]
             for row in rows]
    counts = {result: sum(r.result == result for r in results)
              for result in ("passed", "failed", "unprocessable")}
    lines.append(f"{len(results)} submissions: " + ", ".join(f"{n} {result}"
                                                            for result, n in counts.items()))
    return "\n".join(line.rstrip() for line in lines)


def add_verify_submission(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "verify-submission", cmd_verify_submission, instead={
        "SNOOPDB_GITHUB_RAW_URL": ("--conformance-file FILE",)})
    parser.add_argument("dir", nargs="?", type=Path, metavar="DIR",
                        help="the submission folder, normally vX.Y/<product>")
    parser.add_argument("--all", type=Path, metavar="ROOT",
                        help="verify every vX.Y/<product> folder under ROOT (a checkout of "
                             "cncf/k8s-conformance) and print a summary table")
    parser.add_argument("--pr", type=Path, metavar="ROOT",
                        help="verify the pull request a checkout of cncf/k8s-conformance makes:"
                             " the files HEAD changes since --base (read at HEAD), or, when "
                             "ROOT is no git checkout, every file under it; needs --title")
    parser.add_argument("--base", metavar="REF",
                        help="with --pr, where the pull request starts: the files and commits "
                             "since the merge base of REF and HEAD (default: origin/main, else "
                             "main, else master)")
    parser.add_argument("--github", metavar="OWNER/REPO#N",
                        help="verify a pull request on GitHub (OWNER/REPO#N or its URL), read "
                             "through the REST API at SNOOPDB_GITHUB_API_URL (default "
                             "https://api.github.com) with GITHUB_TOKEN when set")
    parser.add_argument("--release", type=release_number,
                        help="the release (v1.35) when DIR's parent folder does not name it; "
                             "with --all, verify only that release's folders")
    parser.add_argument("--title", help="the pull request's title: checked when given with "
                        "DIR, required with --pr")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--check-urls", action="store_true",
                        help="also request PRODUCT.yaml's URLs and expect HTML pages (public "
                             "addresses only, no proxy)")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="with --check-urls, also request loopback, link-local and "
                             "private addresses (a mirror on your network, tests)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a check beyond the bot fails too")
    parser.add_argument("--conformance-file", type=Path, metavar="FILE",
                        help="the release's conformance.yaml (default: the release-X.Y branch's, "
                             "from the GitHub raw base URL); replaces the stored list")
