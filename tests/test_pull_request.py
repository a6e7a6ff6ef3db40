"""`snoopdb verify-submission` on a pull request, as the CNCF bot sees one: the files it
changes and its title, read from a folder that is no git checkout (every file under it),
from a git checkout (HEAD since its base, in real repositories made here), and from a
loopback fake of GitHub's REST API. Each case where checking one folder used to part from
the bot (cncf-infra/verify-conformance, `handle()` in internal/plugin/plugin.go and the
file-list steps of internal/suite/suite.go) is run in all three."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from test_submission import (  # noqa: F401 (fixtures)
    CHECKS,
    MISSING,
    PRODUCT,
    SUBMITTED,
    github,
    make_submission,
    raw_1_35,
    rows,
    run,
    tests_1_35,
)

from snoopdb.certification.junit import MAX_MARKUP
from snoopdb.cli import main
from testkit.faultserver import Answer
from testkit.github_api import GitHubFake

MODES = ("folder", "git", "github")
TITLE = "Conformance results for v1.35/coolkube"
REPO = "cncf/k8s-conformance"
STRUCTURE = ("your product submission PR must be in folders structured like"
             " [KubernetesReleaseVersion]/[ProductName], e.g: v1.23/averycooldistro")
UNABLE = f"labels: {SUBMITTED}, unable-to-process"
PASSED = ("labels: conformance-product-submission, no-failed-tests-v1.35,"
          " release-documents-checked, release-v1.35, tests-verified-v1.35")
NOT_VERIFIABLE = ("labels: conformance-product-submission, no-failed-tests-v1.35,"
                  " not-verifiable, release-v1.35, tests-verified-v1.35")
GIT_ENV = {"GIT_AUTHOR_NAME": "Cool Corp", "GIT_AUTHOR_EMAIL": "support@coolkube.example.com",
           "GIT_COMMITTER_NAME": "Cool Corp",
           "GIT_COMMITTER_EMAIL": "support@coolkube.example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def pr_checks(mode: str) -> dict[str, str]:
    """The checklist of a passing pull request in `mode`, by check name: a folder's
    checks, the file list's, the title's, and the commits' where they are known."""
    shared = dict(zip(["files", "only-files", "regular-files", "product-fields", "product-type",
                       "product-format", "e2e-version", "e2e-success", "required-tests",
                       "no-failed-tests"], CHECKS, strict=True))
    checks = {
        "files": shared["files"],
        "only-files": "[PASS] the pull request has no other files",
        "folder-structure": "[PASS] every file is in a vX.Y/<product>/ folder",
        "one-product": "[PASS] the pull request holds one product's folder",
        "regular-files": shared["regular-files"],
        **{name: shared[name] for name in ("product-fields", "product-type", "product-format")},
        "title-format": "[PASS] the title reads like 'Conformance results for vX.Y/<product>'",
        "title-release": "[PASS] the title names the folder's release",
        "one-commit": "[PASS] the pull request has exactly one commit",
        **{name: shared[name] for name in ("e2e-version", "e2e-success", "required-tests",
                                           "no-failed-tests")},
    }
    if mode == "github":  # GitHub's file list does not tell links from files
        del checks["regular-files"]
    return checks


# a folder with no git has no commits, as the bot's pull request event has none
NO_COMMITS = ["  - no commits were found",
              "    - no git: the files alone, as the bot's pull request event gives them"]


def verdict(mode: str, code: int, labels: str, failed: dict[str, list[str]] | None = None,
            name: str = "v1.35/coolkube") -> tuple[int, list[str]]:
    """The exit code and checklist of a pull request in `mode`: as `checklist`, and in a
    folder with no git, its commits (none) fail too."""
    if mode != "folder":
        return code, checklist(mode, labels, failed, name)
    labels = "labels: " + ", ".join(sorted(
        {*labels.removeprefix("labels: ").split(", "), "not-verifiable"}
        - {"release-documents-checked"}))
    return max(code, 1), checklist(mode, labels, {**(failed or {}), "one-commit": NO_COMMITS},
                                   name)


def checklist(mode: str, labels: str, failed: dict[str, list[str]] | None = None,
              name: str = "v1.35/coolkube") -> list[str]:
    """The whole checklist: `failed` maps a check's name to its hint and detail lines."""
    failed = failed or {}
    checks = pr_checks(mode)
    lines = [f"{name}: {len(checks) - len(failed)} of {len(checks)} requirements have passed"]
    for check, line in checks.items():
        if check in failed:
            lines += [line.replace("[PASS]", "[FAIL]"), *failed[check]]
        else:
            lines.append(line)
    return [*lines, labels]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV}).stdout


