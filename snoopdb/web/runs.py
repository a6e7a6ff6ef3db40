"""The dashboard's Runs page (`/runs`, `/api/runs`) and the endpoint page's block on
runs: coverage per run over time, the flaky endpoints, what changed between two runs
(snoopdb.db.runs), and an endpoint's hit share across runs. Every number is counted
by SQL (`sql/queries/dashboard/runs*.sql`, `endpoint_run*.sql`); this module only
groups rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg
from psycopg.rows import dict_row

from snoopdb.core.errors import SnoopError
from snoopdb.db import runs as stored_runs
from snoopdb.db.queries import query


def _rows(conn: psycopg.Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query(f"dashboard/{name}.sql"), params).fetchall()


def job_name(job: str) -> str:
    """A job as people say it: the last part of audit_run.job (prow: the job's name)."""
    return job.rstrip("/").rsplit("/", 1)[-1]


def runs_page(conn: psycopg.Connection, a: str | None = None,
              b: str | None = None) -> dict[str, Any]:
    """The Runs page: `jobs`, each with its runs oldest first (run_coverage: `at` the
    run's start, else its load time, `started` whether it is its start); `flaky`,
    endpoint_stability's flaky rows with their share (%) of runs; `choices`, every run
    by name (`job#build`, else its source), newest first, for the diff picker; and,
    when runs `a` and `b` are named, `diff` (RunDiff.as_json, with `field_groups`:
    its fields grouped by endpoint and tests, see group_fields) from a to b, or
    `diff_error` saying why not (a run not loaded)."""
    jobs: dict[str, dict[str, Any]] = {}
    for row in _rows(conn, "runs"):
        name = f"{job_name(row['job'])}#{row['build']}" if row["build"] else row["source"]
        jobs.setdefault(row["job"], {"job": row["job"], "name": job_name(row["job"]),
                                     "runs": []})["runs"].append({**row, "name": name})
    flaky = [{**row, "job_name": job_name(row["job"])} for row in _rows(conn, "runs_flaky")]
    choices = sorted((run for job in jobs.values() for run in job["runs"]),
                     key=lambda run: run["at"], reverse=True)
    diff, error = None, None
    if a and b:
        try:
            changes = stored_runs.diff_runs(conn, stored_runs.find_run(conn, a),
                                            stored_runs.find_run(conn, b))
            diff = {**changes.as_json(), "field_groups": [
                asdict(group) for group in stored_runs.group_fields(changes.fields)]}
        except SnoopError as exc:
            error = str(exc)
    return {"jobs": list(jobs.values()), "flaky": flaky,
            "choices": [run["name"] for run in choices], "a": a, "b": b, "diff": diff,
            "diff_error": error}


def endpoint_runs(conn: psycopg.Connection, endpoint: str) -> dict[str, Any]:
    """An endpoint across runs: `stability`, per release and job its runs, runs hit,
    by tests, by conformance tests and that share (%); `tests`, per job of the newest
    release whose runs hit it, each test that did, in how many of the runs it ran in,
    and the builds it did in, oldest first."""
    return {"stability": [{**row, "job_name": job_name(row["job"])}
                          for row in _rows(conn, "endpoint_runs", endpoint=endpoint)],
            "tests": [{**row, "job_name": job_name(row["job"])}
                      for row in _rows(conn, "endpoint_run_tests", endpoint=endpoint)]}
