"""Keeping certification results: each release's conformance list in
`conformance.release_test`, and verified submissions with their testcases and checks.

`Verifier` is what `snoopdb verify-submission` runs: find the release's list
(the database, else the GitHub raw URL or a given file), check the folder or the pull
request, store the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

from snoopdb.certification import bot
from snoopdb.certification.checks import precheck, unable, verify, verify_pull_request
from snoopdb.certification.junit import TagTooLarge
from snoopdb.certification.pages import url_session
from snoopdb.certification.pullrequest import PullRequest
from snoopdb.certification.submission import (
    ReleaseTest,
    Submission,
    Verification,
    find_submissions,
    locate,
    parse_release_tests,
    stored_release,
    version_name,
)
from snoopdb.core import bounds
from snoopdb.core.config import Settings
from snoopdb.core.errors import ConfigError, FetchError, InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases, parse_release
from snoopdb.db import loadlog
from snoopdb.loaders import conformance
from snoopdb.loaders.github import KUBERNETES

SELECT_RELEASE_TESTS = """
SELECT codename, testname, first_release, last_release, description, file
FROM conformance.release_test WHERE release = %s ORDER BY codename"""
INSERT_SUBMISSION = """
INSERT INTO conformance.submission (name, release, product, path, title, result, checks_passed,
  checks_total, labels, error, vendor, product_name, product_version, product_type,
  apiserver_version, pull_request)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"""


def release_test_location(settings: Settings, release: Release) -> str:
    """The release branch's conformance.yaml under the GitHub raw base URL."""
    return settings.github_raw(KUBERNETES, f"release-{release.minor_name}", conformance.PATH)


def save_release_tests(
    conn: psycopg.Connection, release: Release, tests: list[ReleaseTest], source: str
) -> int:
    """Replace `release`'s rows of `conformance.release_test`; returns the row count."""
    started = dt.datetime.now(dt.timezone.utc)
    with conn.transaction():
        conn.execute("DELETE FROM conformance.release_test WHERE release = %s", (str(release),))
        with conn.cursor().copy(
            "COPY conformance.release_test (release, codename, testname, first_release,"
            " last_release, description, file) FROM STDIN"
        ) as copy:
            for t in tests:
                copy.write_row((str(release), t.codename, t.testname, str(t.first_release),
                                str(t.last_release), t.description, t.file))
        loadlog.record(conn, "release_test", str(release), source, started, len(tests))
    return len(tests)


def stored_release_tests(conn: psycopg.Connection, release: Release) -> list[ReleaseTest]:
    return [ReleaseTest(codename, testname, stored_release(first), stored_release(last),
                        description, file)
            for codename, testname, first, last, description, file
            in conn.execute(SELECT_RELEASE_TESTS, (str(release),))]


def save(conn: psycopg.Connection, result: Verification) -> int | None:
    """Store `result`, replacing an earlier verification of the same submission; returns its
    id. Not stored (None): a pull request that is no submission's, and a submission whose
    path names no release (nothing names it in the table)."""
    sub = result.submission
    if sub.release is None or result.not_submission:
        return None
    product = result.product
    with conn.transaction():
        conn.execute("DELETE FROM conformance.submission WHERE name = %s", (sub.name,))
        row = conn.execute(INSERT_SUBMISSION, (
            sub.name, str(sub.release), sub.product, str(sub.path), result.title, result.result,
            result.passed_checks, len(result.checks), result.labels, result.error,
            product.get("vendor"), product.get("name"), product.get("version"),
            product.get("type"), result.apiserver_version, result.pull_request,
        )).fetchone()
        assert row is not None
        submission_id: int = row[0]
        if result.testcases is not None:
            with conn.cursor().copy(
                "COPY conformance.submission_testcase (submission_id, position, name, status,"
                " conformance) FROM STDIN"
            ) as copy:
                for chunk in result.testcases.copy_data(f"{submission_id}\t".encode()):
                    copy.write(chunk)
        with conn.cursor().copy(
            "COPY conformance.submission_check (submission_id, position, name, title, passed,"
            " hint, details) FROM STDIN"
        ) as copy:
            for position, check in enumerate(result.checks, 1):
                copy.write_row((submission_id, position, check.name, check.title, check.passed,
                                check.hint or None, list(check.details)))
    return submission_id


def stable_release(releases: Releases) -> Release:
    """The newest release out (dated, not in the future), what the bot's stable.txt names;
    the newest listed when none is out."""
    today = dt.date.today()
    return next((k.release for k in releases.known if k.date is not None and k.date <= today),
                releases.newest)


