"""A typo leaves no damage: nothing is written before the named release's own spec is
found; `snoopdb releases` says what each loaded release has and `releases drop` removes
one; the views' "latest release" is the newest with coverage data, so a spec without
data never empties them."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import main
from snoopdb.core.config import Settings
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import conformance, history, ineligible, pending, spec
from snoopdb.loaders.local_logs import load_log_files

GCE_SAMPLE = "gce-e2e-v1.37-2065053743543488512-sample.log"
TABLES = ("open_api", "endpoint_hit", "endpoint_body", "body_schema", "body_field",
          "conformance.test", "conformance.ineligible_endpoint",
          "conformance.pending_eligible_endpoint", "audit_run", "load_log")


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in TABLES}


def load_spec(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path,
              minor: str) -> int:
    return spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-{minor}.json.gz"),
                     f"{minor}.0", None)


def load_run(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
             shared_data: Path, release: str) -> None:
    load_log_files(conn, fetcher, settings, Releases.load(),
                   [shared_data / "audit" / GCE_SAMPLE], parse_release(release))


def latest(conn: psycopg.Connection) -> tuple[str | None, int]:
    """latest_release(), and the rows of testing.untested_stable_endpoint."""
    (release,) = conn.execute("SELECT latest_release()").fetchone()  # type: ignore[misc]
    (untested,) = conn.execute("SELECT count(*) FROM testing.untested_stable_endpoint"
                               ).fetchone()  # type: ignore[misc]
    return release, untested


def test_a_release_that_does_not_exist_writes_nothing(
    settings: Settings, conn: psycopg.Connection, raw_server: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", raw_server)
    before = counts(conn)
    # 1.40 is newer than every listed release: read as in development, at master, which
    # the upstream lacks; the 24 specs up to it are never loaded
    assert main(["load", "--release", "1.40", "--no-history"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "note: release 1.40 is newer than every release "
        f"{settings.apisnoop_raw_url}/resources/coverage/releases.yaml (cached) lists: loading"
        " it as the release in development (its files at master)",
        f"snoopdb: error: no spec for release 1.40.0: {raw_server}/kubernetes/kubernetes/master/"
        "api/openapi-spec/swagger.json: not found (404)"]
    assert counts(conn) == before == dict.fromkeys(TABLES, 0)


def test_latest_release_is_the_newest_with_coverage_data(
    settings: Settings, conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert latest(conn) == (None, 0)
    load_spec(conn, fetcher, shared_data, "1.35")
    conn.execute("SELECT refresh_coverage()")
    # no release has data: the newest spec, its rows unknown (tested is null)
    assert latest(conn) == ("1.35.0", 0)
    assert main(["releases"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 release; * 1.35.0: no release has coverage data: the newest spec, the one the"
        " views answer for")
    load_run(conn, fetcher, settings, shared_data, "1.35")
    release, untested = latest(conn)
    assert release == "1.35.0" and untested > 400
    # a newer spec without data (a release just entering development, a typo) changes
    # nothing: the views keep answering for 1.35, and say so in their release column
    load_spec(conn, fetcher, shared_data, "1.36")
    assert latest(conn) == ("1.35.0", untested)
    assert conn.execute("SELECT DISTINCT release FROM testing.untested_stable_endpoint"
                        ).fetchall() == [("1.35.0",)]
    eligible = conn.execute("SELECT count(*) FROM conformance.eligible_endpoint").fetchone()
    assert eligible == conn.execute(
        "SELECT count(*) FROM open_api o WHERE release = '1.35.0' AND level = 'stable' AND"
        " NOT deprecated").fetchone()
    # once it has data, it is the latest
    load_run(conn, fetcher, settings, shared_data, "1.36")
    release, untested_1_36 = latest(conn)
    assert release == "1.36.0" and untested_1_36 > 400
    assert conn.execute("SELECT release, counted FROM release_coverage WHERE counted"
                        ).fetchall() == [("1.36.0", True)]


def test_releases_lists_what_each_has_and_drop_removes_one(
    settings: Settings, conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    rows = {minor: load_spec(conn, fetcher, shared_data, minor)
            for minor in ("1.34", "1.35", "1.36")}
    conformance.load(conn, fetcher, str(shared_data / "conformance" / "conformance-1.36.yaml"),
                     "1.36.0")
    ineligible.load(conn, fetcher, str(shared_data / "conformance" /
                                       "ineligible_endpoints.yaml"), "1.36.0")
    pending_list = tmp_path / "pending_eligible_endpoints.yaml"
    pending_list.write_text("- readCoreV1Namespace\n")
    pending.load(conn, fetcher, str(pending_list), "1.36.0")
    load_run(conn, fetcher, settings, shared_data, "1.36")
    published = tmp_path / "1.35.0.json"
    published.write_text(json.dumps({"release": "1.35.0", "endpoints": [{
        "endpoint": "readCoreV1Namespace", "level": "stable", "path": "/api/v1/namespaces/{name}",
        "tested": True, "conf_tested": False, "tests": ["[sig-x] reads"]}]}))
    history.load(conn, history.parse(published.read_bytes(), str(published)), str(published))
    conn.execute("SELECT refresh_coverage()")
    assert main(["releases"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "release   date  endpoints  tests       runs  coverage",
        f"1.36.0 *  -     {rows['1.36']:>9,}  446 in use     1  audit events",
        f"1.35.0    -     {rows['1.35']:>9,}  -              0  published coverage",
        f"1.34.0    -     {rows['1.34']:>9,}  -              0  no data",
        "3 releases; * 1.36.0: the newest with coverage data, the one the views answer for"]
    assert main(["releases", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["release"], r["coverage"], r["runs"], r["published"], r["latest"])
            for r in listed] == [("1.36.0", "audit events", 1, None, True),
                                 ("1.35.0", "published coverage", 0, str(published), False),
                                 ("1.34.0", "no data", 0, None, False)]

    before = counts(conn)
    assert main(["releases", "drop", "1.36"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"dropped release 1.36.0: {rows['1.36']:,} open_api rows, 1 CI run"
                          " (12 events), its 446 conformance tests in ")
    after = counts(conn)
    # audit_run keeps 1.35.0's imported published coverage, a run with no events
    assert before["conformance.pending_eligible_endpoint"] == 1
    assert (after["open_api"], after["audit_run"], after["conformance.test"],
            after["conformance.ineligible_endpoint"],
            after["conformance.pending_eligible_endpoint"]) == (
        rows["1.35"] + rows["1.34"], 1, 0, 0, 0)
    assert conn.execute("SELECT count(*) FROM endpoint_hit WHERE release = '1.36.0'"
                        ).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM body_schema WHERE release = '1.36.0'"
                        ).fetchone() == (0,)
    # field trees no release points at any more are gone, shared ones stay
    assert conn.execute("SELECT count(*) FROM body_field f WHERE NOT EXISTS"
                        " (SELECT FROM body_schema s WHERE s.digest = f.digest)"
                        ).fetchone() == (0,)
    assert 0 < after["body_field"] < before["body_field"]
    assert after["load_log"] == before["load_log"] + 1
    # the views answer for the newest release with data now: 1.35's published coverage
    assert latest(conn)[0] == "1.35.0"
    assert main(["releases", "drop", "1.36"]) == 1
    assert capsys.readouterr().err == ("snoopdb: error: release 1.36.0 is not loaded "
                                       "(`snoopdb releases` lists those that are)\n")
    # a drop of a release whose lists are not the ones in use leaves those lists alone
    conformance.load(conn, fetcher, str(shared_data / "conformance" / "conformance-1.35.yaml"),
                     "1.35.0")
    assert main(["releases", "drop", "v1.34.0"]) == 0
    assert capsys.readouterr().out.startswith(
        f"dropped release 1.34.0: {rows['1.34']:,} open_api rows in ")
    assert conn.execute("SELECT count(*) FROM conformance.test").fetchone() == (441,)
    assert conn.execute("SELECT DISTINCT release FROM open_api").fetchall() == [("1.35.0",)]
