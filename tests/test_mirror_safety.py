"""`snoopdb mirror --out DIR` writes only inside DIR, whole or marked incomplete, and its
files are readable as ordinary files are: a link inside DIR is refused, never written
through (the first try wrote under /etc); a mirror stopped part-way is refused by
`load --from` instead of read as whole; specs are 0644, not 0600."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from snoopdb.loaders.github import APISNOOP
from testkit.faultserver import Answer, FaultServer
from testkit.servers import serve_directory
from testkit.upstream import build_upstream

SNOOPDB = str(Path(sys.executable).with_name("snoopdb"))
SPEC = "kubernetes/kubernetes/v1.9.0/api/openapi-spec/swagger.json"
RELEASES = f"{APISNOOP}/resources/coverage/releases.yaml"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[str]:
    url, server = serve_directory(build_upstream(tmp_path_factory.mktemp("upstream"),
                                                 shared_data))
    yield url
    server.shutdown()
    server.server_close()


def pointed_at(url: str, cache: Path) -> dict[str, str]:
    return {**os.environ, "SNOOPDB_GITHUB_RAW_URL": url,
            "SNOOPDB_APISNOOP_RAW_URL": f"{url}/{APISNOOP}", "SNOOPDB_CACHE_DIR": str(cache),
            "SNOOPDB_DOWNLOAD_ATTEMPTS": "1"}


def snoopdb(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SNOOPDB, *argv], env=env, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(0o022))


# --- links inside DIR (case 18) -----------------------------------------------------

@pytest.mark.parametrize("link", ["kubernetes", "kubernetes/kubernetes/v1.9.0",
                                  RELEASES, SPEC])
def test_a_link_inside_the_mirror_is_never_written_through(
    settings: object, upstream: str, tmp_path: Path, link: str,
) -> None:
    out, elsewhere = tmp_path / "mirror", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("untouched\n")
    target = elsewhere if link.count("/") < 3 else elsewhere / "keep"
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    (out / link).symlink_to(target)
    done = snoopdb("mirror", "--release", "1.9", "--out", str(out),
                   env=pointed_at(upstream, tmp_path / "cache"))
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"snoopdb: error: {out / link}: a symbolic link; snoopdb never "
                           "writes through one (remove it, or choose another folder)\n")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep"]
    assert (elsewhere / "keep").read_text() == "untouched\n"


# --- a mirror stopped part-way (case 31) ----------------------------------------------

def test_a_mirror_killed_part_way_is_refused_by_load(
    settings: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "mirror"
    with FaultServer() as upstream:
        upstream.script(f"/{RELEASES}", Answer(
            resources.files("snoopdb.core").joinpath("releases.yaml").read_bytes()))
        upstream.script("/kubernetes/kubernetes/v1.20.0/api/openapi-spec/swagger.json",
                        Answer(b'{"swagger": "2.0", "paths": {"/api/v1/pods": {"get": '
                               b'{"operationId": "listCoreV1PodForAllNamespaces"}}}}\n'))
        hanging = "/kubernetes/kubernetes/v1.20.0/test/conformance/testdata/conformance.yaml"
        upstream.script(hanging, Answer(hang=True))
        mirror = subprocess.Popen([SNOOPDB, "mirror", "--release", "1.20", "--out", str(out)],
                                  env=pointed_at(upstream.url, tmp_path / "cache"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not upstream.requests[hanging]:
            assert mirror.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        mirror.send_signal(signal.SIGKILL)
        mirror.wait(timeout=30)
    assert (out / "kubernetes/kubernetes/v1.20.0/api/openapi-spec/swagger.json").is_file()
    done = snoopdb("load", "--from", str(out), "--release", "1.20", env=dict(os.environ))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"snoopdb: error: argument --from: '{out}' is an incomplete mirror: `snoopdb mirror "
        f"--release 1.20 --out {out}` did not finish writing it (interrupted, failed, or "
        "still running); run it again (see `snoopdb load --help`)\n")


def test_a_whole_mirror_is_unmarked_and_readable_as_ordinary_files(
    settings: object, upstream: str, tmp_path: Path,
) -> None:
    out = tmp_path / "mirror"
    done = snoopdb("mirror", "--release", "1.9", "--out", str(out),
                   env=pointed_at(upstream, tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    assert not (out / "snoopdb-mirror-incomplete").exists()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / SPEC) in files and (out / RELEASES) in files
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {"0o644"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in out.rglob("*") if p.is_dir()} == {
        "0o755"}
    assert not [p for p in out.rglob(".*")]  # no partial file left
