"""`snoopdb verify-submission`: certification submissions checked as the CNCF bot does,
their results kept in the database."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.certification.store import Verifier
from snoopdb.certification.submission import Verification
from snoopdb.core.config import Settings
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases


@dataclass
class VerifyReport:
    results: list[Verification] = field(default_factory=list)
    seconds: float = 0.0

    def exit_status(self, strict: bool) -> int:
        """The worst of the submissions' statuses: 0 passed, 1 failed, 3 not processable."""
        return max((r.exit_status(strict) for r in self.results), default=0)


def verify_submission(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, releases: Releases, *,
    folder: Path | None = None, root: Path | None = None, release: str | None = None,
    title: str | None = None, check_urls: bool = False, allow_private_urls: bool = False,
    conformance_file: Path | None = None,
) -> VerifyReport:
    """Verify one submission `folder` (vX.Y/<product>), or every one under `root` (a
    checkout of cncf/k8s-conformance; only `release`'s when given); store the results."""
    started = time.monotonic()
    verifier = Verifier(conn, fetcher, settings, releases, title=title, check_urls=check_urls,
                        allow_private_urls=allow_private_urls,
                        conformance_file=conformance_file)
    if folder is not None:
        results = [verifier.verify_folder(folder, release)]
    else:
        assert root is not None, "a folder or a root"
        results = list(verifier.verify_all(root, release))
    return VerifyReport(results, time.monotonic() - started)
