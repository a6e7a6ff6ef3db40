"""Faulty sources (testkit.faultserver, GcsServer.faults): a download is cached only
once verified whole, is retried when cut short or mismatched, and ends within its
deadlines; every failure is one line naming the URL, and nothing half-loaded stays.
Deadlines are shortened through settings so these tests stay fast."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from snoopdb.cli import main
from snoopdb.core.bounds import YAML as FILE
from snoopdb.core.config import Deadlines
from snoopdb.core.errors import ConfigError, FetchError, NotFound
from snoopdb.core.fetch import Expected, Fetcher
from snoopdb.loaders.gcs import Bucket
from testkit.faultserver import Answer, FaultServer, html_page
from testkit.gcs_server import GcsServer

FAST = Deadlines(connect=1.0, read=0.5, total=3.0, attempts=3)
BODY = b'{"swagger": "2.0", "paths": {}}\n' * 200


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fast(tmp_path: Path) -> Fetcher:
    return Fetcher(tmp_path / "cache", FAST)


def cached_files(fetcher: Fetcher) -> list[Path]:
    return sorted(p for p in (fetcher.cache_dir / "downloads").rglob("*") if p.is_file())


def test_a_body_cut_short_with_content_length_is_retried(faults, fast) -> None:
    url = faults.script("/f", Answer(BODY, cut_at=100), Answer(BODY))
    assert fast.read_bytes(url, bound=FILE) == BODY
    assert faults.requests["/f"] == 2
    assert fast.read_bytes(url, bound=FILE) == BODY and faults.requests["/f"] == 2  # now cached


def test_a_body_always_cut_is_one_line_and_not_cached(faults, fast) -> None:
    url = faults.script("/f", Answer(BODY, cut_at=100))
    with pytest.raises(FetchError) as error:
        fast.read_bytes(url, bound=FILE)
    assert str(error.value).startswith(f"{url}: body cut short")
    assert "gave up after 3 attempts" in str(error.value)
    assert "\n" not in str(error.value)
    assert cached_files(fast) == []


def test_a_body_with_no_length_is_retried_then_refused(faults, fast) -> None:
    # nothing tells a body cut at a line boundary from a whole one: never used
    url = faults.script("/f", Answer(BODY, length=False, cut_at=len(BODY) // 2))
    with pytest.raises(FetchError) as error:
        fast.read_bytes(url, bound=FILE)
    assert str(error.value) == (
        f"{url}: no Content-Length and no chunked encoding, so nothing shows that its "
        f"{len(BODY) // 2} bytes are the whole body; SNOOPDB_ALLOW_NO_LENGTH=1 accepts such "
        "a body (gave up after 3 attempts within the 3s deadline)")
    assert faults.requests["/f"] == 3 and cached_files(fast) == []
    # a server that sends a length on the next try is used (and cached)
    url = faults.script("/g", Answer(BODY, length=False), Answer(BODY))
    assert fast.read_bytes(url, bound=FILE) == BODY
    assert faults.requests["/g"] == 2 and len(cached_files(fast)) == 1


def test_a_body_with_no_length_is_used_once_when_allowed(faults, tmp_path) -> None:
    allowing = Fetcher(tmp_path / "cache", Deadlines(connect=1, read=0.5, total=3, attempts=3,
                                                     no_length=True))
    url = faults.script("/f", Answer(BODY, length=False, cut_at=100), Answer(BODY, length=False))
    assert allowing.read_bytes(url, bound=FILE) == BODY[:100]  # what the setting accepts: no check
    assert cached_files(allowing) == []
    assert allowing.read_bytes(url, bound=FILE) == BODY  # read again, never from the cache
    assert faults.requests["/f"] == 2 and cached_files(allowing) == []


def test_a_chunked_body_is_verified_by_its_last_chunk(faults, fast) -> None:
    url = faults.script("/f", Answer(BODY, chunked=True, cut_at=500), Answer(BODY, chunked=True))
    assert fast.read_bytes(url, bound=FILE) == BODY
    assert faults.requests["/f"] == 2 and len(cached_files(fast)) == 1


def test_html_for_a_file_is_refused_and_not_cached(faults, fast) -> None:
    url = faults.script("/swagger.json", html_page(), Answer(BODY))
    with pytest.raises(FetchError, match="the server sent an HTML page, not the file"):
        fast.read_bytes(url, bound=FILE)
    assert cached_files(fast) == []
    assert fast.read_bytes(url, bound=FILE) == BODY
    # an HTML body labelled as JSON is caught by its first bytes
    url = faults.script("/other.json", Answer(html_page().body, content_type="application/json"))
    with pytest.raises(FetchError, match="HTML page"):
        fast.read_bytes(url, bound=FILE)


def test_bursts_of_5xx_are_retried_then_given_up(faults, fast) -> None:
    url = faults.script("/f", Answer(b"busy", 503), Answer(b"busy", 502), Answer(BODY))
    assert fast.read_bytes(url, bound=FILE) == BODY
    url = faults.script("/g", Answer(b"busy", 503))
    with pytest.raises(FetchError, match=r"/g: HTTP 503 \(gave up after 3 attempts"):
        fast.read_bytes(url, bound=FILE)
    assert faults.requests["/g"] == 3
    url = faults.script("/h", Answer(b"gone", 404))
    with pytest.raises(NotFound):
        fast.read_bytes(url, bound=FILE)
    assert faults.requests["/h"] == 1


def test_a_dripping_server_fails_at_the_total_deadline(faults, tmp_path) -> None:
    fetcher = Fetcher(tmp_path / "cache", Deadlines(connect=1, read=1, total=1.5, attempts=3))
    url = faults.script("/f", Answer(BODY, drip=0.05))
    started = time.monotonic()
    with pytest.raises(FetchError, match="download deadline passed"):
        fetcher.read_bytes(url, bound=FILE)
    # a fact about the deadline, not a speed claim: it ended, and not before the deadline
    assert time.monotonic() - started >= 1.5
    assert cached_files(fetcher) == []


def test_dripped_headers_fail_at_the_total_deadline(faults, tmp_path) -> None:
    # each byte comes well within the read timeout; only the total deadline ends it
    fetcher = Fetcher(tmp_path / "cache", Deadlines(connect=1, read=1, total=1.5, attempts=3))
    url = faults.script("/f", Answer(BODY, header_drip=0.2))
    started = time.monotonic()
    with pytest.raises(FetchError) as error:
        fetcher.read_bytes(url, bound=FILE)
    assert time.monotonic() - started >= 1.5
    # one attempt, cut by the deadline, is said to be one
    assert str(error.value) == (f"{url}: download deadline passed before the response's "
                                "headers ended (gave up after 1 attempt within the 1.5s "
                                "deadline)")
    assert faults.requests["/f"] == 1 and cached_files(fetcher) == []


def test_attempts_are_counted_as_made(faults, tmp_path) -> None:
    fetcher = Fetcher(tmp_path / "cache", Deadlines(connect=1, read=1, total=1.2, attempts=4))
    # the first attempt fails fast, the second drips past the deadline: two made
    url = faults.script("/f", Answer(b"busy", 503), Answer(BODY, drip=0.05))
    with pytest.raises(FetchError) as error:
        fetcher.read_bytes(url, bound=FILE)
    assert str(error.value).startswith(f"{url}: download deadline passed after ")
    assert str(error.value).endswith(" bytes (gave up after 2 attempts within the 1.2s "
                                     "deadline)")
    assert faults.requests["/f"] == 2


def test_a_hung_server_fails_at_the_read_timeout(faults, fast) -> None:
    url = faults.script("/f", Answer(hang=True))
    with pytest.raises(FetchError, match="no data within the read timeout"):
        fast.read_bytes(url, bound=FILE)
    assert faults.requests["/f"] == 3


def test_a_refused_connection_is_one_line(fast) -> None:
    with FaultServer() as server:
        url = server.url + "/f"
    with pytest.raises(FetchError, match=r"connection refused \(gave up after 3 attempts"):
        fast.read_bytes(url, bound=FILE)


def listing(items: list[dict], token: str | None = None) -> Answer:
    page: dict = {"kind": "storage#objects", "items": items}
    if token:
        page["nextPageToken"] = token
    return Answer(json.dumps(page).encode(), content_type="application/json")


def test_a_listing_that_repeats_its_page_token_is_refused(faults, fast) -> None:
    faults.script("/storage/v1/b/b/o", listing([{"name": "a", "size": "1"}], "again"))
    with pytest.raises(FetchError, match="the listing repeats page token 'again'; refusing to "
                                         "loop$"):
        Bucket(fast, faults.url, "b").list("logs/")
    assert faults.requests["/storage/v1/b/b/o"] == 2


def test_a_listing_of_ever_new_page_tokens_stops_at_its_bound(faults, fast) -> None:
    from snoopdb.loaders.gcs import MAX_PAGES

    def page(query: dict[str, list[str]]) -> Answer:
        served = int(query.get("pageToken", ["0"])[0])
        return listing([{"name": f"a{served}", "size": "1"}], str(served + 1))

    faults.respond("/storage/v1/b/b/o", page)
    with pytest.raises(FetchError) as error:
        Bucket(fast, faults.url, "b").list("logs/")
    assert str(error.value) == (f"{faults.url}/storage/v1/b/b/o?prefix=logs%2F&pageToken=999: "
                                "the listing goes on past 1,000 pages, each with a new page "
                                "token; refusing to read more")
    assert faults.requests["/storage/v1/b/b/o"] == MAX_PAGES == 1_000


def gcs_item(name: str, content: bytes, **overrides: str) -> dict:
    import base64
    md5 = base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest()).decode()
    return {"name": name, "size": str(len(content)), "generation": "1", "md5Hash": md5,
            **overrides}


def test_gcs_objects_are_checked_against_their_listing(faults, fast) -> None:
    bucket = Bucket(fast, faults.url, "b")
    good = gcs_item("logs/a", BODY)
    faults.script("/storage/v1/b/b/o", listing([good, gcs_item("logs/b", BODY, size="7"),
                                                gcs_item("logs/c", BODY[:-1] + b"?")]))
    blobs, _ = bucket.list("logs/")
    # cut short with no Content-Length: only the listed size tells; retried
    faults.script("/b/logs/a", Answer(BODY, length=False, cut_at=50), Answer(BODY, length=False))
    assert bucket.download(blobs[0]).read_bytes() == BODY
    assert len(cached_files(fast)) == 1
    faults.script("/b/logs/b", Answer(BODY, length=False))
    with pytest.raises(FetchError, match=rf"/b/logs/b: {len(BODY)} bytes, but its listing "
                                         r"says 7 \(gave up after 3"):
        bucket.download(blobs[1])
    faults.script("/b/logs/c", Answer(BODY))
    with pytest.raises(FetchError, match=r"/b/logs/c: MD5 differs from its listing's"):
        bucket.download(blobs[2])
    assert len(cached_files(fast)) == 1


def test_composite_objects_are_checked_by_crc32c(faults, fast) -> None:
    import base64
    crc = base64.b64encode((0xE3069283).to_bytes(4, "big")).decode()  # of b"123456789"
    assert Expected.from_gcs({"size": "9", "crc32c": crc}) == Expected(9, None, 0xE3069283)
    bucket = Bucket(fast, faults.url, "b")
    faults.script("/storage/v1/b/b/o", listing([
        {"name": "ok", "size": "9", "crc32c": crc}, {"name": "bad", "size": "9", "crc32c": crc}]))
    blobs, _ = bucket.list("")
    faults.script("/b/ok", Answer(b"123456789"))
    faults.script("/b/bad", Answer(b"123456780"))
    assert bucket.download(blobs[0]).read_bytes() == b"123456789"
    with pytest.raises(FetchError, match="CRC-32C differs"):
        bucket.download(blobs[1])


def test_stale_partial_files_are_swept(faults, fast) -> None:
    folder = fast.cache_dir / "downloads" / "ab"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".partial-killed", folder / ".partial-running"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - FAST.total - 3600
    os.utime(stale, (old, old))
    fast.read_bytes(faults.script("/f", Answer(BODY)), bound=FILE)
    assert not stale.exists() and fresh.exists()


def test_deadline_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SNOOPDB_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "2")
    monkeypatch.setenv("SNOOPDB_ALLOW_NO_LENGTH", "1")
    assert Deadlines.from_environment() == Deadlines(read=2.5, attempts=2, no_length=True)
    monkeypatch.setenv("SNOOPDB_ALLOW_NO_LENGTH", "maybe")
    with pytest.raises(ConfigError, match="SNOOPDB_ALLOW_NO_LENGTH='maybe': expected 1 or 0"):
        Deadlines.from_environment()
    monkeypatch.delenv("SNOOPDB_ALLOW_NO_LENGTH")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ConfigError, match="SNOOPDB_DOWNLOAD_DEADLINE='soon': expected a number"):
        Deadlines.from_environment()


# --- end to end: `snoopdb load` of a CI run whose audit log is served badly ---------

JOB = "ci-kubernetes-e2e-gci-gce"


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOOPDB_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_DEADLINE", "3")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "2")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings,
        short_deadlines) -> Iterator[tuple[GcsServer, str]]:
    from test_audit import EVENTS, finished, put

    root = tmp_path / "gcs"
    put(root, f"logs/{JOB}/latest-build.txt", "7")
    # a 1.36 run: its spec is loaded (spec_1_36), so only the audit log is downloaded
    put(root, f"logs/{JOB}/7/finished.json", finished("SUCCESS", "v1.36.1"))
    log = f"logs/{JOB}/7/artifacts/e2e-master/kube-apiserver-audit.log"
    put(root, log, "".join(json.dumps(e) + "\n" for e in EVENTS))
    server = GcsServer(root)
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    yield server, log
    server.close()


@pytest.mark.parametrize("fault", [
    Answer(b"", length=False, cut_at=0),  # replaced below by a cut of the real body
    Answer(html_page().body, content_type="text/html"),
    Answer(b"busy", 503),
    Answer(hang=True),
])
def test_a_bad_download_fails_the_load_in_one_line_and_heals(conn, spec_1_36, run, capsys,
                                                              fault: Answer) -> None:
    from test_audit import EXPECTED_EVENTS, events_of

    server, log = run
    body = (server.root / "kubernetes-ci-logs" / log).read_bytes()
    if fault.cut_at == 0:
        fault = Answer(body, length=False, cut_at=len(body) // 2)
    server.faults[log] = [fault, fault]
    argv = ["load", "--release", "1.36", "--only", "audit", "--job", JOB]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("snoopdb: error: ")
    assert f"/kubernetes-ci-logs/{log}: " in err
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)
    # the source heals: the next load reads it whole, nothing stale in the way
    server.faults[log] = []
    assert main(argv) == 0
    assert events_of(conn) == EXPECTED_EVENTS


@pytest.fixture
def spec_1_36(conn, fetcher, shared_data) -> None:
    from snoopdb.loaders import spec

    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def test_a_gzipped_log_cut_short_without_length_is_caught_by_its_size(conn, spec_1_36, run,
                                                                      capsys) -> None:
    server, log = run
    path = server.root / "kubernetes-ci-logs" / log
    content = gzip.compress(path.read_bytes())
    path.unlink()
    rotated = log + "-20260611-1718000000.gz"
    (path.parent / rotated.rsplit("/", 1)[1]).write_bytes(content)
    server.faults[rotated] = [Answer(content, length=False, cut_at=len(content) - 10)]
    assert main(["load", "--release", "1.36", "--only", "audit", "--job", JOB]) == 0
    assert server.requests[rotated] == 2
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (10,)
