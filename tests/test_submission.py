"""`snoopdb verify-submission` on submissions generated from the real conformance.yaml of
release 1.35 (441 tests), served by a loopback server in the GitHub raw layout.
The labels expected are the CNCF bot's (kubernetes-sigs/verify-conformance, suite.go and
plugin.go), one test per case where snoopdb used to differ."""

from __future__ import annotations

import functools
import http.server
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from snoopdb.certification.files import Entry
from snoopdb.certification.junit import read_junit
from snoopdb.certification.pages import PageAnswer, ask_page, refused_address, url_session
from snoopdb.certification.submission import Testcase as Case  # a Test* name would be collected
from snoopdb.cli import main
from snoopdb.core.errors import InputError
from snoopdb.core.safeyaml import load_bounded
from testkit.servers import serve_directory

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
    "[PASS] the submission's files are regular files (beyond the bot)",
    "[PASS] PRODUCT.yaml has every required field",
    ("[PASS] PRODUCT.yaml type is one of: distribution, hosted platform, installer (beyond the"
    " bot)"),
    "[PASS] PRODUCT.yaml URLs and e-mail address are well-formed",
    "[PASS] e2e.log: the kube-apiserver version is v1.35 (beyond the bot)",
    "[PASS] e2e.log: the run ended with SUCCESS! and 0 Failed, 0 Pending (beyond the bot)",
    ("[PASS] junit_01.xml: all 441 required conformance tests of v1.35 are there, none skipped"
     " or failed"),
    "[PASS] junit_01.xml: no [Conformance] test failed or errored",
]
SUBMITTED = "conformance-product-submission"
PASSED_LABELS = f"labels: {SUBMITTED}, no-failed-tests-v1.35, release-documents-checked," \
    " release-v1.35, tests-verified-v1.35"
UNABLE_LABELS = f"labels: {SUBMITTED}, unable-to-process"
PENDING = "status: pending (Internal error)"
INSTRUCTIONS = "https://github.com/cncf/k8s-conformance/blob/master/instructions.md"
# what the bot does with a pull request whose title is no submission's
NOT_A_SUBMISSION = [
    PENDING, "comment:",
    ("> This pull request appears to not be a conformance results submission, because its"
     ' title doesn\'t include "conformance results for"; Checks will not run.'),
    ">",
    ("> If this change is intended to be verified as a conformance results submission see:"
     f" [_content of the PR_]({INSTRUCTIONS}#contents-of-the-pr), and [_requirements_]"
     f"({INSTRUCTIONS}#requirements)")]


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
    """The exit code and the checklist, up to the labels (`bot_run` has what follows)."""
    code, lines, _ = bot_run(capsys, *argv)
    return code, lines


def bot_run(capsys: pytest.CaptureFixture[str], *argv: str
            ) -> tuple[int, list[str], list[str]]:
    """The exit code, the checklist up to the labels, and what the bot would do after
    them: labels added and removed (--github), the status, the comment."""
    code = main(["verify-submission", *argv])
    lines = capsys.readouterr().out.splitlines()
    cut = next((n for n, line in enumerate(lines) if line.startswith(("add: ", "status: "))),
               len(lines))
    return code, lines[:cut], lines[cut:]


def rows(conn: psycopg.Connection, sql: str, *params: object) -> list[tuple]:
    return conn.execute(sql, params or None).fetchall()


def fail(index: int, hint: str, *details: str) -> list[str]:
    """CHECKS[index] failed, with its hint and details."""
    return [CHECKS[index].replace("[PASS]", "[FAIL]"), f"  - {hint}",
            *(f"    - {d}" for d in details)]


def labels_line(*labels: str) -> str:
    return "labels: " + ", ".join(sorted([SUBMITTED, *labels]))


