"""Keeping certification results: each release's conformance list in
`conformance.release_test`, and verified submissions with their testcases and checks.

`Verifier` is what `snoopdb verify-submission` runs: find the release's list
(the database, else the GitHub raw URL or a given file), check the folder, store the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg

from snoopdb.certification.checks import (
    ReleaseTest,
    Submission,
    Verification,
    find_submissions,
    locate,
    parse_release_tests,
    verify,
)
from snoopdb.core.config import Settings
from snoopdb.core.errors import ConfigError, FetchError, InputError, ReleaseError
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
  apiserver_version)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"""


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
    return [ReleaseTest(codename, testname, parse_release(first), parse_release(last),
                        description, file)
            for codename, testname, first, last, description, file
            in conn.execute(SELECT_RELEASE_TESTS, (str(release),))]


def save(conn: psycopg.Connection, result: Verification) -> int:
    """Store `result`, replacing an earlier verification of the same submission; returns its id."""
    sub = result.submission
    product = result.product
    with conn.transaction():
        conn.execute("DELETE FROM conformance.submission WHERE name = %s", (sub.name,))
        row = conn.execute(INSERT_SUBMISSION, (
            sub.name, str(sub.release), sub.product, str(sub.path), result.title, result.result,
            result.passed_checks, len(result.checks), result.labels, result.error,
            product.get("vendor"), product.get("name"), product.get("version"),
            product.get("type"), result.apiserver_version,
        )).fetchone()
        assert row is not None
        submission_id: int = row[0]
        with conn.cursor().copy(
            "COPY conformance.submission_testcase (submission_id, position, name, status,"
            " conformance) FROM STDIN"
        ) as copy:
            for position, case in enumerate(result.testcases, 1):
                copy.write_row((submission_id, position, case.name, case.status,
                                case.conformance))
        with conn.cursor().copy(
            "COPY conformance.submission_check (submission_id, position, name, title, passed,"
            " hint, details) FROM STDIN"
        ) as copy:
            for position, check in enumerate(result.checks, 1):
                copy.write_row((submission_id, position, check.name, check.title, check.passed,
                                check.hint or None, list(check.details)))
    return submission_id


class Verifier:
    """Verifies submission folders and stores each result.

    `conformance_file` replaces the stored list of the release it is used for;
    otherwise a release's list is read from the database, or fetched (and cached)
    from the GitHub raw base URL the first time.
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
        conformance_file: Path | None = None,
    ):
        self.conn = conn
        self.fetcher = fetcher
        self.settings = settings
        self.releases = releases
        self.title = title
        self.http = fetcher.session if check_urls else None
        self.conformance_file = conformance_file
        self._tests: dict[Release, list[ReleaseTest]] = {}

    def tests(self, release: Release) -> list[ReleaseTest]:
        """`release`'s conformance list (ReleaseError for a release the list does not
        name: a distribution cannot be certified for a release not yet listed)."""
        self.releases.require_listed(release.minor_name)
        if release not in self._tests:
            if self.conformance_file is None:
                stored = stored_release_tests(self.conn, release)
                location = None if stored else release_test_location(self.settings, release)
            else:
                stored, location = [], str(self.conformance_file)
            if location is not None:
                stored = parse_release_tests(self.fetcher.read_bytes(location), location)
                save_release_tests(self.conn, release, stored, location)
            self._tests[release] = stored
        return self._tests[release]

    def verify(self, submission: Submission) -> Verification:
        """Check one submission and store the result, unprocessable ones included."""
        try:
            result = verify(submission, self.tests(submission.release), self.releases.newest,
                            title=self.title, http=self.http)
        except (ReleaseError, InputError, FetchError) as exc:
            result = Verification(submission, title=self.title, error=str(exc))
        save(self.conn, result)
        return result

    def verify_folder(self, path: Path, release: str | None = None) -> Verification:
        """Verify the folder `path` (release from `release`, else from its parent folder)."""
        return self.verify(locate(path, release))

    def verify_all(self, root: Path, release: str | None = None) -> Iterator[Verification]:
        """Verify every `vX.Y/<product>` folder under `root` (only `release`'s when given),
        yielding each result once stored, its testcases dropped: a hundred submissions'
        testcases would hold hundreds of thousands of objects in memory for nothing."""
        wanted = None
        if release is not None:
            parsed = parse_release(release)
            wanted = Release(parsed.major, parsed.minor)
        elif self.conformance_file is not None:
            raise ConfigError("--conformance-file with --all needs --release: a conformance"
                              " list belongs to one release")
        for submission in find_submissions(root, wanted):
            result = self.verify(submission)
            result.testcases = []
            yield result