@pytest.fixture
def fake(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubFake]:
    server = GitHubFake()
    monkeypatch.setenv("SNOOPDB_GITHUB_API_URL", server.url)
    yield server
    server.close()


PullRequestMaker = Callable[..., list[str]]


@pytest.fixture
def pull_request(tmp_path: Path, fake: GitHubFake) -> PullRequestMaker:
    """make(mode, build, title=TITLE, commits=1): the pull request whose files `build(root)`
    writes under a checkout's root, in `mode`; returns verify-submission's arguments."""

    def make(mode: str, build: Callable[[Path], object], title: str = TITLE,
             commits: int = 1) -> list[str]:
        if mode == "folder":
            root = tmp_path / "pull-request"
            root.mkdir()
            build(root)
            return ["--pr", str(root), "--title", title]
        if mode == "github":
            root = tmp_path / "pull-request"
            root.mkdir()
            build(root)
            fake.add("cncf", "k8s-conformance", 1, title, root, commits=commits)
            return ["--github", f"{REPO}#1"]
        # a checkout whose main has the instructions and an older submission; the pull
        # request is a branch of `commits` commits
        root = tmp_path / "k8s-conformance"
        (root / "v1.34" / "old").mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")
        (root / "instructions.md").write_text("# How to submit\n")
        (root / "v1.34" / "old" / "README.md").write_text("# An older product\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "The repository before the pull request")
        git(root, "checkout", "-q", "-b", "submission")
        build(root)
        changed = sorted(git(root, "ls-files", "--others", "--modified").split())
        for number in range(commits):
            part = changed[number::commits]
            git(root, "add", "--", *part)
            git(root, "commit", "-q", "--allow-empty", "-m", f"Part {number + 1} of {commits}")
        return ["--pr", str(root), "--base", "main", "--title", title]

    return make


@pytest.mark.parametrize("mode", MODES)
def test_a_passing_pull_request(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,
    fake: GitHubFake,
) -> None:
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35))
    code, out = run(capsys, *argv)
    assert (code, out) == verdict(mode, 0, PASSED)
    where = {"folder": f"{argv[1]} (no git: every file under it)",
             "git": f"{argv[1]} (HEAD since main: 1 commit(s))",
             "github": f"{fake.url}/cncf/k8s-conformance/pull/1"}[mode]
    path = "v1.35/coolkube" if mode == "github" else f"{argv[1]}/v1.35/coolkube"
    verdict_labels = ["not-verifiable" if mode == "folder" else "release-documents-checked"]
    assert rows(conn, "SELECT name, path, pull_request, title, result, labels, vendor FROM"
                " conformance.submission") == [
        ("v1.35/coolkube", path, where, TITLE, "failed" if mode == "folder" else "passed",
         sorted([SUBMITTED, "no-failed-tests-v1.35", *verdict_labels, "release-v1.35",
                 "tests-verified-v1.35"]), "Cool Corp")]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_testcase WHERE conformance") \
        == [(441,)]


@pytest.mark.parametrize("mode", MODES)
def test_a_file_beside_the_product_folder(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,
) -> None:
    def build(root: Path) -> None:
        make_submission(root, tests_1_35)
        (root / "instructions.md").write_text("# How to submit\nWith coolkube.\n")

    code, out = run(capsys, *pull_request(mode, build))
    assert (code, out) == verdict(mode, 1, NOT_VERIFIABLE, {
        "only-files": ["  - it appears that there are 1 non-required file(s) included in the"
                       " submission: instructions.md"],
        "folder-structure": [f"  - file 'instructions.md' not allowed. {STRUCTURE}"],
        "one-product": ["  - there should be a single set of products in the submission. We"
                        " found 2 product submissions: ./, v1.35/coolkube"]})
    assert rows(conn, "SELECT name, result FROM conformance.submission") == [
        ("v1.35/coolkube", "failed")]


