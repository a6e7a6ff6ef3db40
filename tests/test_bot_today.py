"""`verify-submission` gives what the bot that runs today, kubernetes-sigs/verify-conformance
(stable v1.36.0, lists for v1.34-v1.36, built with Go 1.26), gives: its labels, the
labels it adds and removes, its commit status and its comment, word for word. Each case
where snoopdb used to differ from it, in the three forms of a pull request: a folder
that is no git checkout, a git checkout (--pr), and GitHub (--github, the test kit's
fake). The expected comments are the bot's own, from its handle() run on the same
pull requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import yaml
from test_pull_request import (  # noqa: F401 (fixtures, theirs and test_submission's)
    MODES,
    REPO,
    PullRequestMaker,
    fake,
    github,
    pull_request,
    raw_1_35,
    tests_1_35,
)
from test_submission import (
    INSTRUCTIONS,
    MISSING,
    NOT_A_SUBMISSION,
    PENDING,
    PRODUCT,
    SUBMITTED,
    bot_run,
    make_submission,
    rows,
    run,
)

from testkit.github_api import GitHubFake

TOTAL = 15  # the scenarios of the bot's feature file
END = [">", (">  for a full list of requirements, please refer to these sections of the docs:"
             f" [_content of the PR_]({INSTRUCTIONS}#contents-of-the-pr), and [_requirements_]"
             f"({INSTRUCTIONS}#requirements).")]
PASSED = ["status: success (All checks are passing)", "comment:",
          "> All requirements (15) have passed for the submission!"]
ONE_COMMIT = ("- [FAIL] it appears that there is not exactly one commit. Please rebase and squash"
              " with `git rebase -i HEAD` (https://git-scm.com/docs/git-rebase)")
NO_COMMITS = [ONE_COMMIT, "  - no commits were found"]
FORMAT = "- [FAIL] it appears that field(s) in the PRODUCT.yaml aren't correctly formatted"
TESTS_LABELS = ["no-failed-tests-v1.35", "release-v1.35", "tests-verified-v1.35"]


def failing(mode: str, *blocks: list[str]) -> list[str]:
    """The bot's status and comment for the failed scenarios `blocks` (each its FAIL line
    and hints); a folder with no git has no commits, which fails the last one."""
    if mode == "folder":
        blocks = (*blocks, NO_COMMITS)
    return ["status: failure (Please check failing requirements and update accordingly)",
            "comment:",
            f"> {TOTAL - len(blocks)} of {TOTAL} requirements have passed. Please review the"
            " following:",
            *(f"> {line}" for block in blocks for line in block), *END]


def status_and_comment(bot: list[str]) -> list[str]:
    """What follows the labels, but the labels added and removed (--github)."""
    return [line for line in bot if not line.startswith(("add: ", "remove: "))]


def passing(mode: str) -> list[str]:
    return failing(mode) if mode == "folder" else PASSED


def labels(mode: str, *more: str) -> list[str]:
    """The labels of a verdict: `more` and the bot's verdict label."""
    passed = mode != "folder" and not any(label.endswith("-missing") for label in more)
    verdict = "not-verifiable" if mode == "folder" or "failed" in more else (
        "release-documents-checked" if passed else "not-verifiable")
    return sorted({SUBMITTED, *(m for m in more if m != "failed"), verdict})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("title", ["Update the instructions for v1.35", "",
                                   "Conformance: v1.35/coolkube"])
def test_a_title_without_the_phrase_is_labelled_no_submission(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker,  # noqa: F811
    capsys: pytest.CaptureFixture[str], mode: str, title: str,
) -> None:
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35), title=title)
    code, lines, bot = bot_run(capsys, *argv)
    assert (code, lines[-1]) == (3, "labels: not-conformance-product-submission, unable-to-process")
    added = ["add: not-conformance-product-submission, unable-to-process", "remove: -"]
    assert bot == (added if mode == "github" else []) + NOT_A_SUBMISSION
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(0,)]


