"""`snoopdb mirror`: what a load reads, from a loopback upstream over the real files
(testkit.upstream), into the layout `--from DIR` reads; then, with the upstream
stopped, `snoopdb load --from DIR` needs no network, history and releases list included.
Downloads that cannot be vouched for and files a load would refuse never stay in a
mirror."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from snoopdb.loaders import conformance, history
from snoopdb.loaders.github import APISNOOP, KUBERNETES
from snoopdb.loaders.spec import read_operations
from testkit.faultserver import Answer, FaultServer, html_page
from testkit.servers import serve_directory
from testkit.upstream import build_upstream

SNOOPDB = str(Path(sys.executable).with_name("snoopdb"))  # the installed entry point
COVERAGE = f"{APISNOOP}/resources/coverage"
SPEC = "api/openapi-spec/swagger.json"
TESTDATA = "test/conformance/testdata"


@pytest.fixture(scope="module")
def upstream_root(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return build_upstream(tmp_path_factory.mktemp("upstream"), shared_data)


def snoopdb(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SNOOPDB, *argv], env=env, capture_output=True, text=True)


def pointed_at(url: str, cache: Path) -> dict[str, str]:
    """The environment of a snoopdb whose sources are all at `url`, caching in `cache`."""
    return {**os.environ, "SNOOPDB_GITHUB_RAW_URL": url,
            "SNOOPDB_APISNOOP_RAW_URL": f"{url}/{APISNOOP}", "SNOOPDB_CACHE_DIR": str(cache),
            "SNOOPDB_DOWNLOAD_ATTEMPTS": "1"}


def operations(path: Path) -> int:
    with gzip.open(path) as stream:
        return sum(1 for _ in read_operations(stream, str(path)))  # type: ignore[arg-type]


@pytest.mark.slow
def test_mirror_then_load_with_history_and_no_network(
    settings: object, conn: psycopg.Connection, upstream_root: Path, shared_data: Path,
    tmp_path: Path,
) -> None:
    url, server = serve_directory(upstream_root)
    mirror = tmp_path / "mirror"
    try:
        done = snoopdb("mirror", "--release", "1.20", "--out", str(mirror),
                       env=pointed_at(url, tmp_path / "cache-mirror"))
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    shipped = {int(p.name.split(".")[1]): p
               for p in (shared_data / "openapi").glob("swagger-1.*.json.gz")}
    minors = sorted(m for m in shipped if m <= 20)  # 1.8 to 1.20
    repo = mirror / KUBERNETES
    assert sorted(p.relative_to(repo).parts[0] for p in repo.glob(f"*/{SPEC}")) == sorted(
        f"v1.{m}.0" for m in minors)
    assert sorted(p.name for p in (repo / "v1.20.0" / TESTDATA).iterdir()) == [
        "conformance.yaml"]  # upstream has no ineligible nor pending list at 1.20
    published = sorted(p.name for p in (mirror / COVERAGE).iterdir())
    assert published == sorted(["releases.yaml", *(f"1.{m}.json" for m in minors if m <= 16),
                                *(f"1.{m}.0.json" for m in minors if m > 16)])
    assert done.stderr.splitlines() == [
        "note: not upstream (404), so not in the mirror; load does without them: spec 1.5.0, "
        "spec 1.6.0, spec 1.7.0, ineligible endpoints 1.20.0, pending endpoints 1.20.0, "
        "published coverage 1.5.0, published coverage 1.6.0, published coverage 1.7.0, "
        "conformance-progress.json, conformance-coverage-per-release.json"]
    assert done.stdout.splitlines()[0].startswith("spec 1.20.0: ")
    assert done.stdout.splitlines()[-1].startswith(
        f"mirrored release 1.20 with published coverage: {1 + len(minors) * 2 + 1} files,")

    # the upstream is gone; a fresh cache holds nothing of it
    dead = pointed_at(url, tmp_path / "cache-load")
    loaded = snoopdb("load", "--from", str(mirror), "--release", "1.20", env=dead)
    assert loaded.returncode == 0, loaded.stderr
    assert "releases list" not in loaded.stderr  # read from the mirror, not upstream
    assert conn.execute("SELECT release, count(*) FROM open_api GROUP BY 1 ORDER BY"
                        " release_key(release)").fetchall() == [
        (f"1.{m}.0", operations(shipped[m])) for m in minors]
    in_mirror = conformance.parse((repo / "v1.20.0" / TESTDATA / "conformance.yaml")
                                  .read_bytes(), "conformance.yaml")
    assert conn.execute("SELECT count(*) FROM conformance.test WHERE NOT historical"
                        ).fetchone() == (len(in_mirror),)
    expected_hits = {}
    for name in published[:-1]:
        coverage = history.parse((mirror / COVERAGE / name).read_bytes(), name)
        expected_hits[coverage.release] = sum(len(history.hit_rows(e))
                                              for e in coverage.endpoints)
    assert dict(conn.execute("SELECT release, count(*) FROM endpoint_hit WHERE imported"
                             " GROUP BY 1").fetchall()) == expected_hits
    assert (f"history up to 1.20.0 from {mirror / COVERAGE}: {len(minors)} releases imported"
            ) in loaded.stdout

    # the gate and compare-published read the mirror too
    gate = snoopdb("gate", "--from", str(mirror), "--json", env=dead)
    assert gate.returncode in (0, 1), gate.stderr
    document = json.loads(gate.stdout)
    assert (document["release"], document["pending"]["source"], document["pending"]["found"]) == (
        "1.20.0", str(repo / "v1.20.0" / TESTDATA / "pending_eligible_endpoints.yaml"), False)
    compared = snoopdb("compare-published", "--from", str(mirror), "--release", "1.20",
                       env=dead)
    file = mirror / COVERAGE / "1.20.0.json"
    endpoints = len(history.parse(file.read_bytes(), str(file)).endpoints)
    assert compared.stdout.splitlines()[0] == f"1.20.0: same as {file} ({endpoints} endpoints)"


@pytest.mark.slow
def test_an_unknown_release_writes_nothing(
    settings: object, upstream_root: Path, tmp_path: Path,
) -> None:
    url, server = serve_directory(upstream_root)
    try:
        # 1.37, the next release, is read at master, which this upstream lacks
        done = snoopdb("mirror", "--release", "1.37", "--out", str(tmp_path / "m"),
                       env=pointed_at(url, tmp_path / "cache"))
        # beyond it, a usage error whatever the upstream has
        beyond = snoopdb("mirror", "--release", "1.40", "--out", str(tmp_path / "m"),
                         env=pointed_at(url, tmp_path / "cache"))
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1
    assert done.stderr == (f"snoopdb: error: no spec for release 1.37.0: {url}/{KUBERNETES}/"
                           f"master/{SPEC}: not found (404)\n")
    assert beyond.returncode == 2
    assert beyond.stderr == (f"snoopdb: error: unknown release '1.40': the newest release "
                             f"{url}/{COVERAGE}/releases.yaml lists is 1.36; only the next one, "
                             "1.37, may be loaded before it is listed\n")
    assert not (tmp_path / "m").exists()


@pytest.fixture
def faulty(upstream_root: Path) -> Iterator[tuple[FaultServer, str]]:
    """A fault server answering the releases list and 1.36's spec from the upstream; each
    test scripts the answer under test."""
    server = FaultServer()
    releases = (upstream_root / COVERAGE / "releases.yaml").read_bytes()
    server.answers[f"/{COVERAGE}/releases.yaml"] = [Answer(releases)]
    server.answers[f"/{KUBERNETES}/v1.36.0/{SPEC}"] = [Answer(
        (upstream_root / KUBERNETES / "v1.36.0" / SPEC).read_bytes())]
    yield server, server.url
    server.close()


HINT = " (SNOOPDB_GITHUB_RAW_URL points there: set it to a reachable mirror)"


@pytest.mark.parametrize("answer, reason", [
    (Answer(b"- testname: x\n  codename: y\n" * 100, cut_at=50),
     "body cut short (connection closed) (gave up after 1 attempt within the 900s deadline)"
     + HINT),
    (html_page(), "the server sent an HTML page, not the file" + HINT),
    (Answer(b"- not: a test\n"), "test #1 has no codename"),
])
@pytest.mark.slow
def test_a_file_that_cannot_be_vouched_for_fails_the_mirror_and_is_not_kept(
    settings: object, faulty: tuple[FaultServer, str], tmp_path: Path, answer: Answer,
    reason: str,
) -> None:
    server, url = faulty
    location = f"/{KUBERNETES}/v1.36.0/{TESTDATA}/conformance.yaml"
    server.answers[location] = [answer]
    out = tmp_path / "m"
    done = snoopdb("mirror", "--release", "1.36", "--out", str(out), "--no-history",
                   env=pointed_at(url, tmp_path / "cache"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"snoopdb: error: {url}{location}: {reason}"
    assert not (out / location.lstrip("/")).exists()
    assert [p.name for p in out.rglob(".*partial*")] == []


@pytest.mark.slow
def test_mirror_of_the_current_release_leaves_history_to_history(
    settings: object, faulty: tuple[FaultServer, str], tmp_path: Path,
) -> None:
    server, url = faulty
    out = tmp_path / "m"
    done = snoopdb("mirror", "--release", "1.36", "--out", str(out),
                   env=pointed_at(url, tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    # the current release's coverage comes from CI runs: none of apisnoop's files asked for
    assert not any(path.startswith(f"/{COVERAGE}/1.") for path in server.requests)
    assert done.stdout.splitlines()[-1].startswith(
        "mirrored release 1.36 without published coverage (--history adds it): 2 files,")
