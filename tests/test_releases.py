"""The releases list: apisnoop's, read from a loopback server in its layout, cached for
a day, with the cached and then the shipped copy as offline fallbacks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from snoopdb.cli import main
from snoopdb.core.config import Settings
from snoopdb.core.errors import ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import (
    SHIPPED,
    UPSTREAM_PATH,
    Releases,
    commit_of_version,
    parse_release,
    release_of_version,
)
from testkit.servers import serve_directory

UPSTREAM = ("- version: 1.38.0\n  release_date: ''\n"
            "- version: 1.37.0\n  release_date: '2026-08-26'\n"
            "- version: 1.36.0\n  release_date: '2026-04-22'\n")


@pytest.fixture
def apisnoop(tmp_path: Path):
    """A loopback server in apisnoop's raw layout holding UPSTREAM; yields (url, file)."""
    listed = tmp_path / "apisnoop" / UPSTREAM_PATH
    listed.parent.mkdir(parents=True)
    listed.write_text(UPSTREAM)
    url, server = serve_directory(tmp_path / "apisnoop")
    yield url, listed
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache(settings: Settings) -> Path:
    """The cache directory without the test plugin's fresh cached list."""
    (settings.cache_dir / "releases.yaml").unlink()
    return settings.cache_dir


def upstream(fetcher: Fetcher, url: str, cache: Path) -> Releases:
    return Releases.upstream(fetcher, url, cache)


def test_upstream_list_read_then_cached_for_a_day(fetcher, apisnoop, cache) -> None:
    url, listed = apisnoop
    releases = upstream(fetcher, url, cache)
    assert (releases.origin, releases.warning) == (f"{url}/{UPSTREAM_PATH}", None)
    assert [str(k.release) for k in releases.known] == ["1.38.0", "1.37.0", "1.36.0"]
    assert (str(releases.development), str(releases.current)) == ("1.38.0", "1.38.0")
    assert (cache / "releases.yaml").read_text() == UPSTREAM
    # within the day the cached copy answers, whatever upstream says now
    listed.write_text("- {version: 1.39.0, release_date: ''}\n")
    assert str(upstream(fetcher, url, cache).newest) == "1.38.0"
    # a day later upstream is read again
    day_ago = time.time() - 24 * 3600 - 1
    os.utime(cache / "releases.yaml", (day_ago, day_ago))
    assert str(upstream(fetcher, url, cache).newest) == "1.39.0"


def test_offline_falls_back_to_cached_then_shipped(fetcher, apisnoop, cache) -> None:
    url, _ = apisnoop
    upstream(fetcher, url, cache)
    stale = time.time() - 3 * 24 * 3600
    os.utime(cache / "releases.yaml", (stale, stale))
    offline = "http://127.0.0.1:9"  # discard port: nothing listens
    releases = upstream(fetcher, offline, cache)
    assert str(releases.newest) == "1.38.0" and releases.origin == str(cache / "releases.yaml")
    assert releases.warning == (
        "apisnoop's releases list unreadable (connection refused): using the copy cached on "
        f"{time.strftime('%Y-%m-%d', time.localtime(stale))}, newest 1.38")
    # for an hour upstream is not asked again, and nothing is said again
    (cache / "releases.yaml").unlink()
    releases = upstream(fetcher, offline, cache)
    assert (str(releases.newest), releases.origin, releases.warning) == ("1.36.0", SHIPPED, None)
    hour_ago = time.time() - 3601
    os.utime(cache / "releases.yaml.unreadable", (hour_ago, hour_ago))
    releases = upstream(fetcher, offline, cache)
    assert (str(releases.newest), releases.origin, releases.warning) == (
        "1.36.0", SHIPPED, "apisnoop's releases list unreadable (connection refused): using "
                           "the copy shipped with snoopdb, newest 1.36")
    # once upstream answers again, its list is read and the failure forgotten
    hour_ago = time.time() - 3601
    os.utime(cache / "releases.yaml.unreadable", (hour_ago, hour_ago))
    assert str(upstream(fetcher, url, cache).newest) == "1.38.0"
    assert not (cache / "releases.yaml.unreadable").exists()


def test_malformed_upstream_list_falls_back(fetcher, apisnoop, cache) -> None:
    url, listed = apisnoop
    listed.write_text("rate limited\n")
    releases = upstream(fetcher, url, cache)
    assert releases.origin == SHIPPED and releases.warning is not None
    assert releases.warning.startswith("apisnoop's releases list unreadable (not a list of")
    assert not (cache / "releases.yaml").exists()


