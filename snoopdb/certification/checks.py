"""Checking a k8s-conformance certification submission the way the CNCF bot
(kubernetes-sigs/verify-conformance) does: the folder `vX.Y/<product>/` with
README.md, PRODUCT.yaml, e2e.log and junit_01.xml.

Everything here reads files and returns data; storing results is
`snoopdb.certification.store`, printing them is the CLI.
"""

from __future__ import annotations

import email.utils
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import requests
import yaml

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.releases import Release, parse_release
from snoopdb.loaders import conformance

FILES = ("README.md", "PRODUCT.yaml", "e2e.log", "junit_01.xml")
PRODUCT_FIELDS = ("vendor", "name", "version", "type", "description", "website_url",
                  "documentation_url", "contact_email_address")
PRODUCT_TYPES = ("distribution", "hosted platform", "installer")
# Optional fields the bot also checks when present.
URL_FIELDS = ("website_url", "documentation_url", "repo_url", "product_logo_url")
# Fields whose URL must lead to a web page (a logo is an image).
PAGE_FIELDS = ("website_url", "documentation_url", "repo_url")
SUPPORTED_MINORS = 2
TITLE_PHRASE = "Conformance results for"
URL_TIMEOUT = (5, 20)

_FOLDER_RELEASE = re.compile(r"^v(\d+)\.(\d+)$")
_TITLE_RELEASE = re.compile(r"\bv(\d+)\.(\d+)\b")
_APISERVER_VERSION = re.compile(r"kube-apiserver version: (v?(\d+)\.(\d+)\S*)")
_SUMMARY = re.compile(r"(?:SUCCESS|FAIL)! -- (\d+) Passed \| (\d+) Failed \| (\d+) Pending"
                      r" \| (\d+) Skipped")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>.]+(\.[^@\s<>.]+)+")


@dataclass(frozen=True)
class ReleaseTest:
    """A test of a release's conformance.yaml; required from `first_release` on."""

    codename: str
    testname: str
    first_release: Release
    last_release: Release
    description: str
    file: str


@dataclass(frozen=True)
class Submission:
    """A submission folder and the release it is for."""

    path: Path
    release: Release
    product: str

    @property
    def name(self) -> str:
        """`v1.35/coolkube`, its place in cncf/k8s-conformance."""
        return f"{version_name(self.release)}/{self.product}"


class Testcase(NamedTuple):
    """A junit_01.xml testcase: name without a leading `[It] `, and how it ended.
    (A tuple: thousands are made per submission, and tuples are the cheapest to make.)"""

    name: str
    status: str  # passed | skipped | failed | errored

    @property
    def conformance(self) -> bool:
        return "[Conformance]" in self.name


@dataclass(frozen=True)
class Check:
    """One requirement: whether it passed, a one-line hint when not, and the
    names behind the hint (missing tests, failed tests)."""

    name: str
    title: str
    passed: bool
    hint: str = ""
    details: tuple[str, ...] = ()


