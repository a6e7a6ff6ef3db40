"""Numbers read from outside text — a build folder's name, latest-build.txt, a
Content-Length, a GCS listing's size, a pull request's number, an option's value —
in ASCII digits only, and few enough of them: `²` passes str.isdigit() and int()
refuses it, int() refuses 5,000 digits. Each is one line naming where it was read,
never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snoopdb.cli import main
from snoopdb.core.bounds import PROW_FILE as FILE
from snoopdb.core.errors import FetchError
from snoopdb.core.fetch import Expected, Fetcher
from testkit.faultserver import Answer, FaultServer

JOB = "ci-job"
ODD = ["²", "1" * 5000, "٣", "-1", "1e3", " 7", ""]


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def listing(prefixes: list[str] = (), items: list[dict] = ()) -> Answer:  # type: ignore[assignment]
    return Answer(json.dumps({"kind": "storage#objects", "prefixes": list(prefixes),
                              "items": list(items)}).encode(),
                  content_type="application/json")


def test_build_folders_that_are_no_build_ids_are_passed_over(fault: FaultServer,
                                                              fetcher: Fetcher) -> None:
    from snoopdb.loaders.ci_runs import job_builds
    from snoopdb.loaders.gcs import Bucket

    fault.script("/storage/v1/b/bucket/o", listing(
        [f"logs/{JOB}/{name}/" for name in [*ODD, "7", "12"]]))
    assert job_builds(Bucket(fetcher, fault.url, "bucket"), JOB) == [12, 7]


@pytest.mark.parametrize("latest", ["²", "1" * 5000])
def test_latest_build_that_is_no_build_id_is_one_line(fault: FaultServer, fetcher: Fetcher,
                                                      latest: str) -> None:
    from snoopdb.loaders.ci_runs import latest_successful_build
    from snoopdb.loaders.gcs import Bucket

    fault.script(f"/bucket/logs/{JOB}/latest-build.txt", Answer(latest.encode()))
    with pytest.raises(FetchError) as failure:
        latest_successful_build(Bucket(fetcher, fault.url, "bucket"), JOB)
    assert str(failure.value) == (f"{fault.url}/bucket/logs/{JOB}/latest-build.txt: "
                                  f"{latest[:40]!r} is not a build id")


@pytest.mark.parametrize("size", ["²", "1" * 5000, "-5", True, 1.5])
def test_a_listed_size_that_is_no_byte_count_is_one_line(fault: FaultServer, fetcher: Fetcher,
                                                         size: object) -> None:
    from snoopdb.loaders.gcs import Bucket

    fault.script("/storage/v1/b/bucket/o", listing(items=[
        {"name": f"logs/{JOB}/7/audit.log", "size": size, "generation": "1"}]))
    with pytest.raises(FetchError) as failure:
        Bucket(fetcher, fault.url, "bucket").list(f"logs/{JOB}/7/")
    assert str(failure.value) == (
        f"{fault.url}/bucket/logs/{JOB}/7/: listing item 'logs/{JOB}/7/audit.log': its size "
        f"{size!r} is not a byte count")


@pytest.mark.parametrize("declared", ["²", "1" * 5000])
def test_a_content_length_that_is_no_byte_count_is_one_line(
    fault: FaultServer, fetcher: Fetcher, declared: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = fault.script("/file", Answer(b"abc", length=False,
                                       headers=(("Content-Length", declared),)))
    with pytest.raises(FetchError) as failure:
        Fetcher(fetcher.cache_dir, fetcher.deadlines).read_bytes(url, bound=FILE, cache=False)
    said = str(failure.value)
    assert said.startswith(f"{url}: Content-Length {declared!r} is not a byte count (gave up"
                           " after 4 attempts")
    assert "\n" not in said


def test_a_pull_request_number_of_5000_digits_is_one_line(
    settings: object, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["verify-submission", "--github", "cncf/k8s-conformance#" + "1" * 5000]) == 1
    err = capsys.readouterr().err
    assert err.startswith("snoopdb: error: --github 'cncf/k8s-conformance#1111")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("value", ["²", "1" * 5000, "٣"])
def test_an_option_that_is_no_whole_number_is_a_usage_error(
    settings: object, value: str, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["load", "--release", "1.20", "--last", value])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith(
        f"snoopdb: error: argument --last: expected a whole number (1 or more), not {value!r}")


@given(st.one_of(st.text(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
                 .map(str), st.sampled_from(ODD)))
def test_a_number_read_from_text_is_ascii_digits_or_nothing(text: str) -> None:
    from snoopdb.core.numbers import MAX_DIGITS, whole_number

    number = whole_number(text)
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        assert number == int(text)
    else:
        assert number is None


@given(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(),
                 st.text(), st.sampled_from(ODD), st.lists(st.integers(), max_size=2)))
def test_a_listing_size_reads_as_a_byte_count_or_a_value_error(size: object) -> None:
    try:
        expected = Expected.from_gcs({"name": "x", "size": size})
    except ValueError as exc:
        assert "is not a byte count" in str(exc)
    else:
        assert expected.size is None if size is None else (
            isinstance(expected.size, int) and expected.size >= 0)
