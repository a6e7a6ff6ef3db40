"""`snoopdb load`: what to load for a release, from where, and in which order."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb import progress
from snoopdb.config import Settings
from snoopdb.errors import NotFound, SnoopError
from snoopdb.fetch import Fetcher
from snoopdb.loaders import conformance, ineligible, spec
from snoopdb.releases import Release, Releases

KUBERNETES = "kubernetes/kubernetes"
SPEC_PATH = "api/openapi-spec/swagger.json"
PARTS = ("spec", "tests", "ineligible", "audit")


@dataclass
class Step:
    """One thing loaded: what, for which release, how many rows, from where, how long."""

    what: str
    release: str
    rows: int
    source: str
    seconds: float


@dataclass
class LoadReport:
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Sources:
    """Where each file of a release comes from: the GitHub raw base URL, or a local
    mirror of it (`--from DIR`, the same layout: DIR/kubernetes/kubernetes/<ref>/<path>)."""

    def __init__(self, settings: Settings, releases: Releases, local_dir: Path | None = None):
        self.settings = settings
        self.releases = releases
        self.local_dir = local_dir

    def ref(self, release: Release) -> str:
        """`v1.20.0` for a published release; `master` for one not released yet."""
        date = self.releases.date(release)
        if date is None or date > dt.date.today():
            return "master"
        return release.tag

    def location(self, release: Release, path: str) -> str:
        if self.local_dir is not None:
            return str(self.local_dir / KUBERNETES / self.ref(release) / path)
        return self.settings.github_raw(KUBERNETES, self.ref(release), path)

    def immutable(self, release: Release) -> bool:
        return self.ref(release) != "master"


def loaded_spec_releases(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT DISTINCT release FROM open_api")}


def load_release(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    sources: Sources,
    release: Release,
    parts: tuple[str, ...] = PARTS,
    on_step: Callable[[Step], None] | None = None,
) -> LoadReport:
    """Load the specs of every release up to `release` not loaded yet, then its
    conformance.yaml and ineligible endpoints. Each file is its own transaction."""
    report = LoadReport()

    def done(what: str, rel: Release, rows: int, source: str, started: float) -> None:
        step = Step(what, str(rel), rows, source, time.monotonic() - started)
        report.steps.append(step)
        if on_step:
            on_step(step)

    if "spec" in parts:
        present = loaded_spec_releases(conn)
        wanted = [r for r in sources.releases.up_to(release) if str(r) not in present]
        report.skipped += [f"spec {r}: already loaded" for r in sources.releases.up_to(release)
                           if str(r) in present]
        with progress.bar(total=len(wanted), desc="specs", unit="spec") as bar:
            for rel in wanted:
                location = sources.location(rel, SPEC_PATH)
                started = time.monotonic()
                try:
                    rows = spec.load(conn, fetcher, location, str(rel), sources.releases.date(rel),
                                     cache=sources.immutable(rel))
                except NotFound as exc:
                    if rel == release:
                        raise SnoopError(f"no spec for release {rel}: {exc}") from exc
                    report.warnings.append(f"no spec for past release {rel}: {exc}")
                else:
                    done("spec", rel, rows, location, started)
                bar.update(1)
    if "tests" in parts:
        location = sources.location(release, conformance.PATH)
        started = time.monotonic()
        rows = conformance.load(conn, fetcher, location, str(release))
        done("conformance tests", release, rows, location, started)
    if "ineligible" in parts:
        location = sources.location(release, ineligible.PATH)
        started = time.monotonic()
        rows, warning = ineligible.load(conn, fetcher, location, str(release))
        if warning:
            report.warnings.append(warning)
        done("ineligible endpoints", release, rows, location, started)
    return report
