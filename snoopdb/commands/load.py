"""`snoopdb load`: what to load for a release, from where, and in which order —
specs, conformance tests, ineligible and pending endpoints, published history, audit
runs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.commands import archive
from snoopdb.core import progress
from snoopdb.core.config import Settings
from snoopdb.core.errors import NotFound, UsageError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Release, Releases
from snoopdb.core.wording import plural
from snoopdb.db.runs import Run
from snoopdb.loaders import ci_runs, conformance, history, ineligible, local_logs, pending, spec
from snoopdb.loaders.events import AuditReport
from snoopdb.loaders.github import SPEC_PATH, Sources

PARTS = ("spec", "tests", "ineligible", "pending", "audit")
# A query of all of audit_event locks and plans every hot or compact run's table (one
# restricted to a run or a release, only those: revision 0021): past this many runs, a
# load says so and what keeps them fewer (docs/scale.md).
VIEW_RUNS = 300
# `history` is a part only when named: by default a load decides itself (see load).
LOAD_PARTS = (*PARTS, "history")


@dataclass
class Step:
    """One thing loaded: what, for which release, how many rows, from where, how long."""

    what: str
    release: str
    rows: int
    source: str
    seconds: float


@dataclass
class LoadOptions:
    """What `snoopdb load` was asked for; every choice left open is decided by `load`."""

    release: Release | None = None
    parts: tuple[str, ...] = PARTS
    from_dir: Path | None = None
    audit_logs: Sequence[Path] = ()
    testing: bool = False
    jobs: Sequence[str] = ()
    build: str | None = None
    # the newest finished builds of each job, each a run: the last N, those since a time
    last: int | None = None
    since: dt.datetime | None = None
    bucket: str = ci_runs.DEFAULT_BUCKET
    skip_bad_lines: bool = False
    history: bool = False
    no_history: bool = False
    history_folder: str | None = None
    # hot runs kept per job after an audit load; None: the database's setting, else 1
    keep_hot: int | None = None
    # runs kept per job in the database after an audit load, older ones archived to the
    # database's archive folder; None: the database's setting, else none archived
    keep_compact: int | None = None


class LoadListener:
    """Hears of a load's progress as it happens; the CLI prints each part. Every method
    does nothing here."""

    def step(self, step: Step) -> None:
        """A file was loaded."""

    def files(self, report: LoadReport) -> None:
        """The release's files are loaded; history and audit events come next."""

    def imported(self, imported: history.ImportedRelease) -> None:
        """One release's published coverage was imported."""

    def history(self, report: LoadReport) -> None:
        """The history import ended (report.history)."""

    def audit(self, report: AuditReport) -> None:
        """One run's audit events were loaded."""

    def skipped(self, skipped: ci_runs.Skipped) -> None:
        """One of a job's newest builds was passed over."""

    def archived(self, moved: list[tuple[Run, Run]]) -> None:
        """Older runs of a job were archived (keep-compact) after a run's load."""


@dataclass
class LoadReport:
    release: Release | None = None
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # releases loaded while in development that the releases list now dates
    dated: list[tuple[str, dt.date]] = field(default_factory=list)
    seconds: float = 0.0
    history_folder: str | None = None
    history: history.HistoryReport | None = None
    audits: list[AuditReport] = field(default_factory=list)
    # builds a load of jobs' newest builds passed over
    skipped_builds: list[ci_runs.Skipped] = field(default_factory=list)
    # the release's CI runs are gone and nothing stands in for them
    no_audit_data: bool = False
    # read from a mirror, which holds no CI runs: the default jobs' were not looked for
    no_ci_source: bool = False
    # after loading runs: the runs audit_event has a branch for, when more than VIEW_RUNS
    view_runs: int | None = None


def load(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    settings: Settings,
    releases: Releases,
    options: LoadOptions,
    listener: LoadListener | None = None,
) -> LoadReport:
    """Load what `options` asks for: the files of the release (default: the newest), then
    published history where it stands in for gone CI logs, then audit events — local
    logs, named CI runs, or for the current release (the one in development, else the
    newest) the default CI jobs' latest runs.

    A past release with no run named gets apisnoop's published coverage of it and of
    every release before it (unless `no_history`); raw events always win over it.
    """
    listener = listener or LoadListener()
    release = options.release or releases.current
    if (options.keep_compact is not None and "audit" in options.parts
            and archive.archive_setting(conn) is None):
        raise UsageError(f"--keep-compact {options.keep_compact}: no archive folder is set for "
                         "this database (snoopdb runs keep-compact N --to FOLDER sets one)")
    started = time.monotonic()
    named_run = bool(options.jobs or options.audit_logs)
    asked = options.history or "history" in options.parts
    wants_history = not options.no_history and (
        asked or ("audit" in options.parts and releases.past(release) and not named_run))
    file_parts = tuple(p for p in options.parts if p in PARTS and p != "audit")
    report = load_release(conn, fetcher, Sources(settings, releases, options.from_dir), release,
                          file_parts, on_step=listener.step)
    report.release = release
    report.seconds = time.monotonic() - started
    if file_parts:
        listener.files(report)
    if wants_history:
        folder = options.history_folder or history.default_folder(settings, options.from_dir)
        # A past release named by the user must have published coverage; the current
        # one may not have any yet (its coverage comes from CI runs).
        required = release if options.release and releases.past(release) else None
        report.history_folder = folder
        report.history = history.import_history(conn, fetcher, folder, releases, release,
                                                required=required, on_release=listener.imported)
        listener.history(report)
    if ("audit" in options.parts and options.from_dir is not None and not named_run
            and not releases.past(release)):
        # A mirror holds no CI runs (gigabytes, of the current release only): reaching for
        # them offline would fail a load that has loaded everything else.
        report.no_ci_source = True
    elif "audit" in options.parts:
        report.audits = _load_audit(conn, fetcher, settings, releases, release, options,
                                    _Archiving(conn, settings, options.keep_compact, listener),
                                    report.skipped_builds)
        report.no_audit_data = (not report.audits and not report.skipped_builds
                                and report.history is None)
        if report.audits:
            in_view = view_runs(conn)
            report.view_runs = in_view if in_view > VIEW_RUNS else None
    return report