@pytest.mark.parametrize("mode", MODES)
def test_labels_of_an_earlier_run_are_replaced_and_others_kept(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,  # noqa: F811
    fake: GitHubFake,  # noqa: F811
) -> None:
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35),
                        title="Fix a typo in coolkube's README")
    earlier = [SUBMITTED, "release-v1.35", "tests-verified-v1.35", "not-verifiable", "lgtm",
               "prerelease-notes"]
    if mode == "github":
        fake.pulls[("cncf", "k8s-conformance", 1)].labels = earlier
    code, out = run(capsys, *argv, "--json")
    document = json.loads("\n".join(out))
    if mode == "github":
        # the bot removes every label it manages ("release-" in a name is one), keeps lgtm
        assert (document["add"], document["remove"]) == (
            ["not-conformance-product-submission", "unable-to-process"],
            [SUBMITTED, "release-v1.35", "tests-verified-v1.35", "not-verifiable",
             "prerelease-notes"])
        assert bot_run(capsys, *argv)[2][:2] == [
            "add: not-conformance-product-submission, unable-to-process",
            ("remove: conformance-product-submission, release-v1.35, tests-verified-v1.35,"
             " not-verifiable, prerelease-notes")]
    else:  # a new pull request: its labels are not known, none are removed
        assert (document["add"], document["remove"]) == (
            ["not-conformance-product-submission", "unable-to-process"], [])
    assert (code, document["status"], document["result"]) == (3, "pending", "unprocessable")

    # a submission labelled by a run before a fix: the stale labels go, the new come
    if mode == "github":
        pull = fake.pulls[("cncf", "k8s-conformance", 1)]
        pull.title = "Conformance results for v1.35/coolkube"
        pull.labels = ["not-conformance-product-submission", "unable-to-process", "lgtm",
                       "missing-file-e2e.log"]
        code, out = run(capsys, "--github", f"{REPO}#1", "--json")
        document = json.loads("\n".join(out))
        assert (code, document["add"], document["remove"]) == (
            0, [SUBMITTED, "no-failed-tests-v1.35", "release-documents-checked",
                "release-v1.35", "tests-verified-v1.35"],
            ["not-conformance-product-submission", "unable-to-process",
             "missing-file-e2e.log"])


def conformance_list(shared_data: Path, tmp_path: Path, release: str) -> Path:
    entries = yaml.safe_load((shared_data / "conformance" / "conformance-1.35.yaml").read_bytes())
    for entry in entries:
        if entry["codename"] == MISSING:
            entry["release"] = release
    listing = tmp_path / f"conformance-{len(release)}.yaml"
    listing.write_text(yaml.safe_dump(entries))
    return listing


@pytest.fixture
def missing_one(tests_1_35: list[str], pull_request: PullRequestMaker,  # noqa: F811
                ) -> Callable[[str], list[str]]:
    """make(mode): the arguments of a pull request in `mode` whose junit lacks MISSING."""
    return lambda mode: pull_request(
        mode, lambda root: make_submission(root, tests_1_35, omit=(MISSING,)))


@pytest.mark.parametrize("mode", MODES)
def test_a_test_of_a_much_newer_release_is_not_required(
    conn: psycopg.Connection, github: str, shared_data: Path, tmp_path: Path,  # noqa: F811
    missing_one: Callable[[str], list[str]], capsys: pytest.CaptureFixture[str], mode: str,
) -> None:
    # v1.1256 is newer than v1.35, whatever its size; one past int64 is no version
    listing = conformance_list(shared_data, tmp_path, "v1.1256")
    argv = missing_one(mode)
    code, lines, bot = bot_run(capsys, *argv, "--conformance-file", str(listing))
    assert (code, lines[-1], status_and_comment(bot)) == (
        1 if mode == "folder" else 0, "labels: " + ", ".join(labels(mode, *TESTS_LABELS)),
        passing(mode))
    # a number past PostgreSQL's integer is kept as its largest: newer all the same
    huge = conformance_list(shared_data, tmp_path, "v1.99999999999")
    assert status_and_comment(bot_run(capsys, *argv, "--conformance-file", str(huge))[2]) == \
        passing(mode)
    assert rows(conn, "SELECT first_release FROM conformance.release_test WHERE codename = %s",
                MISSING) == [("1.2147483647.0",)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]
    unreadable = conformance_list(shared_data, tmp_path, "v1.99999999999999999999")
    code, lines, bot = bot_run(capsys, *argv, "--conformance-file", str(unreadable))
    assert (code, bot) == (3, [])
    assert lines[0].endswith(": error parsing version v1.99999999999999999999: a number past"
                             " 9223372036854775807")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fields, hints", [
    # Go 1.26 refuses these two URLs; the address is one, and so is the ftp URL
    ({"website_url": "https://host:443:443/", "documentation_url": "http://[127.0.0.1]/",
      "repo_url": "ftp://mirror:21:21/", "contact_email_address": "sales@[192.0.2.1]"},
     ["  - URL for field &#39;website_url&#39; in PRODUCT.yaml is not a valid URL, parse"
      " &#34;https://host:443:443/&#34;: invalid port &#34;:443:443&#34; after host",
      "  - URL for field &#39;documentation_url&#39; in PRODUCT.yaml is not a valid URL,"
      " parse &#34;http://[127.0.0.1]/&#34;: invalid IP-literal"]),
    # an address it refuses: its hint now begins "email field"
    ({"contact_email_address": "sales@[192.0.2.1], support@coolkube.example.com"},
     ["  - email field &#39;contact_email_address&#39; in PRODUCT.yaml is not a valid"
      " address, mail: expected single address, got &#34;, support@coolkube.example.com&#34;"]),
])
def test_urls_and_addresses_as_go_1_26_reads_them(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,  # noqa: F811
    fields: dict[str, str], hints: list[str],
) -> None:
    product = dict(PRODUCT, **fields)
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35,
                                                           product_yaml=product))
    code, lines, bot = bot_run(capsys, *argv)
    assert (code, lines[-1]) == (1, "labels: " + ", ".join(labels(mode, *TESTS_LABELS,
                                                                  "failed")))
    assert status_and_comment(bot) == failing(mode, [FORMAT, *hints])