@pytest.mark.parametrize("mode", MODES)
def test_two_product_folders(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,
) -> None:
    def build(root: Path) -> None:
        make_submission(root, tests_1_35)
        make_submission(root, tests_1_35, product="hotkube")

    code, out = run(capsys, *pull_request(mode, build))
    # the first folder is the submission, the four files are the first of each name
    assert (code, out) == verdict(mode, 1, NOT_VERIFIABLE, {
        "one-product": ["  - there should be a single set of products in the submission. We"
                        " found 2 product submissions: v1.35/coolkube, v1.35/hotkube"]})
    assert rows(conn, "SELECT name, result FROM conformance.submission") == [
        ("v1.35/coolkube", "failed")]


@pytest.mark.parametrize("mode", MODES)
def test_four_files_directly_in_the_release_folder(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str], mode: str,
) -> None:
    def build(root: Path) -> None:
        folder = make_submission(root, tests_1_35)
        for name in ("README.md", "PRODUCT.yaml", "e2e.log", "junit_01.xml"):
            (folder / name).rename(folder.parent / name)
        folder.rmdir()

    code, out = run(capsys, *pull_request(mode, build))
    assert (code, out) == (3, [
        ("the pull request: cannot be processed: no file of the pull request is in a"
         " vX.Y/<product>/ folder (4 file(s): v1.35/PRODUCT.yaml, v1.35/README.md,"
         " v1.35/e2e.log, v1.35/junit_01.xml): the bot finds no release ('Unable to parse"
         " release version.')"), UNABLE])
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(0,)]


@pytest.mark.parametrize("mode", MODES)
def test_a_test_listing_releases_newest_first_is_required(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    shared_data: Path, pull_request: PullRequestMaker, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], mode: str,
) -> None:
    # "v1.36,v1.20": required of a v1.35 submission, as 1.20 is not newer than it
    entries = yaml.safe_load((shared_data / "conformance" / "conformance-1.35.yaml").read_bytes())
    for entry in entries:
        if entry["codename"] == MISSING:
            entry["release"] = "v1.36,v1.20"
    listing = tmp_path / "conformance.yaml"
    listing.write_text(yaml.safe_dump(entries))
    argv = pull_request(mode, lambda root: make_submission(root, tests_1_35, omit=(MISSING,)))
    code, out = run(capsys, *argv, "--conformance-file", str(listing))
    assert (code, out) == verdict(mode, 1, (
        "labels: conformance-product-submission, no-failed-tests-v1.35, not-verifiable,"
        " release-v1.35, required-tests-missing"), {
        "required-tests": ["  - 1 of 441 required tests missing, skipped or failed",
                           f"    - {MISSING}"]})
    assert rows(conn, "SELECT first_release, last_release FROM conformance.release_test WHERE"
                " codename = %s", MISSING) == [("1.20.0", "1.20.0")]
    assert rows(conn, "SELECT codename, status FROM conformance.submission_missing_test") == [
        (MISSING, "missing")]


