"""`verify-submission --pr` on a checkout built to break it: a file past the bound of a
pull request's file, a tree entry named `..`, thousands of long paths; and `--github`
on answers pointing elsewhere than GitHub. Each is read, or refused, and said in one
line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from test_pull_request import GIT_ENV, TITLE, fake, git  # noqa: F401 (fixture)
from test_submission import github, make_submission, raw_1_35, tests_1_35  # noqa: F401

from snoopdb.cli import main
from testkit.faultserver import Answer, FaultServer
from testkit.github_api import FakePullRequest, GitHubFake


def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "k8s-conformance"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "The repository before")
    git(root, "checkout", "-q", "-b", "submission")
    return root


def verify(root: Path) -> int:
    return main(["verify-submission", "--pr", str(root), "--base", "main", "--title", TITLE])


def test_a_file_past_the_bound_is_refused_naming_it(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    root = checkout(tmp_path)
    folder = make_submission(root, tests_1_35)
    with (folder / "e2e.log").open("ab") as log:
        log.truncate(100 * (1 << 20) + 1)  # one byte past 100 MiB, of zeros
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The submission")
    assert verify(root) == 0  # e2e.log's checks are beyond the bot's: failed, not fatal
    out = capsys.readouterr().out
    assert (f"  - {root}: v1.35/coolkube/e2e.log: holds more than 100 MiB, the bound for a "
            "pull request's file; refusing to read further") in out.splitlines()


def test_a_tree_entry_named_dotdot_is_said(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """git stores what `git mktree` is given: a tree holding an entry `..` (GitHub refuses
    such a push). A pathspec never reaches the file under it; it was dropped unsaid."""
    root = checkout(tmp_path)
    make_submission(tmp_path / "files", tests_1_35)

    def run(*args: str, given: bytes = b"") -> str:
        return subprocess.run(["git", "-C", str(root), *args], input=given, check=True,
                              capture_output=True, env={**os.environ, **GIT_ENV}
                              ).stdout.decode().strip()

    entries = []
    for file in sorted((tmp_path / "files" / "v1.35" / "coolkube").iterdir()):
        blob = run("hash-object", "-w", str(file))
        entries.append(f"100644 blob {blob}\t{file.name}\n")
    hidden = run("hash-object", "-w", "--stdin", given=b"what the bot never sees\n")
    under = run("mktree", given=f"100644 blob {hidden}\tsecret.md\n".encode())
    product = run("mktree", given="".join([f"040000 tree {under}\t..\n", *entries]).encode())
    release = run("mktree", given=f"040000 tree {product}\tcoolkube\n".encode())
    top = run("mktree", given=f"040000 tree {release}\tv1.35\n".encode())
    commit = run("commit-tree", top, "-p", "main", "-m", "The submission")
    run("reset", "-q", "--soft", commit)
    assert verify(root) == 1
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == ("warning: v1.35/coolkube/../secret.md: a path through a `.`"
                                   " or `..` entry, which GitHub refuses in a push: checked as"
                                   " named")
    assert ("  - it appears that there are 1 non-required file(s) included in the submission:"
            " secret.md") in out.splitlines()


def test_thousands_of_long_paths_are_read(
    conn: psycopg.Connection, github: str, tests_1_35: list[str],  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """2,900 paths of ~770 bytes: 2.2 MB of arguments, past what one command line takes
    (ARG_MAX, 2 MiB on Linux)."""
    root = checkout(tmp_path)
    folder = make_submission(root, tests_1_35)
    long = folder / ("d" * 250) / ("e" * 250)
    long.mkdir(parents=True)
    for number in range(2900):
        (long / f"{number:04d}{'f' * 246}").write_text("x\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The submission")
    assert verify(root) == 1
    out, err = capsys.readouterr()
    assert "Argument list too long" not in err
    assert ("  - it appears that there are 2900 non-required file(s) included in the "
            "submission: ") in out


# --- --github: a pull request's files are read from GitHub alone (case 29) -----------

@pytest.fixture
def elsewhere() -> Iterator[FaultServer]:
    """A port of this machine an answer may point at; it counts what it is asked."""
    with FaultServer() as server:
        server.script("/secret", Answer(b"what a local service holds\n"))
        yield server


def github_pull_request(fake: GitHubFake, tmp_path: Path) -> FakePullRequest:  # noqa: F811
    folder = tmp_path / "pull-request" / "v1.35" / "cool"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("# Cool\n")
    return fake.add("cncf", "k8s-conformance", 1, "Conformance results for v1.35/cool",
                    tmp_path / "pull-request")


def test_a_raw_url_elsewhere_is_never_fetched(
    settings: object, fake: GitHubFake, elsewhere: FaultServer,  # noqa: F811
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    pull = github_pull_request(fake, tmp_path)
    pull.raw_urls["v1.35/cool/README.md"] = f"{elsewhere.url}/secret"
    assert main(["verify-submission", "--github", "cncf/k8s-conformance#1"]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: {fake.url}/repos/cncf/k8s-conformance/pulls/1/files: "
        f"v1.35/cool/README.md: its raw_url {elsewhere.url}/secret is not on {fake.url} or "
        "https://raw.githubusercontent.com (SNOOPDB_GITHUB_API_URL's web host, "
        "SNOOPDB_GITHUB_RAW_URL): not fetched\n")
    assert elsewhere.requests["/secret"] == 0


def test_a_raw_url_redirected_elsewhere_is_not_followed(
    settings: object, fake: GitHubFake, elsewhere: FaultServer,  # noqa: F811
    github: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    pull = github_pull_request(fake, tmp_path)
    raw = f"/cncf/k8s-conformance/raw/{pull.head}/v1.35/cool/README.md"
    fake.faults[raw] = [Answer(status=302, headers=(("Location", f"{elsewhere.url}/secret"),))]
    main(["verify-submission", "--github", "cncf/k8s-conformance#1"])
    out, err = capsys.readouterr()
    assert (f"{fake.url}{raw}: redirected to {elsewhere.url}/secret, not on {fake.url} or "
            f"{github}: not followed") in out + err  # github: SNOOPDB_GITHUB_RAW_URL's
    assert elsewhere.requests["/secret"] == 0


def test_a_raw_url_on_the_raw_host_is_read(
    settings: object, fake: GitHubFake, elsewhere: FaultServer,  # noqa: F811
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GitHub's raw_url redirects to the raw host: SNOOPDB_GITHUB_RAW_URL names it."""
    from snoopdb.certification.github import GitHubApi, read_pull_request
    from snoopdb.core.fetch import Fetcher

    pull = github_pull_request(fake, tmp_path)
    pull.raw_urls["v1.35/cool/README.md"] = f"{elsewhere.url}/secret"
    request = read_pull_request("cncf/k8s-conformance#1", Fetcher(tmp_path / "cache"),
                                GitHubApi(fake.url, raw_url=elsewhere.url))
    with request.files[0].entry.open() as stream:
        assert stream.read() == b"what a local service holds\n"
