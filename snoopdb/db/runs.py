"""A loaded run (audit_run): one CI build's audit events, or a set of local log files,
named as people say it — `job#build`, or the local folder's name — and found by that
name or by its source. Imported published coverage is stored as a run too, but is no
run of a job: it is not listed here (see run_store.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from snoopdb.core.errors import InputError, NotFound
from snoopdb.db.queries import query


@dataclass(frozen=True)
class Run:
    """A loaded run: its id; where its logs are (`source`); its job (a prow job's URL,
    or the folder of local logs), build, release and start; when it was loaded; its
    state (hot, compact or archived), events and size in the database; the Parquet
    file it was last archived to and that file's size, if it ever was."""

    run: int
    source: str
    job: str
    build: str | None
    release: str
    started: dt.datetime | None
    loaded_at: dt.datetime
    state: str
    events: int
    bytes: int
    archive: str | None = None
    archive_bytes: int | None = None

    @property
    def name(self) -> str:
        """`job#build` (the job as people say it: job_name), or, for runs with no build
        (local logs), the name of their folder."""
        if self.build is None:
            return job_name(self.job)
        return f"{job_name(self.job)}#{self.build}"

    def as_json(self) -> dict[str, Any]:
        return {"run": self.run, "name": self.name, "source": self.source, "job": self.job,
                "build": self.build, "release": self.release, "started": iso_time(self.started),
                "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
                "state": self.state, "events": self.events, "bytes": self.bytes,
                "archive": self.archive, "archive_bytes": self.archive_bytes}


def job_name(job: str) -> str:
    """A job as people say it: the last part of audit_run.job (prow: the job's name;
    local logs: their folder's name)."""
    return job.rstrip("/").rsplit("/", 1)[-1]


def iso_time(when: dt.datetime | None) -> str | None:
    """A time as ISO 8601 in UTC (`2026-06-11T12:00:00Z`), None for None."""
    if when is None:
        return None
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ranked_runs(conn: psycopg.Connection) -> list[tuple[Run, int]]:
    """Every loaded run with its place in its job from the newest (1), by job (see
    runs/list.sql for what is newest)."""
    return [(Run(*row[:-1]), row[-1]) for row in conn.execute(query("runs/list.sql"))]


def list_runs(conn: psycopg.Connection) -> list[Run]:
    """Every loaded run, by job, newest first within a job."""
    return [run for run, _ in ranked_runs(conn)]


def find_runs(conn: psycopg.Connection, names: Sequence[str]) -> list[Run]:
    """The loaded runs `names` name, in that order, each once (see `named`)."""
    return named(list_runs(conn), names)


def named(runs: Sequence[Run], names: Iterable[str]) -> list[Run]:
    """The runs among `runs` that `names` name, in that order, each once: a run is
    named by its source (as `snoopdb runs` lists it), by its name (`job#build`, the
    folder of local logs), or as `JOB#BUILD` with JOB as audit_run.job has it.
    NotFound for a name no run has; InputError for one that several runs have (runs
    of two buckets' jobs, or local logs of one folder)."""
    found: dict[int, Run] = {}
    for name in names:
        matches = ([run for run in runs if run.source == name]
                   or [run for run in runs if name in (run.name, f"{run.job}#{run.build}")])
        if not matches:
            job, _, build = name.rpartition("#")
            if job:
                raise NotFound(f"no loaded run of job {job} has build {build}")
            raise NotFound(f"no loaded run has source {name} (name a run by its source, as "
                           "JOB#BUILD, or by the folder of its local logs)")
        if len(matches) > 1:
            raise InputError(f"{name} names {len(matches)} runs "
                             f"({', '.join(run.source for run in matches)}): name one by its "
                             "source")
        found.setdefault(matches[0].run, matches[0])
    return list(found.values())


def handles(runs: Sequence[Run]) -> dict[int, str]:
    """What names each of `runs` unambiguously among them, by run id: its name, or its
    source where another of them has the same name (local logs of one folder)."""
    shared = Counter(run.name for run in runs)
    return {run.run: run.name if shared[run.name] == 1 else run.source for run in runs}