@dataclass
class Verification:
    """The outcome for one submission. `error` is set, and `checks` empty, when it
    could not be processed (unknown release, unreadable junit_01.xml, no conformance list)."""

    submission: Submission
    checks: list[Check] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    testcases: list[Testcase] = field(default_factory=list)
    product: dict[str, str] = field(default_factory=dict)
    apiserver_version: str | None = None
    title: str | None = None
    error: str | None = None

    @property
    def result(self) -> str:
        """passed, failed or unprocessable."""
        if self.error is not None:
            return "unprocessable"
        return "passed" if all(c.passed for c in self.checks) else "failed"

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "unprocessable": 2}[self.result]

    @property
    def passed_checks(self) -> int:
        return sum(c.passed for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (testcases left out: the database keeps them)."""
        return {
            "submission": self.submission.name,
            "path": str(self.submission.path),
            "release": version_name(self.submission.release),
            "product": self.submission.product,
            "result": self.result,
            "passed_checks": self.passed_checks,
            "total_checks": len(self.checks),
            "checks": [{"name": c.name, "title": c.title, "passed": c.passed, "hint": c.hint,
                        "details": list(c.details)} for c in self.checks],
            "labels": self.labels,
            "error": self.error,
        }


def version_name(release: Release) -> str:
    """`v1.35`: how folders, titles and labels name a release."""
    return f"v{release.minor_name}"


def locate(path: Path, release: str | None = None) -> Submission:
    """The submission in folder `path`; its release from `release` (v1.35, 1.35) or else
    from the parent folder's name (`v1.35/<product>`)."""
    if not path.is_dir():
        raise InputError(f"{path}: not a submission folder")
    resolved = path.resolve()
    if release is not None:
        wanted = parse_release(release)
        return Submission(resolved, Release(wanted.major, wanted.minor), resolved.name)
    match = _FOLDER_RELEASE.match(resolved.parent.name)
    if not match:
        raise ReleaseError(f"{path}: the parent folder {resolved.parent.name!r} names no release"
                           " (vX.Y); give --release")
    return Submission(resolved, Release(int(match[1]), int(match[2])), resolved.name)


def find_submissions(root: Path, release: Release | None = None) -> list[Submission]:
    """Every `vX.Y/<product>` folder under a cncf/k8s-conformance checkout (only `release`'s
    when given), ordered by release then product."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    found = []
    for version_dir in root.iterdir():
        match = _FOLDER_RELEASE.match(version_dir.name)
        if not match or not version_dir.is_dir():
            continue
        minor = Release(int(match[1]), int(match[2]))
        if release is not None and minor != release:
            continue
        found += [Submission(p.resolve(), minor, p.name) for p in version_dir.iterdir()
                  if p.is_dir()]
    if not found:
        which = f"{version_name(release)}/<product>" if release else "vX.Y/<product>"
        raise InputError(f"{root}: no {which} folders")
    return sorted(found, key=lambda s: (s.release, s.product))


def parse_release_tests(content: bytes, origin: str) -> list[ReleaseTest]:
    """The tests of a conformance.yaml with the first and last release each lists.

    `conformance.parse` validates the list and gives the last release (snoopDB's
    `release`); the bot requires a test from the first one listed ("v1.9, v1.18"
    → 1.9), which only the raw `release:` value carries.
    """
    tests = conformance.parse(content, origin)
    entries = yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    result = []
    for number, (test, entry) in enumerate(zip(tests, entries, strict=False), 1):
        try:
            first = _first_release(entry.get("release"))
        except ReleaseError as exc:
            raise InputError(f"{origin}: test #{number}: {exc}") from exc
        result.append(ReleaseTest(test.codename, test.testname, first,
                                  parse_release(test.release), test.description, test.file))
    return result


def _first_release(value: object) -> Release:
    text = "" if value is None else str(value).strip()
    if not text:
        return parse_release("1.9")  # tests that predate the field, as snoopDB reads them
    return parse_release(text.split(",")[0])


def required_tests(tests: Sequence[ReleaseTest], release: Release) -> list[ReleaseTest]:
    """The tests a submission for `release` must pass: those listed from `release` or earlier."""
    return [t for t in tests if t.first_release <= release]


def read_junit(path: Path) -> Iterator[Testcase]:
    """The testcases of a junit XML file, streamed: each testcase is cleared once read,
    so a 3 MB file of 7,000 testcases never sits in memory as a tree (only the empty
    testcase shells stay in their suite until it ends; removing each from its parent
    would need start events too, which cost more time than the shells cost memory)."""
    try:
        for _, element in ET.iterparse(path):
            if element.tag == "testcase":
                yield Testcase(_without_it(element.get("name", "")), _status(element))
                element.clear()
            elif element.tag == "testsuite":
                element.clear()
    except ET.ParseError as exc:
        raise InputError(f"{path}: not well-formed XML: {exc}") from exc


def _without_it(name: str) -> str:
    # Ginkgo v2 prefixes spec names with the node type; conformance.yaml does not.
    return name.removeprefix("[It] ")


def _status(testcase: ET.Element) -> str:
    tags = {child.tag for child in testcase}
    if "failure" in tags:
        return "failed"
    if "error" in tags:
        return "errored"
    if "skipped" in tags:
        return "skipped"
    return "passed"


@dataclass(frozen=True)
class E2eLog:
    """What e2e.log says: the API server's version and the run's final summary line."""

    apiserver_version: str | None
    apiserver_minor: Release | None
    summary: str | None
    succeeded: bool


def read_e2e_log(path: Path) -> E2eLog:
    """Stream e2e.log: the first `kube-apiserver version:` and the last Ginkgo summary."""
    version = minor = summary = None
    succeeded = False
    with path.open("rb") as lines:
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            if version is None and "kube-apiserver version:" in line:
                found = _APISERVER_VERSION.search(line)
                if found:
                    version, minor = found[1], Release(int(found[2]), int(found[3]))
            elif "! -- " in line:
                found = _SUMMARY.search(line)
                if found:
                    summary = found[0]
                    succeeded = (summary.startswith("SUCCESS")
                                 and found[2] == "0" and found[3] == "0")
    return E2eLog(version, minor, summary, succeeded)


def read_product(path: Path) -> dict[str, Any]:
    """PRODUCT.yaml as a mapping; InputError when it is not YAML or not a mapping."""
    try:
        content = yaml.safe_load(path.read_bytes())
    except yaml.MarkedYAMLError as exc:
        # the problem and where, without the quoted snippet: the hint stays one line
        where = f" (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})" \
            if exc.problem_mark else ""
        raise InputError(f"PRODUCT.yaml is not YAML: {exc.problem}{where}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"PRODUCT.yaml is not YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(content, dict):
        raise InputError("PRODUCT.yaml is not a mapping of fields")
    return content


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def is_url(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not re.search(r"\s", value)


def is_email(value: str) -> bool:
    """An address, alone or as `Name <address>`."""
    _, address = email.utils.parseaddr(value)
    return bool(address) and _EMAIL.fullmatch(address) is not None


def page_problem(session: requests.Session, url: str) -> str | None:
    """Why `url` is not an HTML page (None when it is), asking with HEAD."""
    try:
        response = session.head(url, allow_redirects=True, timeout=URL_TIMEOUT)
        if response.status_code in (405, 501):
            # some servers refuse HEAD; a streamed GET reads the headers only
            with session.get(url, stream=True, timeout=URL_TIMEOUT) as response:
                pass
    except requests.RequestException as exc:
        return f"{type(exc).__name__}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    content_type = response.headers.get("Content-Type", "")
    if "text/html" not in content_type:
        return f"content type {content_type or 'none'}, not text/html"
    return None


def verify(
    submission: Submission,
    tests: Sequence[ReleaseTest],
    newest: Release,
    *,
    title: str | None = None,
    http: requests.Session | None = None,
) -> Verification:
    """Run every check on `submission` against its release's conformance list `tests`.

    `newest` is the newest known release (supported: it and the two minors before);
    `title` the pull request's title, checked when given; `http` a session to check that
    PRODUCT.yaml's URLs lead to HTML pages, not checked when None.
    Raises InputError when junit_01.xml is present but not well-formed XML.
    """
    release = submission.release
    folder = submission.path
    result = Verification(submission, title=title)
    checks = result.checks

    present = {p.name: p for p in folder.iterdir()}
    missing = [name for name in FILES if name not in present or not present[name].is_file()]
    empty = [name for name in FILES if name not in missing and present[name].stat().st_size == 0]
    usable = {name: present[name] for name in FILES if name not in missing + empty}
    checks.append(Check(
        "files", "the submission has README.md, PRODUCT.yaml, e2e.log and junit_01.xml,"
        " none empty", not missing and not empty,
        "; ".join(part for part in (
            f"missing: {', '.join(missing)}" if missing else "",
            f"empty: {', '.join(empty)}" if empty else "") if part)))
    others = sorted(name for name in present if name not in FILES)
    checks.append(Check(
        "only-files", "the submission has no other files", not others,
        f"remove {len(others)} other file(s): {', '.join(others)}" if others else ""))

    checks += _product_checks(result, usable.get("PRODUCT.yaml"), http)

    oldest = Release(newest.major, max(newest.minor - SUPPORTED_MINORS, 0))
    checks.append(Check(
        "release-supported", f"the release is supported for certification"
        f" ({version_name(oldest)} to {version_name(newest)})", release >= oldest,
        f"{version_name(release)} is older than {version_name(oldest)}, the oldest supported"
        f" release (newest {version_name(newest)} minus {SUPPORTED_MINORS})"
        if release < oldest else ""))

    if title is not None:
        checks += _title_checks(submission, title)

    checks += _e2e_checks(result, usable.get("e2e.log"))

    junit = usable.get("junit_01.xml")
    if junit is not None:
        result.testcases = list(read_junit(junit))
    checks += _test_checks(result, required_tests(tests, release), junit is not None)

    result.labels = labels(result, missing)
    return result


def _product_checks(
    result: Verification, path: Path | None, http: requests.Session | None
) -> list[Check]:
    titles = {
        "product-fields": "PRODUCT.yaml has every required field",
        "product-type": f"PRODUCT.yaml type is one of: {', '.join(PRODUCT_TYPES)}",
        "product-format": "PRODUCT.yaml URLs and e-mail address are well-formed",
    }
    if http is not None:
        titles["product-pages"] = "PRODUCT.yaml URLs lead to HTML pages"
    try:
        if path is None:
            raise InputError("PRODUCT.yaml is missing or empty")
        product = read_product(path)
    except InputError as exc:
        return [Check(name, title, False, str(exc)) for name, title in titles.items()]
    fields = {key: _text(value) for key, value in product.items() if isinstance(key, str)}
    result.product = {key: fields[key] for key in PRODUCT_FIELDS if fields.get(key)}

    absent = [name for name in PRODUCT_FIELDS if not fields.get(name)]
    kind = fields.get("type", "")
    bad = [f"{name} {fields[name]!r} is not an http(s) URL" for name in URL_FIELDS
           if fields.get(name) and not is_url(fields[name])]
    email = fields.get("contact_email_address")
    if email and not is_email(email):
        bad.append(f"contact_email_address {email!r} is not an e-mail address")
    checks = [
        Check("product-fields", titles["product-fields"], not absent,
              f"missing or empty: {', '.join(absent)}" if absent else ""),
        Check("product-type", titles["product-type"], kind in PRODUCT_TYPES,
              "" if kind in PRODUCT_TYPES else
              f"type {kind!r} is not one of: {', '.join(PRODUCT_TYPES)}" if kind else
              "type is missing"),
        Check("product-format", titles["product-format"], not bad, "; ".join(bad)),
    ]
    if http is not None:
        problems = [f"{name} {fields[name]}: {problem}" for name in PAGE_FIELDS
                    if fields.get(name) and is_url(fields[name])
                    and (problem := page_problem(http, fields[name])) is not None]
        checks.append(Check("product-pages", titles["product-pages"], not problems,
                            "; ".join(problems)))
    return checks


def _title_checks(submission: Submission, title: str) -> list[Check]:
    wanted = f"{TITLE_PHRASE} {submission.name}"
    found = _TITLE_RELEASE.search(title)
    named = Release(int(found[1]), int(found[2])) if found else None
    if named is None:
        release_hint = "the title names no release (vX.Y)"
    elif named != submission.release:
        release_hint = (f"the title names {version_name(named)}, the folder"
                        f" {version_name(submission.release)}")
    else:
        release_hint = ""
    return [
        Check("title-format", f"the title contains {TITLE_PHRASE!r}", TITLE_PHRASE in title,
              "" if TITLE_PHRASE in title else f"the title should read {wanted!r}"),
        Check("title-release", "the title names the folder's release", not release_hint,
              release_hint),
    ]


def _e2e_checks(result: Verification, path: Path | None) -> list[Check]:
    wanted = version_name(result.submission.release)
    version_title = f"e2e.log: the kube-apiserver version is {wanted}"
    success_title = "e2e.log: the run ended with SUCCESS! and 0 Failed, 0 Pending"
    if path is None:
        return [Check("e2e-version", version_title, False, "e2e.log is missing or empty"),
                Check("e2e-success", success_title, False, "e2e.log is missing or empty")]
    log = read_e2e_log(path)
    result.apiserver_version = log.apiserver_version
    if log.apiserver_minor is None:
        version_hint = "e2e.log has no 'kube-apiserver version:' line"
    elif log.apiserver_minor != result.submission.release:
        version_hint = f"e2e.log: kube-apiserver version {log.apiserver_version} is not {wanted}"
    else:
        version_hint = ""
    if log.succeeded:
        success_hint = ""
    elif log.summary is None:
        success_hint = ("e2e.log has no final 'SUCCESS! -- N Passed | 0 Failed | 0 Pending"
                        " | M Skipped' line")
    else:
        success_hint = f"e2e.log ends with {log.summary!r}"
    return [Check("e2e-version", version_title, not version_hint, version_hint),
            Check("e2e-success", success_title, log.succeeded, success_hint)]


def _test_checks(result: Verification, required: list[ReleaseTest], readable: bool) -> list[Check]:
    release = version_name(result.submission.release)
    required_title = f"junit_01.xml: all {len(required)} required conformance tests of {release}" \
        " passed"
    failed_title = "junit_01.xml: no [Conformance] test failed or errored"
    if not readable:
        return [
            Check("required-tests", required_title, False,
                  f"junit_01.xml is missing or empty: none of the {len(required)} required"
                  " tests can be verified"),
            Check("no-failed-tests", failed_title, False, "junit_01.xml is missing or empty"),
        ]
    passed = {t.name for t in result.testcases if t.status == "passed"}
    unpassed = sorted(t.codename for t in required if t.codename not in passed)
    failed = sorted({t.name for t in result.testcases
                     if t.conformance and t.status in ("failed", "errored")})
    return [
        Check("required-tests", required_title, not unpassed,
              f"{len(unpassed)} of {len(required)} required tests missing or not passed"
              if unpassed else "", tuple(unpassed)),
        Check("no-failed-tests", failed_title, not failed,
              f"{len(failed)} [Conformance] test(s) failed or errored" if failed else "",
              tuple(failed)),
    ]


def labels(result: Verification, missing_files: Sequence[str]) -> list[str]:
    """The labels the CNCF bot applies for these results, sorted."""
    release = version_name(result.submission.release)
    required = result.check("required-tests")
    no_failed = result.check("no-failed-tests")
    found = [
        f"release-{release}",
        f"tests-verified-{release}" if required and required.passed else "required-tests-missing",
        f"no-failed-tests-{release}" if no_failed and no_failed.passed else "evidence-missing",
        "release-documents-checked" if result.result == "passed" else "not-verifiable",
    ]
    found += [f"missing-file-{name}" for name in missing_files]
    return sorted(found)