class _Archiving(LoadListener):
    """Hears of each run loaded, then archives the job's runs beyond keep-compact."""

    def __init__(self, conn: psycopg.Connection, settings: Settings, keep: int | None,
                 listener: LoadListener):
        self.conn, self.settings, self.keep, self.listener = conn, settings, keep, listener

    def audit(self, report: AuditReport) -> None:
        self.listener.audit(report)
        moved = archive.keep_compact(self.conn, self.settings, report.source, self.keep)
        if moved:
            self.listener.archived(moved)

    def skipped(self, skipped: ci_runs.Skipped) -> None:
        self.listener.skipped(skipped)


def _load_audit(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
                releases: Releases, release: Release, options: LoadOptions,
                listener: LoadListener, skipped: list[ci_runs.Skipped]) -> list[AuditReport]:
    reports = []
    if options.audit_logs:
        reports.append(local_logs.load_log_files(
            conn, fetcher, settings, releases, options.audit_logs, release,
            testing=options.testing, skip_bad_lines=options.skip_bad_lines,
            keep_hot=options.keep_hot))
        listener.audit(reports[-1])
        return reports
    jobs = options.jobs or (() if releases.past(release) else ci_runs.DEFAULT_JOBS)
    if options.last is not None or options.since is not None:
        for job in jobs:
            builds = ci_runs.load_ci_builds(
                conn, fetcher, settings, releases, options.bucket, job, last=options.last,
                since=options.since, skip_bad_lines=options.skip_bad_lines,
                keep_hot=options.keep_hot, on_run=listener.audit, on_skip=listener.skipped)
            reports += builds.audits
            skipped += builds.skipped
        return reports
    for job in jobs:
        reports.append(ci_runs.load_ci_run(conn, fetcher, settings, releases, options.bucket, job,
                                           options.build, skip_bad_lines=options.skip_bad_lines,
                                           keep_hot=options.keep_hot))
        listener.audit(reports[-1])
    return reports


def view_runs(conn: psycopg.Connection) -> int:
    """The runs audit_event has a branch for: the hot and compact ones."""
    row = conn.execute("SELECT count(*) FROM audit_run WHERE state IN ('hot', 'compact')"
                       ).fetchone()
    return int(row[0]) if row else 0


def _missing_specs(missing: list[tuple[Release, NotFound]]) -> str:
    """One warning for every past release without a spec (a mirror, the shared data, an
    upstream may lack old ones), rather than a line each on every load."""
    if len(missing) == 1:
        return f"no spec for past release {missing[0][0]}: {missing[0][1]}"
    return (f"no spec for {plural(len(missing), 'past release')} "
            f"({', '.join(str(rel) for rel, _ in missing)}); the first: {missing[0][1]}")


def load_release(
    conn: psycopg.Connection,
    fetcher: Fetcher,
    sources: Sources,
    release: Release,
    parts: tuple[str, ...] = PARTS,
    on_step: Callable[[Step], None] | None = None,
) -> LoadReport:
    """Load the specs of every release up to `release` not loaded yet (dating those loaded
    while in development that the list now dates), then its conformance.yaml and
    ineligible and pending endpoints. Each file is its own transaction."""
    report = LoadReport(release=release)

    def done(what: str, rel: Release, rows: int, source: str, started: float) -> None:
        step = Step(what, str(rel), rows, source, time.monotonic() - started)
        report.steps.append(step)
        if on_step:
            on_step(step)

    if "spec" in parts:
        present = spec.loaded_releases(conn)
        # The named release's own spec first: a release that does not exist (a typo read
        # as a release in development) fails before any other spec is written.
        wanted = sorted((r for r in sources.releases.up_to(release) if str(r) not in present),
                        key=lambda r: (r != release, r))
        report.skipped += [f"spec {r}: already loaded" for r in sources.releases.up_to(release)
                           if str(r) in present]
        missing: list[tuple[Release, NotFound]] = []
        with progress.bar(total=len(wanted), desc="specs", unit="spec") as bar:
            for rel in wanted:
                location = sources.location(rel, SPEC_PATH)
                started = time.monotonic()
                try:
                    rows = spec.load(conn, fetcher, location, str(rel), sources.releases.date(rel),
                                     cache=sources.immutable(rel), warn=report.warnings.append)
                except NotFound as exc:
                    if rel == release:
                        raise NotFound(f"no spec for release {rel}: {exc}") from exc
                    missing.append((rel, exc))
                else:
                    done("spec", rel, rows, location, started)
                bar.update(1)
        if missing:
            report.warnings.append(_missing_specs(missing))
        report.dated = spec.date_releases(
            conn, {str(r): d for r in sources.releases.up_to(release)
                   if (d := sources.releases.date(r)) is not None})
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
    if "pending" in parts:
        location = sources.location(release, pending.PATH)
        started = time.monotonic()
        rows, warning = pending.load(conn, fetcher, location, str(release))
        if warning:
            report.warnings.append(warning)
        done("pending endpoints", release, rows, location, started)
    return report