def test_mirrored_list(tmp_path) -> None:
    listed = tmp_path / "releases.yaml"
    listed.write_text(UPSTREAM)
    releases = Releases.mirrored(listed)
    assert (str(releases.newest), releases.origin, releases.warning) == (
        "1.38.0", str(listed), None)
    releases = Releases.mirrored(tmp_path / "none.yaml")
    assert (str(releases.newest), releases.origin) == ("1.36.0", SHIPPED)
    assert releases.warning == (f"{tmp_path / 'none.yaml'}: the mirror has no releases list: "
                                "using the copy shipped with snoopdb, newest 1.36")


def test_releases_file_overrides(fetcher, apisnoop, cache, tmp_path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("- {version: 1.30.0, release_date: '2024-04-17'}\n")
    releases = Releases.upstream(fetcher, apisnoop[0], cache, own)
    assert (str(releases.newest), releases.origin, releases.warning) == ("1.30.0", str(own), None)


def test_cli_warns_once_offline_after_the_options_are_checked(
    settings, cache, monkeypatch, capsys,
) -> None:
    monkeypatch.setenv("SNOOPDB_APISNOOP_RAW_URL", "http://127.0.0.1:9")
    # a mistake on the command line is said alone: the list is not read for it
    with pytest.raises(SystemExit):
        main(["load", "--release", "1.2O"])
    assert "warning" not in capsys.readouterr().err
    assert main(["load"]) == 2
    assert capsys.readouterr().err == ("snoopdb: error: --release is required (with --history"
                                       " it defaults to the newest)\n")
    # the first command that reads the list says it, short, naming the flag
    assert main(["load", "--release", "1.3"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "warning: apisnoop's releases list unreadable (connection refused): using the copy "
        "shipped with snoopdb, newest 1.36 (--releases-file FILE names another)",
        "snoopdb: error: unknown release '1.3': releases before 1.5 have no OpenAPI spec"]
    # and the next one does not repeat it
    assert main(["load", "--release", "1.3"]) == 2
    assert capsys.readouterr().err == ("snoopdb: error: unknown release '1.3': releases before"
                                       " 1.5 have no OpenAPI spec\n")


def test_resolve() -> None:
    releases = Releases.load()
    assert [str(releases.resolve(parse_release(t)))
            for t in ("1.20", "v1.36.0", "1.36.3", "1.37")] == [
        "1.20.0", "1.36.0", "1.36.0", "1.37.0"]
    with pytest.raises(ReleaseError, match="unknown release '1.38': the newest release "
                                           r"releases.yaml \(shipped\) lists is 1.36; only the "
                                           "next one, 1.37, may be loaded before it is listed"):
        releases.resolve(parse_release("1.38"))
    with pytest.raises(ReleaseError, match="unknown release '1.4': releases before 1.5"):
        releases.resolve(parse_release("1.4"))
    for text in ("1.38.0-alpha.1", "1.x"):
        with pytest.raises(ReleaseError, match="bad release"):
            parse_release(text)



def test_releases_before_1_5_are_listed_but_never_loaded(tmp_path) -> None:
    listed = tmp_path / "releases.yaml"
    listed.write_text("".join(f"- {{version: 1.{m}.0, release_date: '2016-0{m + 1}-01'}}\n"
                              for m in range(7, -1, -1)))
    releases = Releases.load(listed)
    assert [str(r) for r in releases.up_to(parse_release("1.7"))] == ["1.5.0", "1.6.0", "1.7.0"]


def test_resolve_release_missing_from_the_list(tmp_path) -> None:
    listed = tmp_path / "releases.yaml"
    listed.write_text("- {version: 1.36.0, release_date: '2026-04-22'}\n"
                      "- {version: 1.34.0, release_date: '2025-08-27'}\n")
    with pytest.raises(ReleaseError, match=r"^unknown release '1.35': known releases are 1.34"
                                           r" to 1.36$"):
        Releases.load(listed).resolve(parse_release("1.35"))


@pytest.mark.parametrize("version, release, commit", [
    ("v1.38.0-alpha.2.41+0123456789abcdef", "1.38.0", "0123456789abcdef"),
    ("v1.37.0-alpha.1.123+1b23e20abc", "1.37.0", "1b23e20abc"),
    ("v1.36.2", "1.36.0", None),
    ("v1.36.0-rc.0.12+abc-dirty", "1.36.0", None),
])
def test_job_versions(version: str, release: str, commit: str | None) -> None:
    assert str(release_of_version(version)) == release
    assert commit_of_version(version) == commit
    assert str(parse_release(release)) == release


def test_unreadable_job_version() -> None:
    with pytest.raises(ReleaseError, match="cannot read a release from version 'latest'"):
        release_of_version("latest")


# --- release numbers out of range: refused wherever they are read ---------------------

OUT_OF_RANGE = "out of range (1.0.0 to 9.99.999)"


@pytest.mark.parametrize("text", ["v1.99999999999", "1.100", "10.0", "0.9", "1.20.1000",
                                  "v99999999999999999999.1"])
def test_release_numbers_out_of_range_are_bad_releases(text: str) -> None:
    with pytest.raises(ReleaseError) as error:
        parse_release(text)
    assert str(error.value) == f"bad release {text!r}: {OUT_OF_RANGE}"
    with pytest.raises(ReleaseError, match=r"^bad release .*: out of range \(1\.0\.0 to "):
        release_of_version(text + "-alpha.1+abc")
    assert str(parse_release("9.99.999")) == "9.99.999" and str(parse_release("1.0")) == "1.0.0"


def test_an_upstream_list_out_of_range_is_neither_used_nor_cached(fetcher, apisnoop,
                                                                   cache) -> None:
    url, listed = apisnoop
    listed.write_text("- {version: 1.99999999999, release_date: '2026-01-01'}\n" + UPSTREAM)
    releases = upstream(fetcher, url, cache)
    assert (str(releases.newest), releases.origin) == ("1.36.0", SHIPPED)
    assert releases.warning == (
        "apisnoop's releases list unreadable (not a list of {version, release_date}: bad "
        f"release '1.99999999999': {OUT_OF_RANGE}): using the copy shipped with snoopdb, "
        "newest 1.36")
    assert not (cache / "releases.yaml").exists()


def test_cli_release_out_of_range_is_one_line(settings, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:  # a usage error, as argparse's own
        main(["load", "--release", "v1.99999999999"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"snoopdb: error: argument --release: bad release 'v1.99999999999': {OUT_OF_RANGE}"
        " (see `snoopdb load --help`)\n")


def test_a_conformance_release_out_of_range_loads_nothing(conn, fetcher, settings, shared_data,
                                                          tmp_path, capsys) -> None:
    from snoopdb.loaders import spec

    listed = tmp_path / "conformance.yaml"
    listed.write_text("- {codename: a, testname: t, release: v1.36}\n"
                      "- {codename: b, testname: u, release: v1.99999999999}\n")
    mirror = tmp_path / "mirror" / "kubernetes" / "kubernetes" / "v1.36.0"
    (mirror / "test" / "conformance" / "testdata").mkdir(parents=True)
    (mirror / "test" / "conformance" / "testdata" / "conformance.yaml").write_text(
        listed.read_text())
    argv = ["load", "--release", "1.36", "--only", "tests", "--from", str(tmp_path / "mirror")]
    assert main(argv) == 1
    where = mirror / "test" / "conformance" / "testdata" / "conformance.yaml"
    # (the mirror holds no releases list: the shipped one, with its warning)
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snoopdb: error: {where}: test #2: bad release 'v1.99999999999': {OUT_OF_RANGE}")
    assert conn.execute("SELECT count(*) FROM conformance.test").fetchone() == (0,)
    # and a spec loads after it, as it did before
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def test_a_ci_run_version_out_of_range_names_the_run(settings, tmp_path, monkeypatch,
                                                     capsys) -> None:
    import json

    from testkit.gcs_server import GcsServer

    job = "ci-kubernetes-e2e-gci-gce"
    root = tmp_path / "gcs" / "kubernetes-ci-logs" / "logs" / job
    (root / "7" / "artifacts" / "e2e-master").mkdir(parents=True)
    (root / "latest-build.txt").write_text("7")
    (root / "7" / "finished.json").write_text(json.dumps(
        {"result": "SUCCESS", "timestamp": 1, "metadata": {"job-version": "v1.99999999999.0"}}))
    (root / "7" / "artifacts" / "e2e-master" / "kube-apiserver-audit.log").write_text("")
    server = GcsServer(tmp_path / "gcs")
    monkeypatch.setenv("SNOOPDB_GCS_URL", server.url)
    try:
        assert main(["load", "--release", "1.36", "--only", "audit", "--job", job]) == 1
    finally:
        server.close()
    assert capsys.readouterr().err == (
        f"snoopdb: error: https://prow.k8s.io/view/gs/kubernetes-ci-logs/logs/{job}/7: bad "
        f"release 'v1.99999999999.0': {OUT_OF_RANGE}\n")