def test_passing_submission_fetches_the_release_list(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    code, out = run(capsys, str(folder))
    # every verdict carries conformance-product-submission, as the bot's suite starts with it
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
         [SUBMITTED, "no-failed-tests-v1.35", "release-documents-checked", "release-v1.35",
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


NOT_THERE = "1 of 441 required tests missing, skipped or failed"
ONE_FAILED = "1 [Conformance] testcase(s) failed or errored"
FAILED_RUN = "e2e.log ends with 'FAIL! -- {} Passed | 1 Failed | 0 Pending | 3000 Skipped'"


@pytest.mark.parametrize("kwargs, code, failed, labels, view", [
    pytest.param(
        {"omit": (MISSING,)}, 1, {8: (NOT_THERE, MISSING)},
        labels_line("no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                    "required-tests-missing"),
        [(MISSING, "missing")], id="one required test missing"),
    pytest.param(
        {"status": {QUOTED: "failed"}}, 1,
        {7: (FAILED_RUN.format(440),), 8: (NOT_THERE, QUOTED), 9: (ONE_FAILED, QUOTED)},
        labels_line("evidence-missing", "not-verifiable", "release-v1.35",
                    "required-tests-missing"),
        [(QUOTED, "failed")], id="one failed"),
    # the bot counts an errored test as there (tests-verified) but not as passed
    pytest.param(
        {"status": {ROLLOVER: "errored"}}, 1,
        {7: (FAILED_RUN.format(440),), 9: (ONE_FAILED, ROLLOVER)},
        labels_line("evidence-missing", "not-verifiable", "release-v1.35",
                    "tests-verified-v1.35"),
        [(ROLLOVER, "errored")], id="one errored"),
    pytest.param(
        {"status": {ROLLOVER: "skipped"}}, 1, {8: (NOT_THERE, ROLLOVER)},
        labels_line("no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                    "required-tests-missing"),
        [(ROLLOVER, "skipped")], id="one skipped"),
    pytest.param({"extra": (EXTRA,)}, 0, {}, PASSED_LABELS, [], id="an extra test"),
    pytest.param(
        {"extra": (EXTRA,), "status": {EXTRA: "failed"}}, 1,
        {7: (FAILED_RUN.format(441),), 9: (ONE_FAILED, EXTRA)},
        labels_line("evidence-missing", "not-verifiable", "release-v1.35",
                    "tests-verified-v1.35"),
        [], id="an extra test failed"),
    pytest.param({"prefix": ""}, 0, {}, PASSED_LABELS, [], id="names without [It]"),
    # beyond the bot: reported, but the labels and the exit status are the bot's
    pytest.param(
        {"apiserver": "v1.34.2-eks-d96d92f"}, 0,
        {6: ("e2e.log: kube-apiserver version v1.34.2-eks-d96d92f is not v1.35",)},
        PASSED_LABELS, [], id="mismatched e2e.log version"),
    pytest.param(
        {"without": ("e2e.log",)}, 1,
        {0: ("missing: e2e.log",), 6: ("e2e.log is missing or empty",),
         7: ("e2e.log is missing or empty",)},
        labels_line("missing-file-e2e.log", "no-failed-tests-v1.35", "not-verifiable",
                    "release-v1.35", "tests-verified-v1.35"), [], id="missing e2e.log"),
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


def test_missing_junit_gives_no_test_labels(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35, without=("junit_01.xml",))
    (folder / "README.md").write_text("")
    (folder / "notes.txt").write_text("extra")
    (folder / "logs").mkdir()
    no_junit = "junit_01.xml is missing or empty"
    assert run(capsys, str(folder)) == (1, [
        "v1.35/coolkube: 6 of 10 requirements have passed",
        *fail(0, "missing: junit_01.xml; empty: README.md"),
        *fail(1, "remove 2 other file(s): logs, notes.txt"),
        *CHECKS[2:8],
        *fail(8, f"{no_junit}: none of the 441 required tests can be verified"),
        *fail(9, no_junit),
        labels_line("missing-file-junit_01.xml", "not-verifiable", "release-v1.35")])
    # with no junit, every required test is missing
    assert rows(conn, "SELECT status, count(*) FROM conformance.submission_missing_test"
                " GROUP BY 1") == [("missing", 441)]


@pytest.mark.parametrize("content, hint", [
    # an empty file is in the pull request's file list: no missing-file label
    pytest.param("", "junit_01.xml is missing or empty", id="empty"),
    pytest.param(None, "the bot cannot read junit_01.xml: junit_01.xml: not well-formed XML:"
                 " unclosed token: line 26, column 10", id="malformed"),
    pytest.param('<?xml version="1.0"?>\n<testsuite name="e2e"><testcase name="a"/>'
                 "</testsuite>\n", "the bot cannot read junit_01.xml: junit_01.xml: expected"
                 " element type <testsuites> but have <testsuite>", id="no testsuites root"),
])
def test_empty_or_unreadable_junit_gives_no_test_labels(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], content: str | None, hint: str,
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    junit = folder / "junit_01.xml"
    junit.write_text(junit.read_text()[:5000] if content is None else content)
    code, out = run(capsys, str(folder))
    empty = content == ""
    assert (code, out[-5:]) == (1, [
        *fail(8, hint if not empty else f"{hint}: none of the 441 required tests can be"
              " verified"),
        *fail(9, hint), labels_line("not-verifiable", "release-v1.35")])
    assert out[1:3] == (fail(0, "empty: junit_01.xml") if empty else CHECKS[:2])
    assert rows(conn, "SELECT result, labels, error FROM conformance.submission") == [
        ("failed", [SUBMITTED, "not-verifiable", "release-v1.35"], None)]


def test_bad_product_yaml(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    product = dict(PRODUCT, type="managed service", website_url="coolkube.example.com",
                   contact_email_address="support at coolkube", description=None,
                   repo_url="git@github.com:cool/kube.git")
    del product["documentation_url"]
    folder = make_submission(tmp_path, tests_1_35, product_yaml=product)
    formats = ("URL for field 'website_url' in PRODUCT.yaml is not a valid URL, parse"
               ' "coolkube.example.com": invalid URI for request; URL for field \'repo_url\' in'
               ' PRODUCT.yaml is not a valid URL, parse "git@github.com:cool/kube.git": invalid'
               " URI for request; email field 'contact_email_address' in PRODUCT.yaml is not a"
               " valid address, mail: no angle-addr")
    code, lines, bot = bot_run(capsys, str(folder))
    # the bot's comment: its words, HTML-escaped as it posts them
    assert bot == [
        "status: failure (Please check failing requirements and update accordingly)",
        "comment:",
        "> 13 of 15 requirements have passed. Please review the following:",
        "> - [FAIL] it appears that the PRODUCT.yaml file does not contain all the required"
        " fields (https://github.com/cncf/k8s-conformance/blob/master/instructions.md"
        "#productyaml)",
        ">   - missing or empty field &#39;description&#39; in file &#39;PRODUCT.yaml&#39;",
        ">   - missing or empty field &#39;documentation_url&#39; in file &#39;PRODUCT.yaml&#39;",
        "> - [FAIL] it appears that field(s) in the PRODUCT.yaml aren't correctly formatted",
        ">   - URL for field &#39;website_url&#39; in PRODUCT.yaml is not a valid URL, parse"
        " &#34;coolkube.example.com&#34;: invalid URI for request",
        ">   - URL for field &#39;repo_url&#39; in PRODUCT.yaml is not a valid URL, parse"
        " &#34;git@github.com:cool/kube.git&#34;: invalid URI for request",
        ">   - email field &#39;contact_email_address&#39; in PRODUCT.yaml is not a valid"
        " address, mail: no angle-addr",
        ">",
        ">  for a full list of requirements, please refer to these sections of the docs:"
        " [_content of the PR_](https://github.com/cncf/k8s-conformance/blob/master/"
        "instructions.md#contents-of-the-pr), and [_requirements_](https://github.com/cncf/"
        "k8s-conformance/blob/master/instructions.md#requirements)."]
    assert (code, lines) == (1, [
        "v1.35/coolkube: 7 of 10 requirements have passed",
        *CHECKS[:3],
        *fail(3, "missing or null: description, documentation_url"),
        *fail(4, "type 'managed service' is not one of: distribution, hosted platform,"
                 " installer"),
        *fail(5, formats),
        *CHECKS[6:],
        labels_line("no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                    "tests-verified-v1.35")])
    assert rows(conn, "SELECT name, hint FROM conformance.submission_check WHERE NOT passed"
                " ORDER BY position") == [
        ("product-fields", "missing or null: description, documentation_url"),
        ("product-type",
         "type 'managed service' is not one of: distribution, hosted platform, installer"),
        ("product-format", formats)]


def test_product_checks_as_the_bot_makes_them(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # vendor "" is there (only a missing or null field fails); a type outside the list
    # never fails the bot (its step never matches); a URL may be any absolute URI or path
    # and an address needs no dot in its domain, as Go's parsers have it
    product = dict(PRODUCT, vendor="", type="managed service", website_url="ftp://example",
                   documentation_url="/docs", repo_url="https://x.example/a b",
                   contact_email_address="support@localhost")
    folder = make_submission(tmp_path, tests_1_35, product_yaml=product)
    code, out = run(capsys, str(folder))
    assert (code, out[0], out[5:7], out[-1]) == (
        0, "v1.35/coolkube: 9 of 10 requirements have passed",
        fail(4, "type 'managed service' is not one of: distribution, hosted platform,"
                " installer"), PASSED_LABELS)
    assert run(capsys, str(folder), "--strict")[0] == 1
    assert rows(conn, "SELECT result, vendor FROM conformance.submission") == [("passed", None)]


def test_e2e_log_without_version_or_summary_passes_the_bot(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    (folder / "e2e.log").write_text("the bot only checks that e2e.log is not empty\n")
    code, out = run(capsys, str(folder))
    assert (code, out) == (0, [
        "v1.35/coolkube: 8 of 10 requirements have passed", *CHECKS[:6],
        *fail(6, "e2e.log has no 'kube-apiserver version:' line"),
        *fail(7, "e2e.log has no final 'SUCCESS! -- N Passed | 0 Failed | 0 Pending"
                 " | M Skipped' line"),
        *CHECKS[8:], PASSED_LABELS])
    assert run(capsys, str(folder), "--strict")[0] == 1
    assert rows(conn, "SELECT result FROM conformance.submission") == [("passed",)]


@pytest.mark.parametrize("content, hint", [
    ("vendor: [unclosed",
     "PRODUCT.yaml: not YAML: did not find expected ',' or ']' (line 2, column 1)"),
    ("- just\n- a list\n", "PRODUCT.yaml is not a mapping of fields"),
])
def test_unreadable_product_yaml_fails_every_product_check(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], content: str, hint: str,
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    (folder / "PRODUCT.yaml").write_text(content)
    code, out = run(capsys, str(folder))
    assert (code, out[0], out[4:10]) == (1, "v1.35/coolkube: 7 of 10 requirements have passed",
                                         [*fail(3, hint), *fail(4, hint), *fail(5, hint)])


def test_release_out_of_the_window_is_not_processed(
    conn: psycopg.Connection, settings: object, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # newest released 1.36: 1.34 is the oldest accepted; nothing is checked, nor fetched
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", "http://127.0.0.1:9/unreachable")
    folder = make_submission(tmp_path, tests_1_35, version="v1.33", apiserver="v1.33.1")
    assert run(capsys, str(folder)) == (3, [
        ("v1.33/coolkube: cannot be processed: v1.33 is older than v1.34, the oldest release"
         " still accepted (newest v1.36 minus 2)"), UNABLE_LABELS])
    assert rows(conn, "SELECT result, checks_total, labels FROM conformance.submission") == [
        ("unprocessable", 0, [SUBMITTED, "unable-to-process"])]


def test_release_with_no_conformance_list(
    conn: psycopg.Connection, github: str, shared_data: Path, tests_1_35: list[str],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # no release-1.34 list on the server
    folder = make_submission(tmp_path, tests_1_35, version="v1.34", apiserver="v1.34.1")
    assert run(capsys, str(folder)) == (3, [
        (f"v1.34/coolkube: cannot be processed: no conformance list for v1.34: {github}/"
         "kubernetes/kubernetes/release-1.34/test/conformance/testdata/conformance.yaml: not"
         " found (404)"), UNABLE_LABELS])
    # a release snoopdb does not know yet is verified with the list given
    newer = make_submission(tmp_path, tests_1_35, version="v1.37", apiserver="v1.37.0")
    listing = shared_data / "conformance" / "conformance-1.35.yaml"
    code, out = run(capsys, str(newer), "--conformance-file", str(listing))
    assert (code, out[0], out[-1]) == (
        0, "v1.37/coolkube: 10 of 10 requirements have passed",
        PASSED_LABELS.replace("v1.35", "v1.37"))


def test_download_error_names_the_variable_and_the_option_that_does_without(
    conn: psycopg.Connection, settings: object, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "1")
    folder = make_submission(tmp_path, tests_1_35)
    assert run(capsys, str(folder)) == (3, [
        (f"v1.35/coolkube: cannot be processed: http://127.0.0.1:{port}/kubernetes/kubernetes/"
         "release-1.35/test/conformance/testdata/conformance.yaml: connection refused (gave up"
         " after 1 attempt within the 900s deadline) (SNOOPDB_GITHUB_RAW_URL points there: set"
         " it to a reachable mirror, or use --conformance-file FILE)")])


def test_requires_tests_from_the_first_release_they_list(
    conn: psycopg.Connection, settings: object, shared_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a 1.34 submission checked against 1.35's list: tests first listed in 1.35 are not
    # required (they are left out of the junit); "v1.21, v1.35" ones count from 1.21
    listing = shared_data / "conformance" / "conformance-1.35.yaml"
    entries = yaml.safe_load(listing.read_bytes())
    old = [t["codename"] for t in entries
           if int(str(t.get("release") or "v1.9").split(",")[0].strip().split(".")[1]) <= 34]
    assert (len(entries), len(old)) == (441, 427)
    folder = make_submission(tmp_path, old, version="v1.34", apiserver="v1.34.4")
    code, out = run(capsys, str(folder), "--conformance-file", str(listing),
                    "--title", "Conformance results for v1.34/coolkube")
    assert (code, out) == (0, [
        "v1.34/coolkube: 12 of 12 requirements have passed",
        *CHECKS[:6],
        "[PASS] the title reads like 'Conformance results for vX.Y/<product>'",
        "[PASS] the title names the folder's release",
        "[PASS] e2e.log: the kube-apiserver version is v1.34 (beyond the bot)",
        CHECKS[7],
        ("[PASS] junit_01.xml: all 427 required conformance tests of v1.34 are there, none"
         " skipped or failed"),
        CHECKS[9],
        PASSED_LABELS.replace("v1.35", "v1.34")])
    assert rows(conn, "SELECT count(*) FROM conformance.release_test WHERE release = '1.34.0'") \
        == [(441,)]
    assert rows(conn, "SELECT count(*) FROM conformance.submission_missing_test") == [(0,)]


@pytest.mark.parametrize("title, code, expected", [
    ("Conformance results for v1.35/coolkube", 0, []),
    ("Conformance results for v1.35 CoolKube", 0, []),
    ("conformance results for v1.34/CoolKube", 1,
     ["[PASS] the title reads like 'Conformance results for vX.Y/<product>'",
      "[FAIL] the title names the folder's release",
      "  - the title names v1.34, the folder v1.35"]),
    ("Conformance results for v1.35-coolkube", 1,
     ["[FAIL] the title reads like 'Conformance results for vX.Y/<product>'",
      "  - the title should read 'Conformance results for v1.35/coolkube'",
      "[FAIL] the title names the folder's release",
      "  - the title names no release (v1.NN followed by a space or /)"]),
])
def test_title(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], title: str, code: int, expected: list[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35)
    result, out = run(capsys, str(folder), "--title", title)
    assert result == code
    assert [line for line in out if "title" in line] == (
        expected or ["[PASS] the title reads like 'Conformance results for vX.Y/<product>'",
                     "[PASS] the title names the folder's release"])
    assert rows(conn, "SELECT title FROM conformance.submission") == [(title,)]


def test_title_of_no_submission_is_labelled_so(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the bot checks nothing: it labels the pull request no submission, says why, and
    # sets a pending status
    folder = make_submission(tmp_path, tests_1_35)
    assert bot_run(capsys, str(folder), "--title", "CoolKube 1.35 results") == (3, [
        ("v1.35/coolkube: cannot be processed: its title does not contain 'conformance results"
         " for': no submission's, for the bot"),
        "labels: not-conformance-product-submission, unable-to-process"], NOT_A_SUBMISSION)
    code, out = run(capsys, str(folder), "--title", "CoolKube 1.35 results", "--json")
    document = json.loads("\n".join(out))
    assert (code, document["result"], document["labels"], document["add"], document["remove"],
            document["checks"], document["status"]) == (
        3, "unprocessable", ["not-conformance-product-submission", "unable-to-process"],
        ["not-conformance-product-submission", "unable-to-process"], [], [], "pending")
    assert document["comment"] == "\n".join(line[2:] for line in NOT_A_SUBMISSION[2:])
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(0,)]


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
        code, out = run(capsys, str(good), "--check-urls", "--allow-private-urls")
        assert (code, out[0], out[7:9]) == (
            0, "v1.35/coolkube: 12 of 12 requirements have passed",
            ["[PASS] PRODUCT.yaml URLs lead to HTML pages",
             "[PASS] PRODUCT.yaml URLs answer 200 (beyond the bot)"])
        # the bot fails a page on its content type only; a 404 page is HTML
        product.update(documentation_url=f"{url}/logo.png", repo_url=f"{url}/nowhere")
        bad = make_submission(tmp_path / "bad", tests_1_35, product_yaml=product)
        code, out = run(capsys, str(bad), "--check-urls", "--allow-private-urls")
        assert (code, out[7:11]) == (1, [
            "[FAIL] PRODUCT.yaml URLs lead to HTML pages",
            f"  - documentation_url {url}/logo.png: content type image/png, not text/html",
            "[FAIL] PRODUCT.yaml URLs answer 200 (beyond the bot)",
            f"  - repo_url {url}/nowhere: HTTP 404"])
    finally:
        server.shutdown()
        server.server_close()


def test_check_urls_refuses_private_addresses(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body>secret</body></html>")
    url, server = serve_directory(site)
    try:
        product = dict(PRODUCT, website_url=f"{url}/", documentation_url=f"{url}/")
        folder = make_submission(tmp_path, tests_1_35, product_yaml=product)
        code, out = run(capsys, str(folder), "--check-urls")
        # not asked: what the bot sees as an unanswered URL (it passes), snoopdb reports it
        assert (code, out[7:10]) == (0, [
            "[PASS] PRODUCT.yaml URLs lead to HTML pages",
            "[FAIL] PRODUCT.yaml URLs answer 200 (beyond the bot)",
            (f"  - website_url {url}/: refused: loopback address 127.0.0.1; documentation_url"
             f" {url}/: refused: loopback address 127.0.0.1")])
    finally:
        server.shutdown()
        server.server_close()
    assert [refused_address(a) for a in ("169.254.169.254", "10.1.2.3", "::1", "fe80::1",
                                         "::ffff:192.168.0.1", "8.8.8.8")] == [
        "link-local address 169.254.169.254", "private address 10.1.2.3",
        "loopback address ::1", "link-local address fe80::1", "private address 192.168.0.1",
        None]


def test_check_urls_refuses_an_address_before_connecting() -> None:
    # an open port and a closed one answer alike, and the open one sees no connection
    listener = socket.create_server(("127.0.0.1", 0))
    closed = socket.create_server(("127.0.0.1", 0))
    ports = [server.getsockname()[1] for server in (listener, closed)]
    closed.close()
    try:
        session = url_session()
        answers = [ask_page(session, f"http://127.0.0.1:{port}/") for port in ports]
        by_name = ask_page(session, f"http://localhost:{ports[0]}/")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert answers == [PageAnswer("", "refused: loopback address 127.0.0.1")] * 2
    assert by_name.problem is not None and by_name.problem.startswith(
        "refused: loopback address ")


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
        code, out = run(capsys, str(folder), "--check-urls", "--allow-private-urls",
                        "--strict")
        assert (code, out[7:10]) == (1, [
            "[PASS] PRODUCT.yaml URLs lead to HTML pages",
            "[FAIL] PRODUCT.yaml URLs answer 200 (beyond the bot)",
            f"  - documentation_url {url}/missing: HTTP 404"])
    finally:
        server.shutdown()
        server.server_close()


BOMB = "\n".join(
    [f'{chr(97)}: &{chr(97)} [{", ".join(["lol"] * 9)}]']
    + [f"{chr(97 + n)}: &{chr(97 + n)} [{', '.join([f'*{chr(96 + n)}'] * 9)}]"
       for n in range(1, 9)]
    + ["vendor: *i", ""])


def test_alias_bomb_in_product_yaml_is_refused_fast(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(BOMB) < 600
    folder = make_submission(tmp_path, tests_1_35)
    (folder / "PRODUCT.yaml").write_text(BOMB)
    started = time.monotonic()
    code, out = run(capsys, str(folder))
    hint = "PRODUCT.yaml: more than 10000 YAML nodes once aliases are expanded (an alias bomb?)"
    assert (code, out[4:10]) == (1, [*fail(3, hint), *fail(4, hint), *fail(5, hint)])
    assert time.monotonic() - started < 10  # 9**9 nodes once expanded: never built
    with pytest.raises(InputError, match=r"^x.yaml: more than 1000000 YAML nodes"):
        load_bounded(BOMB, source="x.yaml")
    with pytest.raises(InputError, match=r"^x.yaml: 12 bytes, more than the 10 byte limit for a YAML file$"):
        load_bounded(b"vendor: Cool", source="x.yaml", max_bytes=10)
    with pytest.raises(InputError, match=r"^x.yaml: a YAML alias refers to a node that"):
        load_bounded("a: &a [*a]", source="x.yaml")


def test_symbolic_links_are_not_followed(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(yaml.safe_dump(dict(PRODUCT, vendor="Secret Vendor")))
    folder = make_submission(tmp_path, tests_1_35)
    (folder / "PRODUCT.yaml").unlink()
    (folder / "PRODUCT.yaml").symlink_to(secret)
    code, out = run(capsys, str(folder))
    # git keeps a link as its target's path: that is what the bot, and snoopdb, read
    hint = "PRODUCT.yaml is not a mapping of fields"
    assert (code, out[3:11]) == (1, [
        *fail(2, "not followed nor opened: PRODUCT.yaml (symbolic link)"),
        *fail(3, hint), *fail(4, hint), *fail(5, hint)])
    assert out[-1] == labels_line("no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                                  "tests-verified-v1.35")
    assert rows(conn, "SELECT vendor FROM conformance.submission") == [(None,)]

    # --all: a product folder that is a link is not entered
    elsewhere = make_submission(tmp_path / "elsewhere", tests_1_35, product="real")
    root = tmp_path / "checkout"
    (root / "v1.35").mkdir(parents=True)
    (root / "v1.35" / "linked").symlink_to(elsewhere)
    code, out = run(capsys, "--all", str(root))
    assert (code, out[1]) == (1, ("v1.35/linked  failed  1/10    files, regular-files,"
                                  " product-fields, product-type, product-format, e2e-version,"
                                  " e2e-success, required-tests, no-failed-tests"))
    assert rows(conn, "SELECT labels FROM conformance.submission WHERE product = 'linked'") == [
        ([SUBMITTED, "missing-file-PRODUCT.yaml", "missing-file-README.md",
          "missing-file-e2e.log", "missing-file-junit_01.xml", "not-verifiable",
          "release-v1.35"],)]


def test_a_fifo_is_never_opened(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = make_submission(tmp_path, tests_1_35, without=("e2e.log",))
    os.mkfifo(folder / "e2e.log")  # opening it to read would wait for a writer forever
    code, out = run(capsys, str(folder))
    assert (code, out[4:6], out[-1]) == (
        1, fail(2, "not followed nor opened: e2e.log (not a regular file)"),
        labels_line("missing-file-e2e.log", "no-failed-tests-v1.35", "not-verifiable",
                    "release-v1.35", "tests-verified-v1.35"))


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
        "submission": "v1.35/coolkube", "path": str(folder), "pull_request": None,
        "title": None, "release": "v1.35",
        "product": "coolkube", "result": "failed", "passed_checks": 9, "total_checks": 10,
        "labels": [SUBMITTED, "no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                   "required-tests-missing"], "error": None,
        # a new pull request: no labels yet, every one added
        "add": [SUBMITTED, "no-failed-tests-v1.35", "not-verifiable", "release-v1.35",
                "required-tests-missing"], "remove": [], "status": "failure",
        "comment": (
            "13 of 15 requirements have passed. Please review the following:\n"
            "- [FAIL] it appears that some tests are missing from the product submission\n"
            f"  - the following test(s) are missing or failed: \n    - {MISSING}\n"
            "- [FAIL] it appears that some tests failed in the product submission\n"
            f"  - there appears to be 1 tests missing: \n    - {MISSING}\n\n"
            " for a full list of requirements, please refer to these sections of the docs:"
            f" [_content of the PR_]({INSTRUCTIONS}#contents-of-the-pr), and [_requirements_]"
            f"({INSTRUCTIONS}#requirements).\n")}
    assert document["checks"][8] == {
        "name": "required-tests",
        "title": ("junit_01.xml: all 441 required conformance tests of v1.35 are there, none"
                  " skipped or failed"),
        "passed": False, "hint": NOT_THERE, "details": [MISSING], "beyond_the_bot": False}
    assert document["checks"][6]["beyond_the_bot"] is True


def test_all_prints_a_summary_and_fills_the_missing_test_view(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_submission(tmp_path, tests_1_35, product="alpha")
    make_submission(tmp_path, tests_1_35, product="beta", omit=(MISSING, ROLLOVER))
    make_submission(tmp_path, tests_1_35, product="gamma", status={QUOTED: "failed"})
    make_submission(tmp_path, tests_1_35, product="old", version="v1.30")
    (tmp_path / "docs").mkdir()
    assert run(capsys, "--all", str(tmp_path)) == (3, [
        "SUBMISSION   RESULT         CHECKS  FAILED CHECKS / ERROR",
        ("v1.30/old    unprocessable  0/0     v1.30 is older than v1.34, the oldest release still"
        " accepted (newest v1.36 minus 2)"),
        "v1.35/alpha  passed         10/10",
        "v1.35/beta   failed         9/10    required-tests",
        "v1.35/gamma  failed         7/10    e2e-success, required-tests, no-failed-tests",
        "4 submissions: 1 passed, 2 failed, 1 unprocessable"])
    assert rows(conn, "SELECT submission, codename, status FROM"
                " conformance.submission_missing_test ORDER BY 1, 2") == [
        ("v1.35/beta", ROLLOVER, "missing"), ("v1.35/beta", MISSING, "missing"),
        ("v1.35/gamma", QUOTED, "failed")]
    assert run(capsys, "--all", str(tmp_path), "--release", "v1.35")[0] == 1
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(4,)]
    assert main(["verify-submission", "--all", str(tmp_path), "--release", "v1.31"]) == 1
    assert capsys.readouterr().err == f"snoopdb: error: {tmp_path}: no v1.31/<product> folders\n"


def test_folder_naming_no_release_is_not_processed(
    conn: psycopg.Connection, github: str, tests_1_35: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the bot reads the release from the path: none there, no release, unable-to-process
    stray = make_submission(tmp_path, tests_1_35, version="incoming", product="stray")
    assert run(capsys, str(stray)) == (3, [
        ("stray: cannot be processed: the parent folder 'incoming' names no release (vX.Y;"
         " give --release): the bot finds none ('Unable to parse release version.')"),
        UNABLE_LABELS])
    # the four files directly in v1.35/: v1.35 is no product, with --release or without
    release = make_submission(tmp_path / "flat", tests_1_35)
    for name in ("README.md", "PRODUCT.yaml", "e2e.log", "junit_01.xml"):
        (release / name).rename(release.parent / name)
    release.rmdir()
    for extra in ((), ("--release", "v1.35")):
        assert run(capsys, str(release.parent), *extra) == (3, [
            ("v1.35: cannot be processed: the files are directly in v1.35/, not in a"
             " v1.35/<product>/ folder: the bot finds no release ('Unable to parse release"
             " version.')"), UNABLE_LABELS])
    # no release names them in the table: not stored
    assert rows(conn, "SELECT count(*) FROM conformance.submission") == [(0,)]


ONE_MODE = "give one of a submission folder DIR, --all ROOT, --pr ROOT or --github OWNER/REPO#N"


@pytest.mark.parametrize("argv, message", [
    ([], ONE_MODE),
    (["x", "--all", "y"], ONE_MODE),
    (["--pr", "x", "--github", "o/r#1"], ONE_MODE),
    (["--all", "y", "--title", "t"],
     "--title is one pull request's, given by you with DIR or --pr, not with --all"),
    (["--github", "o/r#1", "--title", "t"],
     "--title is one pull request's, given by you with DIR or --pr, not with --github"),
    (["--pr", "x"], "--pr needs the pull request's --title: the bot checks it"),
    (["x", "--base", "main"], "--base is where the pull request of --pr starts"),
    (["--pr", "x", "--title", "t", "--release", "v1.35"],
     "with --pr, the release is read from the files' paths, as the bot reads it"),
])
def test_bad_options(
    settings: object, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify-submission", *argv]) == 2
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
    # what follows the root element is never read, as by the bot's Go decoder
    path.write_text("<testsuites><testsuite><testcase name='a'/></testsuite></testsuites>"
                    "<junk")
    assert list(read_junit(path)) == [Case("a", "passed")]
    # entities are refused, so no "billion laughs"
    path.write_text('<!DOCTYPE t [<!ENTITY a "aaaa">]><testsuites/>')
    with pytest.raises(InputError, match=r"declares the XML entity 'a'"):
        list(read_junit(path))



def test_a_file_swapped_for_a_fifo_after_listing_is_not_read(tmp_path: Path) -> None:
    # listed as a regular file, a FIFO by the time it is opened: refused, never waited on
    os.mkfifo(tmp_path / "e2e.log")
    with pytest.raises(InputError, match=r"e2e.log: not a regular file$"):
        Entry(tmp_path / "e2e.log", "file", 10).open()