def test_a_test_listing_releases_newest_first_is_required_of_a_folder(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    entries = yaml.safe_load((shared_data / "conformance" / "conformance-1.35.yaml").read_bytes())
    for entry in entries:
        if entry["codename"] == MISSING:
            entry["release"] = "v1.36,v1.20"
    listing = tmp_path / "conformance.yaml"
    listing.write_text(yaml.safe_dump(entries))
    folder = make_submission(tmp_path, tests_1_35, omit=(MISSING,))
    code, out = run(capsys, str(folder), "--conformance-file", str(listing))
    assert (code, out[-5:]) == (1, [
        CHECKS[8].replace("[PASS]", "[FAIL]"),
        "  - 1 of 441 required tests missing, skipped or failed", f"    - {MISSING}",
        CHECKS[9], ("labels: conformance-product-submission, no-failed-tests-v1.35, not-verifiable,"
         " release-v1.35, required-tests-missing")])


def test_three_commits_on_a_branch(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = pull_request("git", lambda root: make_submission(root, tests_1_35), commits=3)
    code, out = run(capsys, *argv)
    assert (code, out) == (1, checklist("git", NOT_VERIFIABLE, {
        "one-commit": ["  - more than one commit was found; only one commit is allowed",
                       "    - 3 commits"]}))
    assert rows(conn, "SELECT pull_request FROM conformance.submission") == [
        (f"{argv[1]} (HEAD since main: 3 commit(s))",)]
    # squashed into one, it passes; the files were read at HEAD, not from the work tree
    root = Path(argv[1])
    git(root, "reset", "-q", "--soft", "main")
    git(root, "commit", "-q", "-m", "Conformance results for v1.35/coolkube")
    (root / "v1.35" / "coolkube" / "PRODUCT.yaml").write_text("not: [committed")
    assert run(capsys, *argv) == (0, checklist("git", PASSED))


def test_the_default_base_and_a_base_that_is_not_there(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = pull_request("git", lambda root: make_submission(root, tests_1_35))
    root = Path(argv[1])
    # no origin/main here: main is the base
    assert run(capsys, "--pr", str(root), "--title", TITLE) == (0, checklist("git", PASSED))
    assert rows(conn, "SELECT pull_request FROM conformance.submission") == [
        (f"{root} (HEAD since main: 1 commit(s))",)]
    assert main_error(capsys, "--pr", str(root), "--title", TITLE, "--base", "nowhere") == (
        f"{root}: git diff: fatal: ambiguous argument 'nowhere...HEAD': unknown revision or"
        " path not in the working tree.")
    assert main_error(capsys, "--pr", str(root), "--title", TITLE, "--base=--output=x") == (
        "--base '--output=x': not a git revision")
    git(root, "branch", "-q", "-m", "main", "trunk")
    assert main_error(capsys, "--pr", str(root), "--title", TITLE) == (
        f"{root}: no origin/main, main, master to compare HEAD with; give --base REF")


def main_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one error line verify-submission ends with (exit 1), without its prefix."""
    code = main(["verify-submission", *argv])
    out, err = capsys.readouterr()
    assert (code, out, err.count("\n")) == (1, "", 1), err
    return err.removeprefix("snoopdb: error: ").rstrip("\n")


def test_links_in_a_pull_request_are_read_as_git_keeps_them(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(yaml.safe_dump(dict(PRODUCT, vendor="Secret Vendor")))

    def build(root: Path) -> None:
        folder = make_submission(root, tests_1_35)
        (folder / "PRODUCT.yaml").unlink()
        (folder / "PRODUCT.yaml").symlink_to(secret)

    hint = "  - PRODUCT.yaml is not a mapping of fields"
    for mode in ("folder", "git"):
        code, out = run(capsys, *pull_request(mode, build))
        assert (code, out) == verdict(mode, 1, NOT_VERIFIABLE, {
            "regular-files": ["  - not followed nor opened: v1.35/coolkube/PRODUCT.yaml"
                              " (symbolic link)"],
            "product-fields": [hint], "product-type": [hint], "product-format": [hint]}), mode
        assert rows(conn, "SELECT vendor FROM conformance.submission") == [(None,)]


def test_github_pages_the_files_and_sends_the_token_to_the_api_alone(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    fake: GitHubFake, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0k3n")
    root = tmp_path / "pull-request"
    folder = make_submission(root, tests_1_35)
    notes = [f"note-{n:03}.txt" for n in range(146)]
    for name in notes:
        (folder / name).write_text("notes\n")
    old = make_submission(root, tests_1_35, version="v1.34", product="old")
    pull = fake.add("cncf", "k8s-conformance", 7, TITLE, root,
                    names=[p.relative_to(root).as_posix() for p in folder.iterdir()],
                    removed=[p.relative_to(root).as_posix() for p in old.iterdir()],
                    commits=0)
    code, out = run(capsys, "--github", f"{fake.url}/cncf/k8s-conformance/pull/7/files")
    assert (code, out) == (1, checklist("github", NOT_VERIFIABLE, {
        "only-files": ["  - it appears that there are 146 non-required file(s) included in the"
                       f" submission: {', '.join(notes)}"],
        "one-commit": ["  - no commits were found"]}))
    api = "/repos/cncf/k8s-conformance/pulls/7"
    raw = f"/cncf/k8s-conformance/raw/{pull.head}/v1.35/coolkube"
    assert sorted(fake.requests) == sorted([
        (api, "Bearer t0k3n"),
        (f"{api}/files?per_page=100&page=1", "Bearer t0k3n"),
        (f"{api}/files?per_page=100&page=2", "Bearer t0k3n"),
        (f"{api}/commits?per_page=100&page=1", "Bearer t0k3n"),
        *((f"{raw}/{name}", None) for name in ("PRODUCT.yaml", "README.md", "e2e.log",
                                               "junit_01.xml"))])
    # the files read are cached: they are named by the head commit
    fake.requests.clear()
    assert run(capsys, "--github", f"{REPO}#7")[0] == 1
    assert not [path for path, _ in fake.requests if "/raw/" in path]
    # the fake pages as GitHub does: 30 a page unless asked (154 files listed, the removed
    # ones too), a Link header to the next
    status, body, headers = fake.answer(f"{api}/files?page=2")
    assert (status, len(json.loads(body)), headers["Link"]) == (200, 30, ", ".join([
        f'<{fake.url}{api}/files?per_page=30&page=3>; rel="next"',
        f'<{fake.url}{api}/files?per_page=30&page=6>; rel="last"',
        f'<{fake.url}{api}/files?per_page=30&page=1>; rel="prev"',
        f'<{fake.url}{api}/files?per_page=30&page=1>; rel="first"']))


def test_github_answers_that_fail(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    fake: GitHubFake, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "2")
    root = tmp_path / "pull-request"
    make_submission(root, tests_1_35)
    fake.add("cncf", "k8s-conformance", 1, TITLE, root)
    api = f"{fake.url}/repos/cncf/k8s-conformance/pulls"
    # a 503 is tried again
    fake.faults["/repos/cncf/k8s-conformance/pulls/1/files"] = [Answer(b"busy", status=503)]
    assert run(capsys, "--github", f"{REPO}#1") == (0, checklist("github", PASSED))
    assert main_error(capsys, "--github", f"{REPO}#2") == (
        f"{api}/2: no pull request {REPO}#2 there (404); a private repository needs"
        " GITHUB_TOKEN")
    fake.faults["/repos/cncf/k8s-conformance/pulls/1"] = [Answer(b"{}", status=403)]
    assert main_error(capsys, "--github", f"{REPO}#1") == (
        f"{api}/1: HTTP 403 (GitHub refuses or rate-limits requests without a token: set"
        " GITHUB_TOKEN)")
    fake.faults["/repos/cncf/k8s-conformance/pulls/1"] = [Answer(b"[1, 2]")]
    assert main_error(capsys, "--github", f"{REPO}#1") == f"{api}/1: not a pull request (no title)"
    assert main_error(capsys, "--github", "https://github.com/cncf/k8s-conformance/pull/1") == (
        "--github 'https://github.com/cncf/k8s-conformance/pull/1': the pull request is on"
        f" github.com, the API asked ({fake.url}, SNOOPDB_GITHUB_API_URL) is"
        f" {fake.url.removeprefix('http://')}'s")
    assert main_error(capsys, "--github", "cncf/k8s-conformance") == (
        "--github 'cncf/k8s-conformance': expected OWNER/REPO#N or a pull request's URL"
        " (https://github.com/OWNER/REPO/pull/N)")
    # a raw_url that is no http(s) URL is never opened as a local path
    fake.pulls[("cncf", "k8s-conformance", 1)].raw_urls["v1.35/coolkube/e2e.log"] = "/etc/passwd"
    assert main_error(capsys, "--github", f"{REPO}#1") == (
        f"{api}/1/files: v1.35/coolkube/e2e.log: its raw_url '/etc/passwd' is not an http(s)"
        " URL")


def test_a_folder_pull_request_holds_at_most_what_github_lists(
    settings: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "pull-request"
    (root / "v1.35" / "coolkube").mkdir(parents=True)
    for n in range(3001):
        (root / "v1.35" / "coolkube" / f"{n}.txt").touch()
    assert main_error(capsys, "--pr", str(root), "--title", TITLE) == (
        f"{root}: more than 3000 files, more than GitHub lists of a pull request")


def test_markup_bound_is_what_github_fake_serves_too(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    pull_request: PullRequestMaker, capsys: pytest.CaptureFixture[str],
) -> None:
    # a junit_01.xml snoopdb does not read whole: cannot be processed, no labels
    def build(root: Path) -> None:
        folder = make_submission(root, tests_1_35)
        junit = folder / "junit_01.xml"
        text = junit.read_text()
        junit.write_text(text.replace('classname="Kubernetes e2e suite"',
                                      f'classname="{"x" * (MAX_MARKUP + 1)}"', 1))

    assert run(capsys, *pull_request("github", build)) == (3, [
        (f"v1.35/coolkube: cannot be processed: junit_01.xml: markup of more than {MAX_MARKUP}"
         " bytes from line 5 ('<testcase name=\"[ReportBeforeSuite]\" cla'…); snoopdb reads"
         " tags, comments and instructions up to 1 MiB")])
    assert rows(conn, "SELECT result, labels FROM conformance.submission") == [
        ("unprocessable", [])]