class Verifier:
    """Verifies submission folders and stores each result.

    `conformance_file` replaces the stored list of the release it is used for (any
    release, known or not); otherwise a release's list is read from the database, or
    fetched (and cached) from the GitHub raw base URL the first time. A release with no
    list there cannot be processed (the bot's `unable-to-process`). `check_urls` asks
    PRODUCT.yaml's URLs, public addresses only unless `allow_private_urls`.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        fetcher: Fetcher,
        settings: Settings,
        releases: Releases,
        *,
        title: str | None = None,
        check_urls: bool = False,
        allow_private_urls: bool = False,
        conformance_file: Path | None = None,
    ):
        self.conn = conn
        self.fetcher = fetcher
        self.settings = settings
        self.releases = releases
        self.title = title
        self.http = url_session(allow_private_urls) if check_urls else None
        self.conformance_file = conformance_file
        self._tests: dict[Release, list[ReleaseTest]] = {}

    def tests(self, release: Release, stable: Release) -> list[ReleaseTest]:
        """`release`'s conformance list (NotFound when there is none to be had). The bot
        has the lists of the releases up to `stable`, the newest out: a newer release's
        list is never downloaded, only given (`conformance_file`) or stored."""
        if release not in self._tests:
            if self.conformance_file is None:
                stored = stored_release_tests(self.conn, release)
                location = None if stored else release_test_location(self.settings, release)
                if location is not None and release > stable:
                    raise NotFound(f"{version_name(release)} is newer than {version_name(stable)},"
                                   " the newest release out: the bot has no conformance list"
                                   " for it yet (give one with --conformance-file)")
            else:
                stored, location = [], str(self.conformance_file)
            if location is not None:
                stored = parse_release_tests(
                    self.fetcher.read_bytes(location, bound=bounds.YAML), location)
                save_release_tests(self.conn, release, stored, location)
            self._tests[release] = stored
        return self._tests[release]

    def verify(self, submission: Submission) -> Verification:
        """Check the folder `submission` and store the result."""
        return self._verify(submission, self.title, lambda tests, stable: verify(
            submission, tests, stable, title=self.title, http=self.http))

    def verify_pull_request(self, pull: PullRequest) -> Verification:
        """Check the pull request `pull` and store the result (see `save`); what was
        downloaded for it is removed."""
        submission = pull.submission()
        try:
            result = self._verify(submission, pull.title, lambda tests, stable: verify_pull_request(
                pull, submission, tests, stable, http=self.http), pull_request=pull.origin)
        finally:
            pull.close()
        result.current_labels = pull.labels
        return result

    def _verify(self, submission: Submission, title: str | None,
                check: Callable[[list[ReleaseTest], Release], Verification], *,
                pull_request: str | None = None) -> Verification:
        """`check` the submission and store the result, unprocessable ones included: with
        the bot's labels when the bot would not process it either (no release in its path,
        release out of the window, no conformance list), with none when only snoopdb could
        not (a download failed, the list is not YAML, a tag larger than snoopdb reads)."""
        stable = stable_release(self.releases)
        result = precheck(submission, stable, title)
        if result is None:
            assert submission.release is not None, "precheck leaves none without a release"
            name = version_name(submission.release)
            try:
                tests = self.tests(submission.release, stable)
            except NotFound as exc:
                result = unable(submission, f"no conformance list for {name}: {exc}",
                                bot.not_yet(name), title=title)
            except (InputError, FetchError) as exc:
                result = unable(submission, str(exc), title=title, labels=())
            else:
                try:
                    result = check(tests, stable)
                except TagTooLarge as exc:
                    result = unable(submission, str(exc), title=title, labels=())
        result.pull_request = pull_request
        try:
            save(self.conn, result)
        finally:
            if result.testcases is not None:
                result.testcases.close()
                result.testcases = None
        return result

    def verify_folder(self, path: Path, release: str | None = None) -> Verification:
        """Verify the folder `path` (release from `release`, else from its parent folder)."""
        return self.verify(locate(path, release))

    def verify_all(self, root: Path, release: str | None = None) -> Iterator[Verification]:
        """Verify every `vX.Y/<product>` folder under `root` (only `release`'s when given),
        yielding each result once stored."""
        wanted = None
        if release is not None:
            parsed = parse_release(release)
            wanted = Release(parsed.major, parsed.minor)
        elif self.conformance_file is not None:
            raise ConfigError("a conformance list belongs to one release: verifying every "
                              "release's submissions with one needs that release named")
        for submission in find_submissions(root, wanted):
            yield self.verify(submission)
