"""`snoopdb export`: the coverage files the apisnoop web app reads (apisnoop's
resources/coverage/ folder), written from the views by sql/queries/export.sql and
progress_totals.sql, read in one snapshot; and `<release>-fields.json`, the
release's request-body field coverage (export_fields.sql), which apisnoop never had;
`runs.json` and `stability.json`, coverage per run and its stability across the runs
of each job (export_runs.sql); and `depth.json`, which declared parameters and status
codes of the release's endpoints its tests exercise (export_depth.sql).

Output is deterministic: keys sorted, rows in a fixed order, so two exports of the
same data are byte-identical and diffs between exports show only real changes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from snoopdb.core.errors import NoSpecLoaded
from snoopdb.core.releases import Release
from snoopdb.db.queries import query, rows

PROGRESS_FILE = "conformance-progress.json"
# Files in the order export.sql returns them, after <release>.json.
JSON_FILES = ("conformance-coverage-per-release.json", "conformance-endpoints.json",
              "ineligible_endpoints.json", "new-endpoints.json")
RELEASES_FILE = "releases.yaml"
UNTESTED_FILE = "untested-endpoints.txt"
# release_coverage's word for a release nothing is known of: its untested list is a
# comment saying so (an empty list would read "every endpoint tested")
NO_DATA = "no data"
FIELDS_SUFFIX = "-fields.json"
RUNS_FILE = "runs.json"
STABILITY_FILE = "stability.json"
DEPTH_FILE = "depth.json"


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    bytes: int


def render_json(document: Any) -> str:
    """The text of an exported JSON file: indented as apisnoop's are, keys sorted."""
    return json.dumps(document, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def export(conn: psycopg.Connection, out_dir: Path,
           release: Release | None = None) -> list[ExportedFile]:
    """Write `<release>.json` (default: the latest loaded release), the conformance
    files, `new-endpoints.json`, `releases.yaml`, `untested-endpoints.txt`,
    `<release>-fields.json`, `runs.json`, `stability.json` and `depth.json` into
    `out_dir`; returns
    what was written. A release without coverage data is exported as unknown: null
    flags and counts, `"coverage": "no data"`, and a `# no data: ...` line for the
    untested list.

    Each file appears whole or not at all (written aside, then renamed).
    """
    contents = render(conn, release)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_write(out_dir / file, text) for file, text in contents.items()]


def render(conn: psycopg.Connection, release: Release | None = None) -> dict[str, str]:
    """The text of every exported file, by file name, from one snapshot of the views."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        wanted = (str(release) if release is not None
                  else conn.execute(query("export_release.sql")).fetchone()[0])  # type: ignore[index]
        row = conn.execute(query("export.sql"), {"release": wanted}).fetchone()
        progress = progress_totals(conn)
        assert row is not None  # one row, whatever the data
        name, has_spec, coverage, release_coverage, *documents, releases, untested = row
        if name is None:
            raise NoSpecLoaded()
        if not has_spec:
            raise NoSpecLoaded(name)
        fields = conn.execute(query("export_fields.sql"), {"release": name}).fetchone()
        across_runs = conn.execute(query("export_runs.sql")).fetchone()
        depth = conn.execute(query("export_depth.sql"), {"release": name}).fetchone()
    assert fields is not None and across_runs is not None and depth is not None
    contents = {f"{name}.json": render_json(release_coverage)}
    contents[PROGRESS_FILE] = render_json(
        [{"release": release, "total": totals} for release, totals in progress.items()])
    contents.update((file, render_json(document))
                    for file, document in zip(JSON_FILES, documents, strict=True))
    contents[RELEASES_FILE] = render_releases(releases)
    contents[UNTESTED_FILE] = (f"# no data: no CI run of {name} is loaded and no published "
                               "coverage of it is imported, so which endpoints are untested "
                               "is unknown\n" if coverage == NO_DATA else
                               "".join(f"{endpoint}\n" for endpoint in untested))
    contents[f"{name}{FIELDS_SUFFIX}"] = render_json(fields[0])
    contents[RUNS_FILE], contents[STABILITY_FILE] = (render_json(doc) for doc in across_runs)
    contents[DEPTH_FILE] = render_json(depth[0])
    return contents


def render_releases(releases: list[dict[str, str | None]]) -> str:
    """releases.yaml as apisnoop writes it: newest first, `release_date` quoted and
    empty for the release in development."""
    return "".join(f'- release_date: "{r["release_date"] or ""}"\n  version: {r["version"]}\n'
                   for r in releases)


def progress_totals(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    """conformance-progress.json's totals by release, oldest first."""
    return {row.pop("release"): row for row in rows(conn, "progress_totals.sql")}


def _write(path: Path, text: str) -> ExportedFile:
    data = text.encode()
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide the files from a web server
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return ExportedFile(path, len(data))
