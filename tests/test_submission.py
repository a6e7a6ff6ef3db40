"""`snoopdb verify-submission` on submissions generated from the real conformance.yaml of
release 1.35 (441 tests), served by a loopback server in the GitHub raw layout."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from snoopdb.certification.checks import Testcase as Case  # a Test* name would be collected
from snoopdb.certification.checks import read_junit
from snoopdb.cli import main
from snoopdb.core.errors import InputError
from snoopdb.testkit.servers import serve_directory

SKIPPED = 3000
MISSING = "[sig-node] Pods should delete a collection of pods [Conformance]"
QUOTED = ("[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate"
          " everything except 'skip-me' configmaps [Conformance]")
ROLLOVER = "[sig-apps] Deployment deployment should support rollover [Conformance]"
EXTRA = "[sig-storage] Volumes should be a new test under review [Conformance]"
PRODUCT = {
    "vendor": "Cool Corp", "name": "CoolKube", "version": "v1.35.1", "type": "distribution",
    "description": "A cool Kubernetes distribution",
    "website_url": "https://coolkube.example.com/",
    "documentation_url": "https://coolkube.example.com/docs",
    "contact_email_address": "Cool Support <support@coolkube.example.com>",
}
CHECKS = [
    "[PASS] the submission has README.md, PRODUCT.yaml, e2e.log and junit_01.xml, none empty",
    "[PASS] the submission has no other files",
    "[PASS] PRODUCT.yaml has every required field",
    "[PASS] PRODUCT.yaml type is one of: distribution, hosted platform, installer",
    "[PASS] PRODUCT.yaml URLs and e-mail address are well-formed",
    "[PASS] the release is supported for certification (v1.34 to v1.36)",
    "[PASS] e2e.log: the kube-apiserver version is v1.35",
    "[PASS] e2e.log: the run ended with SUCCESS! and 0 Failed, 0 Pending",
    "[PASS] junit_01.xml: all 441 required conformance tests of v1.35 passed",
    "[PASS] junit_01.xml: no [Conformance] test failed or errored",
]
PASSED_LABELS = "labels: no-failed-tests-v1.35, release-documents-checked, release-v1.35," \
    " tests-verified-v1.35"


def codenames(path: Path) -> list[str]:
    return [test["codename"] for test in yaml.safe_load(path.read_bytes())]


@pytest.fixture(scope="module")
def tests_1_35(shared_data: Path) -> list[str]:
    return codenames(shared_data / "conformance" / "conformance-1.35.yaml")


def go_escape(name: str) -> str:
    """Attribute text as Ginkgo's Go encoder writes it (quotes as numeric entities)."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;"),
                         ('"', "&#34;")):
        name = name.replace(char, entity)
    return name


