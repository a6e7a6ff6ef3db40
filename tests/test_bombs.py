"""Gzip bombs, on every path a download or a decompression takes: a few kilobytes that
expand to more than the bound of what they claim to be are refused in one line naming
the file and the bound, without being held whole (a 2 MB finished.json of 2 GB of
spaces took 8 GB of memory), whether the file itself is gzipped or the server sent it
with `Content-Encoding: gzip`."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from test_pull_request import fake  # noqa: F401 (fixture)
from test_submission import github, raw_1_35  # noqa: F401 (fixtures)

from snoopdb.cli import main
from snoopdb.core import bounds
from snoopdb.core.bounds import Bound, TooLarge
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.matching import Matcher
from snoopdb.loaders import audit, conformance, history, spec
from snoopdb.loaders.ci_runs import BuildFiles
from snoopdb.loaders.gcs import Bucket
from snoopdb.loaders.logs import LogFile
from testkit.faultserver import Answer, FaultServer
from testkit.github_api import GitHubFake

GZIP = (("Content-Encoding", "gzip"),)
MiB = 1 << 20


def bomb(size: int, line: bytes = b" ") -> bytes:
    """`size` bytes of `line` repeated, gzipped: about a thousandth of it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = line * (MiB // len(line))
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


@contextmanager
def peak_memory(limit: int) -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"{peak / MiB:.1f} MiB allocated at the peak"


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def refused(location: str, bound: Bound, how: str = "expands to") -> str:
    return (f"{location}: {how} more than {bound.size // MiB} MiB, the bound for "
            f"{bound.what}; refusing to read further")


@pytest.mark.parametrize("headers", [GZIP, ()], ids=["content-encoding", "gzipped-file"])
def test_a_finished_json_bomb(fault: FaultServer, fetcher: Fetcher,
                              headers: tuple[tuple[str, str], ...]) -> None:
    url = fault.script("/bucket/logs/job/7/finished.json",
                       Answer(bomb(64 * MiB), content_type="application/json", headers=headers))
    with peak_memory(8 * MiB), pytest.raises(TooLarge) as failure:
        BuildFiles.read(Bucket(fetcher, fault.url, "bucket"), "logs/job/7/")
    assert str(failure.value) == refused(url, bounds.PROW_FILE)


def test_a_body_larger_than_its_bound_is_refused_as_it_comes(fault: FaultServer,
                                                              fetcher: Fetcher) -> None:
    sent = fault.script("/sent", Answer(b" " * (2 * MiB), chunked=True))
    with pytest.raises(TooLarge) as failure:
        fetcher.read_bytes(sent, bound=bounds.PROW_FILE, cache=False)
    assert str(failure.value) == refused(sent, bounds.PROW_FILE, "sends")
    declared = fault.script("/declared", Answer(b" " * (2 * MiB)))
    with pytest.raises(TooLarge) as failure:
        fetcher.read_bytes(declared, bound=bounds.PROW_FILE, cache=False)
    assert str(failure.value) == refused(declared, bounds.PROW_FILE, "declares")
    assert fault.requests["/sent"] == fault.requests["/declared"] == 1  # never tried again


def test_a_gcs_listing_bomb(fault: FaultServer, fetcher: Fetcher) -> None:
    fault.script("/storage/v1/b/bucket/o", Answer(bomb(20 * MiB), headers=GZIP,
                                                  content_type="application/json"))
    with pytest.raises(TooLarge) as failure:
        Bucket(fetcher, fault.url, "bucket").list("logs/job/7/")
    assert str(failure.value).startswith(f"{fault.url}/storage/v1/b/bucket/o?prefix=")
    assert str(failure.value).endswith(": expands to more than 16 MiB, the bound for a GCS "
                                       "listing page; refusing to read further")


def test_a_spec_bomb(conn: psycopg.Connection, fault: FaultServer, fetcher: Fetcher) -> None:
    url = fault.script("/swagger.json", Answer(bomb(70 * MiB), headers=GZIP))
    with pytest.raises(TooLarge) as failure:
        spec.load(conn, fetcher, url, "1.36.0", None)
    assert str(failure.value) == refused(url, bounds.SPEC)
    assert conn.execute("SELECT count(*) FROM open_api").fetchone() == (0,)


def test_a_yaml_bomb(conn: psycopg.Connection, fault: FaultServer, fetcher: Fetcher) -> None:
    url = fault.script("/conformance.yaml", Answer(bomb(20 * MiB, b"# x\n")))
    with peak_memory(24 * MiB), pytest.raises(TooLarge) as failure:
        conformance.load(conn, fetcher, url, "1.36.0")
    assert str(failure.value) == refused(url, bounds.YAML)


def test_a_published_coverage_bomb(fault: FaultServer, fetcher: Fetcher) -> None:
    from snoopdb.core.releases import parse_release

    url = fault.script("/coverage/1.20.0.json", Answer(bomb(70 * MiB), headers=GZIP))
    with pytest.raises(TooLarge) as failure:
        history.fetch(fetcher, f"{fault.url}/coverage", parse_release("1.20"), cache=False)
    assert str(failure.value) == refused(url, bounds.PUBLISHED)


def test_a_gzipped_audit_log_bomb(conn: psycopg.Connection, tmp_path: Path) -> None:
    """An audit log is read a line at a time, and may be large (16 GiB a file): the
    bound is the log's own, small here so that the test reads little."""
    path = tmp_path / "kube-apiserver-audit.log.gz"
    path.write_bytes(bomb(4 * MiB, b"\n"))
    bound = Bound("an audit log", 1 * MiB)
    with pytest.raises(TooLarge) as failure:
        audit.load_run(conn, [LogFile(path, str(path), bound)],
                       Matcher.from_operations([]), release="1.36.0", release_date=None,
                       source=str(path))
    assert str(failure.value) == refused(str(path), bound)
    assert conn.execute("SELECT count(*) FROM audit_run").fetchone() == (0,)
    assert bounds.AUDIT_LOG == Bound("an audit log", 16 << 30)


def test_a_github_api_answer_bomb(settings: object, fake: GitHubFake,  # noqa: F811
                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pr" / "v1.35" / "cool").mkdir(parents=True)
    (tmp_path / "pr" / "v1.35" / "cool" / "README.md").write_text("# cool\n")
    fake.add("cncf", "k8s-conformance", 1, "Conformance results for v1.35/cool", tmp_path / "pr")
    path = "/repos/cncf/k8s-conformance/pulls/1"
    fake.faults[path] = [Answer(bomb(40 * MiB), headers=GZIP, content_type="application/json")]
    assert main(["verify-submission", "--github", "cncf/k8s-conformance#1"]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: {refused(fake.url + path, bounds.GITHUB_ANSWER)}\n")


def test_a_pull_request_file_bomb(settings: object, fake: GitHubFake,  # noqa: F811
                                  github: str, tmp_path: Path,  # noqa: F811
                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pull-request"
    folder = root / "v1.35" / "cool"
    folder.mkdir(parents=True)
    for name in ("README.md", "PRODUCT.yaml", "e2e.log", "junit_01.xml"):
        (folder / name).write_text(f"{name}\n")
    pull = fake.add("cncf", "k8s-conformance", 1, "Conformance results for v1.35/cool", root)
    raw = f"/cncf/k8s-conformance/raw/{pull.head}/v1.35/cool/e2e.log"
    fake.faults[raw] = [Answer(bomb(110 * MiB), headers=GZIP)]
    code = main(["verify-submission", "--github", "cncf/k8s-conformance#1"])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert refused(fake.url + raw, bounds.PULL_REQUEST_FILE) in out + err


def test_a_pull_request_file_sent_gzipped_is_read_as_its_content(
    settings: object, fake: GitHubFake, tmp_path: Path,  # noqa: F811
) -> None:
    """GitHub's raw files may come with `Content-Encoding: gzip`: the checks read the
    file, never its compressed bytes."""
    from snoopdb.certification.github import GitHubApi, read_pull_request

    root = tmp_path / "pull-request"
    folder = root / "v1.35" / "cool"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("# Cool\n")
    pull = fake.add("cncf", "k8s-conformance", 1, "Conformance results for v1.35/cool", root)
    raw = f"/cncf/k8s-conformance/raw/{pull.head}/v1.35/cool/README.md"
    fake.faults[raw] = [Answer(gzip.compress(b"# Cool\n"), headers=GZIP)]
    request = read_pull_request("cncf/k8s-conformance#1", Fetcher(tmp_path / "cache"),
                                GitHubApi(fake.url))
    (file,) = request.files
    with file.entry.open() as stream:
        assert stream.read() == b"# Cool\n"
    assert file.entry.size == len(b"# Cool\n")


def test_a_mirrored_spec_bomb_is_not_kept(settings: object, fault: FaultServer,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fault.script("/kubernetes-sigs/apisnoop/main/resources/coverage/releases.yaml", Answer(
        resources.files("snoopdb.core").joinpath("releases.yaml").read_bytes()))
    spec_path = "/kubernetes/kubernetes/v1.20.0/api/openapi-spec/swagger.json"
    fault.script(spec_path, Answer(bomb(70 * MiB)))
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", fault.url)
    monkeypatch.setenv("SNOOPDB_APISNOOP_RAW_URL", f"{fault.url}/kubernetes-sigs/apisnoop/main")
    out = tmp_path / "mirror"
    assert main(["mirror", "--release", "1.20", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: {refused(fault.url + spec_path, bounds.SPEC)}\n")
    assert not (out / spec_path.lstrip("/")).exists()
