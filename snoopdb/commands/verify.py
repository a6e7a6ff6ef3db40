"""`snoopdb verify-submission`: certification submissions checked as the CNCF bot does,
their results kept in the database."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.certification.github import GitHubApi, read_pull_request
from snoopdb.certification.pullrequest import read_checkout
from snoopdb.certification.store import Verifier
from snoopdb.certification.submission import Verification
from snoopdb.core.config import Settings
from snoopdb.core.errors import ConfigError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases


@dataclass
class VerifyReport:
    results: list[Verification] = field(default_factory=list)
    seconds: float = 0.0
    # what reading a pull request found odd: a file left out, a path GitHub refuses
    warnings: list[str] = field(default_factory=list)

    def exit_status(self, strict: bool) -> int:
        """The worst of the submissions' statuses: 0 passed, 1 failed, 3 not processable."""
        return max((r.exit_status(strict) for r in self.results), default=0)


def verify_submission(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, releases: Releases, *,
    folder: Path | None = None, root: Path | None = None, release: Release | None = None,
    title: str | None = None, check_urls: bool = False, allow_private_urls: bool = False,
    conformance_file: Path | None = None, pull_request: Path | None = None,
    base: str | None = None, github: str | None = None, github_api: GitHubApi | None = None,
) -> VerifyReport:
    """Verify one submission `folder` (vX.Y/<product>), or every one under `root` (a
    checkout of cncf/k8s-conformance; only `release`'s when given), or the pull request
    a checkout `pull_request` makes (HEAD since `base`, see `read_checkout`; its title
    `title`), or the GitHub pull request `github` (OWNER/REPO#N or its URL, asked of
    `github_api`); store the results."""
    started = time.monotonic()
    # the certification checks read a release as a submission's folder names it (vX.Y)
    named = None if release is None else f"v{release.minor_name}"
    warnings: list[str] = []
    verifier = Verifier(conn, fetcher, settings, releases, title=title, check_urls=check_urls,
                        allow_private_urls=allow_private_urls,
                        conformance_file=conformance_file)
    if folder is not None:
        results = [verifier.verify_folder(folder, named)]
    elif pull_request is not None:
        if title is None:
            raise ConfigError("a pull request is checked with its title: give --title")
        pull = read_checkout(pull_request, title, base)
        warnings = list(pull.warnings)
        results = [verifier.verify_pull_request(pull)]
    elif github is not None:
        api = github_api or GitHubApi.from_environment(settings.github_raw_url)
        results = [verifier.verify_pull_request(read_pull_request(github, fetcher, api))]
    else:
        assert root is not None, "a folder or a root"
        results = list(verifier.verify_all(root, named))
    return VerifyReport(results, time.monotonic() - started, warnings)