@pytest.mark.parametrize("mode", MODES)
def test_a_pull_request_with_no_commits(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,  # noqa: F811
) -> None:
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35), commits=0)
    code, lines, bot = bot_run(capsys, *argv)
    if mode == "git":
        # no commit since the base: no file either, and no release to read
        assert (code, lines[-1], bot) == (3, f"labels: {SUBMITTED}, unable-to-process", [
            PENDING, "comment:", "> Unable to parse release version."])
        return
    assert (code, lines[-1]) == (1, "labels: " + ", ".join(labels("folder", *TESTS_LABELS)))
    assert status_and_comment(bot) == failing("folder")  # its only failure: no commits


@pytest.mark.parametrize("mode", ["git", "github"])
def test_more_than_one_commit(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,  # noqa: F811
) -> None:
    # the bot's words, with no final period
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35), commits=3)
    assert status_and_comment(bot_run(capsys, *argv)[2]) == failing(mode, [
        ONE_COMMIT, "  - more than one commit was found; only one commit is allowed"])


@pytest.mark.parametrize("mode", MODES)
def test_a_percent_sign_in_a_file_name(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,  # noqa: F811
) -> None:
    def build(root: Path) -> None:
        (make_submission(root, tests_1_35) / "100%d.txt").write_text("notes\n")

    code, lines, bot = bot_run(capsys, *pull_request(mode, build))
    assert lines[2:4] == ["[FAIL] the pull request has no other files",
                          ("  - it appears that there are 1 non-required file(s) included in"
                           " the submission: 100%d.txt")]
    assert status_and_comment(bot) == failing(mode, [
        "- [FAIL]", ("  - it appears that there are 1 non-required file(s) included in the"
                     " submission: 100%d.txt")])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("release, comment", [
    ("v1.33", "Unable to use version v1.33 because it is older than the last currently"
              " supported release v1.34."),
    ("v1.37", "The release version v1.37 is unable to be processed at this time; Please wait as"
              " this version may become available soon."),
])
def test_a_release_outside_the_window_stops_before_any_check(
    conn: psycopg.Connection, settings: object, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, mode: str, release: str, comment: str,
) -> None:
    # newest out v1.36: the bot has lists for v1.34 to v1.36; nothing is downloaded
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", "http://127.0.0.1:9/unreachable")
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35, version=release),
                        title=f"Conformance results for {release}/coolkube")
    code, lines, bot = bot_run(capsys, *argv)
    assert (code, len(lines), lines[-1]) == (3, 2, f"labels: {SUBMITTED}, unable-to-process")
    assert bot == ([f"add: {SUBMITTED}, unable-to-process", "remove: -"]
                   if mode == "github" else []) + [PENDING, "comment:", f"> {comment}"]
    assert rows(conn, "SELECT result, checks_total, labels FROM conformance.submission") == [
        ("unprocessable", 0, [SUBMITTED, "unable-to-process"])]


@pytest.mark.parametrize("mode", MODES)
def test_the_deviations_that_stay(
    missing_one: Callable[[str], list[str]], mode: str, conn: psycopg.Connection,
    github: str, shared_data: Path, tmp_path: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    # an unreadable list: the bot fails its test steps ("malformed version: &&&",
    # not-verifiable); snoopdb cannot decide
    argv = missing_one(mode)
    unreadable = conformance_list(shared_data, tmp_path, "&&&")
    code, lines, bot = bot_run(capsys, *argv, "--conformance-file", str(unreadable))
    assert (code, bot) == (3, [])
    number = [t["codename"] for t in yaml.safe_load(unreadable.read_bytes())].index(MISSING) + 1
    assert lines[0].endswith(f"test #{number}: malformed version: &&&")
    # " v1.20" after a comma: the bot cannot read it; snoopdb reads it as meant
    spaced = conformance_list(shared_data, tmp_path, "v1.37, v1.20")
    code, lines, bot = bot_run(capsys, *argv, "--conformance-file", str(spaced))
    assert lines[-1] == "labels: " + ", ".join(labels(
        mode, "no-failed-tests-v1.35", "release-v1.35", "required-tests-missing"))