def write_junit(path: Path, cases: list[tuple[str, str]], prefix: str = "[It] ") -> None:
    """A Ginkgo v2 junit_01.xml: `cases` are (name, status) with status passed, skipped,
    failed or errored; suite nodes first, as Ginkgo writes them."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'  <testsuites tests="{len(cases) + 2}" disabled="0" errors="0" failures="0">',
           '      <testsuite name="Kubernetes e2e suite" package="/usr/local/bin">',
           ('          <properties><property name="SuiteSucceeded" value="true"></property>'
            '</properties>'),
           ('          <testcase name="[ReportBeforeSuite]" classname="Kubernetes e2e suite"'
            ' status="passed" time="8.3e-05"></testcase>'),
           ('          <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e'
            ' suite" status="passed" time="0.05"></testcase>')]
    body = {
        "passed": "",
        "skipped": '\n              <skipped message="skipped"></skipped>\n          ',
        "failed": '\n              <failure message="expected &#39;a&#39;" type="failed">'
                  "[FAILED] timed out\n&gt; at e2e.go:1</failure>\n"
                  "              <system-err>STEP: creating</system-err>\n          ",
        "errored": '\n              <error message="panic" type="panicked">[PANICKED]</error>'
                   "\n          ",
    }
    for name, status in cases:
        out.append(f'          <testcase name="{go_escape(prefix + name)}" classname="Kubernetes'
                   f' e2e suite" status="{status}" time="1.5">{body[status]}</testcase>')
    out += ["      </testsuite>", "  </testsuites>"]
    path.write_text("\n".join(out) + "\n")


def write_e2e_log(path: Path, apiserver: str, passed: int, failed: int, skipped: int) -> None:
    total = passed + failed + skipped
    verdict = "SUCCESS!" if failed == 0 else "FAIL!"
    path.write_text(
        'I0106 13:08:19.514163      21 e2e.go:109] Starting e2e run "8a3e" on Ginkgo node 1\n'
        "Running Suite: Kubernetes e2e suite - /usr/local/bin\n"
        "====================================================\n"
        f"Will run {passed + failed} of {total} specs\n"
        "------------------------------\n[SynchronizedBeforeSuite] \n"
        "  I0106 13:08:19.718914 21 e2e.go:245] e2e test version: v1.35.0\n"
        f"  I0106 13:08:19.762742 21 e2e.go:254] kube-apiserver version: {apiserver}\n"
        "------------------------------\n"
        f"Ran {passed + failed} of {total} Specs in 11492.672 seconds\n"
        f"{verdict} -- {passed} Passed | {failed} Failed | 0 Pending | {skipped} Skipped\n"
        f"{'PASS' if failed == 0 else 'FAIL'}\n")


def make_submission(
    root: Path,
    required: list[str],
    *,
    version: str = "v1.35",
    product: str = "coolkube",
    apiserver: str = "v1.35.0",
    status: dict[str, str] | None = None,
    omit: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    prefix: str = "[It] ",
    product_yaml: dict[str, str] | None = None,
    without: tuple[str, ...] = (),
) -> Path:
    """`root/<version>/<product>/` with the four files: `required` passed (but for `omit`,
    and `status` overrides) among SKIPPED skipped tests; `without` files left out."""
    folder = root / version / product
    folder.mkdir(parents=True)
    status = status or {}
    cases = [((f"[sig-storage] In-tree Volumes [Driver: local] [LocalVolumeType: dir] volume"
               f" {n} should be skipped \"quoted\" [Slow]"), "skipped") for n in range(SKIPPED)]
    cases += [(name, status.get(name, "passed")) for name in [*required, *extra]
              if name not in omit]
    cases.sort()
    files = {
        "README.md": lambda p: p.write_text("# CoolKube\nHow to reproduce: run hydrophone.\n"),
        "PRODUCT.yaml": lambda p: p.write_text(yaml.safe_dump(
            PRODUCT if product_yaml is None else product_yaml)),
        "e2e.log": lambda p: write_e2e_log(
            p, apiserver, sum(s == "passed" for _, s in cases),
            sum(s in ("failed", "errored") for _, s in cases), SKIPPED),
        "junit_01.xml": lambda p: write_junit(p, cases, prefix),
    }
    for name, write in files.items():
        if name not in without:
            write(folder / name)
    return folder


@pytest.fixture(scope="module")
def raw_1_35(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[str]:
    """A loopback server with release-1.35's conformance.yaml in the GitHub raw layout."""
    root = tmp_path_factory.mktemp("raw135")
    testdata = root / "kubernetes/kubernetes/release-1.35/test/conformance/testdata"
    testdata.mkdir(parents=True)
    (testdata / "conformance.yaml").symlink_to(
        shared_data / "conformance" / "conformance-1.35.yaml")
    url, server = serve_directory(root)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def github(settings: object, raw_1_35: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", raw_1_35)
    return raw_1_35


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(["verify-submission", *argv])
    return code, capsys.readouterr().out.splitlines()


def rows(conn: psycopg.Connection, sql: str, *params: object) -> list[tuple]:
    return conn.execute(sql, params or None).fetchall()


def fail(index: int, hint: str, *details: str) -> list[str]:
    """CHECKS[index] failed, with its hint and details."""
    return [CHECKS[index].replace("[PASS]", "[FAIL]"), f"  - {hint}",
            *(f"    - {d}" for d in details)]


def test_passing_submission_fetches_the_release_list(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    code, out = run(capsys, str(folder))
    assert (code, out) == (0, ["v1.35/coolkube: 10 of 10 requirements have passed", *CHECKS,
                               PASSED_LABELS])
    location = f"{github}/kubernetes/kubernetes/release-1.35/test/conformance/testdata/" \
        "conformance.yaml"
    assert rows(conn, "SELECT kind, release, source, rows FROM load_log") == [
        ("release_test", "1.35.0", location, 441)]
    assert rows(conn, "SELECT count(*), count(*) FILTER (WHERE first_release <> last_release)"
                " FROM conformance.release_test WHERE release = '1.35.0'") == [(441, 9)]
    assert rows(conn, "SELECT first_release, last_release FROM conformance.release_test"
                " WHERE codename LIKE '[sig-network] HostPort validates that there is no"
                " conflict between pods with same hostPort%'") == [("1.16.0", "1.21.0")]
    assert rows(conn, "SELECT name, release, product, path, title, result, checks_passed,"
                " checks_total, labels, error, vendor, product_name, product_version,"
                " product_type, apiserver_version FROM conformance.submission") == [
        ("v1.35/coolkube", "1.35.0", "coolkube", str(folder), None, "passed", 10, 10,
         ["no-failed-tests-v1.35", "release-documents-checked", "release-v1.35",
          "tests-verified-v1.35"], None, "Cool Corp", "CoolKube", "v1.35.1", "distribution",
         "v1.35.0")]
    assert rows(conn, "SELECT status, conformance, count(*) FROM conformance.submission_testcase"
                " GROUP BY 1, 2 ORDER BY 1, 2") == [
        ("passed", False, 2), ("passed", True, 441), ("skipped", False, SKIPPED)]
    assert rows(conn, "SELECT name FROM conformance.submission_testcase WHERE position <= 2") \
        == [("[ReportBeforeSuite]",), ("[SynchronizedBeforeSuite]",)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_testcase WHERE name = %s",
                QUOTED) == [(1,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]
    assert rows(conn, "SELECT position, name, passed, hint, details FROM"
                " conformance.submission_check ORDER BY position LIMIT 2") == [
        (1, "files", True, None, []), (2, "only-files", True, None, [])]

    # the stored list is used from now on: the server is not asked again
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", "http://127.0.0.1:9/unreachable")
    assert run(capsys, str(folder))[0] == 0
    # verifying again replaces the submission's rows
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(1,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_testcase") == [(SKIPPED + 443,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_check") == [(10,)]
    assert rows(conn, "SELECT count(*) FROM load_log") == [(1,)]


FAILED_RUN = "e2e.log ends with 'FAIL! -- {} Passed | 1 Failed | 0 Pending | 3000 Skipped'"
NOT_PASSED = "1 of 441 required tests missing or not passed"
ONE_FAILED = "1 [Conformance] test(s) failed or errored"


@pytest.mark.parametrize("kwargs, code, failed, labels, view", [
    pytest.param(
        {"omit": (MISSING,)}, 1, {8: (NOT_PASSED, MISSING)},
        "labels: no-failed-tests-v1.35, not-verifiable, release-v1.35, required-tests-missing",
        [(MISSING, "missing")], id="one required test missing"),
    pytest.param(
        {"status": {QUOTED: "failed"}}, 1,
        {7: (FAILED_RUN.format(440),), 8: (NOT_PASSED, QUOTED), 9: (ONE_FAILED, QUOTED)},
        "labels: evidence-missing, not-verifiable, release-v1.35, required-tests-missing",
        [(QUOTED, "failed")], id="one failed"),
    pytest.param(
        {"status": {ROLLOVER: "errored"}}, 1,
        {7: (FAILED_RUN.format(440),), 8: (NOT_PASSED, ROLLOVER), 9: (ONE_FAILED, ROLLOVER)},
        "labels: evidence-missing, not-verifiable, release-v1.35, required-tests-missing",
        [(ROLLOVER, "errored")], id="one errored"),
    pytest.param(
        {"status": {ROLLOVER: "skipped"}}, 1, {8: (NOT_PASSED, ROLLOVER)},
        "labels: no-failed-tests-v1.35, not-verifiable, release-v1.35, required-tests-missing",
        [(ROLLOVER, "skipped")], id="one skipped"),
    pytest.param({"extra": (EXTRA,)}, 0, {}, PASSED_LABELS, [], id="an extra test"),
    pytest.param(
        {"extra": (EXTRA,), "status": {EXTRA: "failed"}}, 1,
        {7: (FAILED_RUN.format(441),), 9: (ONE_FAILED, EXTRA)},
        "labels: evidence-missing, not-verifiable, release-v1.35, tests-verified-v1.35",
        [], id="an extra test failed"),
    pytest.param({"prefix": ""}, 0, {}, PASSED_LABELS, [], id="names without [It]"),
    pytest.param(
        {"apiserver": "v1.34.2-eks-d96d92f"}, 1,
        {6: ("e2e.log: kube-apiserver version v1.34.2-eks-d96d92f is not v1.35",)},
        "labels: no-failed-tests-v1.35, not-verifiable, release-v1.35, tests-verified-v1.35",
        [], id="mismatched e2e.log version"),
    pytest.param(
        {"without": ("e2e.log",)}, 1,
        {0: ("missing: e2e.log",), 6: ("e2e.log is missing or empty",),
         7: ("e2e.log is missing or empty",)},
        "labels: missing-file-e2e.log, no-failed-tests-v1.35, not-verifiable, release-v1.35,"
        " tests-verified-v1.35", [], id="missing e2e.log"),
])
def test_variants(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], kwargs: dict, code: int,
    failed: dict[int, tuple[str, ...]], labels: str, view: list[tuple[str, str]],
) -> None:
    folder = make_submission(tmp_path, tests_1_35, **kwargs)
    lines = []
    for index, check in enumerate(CHECKS):
        lines += fail(index, *failed[index]) if index in failed else [check]
    assert run(capsys, str(folder)) == (code, [
        f"v1.35/coolkube: {10 - len(failed)} of 10 requirements have passed", *lines, labels])
    assert rows(conn, "SELECT codename, status FROM conformance.submission_missing_test") == view


def test_missing_junit_and_empty_readme(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35, without=("junit_01.xml",))
    (folder / "README.md").write_text("")
    (folder / "notes.txt").write_text("extra")
    (folder / "logs").mkdir()
    assert run(capsys, str(folder)) == (1, [
        "v1.35/coolkube: 6 of 10 requirements have passed",
        *fail(0, "missing: junit_01.xml; empty: README.md"),
        *fail(1, "remove 2 other file(s): logs, notes.txt"),
        *CHECKS[2:8],
        *fail(8, "junit_01.xml is missing or empty: none of the 441 required tests can be"
                 " verified"),
        *fail(9, "junit_01.xml is missing or empty"),
        ("labels: evidence-missing, missing-file-junit_01.xml, not-verifiable, release-v1.35,"
         " required-tests-missing")])
    # with no junit, every required test is missing
    assert rows(conn, "SELECT status, count(*) FROM conformance.submission_missing_test"
                " GROUP BY 1") == [("missing", 441)]


def test_bad_product_yaml(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    product = dict(PRODUCT, type="managed service", website_url="coolkube.example.com",
                   contact_email_address="support at coolkube", description="  ",
                   repo_url="git@github.com:cool/kube.git")
    del product["documentation_url"]
    folder = make_submission(tmp_path, tests_1_35, product_yaml=product)
    assert run(capsys, str(folder)) == (1, [
        "v1.35/coolkube: 7 of 10 requirements have passed",
        *CHECKS[:2],
        *fail(2, "missing or empty: description, documentation_url"),
        *fail(3, "type 'managed service' is not one of: distribution, hosted platform,"
                 " installer"),
        *fail(4, "website_url 'coolkube.example.com' is not an http(s) URL; repo_url"
                 " 'git@github.com:cool/kube.git' is not an http(s) URL; contact_email_address"
                 " 'support at coolkube' is not an e-mail address"),
        *CHECKS[5:],
        "labels: no-failed-tests-v1.35, not-verifiable, release-v1.35, tests-verified-v1.35"])
    assert rows(conn, "SELECT name, hint FROM conformance.submission_check WHERE NOT passed"
                " ORDER BY position") == [
        ("product-fields", "missing or empty: description, documentation_url"),
        ("product-type",
         "type 'managed service' is not one of: distribution, hosted platform, installer"),
        ("product-format",
         ("website_url 'coolkube.example.com' is not an http(s) URL; repo_url"
          " 'git@github.com:cool/kube.git' is not an http(s) URL; contact_email_address"
          " 'support at coolkube' is not an e-mail address"))]


@pytest.mark.parametrize("content, hint", [
    ("vendor: [unclosed",
     "PRODUCT.yaml is not YAML: expected ',' or ']', but got '<stream end>' (line 1, column 18)"),
    ("- just\n- a list\n", "PRODUCT.yaml is not a mapping of fields"),
])
def test_unreadable_product_yaml_fails_every_product_check(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], content: str, hint: str,
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    (folder / "PRODUCT.yaml").write_text(content)
    code, out = run(capsys, str(folder))
    assert (code, out[0], out[3:9]) == (1, "v1.35/coolkube: 7 of 10 requirements have passed",
                                        [*fail(2, hint), *fail(3, hint), *fail(4, hint)])


def test_unsupported_release_uses_first_listed_release(
    conn: psycopg.Connection, settings: object, shared_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a 1.31 submission checked against 1.34's list: tests first listed after 1.31 are
    # not required (they are left out of the junit), "v1.9, v1.18" ones count from 1.9
    listing = shared_data / "conformance" / "conformance-1.34.yaml"
    entries = yaml.safe_load(listing.read_bytes())
    old = [t["codename"] for t in entries
           if int(str(t.get("release") or "v1.9").split(",")[0].strip().split(".")[1]) <= 31]
    assert (len(entries), len(old)) == (424, 404)
    folder = make_submission(tmp_path, old, version="v1.31", apiserver="v1.31.4")
    code, out = run(capsys, str(folder), "--conformance-file", str(listing),
                    "--title", "Conformance results for v1.31/coolkube")
    assert (code, out) == (1, [
        "v1.31/coolkube: 11 of 12 requirements have passed",
        *CHECKS[:5],
        "[FAIL] the release is supported for certification (v1.34 to v1.36)",
        "  - v1.31 is older than v1.34, the oldest supported release (newest v1.36 minus 2)",
        "[PASS] the title contains 'Conformance results for'",
        "[PASS] the title names the folder's release",
        "[PASS] e2e.log: the kube-apiserver version is v1.31",
        CHECKS[7],
        "[PASS] junit_01.xml: all 404 required conformance tests of v1.31 passed",
        CHECKS[9],
        "labels: no-failed-tests-v1.31, not-verifiable, release-v1.31, tests-verified-v1.31"])
    assert rows(conn, "SELECT count(*) FROM conformance.release_test WHERE release = '1.31.0'") \
        == [(424,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]


@pytest.mark.parametrize("title, expected", [
    ("Conformance results for v1.35/coolkube", []),
    ("Conformance results for v1.34/CoolKube",
     ["[PASS] the title contains 'Conformance results for'",
      "[FAIL] the title names the folder's release",
      "  - the title names v1.34, the folder v1.35"]),
    ("CoolKube 1.35 results",
     ["[FAIL] the title contains 'Conformance results for'",
      "  - the title should read 'Conformance results for v1.35/coolkube'",
      "[FAIL] the title names the folder's release", "  - the title names no release (vX.Y)"]),
])
def test_title(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], title: str, expected: list[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    code, out = run(capsys, str(folder), "--title", title)
    assert code == (1 if expected else 0)
    assert [line for line in out if "title" in line or line.startswith("  - the title")] == (
        expected or ["[PASS] the title contains 'Conformance results for'",
                     "[PASS] the title names the folder's release"])
    assert rows(conn, "SELECT title FROM conformance.submission") == [(title,)]


def test_check_urls_asks_each_page(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>CoolKube</body></html>")
    (site / "docs" / "index.html").write_text("<html><body>Docs</body></html>")
    (site / "logo.png").write_bytes(b"\x89PNG\r\n")
    url, server = serve_directory(site)
    try:
        product = dict(PRODUCT, website_url=f"{url}/", documentation_url=f"{url}/docs/",
                       product_logo_url=f"{url}/logo.png")
        good = make_submission(tmp_path, tests_1_35, product_yaml=product)
        code, out = run(capsys, str(good), "--check-urls")
        assert (code, out[0], out[6]) == (0, "v1.35/coolkube: 11 of 11 requirements have passed",
                                          "[PASS] PRODUCT.yaml URLs lead to HTML pages")
        product.update(documentation_url=f"{url}/logo.png", repo_url=f"{url}/nowhere")
        bad = make_submission(tmp_path / "bad", tests_1_35, product_yaml=product)
        code, out = run(capsys, str(bad), "--check-urls")
        assert (code, out[6:8]) == (1, [
            "[FAIL] PRODUCT.yaml URLs lead to HTML pages",
            (f"  - documentation_url {url}/logo.png: content type image/png, not text/html;"
             f" repo_url {url}/nowhere: HTTP 404")])
    finally:
        server.shutdown()
        server.server_close()


class _NoHead(http.server.SimpleHTTPRequestHandler):
    """A server that refuses HEAD, as some web sites do."""

    def do_HEAD(self) -> None:
        self.send_error(405)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_check_urls_falls_back_to_get_when_head_is_refused(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body>CoolKube</body></html>")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_NoHead, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        product = dict(PRODUCT, website_url=f"{url}/", documentation_url=f"{url}/missing")
        folder = make_submission(tmp_path, tests_1_35, product_yaml=product)
        code, out = run(capsys, str(folder), "--check-urls")
        assert (code, out[6:8]) == (1, ["[FAIL] PRODUCT.yaml URLs lead to HTML pages",
                                        f"  - documentation_url {url}/missing: HTTP 404"])
    finally:
        server.shutdown()
        server.server_close()


def test_unprocessable_submissions_exit_2(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unknown = make_submission(tmp_path, tests_1_35, version="v1.99")
    assert run(capsys, str(unknown)) == (2, [
        ("v1.99/coolkube: cannot be processed: unknown release '1.99': known releases are 1.5"
         " to 1.36")])
    # no release-1.34 list on the server
    no_list = make_submission(tmp_path, tests_1_35, version="v1.34", apiserver="v1.34.1")
    code, out = run(capsys, str(no_list))
    assert (code, out) == (2, [
        (f"v1.34/coolkube: cannot be processed: {github}/kubernetes/kubernetes/release-1.34/"
         "test/conformance/testdata/conformance.yaml: not found (404)")])
    broken = make_submission(tmp_path, tests_1_35)
    junit = broken / "junit_01.xml"
    junit.write_text(junit.read_text()[:5000])
    code, out = run(capsys, str(broken))
    assert (code, out) == (2, [(f"v1.35/coolkube: cannot be processed: {junit}: not well-formed"
                                " XML: unclosed token: line 26, column 10")])
    assert rows(conn, "SELECT name, result, checks_total, labels, error IS NOT NULL FROM"
                " conformance.submission ORDER BY name") == [
        ("v1.34/coolkube", "unprocessable", 0, [], True),
        ("v1.35/coolkube", "unprocessable", 0, [], True),
        ("v1.99/coolkube", "unprocessable", 0, [], True)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]
    # a folder whose parent names no release, without --release: nothing to store
    stray = tmp_path / "stray"
    stray.mkdir()
    assert main(["verify-submission", str(stray)]) == 2
    assert capsys.readouterr().err == (f"snoopdb: error: {stray}: the parent folder"
                                       f" '{tmp_path.name}' names no release (vX.Y); give"
                                       " --release\n")


def test_release_option_and_json(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path / "anywhere", tests_1_35, version="incoming",
                             omit=(MISSING,))
    code, out = run(capsys, str(folder), "--release", "v1.35", "--json")
    document = json.loads("\n".join(out))
    assert code == 1
    assert {k: v for k, v in document.items() if k != "checks"} == {
        "submission": "v1.35/coolkube", "path": str(folder), "release": "v1.35",
        "product": "coolkube", "result": "failed", "passed_checks": 9, "total_checks": 10,
        "labels": ["no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                   "required-tests-missing"], "error": None}
    assert document["checks"][8] == {
        "name": "required-tests",
        "title": "junit_01.xml: all 441 required conformance tests of v1.35 passed",
        "passed": False, "hint": "1 of 441 required tests missing or not passed",
        "details": [MISSING]}


def test_all_prints_a_summary_and_fills_the_missing_test_view(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_submission(tmp_path, tests_1_35, product="alpha")
    make_submission(tmp_path, tests_1_35, product="beta", omit=(MISSING, ROLLOVER))
    make_submission(tmp_path, tests_1_35, product="gamma", status={QUOTED: "failed"})
    make_submission(tmp_path, tests_1_35, product="old", version="v1.99")
    (tmp_path / "docs").mkdir()
    assert run(capsys, "--all", str(tmp_path)) == (2, [
        "SUBMISSION   RESULT         CHECKS  FAILED CHECKS / ERROR",
        "v1.35/alpha  passed         10/10",
        "v1.35/beta   failed         9/10    required-tests",
        "v1.35/gamma  failed         7/10    e2e-success, required-tests, no-failed-tests",
        ("v1.99/old    unprocessable  0/0     unknown release '1.99': known releases are 1.5"
         " to 1.36"),
        "4 submissions: 1 passed, 2 failed, 1 unprocessable"])
    assert rows(conn, "SELECT submission, codename, status FROM"
                " conformance.submission_missing_test ORDER BY 1, 2") == [
        ("v1.35/beta", ROLLOVER, "missing"), ("v1.35/beta", MISSING, "missing"),
        ("v1.35/gamma", QUOTED, "failed")]
    assert run(capsys, "--all", str(tmp_path), "--release", "v1.35")[0] == 1
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(4,)]
    assert main(["verify-submission", "--all", str(tmp_path), "--release", "v1.30"]) == 2
    assert capsys.readouterr().err == f"snoopdb: error: {tmp_path}: no v1.30/<product> folders\n"


@pytest.mark.parametrize("argv, message", [
    ([], "give either a submission folder DIR or --all ROOT"),
    (["x", "--all", "y"], "give either a submission folder DIR or --all ROOT"),
    (["--all", "y", "--title", "t"],
     "--title is the title of one submission's pull request, not of --all"),
])
def test_bad_options(
    settings: object, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify-submission", *argv]) == 1
    assert capsys.readouterr().err == f"snoopdb: error: {message}\n"


def test_read_junit_streams_and_decodes(tmp_path: Path) -> None:
    path = tmp_path / "junit_01.xml"
    write_junit(path, [(QUOTED, "passed"), ('say "hi" & <go> [Conformance]', "skipped"),
                       ("b", "failed"), ("c", "errored")])
    assert list(read_junit(path)) == [
        Case("[ReportBeforeSuite]", "passed"), Case("[SynchronizedBeforeSuite]", "passed"),
        Case(QUOTED, "passed"), Case('say "hi" & <go> [Conformance]', "skipped"),
        Case("b", "failed"), Case("c", "errored")]
    path.write_text("<testsuites><testcase name='a'>")
    with pytest.raises(InputError, match=r"not well-formed XML: no element found: line 1"):
        list(read_junit(path))
