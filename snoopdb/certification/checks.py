"""Checking a k8s-conformance certification submission the way the CNCF bot
(kubernetes-sigs/verify-conformance, formerly cncf-infra/verify-conformance) does:
the folder `vX.Y/<product>/` with README.md, PRODUCT.yaml, e2e.log and junit_01.xml
(`verify`), or the pull request that adds it, its file list, title and commits
(`verify_pull_request`), as the bot checks one.

The labels are the bot's, case by case (its `internal/suite/suite.go` and
`internal/plugin/plugin.go`, scenarios in `kodata/features/verify-conformance.feature`).
Checks the bot does not make are kept, marked "beyond the bot": they never change
the labels, and fail a verification only when asked to (`strict`).

Submissions are treated as hostile: no symbolic link is followed (git stores a link
as its target's path, so that path is what the bot would read, and what is read
here), PRODUCT.yaml is read bounded in size and alias expansion, junit_01.xml and
e2e.log are streamed, and the testcases go to a temporary file, not to a list.

This module holds the verdict; the modules beside it read the files (`files`, `junit`,
`e2elog`, `product`), read pull requests (`pullrequest`: a checkout; `github`: GitHub's
REST API), hold Go's URL and e-mail rules (`goparse`) and ask for pages (`pages`,
`--check-urls`); the data they share is `submission`. Storing results is
`snoopdb.certification.store`, printing them is the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import requests

from snoopdb.certification import bot
from snoopdb.certification.bot import SUBMISSION_LABEL, UNABLE_LABEL, escaped
from snoopdb.certification.e2elog import read_e2e_log
from snoopdb.certification.files import Readable, list_entries
from snoopdb.certification.goparse import email_problem, url_error, url_problem
from snoopdb.certification.junit import TagTooLarge, bot_xml_error, read_junit
from snoopdb.certification.pages import ask_page
from snoopdb.certification.product import bot_strings, bot_yaml_error, read_product
from snoopdb.certification.pullrequest import BOT_STRUCTURE, PullRequest, PullRequestFile
from snoopdb.certification.submission import (
    Check,
    ReleaseTest,
    Submission,
    TestcaseSpool,
    Verification,
    required_tests,
    version_name,
)
from snoopdb.core.errors import InputError
from snoopdb.core.releases import Release
from snoopdb.core.terminal import shown

FILES = ("README.md", "PRODUCT.yaml", "e2e.log", "junit_01.xml")
PRODUCT_FIELDS = ("vendor", "name", "version", "type", "description", "website_url",
                  "documentation_url", "contact_email_address")
PRODUCT_TYPES = ("distribution", "hosted platform", "installer")
# The bot checks the format of these when they are set, the e-mail address too.
URL_FIELDS = ("website_url", "repo_url", "documentation_url", "product_logo_url")
# Fields whose URL the bot asks for (HEAD) and expects text/html from.
PAGE_FIELDS = ("website_url", "repo_url", "documentation_url")
SUPPORTED_MINORS = 2
TITLE_PHRASE = "Conformance results for"
DETAILS_MAX = 100  # names listed under a failed check; the count is always whole
NAME_SHOWN = 500  # characters of a name listed under a check; the testcase keeps it whole

BEYOND = " (beyond the bot)"

# the bot's title pattern (feature file and suite.go): `$2` is the release
_BOT_TITLE = re.compile(r"(.*) (v1.[0-9]{2})[ /](.*)")


def oldest_supported(stable: Release) -> Release:
    """The oldest release the bot still accepts: `stable`, the newest released, minus two minors."""
    return Release(stable.major, max(stable.minor - SUPPORTED_MINORS, 0))


def unable(submission: Submission, reason: str, comment: str | None = None, *,
           title: str | None = None,
           labels: Sequence[str] = (SUBMISSION_LABEL, UNABLE_LABEL)) -> Verification:
    """A verdict without checks: the submission cannot be processed, for `reason`; the
    bot posts `comment` (None: snoopdb alone could not, and `labels` are empty)."""
    return Verification(submission, labels=sorted(labels), title=title, error=reason,
                        comment=comment)


def precheck(submission: Submission, stable: Release, title: str | None) -> Verification | None:
    """What the bot decides before checking anything (None when it goes on to check):
    a title without "conformance results for" is no submission's (the bot labels it so);
    a path that names no release, or a release older than `stable` (the newest released)
    minus two minors, cannot be processed."""
    if title is not None and TITLE_PHRASE.lower() not in title.lower():
        result = unable(submission, f"its title does not contain {TITLE_PHRASE.lower()!r}:"
                        " no submission's, for the bot", bot.NOT_A_SUBMISSION, title=title,
                        labels=(bot.NOT_SUBMISSION_LABEL, UNABLE_LABEL))
        result.not_submission = True
        return result
    if submission.release is None:
        return unable(submission, submission.unplaced, bot.NO_RELEASE, title=title)
    oldest = oldest_supported(stable)
    if submission.release < oldest:
        return unable(submission, f"{version_name(submission.release)} is older than"
                      f" {version_name(oldest)}, the oldest release still accepted (newest"
                      f" {version_name(stable)} minus {SUPPORTED_MINORS})",
                      bot.too_old(version_name(submission.release), version_name(oldest)),
                      title=title)
    return None


def verify(
    submission: Submission,
    tests: Sequence[ReleaseTest],
    stable: Release,
    *,
    title: str | None = None,
    http: requests.Session | None = None,
) -> Verification:
    """Run every check on the folder `submission` against its release's conformance list
    `tests`.

    `stable` is the newest released release (the bot's stable.txt): older than it minus
    two minors cannot be processed; `title` the pull request's title, checked when given;
    `http` a session (see `url_session`) to ask PRODUCT.yaml's URLs with, not asked when None.
    The bot's comment is the one it would post on a pull request of the folder's files
    alone (with one commit, and a good title unless `title` is given).
    A junit_01.xml holding a tag larger than snoopdb reads raises TagTooLarge.
    """
    early = precheck(submission, stable, title)
    if early is not None:
        return early
    entries = list_entries(submission.path)
    required = {name: _required_entry(entries, name) for name in FILES}
    others = sorted(name for name in entries if name not in FILES)
    irregular = [f"{name} ({_KIND_NAMES[entry.kind]})" for name, entry in sorted(entries.items())
                 if entry.kind in ("link", "other")]
    if submission.path.is_symlink():
        irregular.insert(0, f"the folder {submission.name} is a symbolic link")
    failed: dict[str, list[str]] = {}
    if others:
        failed["only-files"] = [_bot_others(others)]
    checks = [
        _files_check(required, failed),
        Check("only-files", "the submission has no other files", not others,
              f"remove {len(others)} other file(s): {', '.join(others)}" if others else ""),
        _regular_check(irregular),
    ]
    return _verdict(Verification(submission, title=title), tests, required, checks, http,
                    failed)


def verify_pull_request(
    pull: PullRequest,
    submission: Submission,
    tests: Sequence[ReleaseTest],
    stable: Release,
    *,
    http: requests.Session | None = None,
) -> Verification:
    """Run every check on the pull request `pull`, whose files make `submission`
    (`pull.submission()`), as `verify` does on a folder, plus the bot's checks of the
    pull request's file list (only the required files, the folder structure, one
    product) and of its commits (exactly one; none known is none, as the bot's pull
    request event has none)."""
    early = precheck(submission, stable, pull.title)
    if early is not None:
        return early
    files = pull.files
    required = {name: _first_named(files, name) for name in FILES}
    # names from the pull request go into one-line hints, the bot's comment among them,
    # shown as their escapes: a line break in a name would start a line of its own
    others = [shown(f.base_name) for f in files if f.base_name not in FILES]
    misplaced = next((shown(f.name) for f in files if not BOT_STRUCTURE.search(f.folder)),
                     None)
    folders = list(dict.fromkeys("./" if f.folder == "." else shown(f.folder) for f in files))
    failed: dict[str, list[str]] = {}
    only_hint = _bot_others(others) if others else ""
    structure_hint = (f"file '{misplaced}' not allowed. your product submission PR must be in"
                      " folders structured like [KubernetesReleaseVersion]/[ProductName], e.g:"
                      " v1.23/averycooldistro" if misplaced else "")
    product_hint = ("there should be a single set of products in the submission. We found"
                    f" {len(folders)} product submissions: {', '.join(folders)}"
                    if len(folders) != 1 else "")
    for scenario, hint in (("only-files", only_hint), ("structure", structure_hint),
                           ("one-product", product_hint)):
        if hint:
            failed[scenario] = [escaped(hint)]
    checks = [
        _files_check(required, failed),
        Check("only-files", "the pull request has no other files", not others, only_hint),
        Check("folder-structure", "every file is in a vX.Y/<product>/ folder", misplaced is None,
              structure_hint),
        Check("one-product", "the pull request holds one product's folder", len(folders) == 1,
              product_hint),
    ]
    if pull.kinds_known:
        checks.append(_regular_check([f"{f.name} ({_KIND_NAMES[f.entry.kind]})" for f in files
                                      if f.entry.kind in ("link", "other")]))
    commits = pull.commits or 0
    commit_hint = ("" if commits == 1 else "no commits were found" if not commits else
                   "more than one commit was found; only one commit is allowed")
    if commit_hint:
        failed["one-commit"] = [commit_hint]
    detail = ("no git: the files alone, as the bot's pull request event gives them"
              if pull.commits is None else f"{commits} commits" if commits > 1 else "")
    after = [Check("one-commit", "the pull request has exactly one commit", commits == 1,
                   commit_hint, (detail,) if detail else ())]
    result = Verification(submission, title=pull.title, pull_request=pull.origin)
    return _verdict(result, tests, required, checks, http, failed, after)


def _bot_others(others: Sequence[str]) -> str:
    return (f"it appears that there are {len(others)} non-required file(s) included in the"
            f" submission: {', '.join(others)}")


def _verdict(
    result: Verification,
    tests: Sequence[ReleaseTest],
    required: dict[str, Readable | None],
    checks: list[Check],
    http: requests.Session | None,
    failed: dict[str, list[str]],
    after_title: Sequence[Check] = (),
) -> Verification:
    """Add the checks of the files' content to `checks` (those of the file list), the
    bot's labels and its comment (`failed`: the bot's failed scenarios so far)."""
    release = result.submission.release
    assert release is not None, "precheck leaves no submission without a release"
    missing = [name for name, entry in required.items() if entry is None]
    usable = {name: entry for name, entry in required.items()
              if entry is not None and entry.size > 0}
    result.checks = checks
    checks += _product_checks(result, required.get("PRODUCT.yaml"), http, failed)
    if result.title is not None:
        checks += _title_checks(result.submission, release, result.title, failed)
    checks += after_title
    checks += _e2e_checks(result, release, usable.get("e2e.log"))
    test_checks, test_labels = _test_checks(result, release, required_tests(tests, release),
                                            required.get("junit_01.xml"), failed)
    checks += test_checks
    bot_failed = {scenario: failed[scenario] for scenario in bot.SCENARIOS if scenario in failed}
    result.comment = bot.comment(bot_failed)
    result.labels = sorted([
        SUBMISSION_LABEL, *(f"missing-file-{name}" for name in missing), *test_labels,
        f"release-{version_name(release)}",
        "not-verifiable" if bot_failed else "release-documents-checked"])
    return result


def _files_check(required: dict[str, Readable | None], failed: dict[str, list[str]]) -> Check:
    missing = [name for name, entry in required.items() if entry is None]
    empty = [name for name, entry in required.items() if entry is not None and entry.size == 0]
    for name in FILES:
        if name in missing:
            failed.setdefault("files", []).append(escaped(f"missing file '{name}'"))
        elif name in empty:
            failed.setdefault("files", []).append(escaped(f"file '{name}' is empty"))
    return Check(
        "files", "the submission has README.md, PRODUCT.yaml, e2e.log and junit_01.xml,"
        " none empty", not missing and not empty,
        "; ".join(part for part in (
            f"missing: {', '.join(missing)}" if missing else "",
            f"empty: {', '.join(empty)}" if empty else "") if part))


def _regular_check(irregular: list[str]) -> Check:
    return Check("regular-files", "the submission's files are regular files" + BEYOND,
                 not irregular,
                 f"not followed nor opened: {', '.join(irregular)}" if irregular else "",
                 beyond=True)


def _required_entry(entries: Mapping[str, Readable], name: str) -> Readable | None:
    """The file the bot takes for `name`: its base name compared without case; a
    directory or special file is nothing git (so the bot) would see."""
    candidates = [entries[name]] if name in entries else []
    candidates += [e for key, e in sorted(entries.items())
                   if key != name and key.lower() == name.lower()]
    return next((e for e in candidates if e.kind in ("file", "link")), None)


def _first_named(files: list[PullRequestFile], name: str) -> Readable | None:
    """The pull request's file the bot takes for `name`: the first, in its order, whose
    base name is `name` compared without case, wherever it is."""
    return next((f.entry for f in files if f.base_name.lower() == name.lower()
                 and f.entry.kind in ("file", "link")), None)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


_KIND_NAMES = {"link": "symbolic link", "other": "not a regular file"}


def _product_checks(
    result: Verification, entry: Readable | None, http: requests.Session | None,
    failed: dict[str, list[str]],
) -> list[Check]:
    titles = {
        "product-fields": "PRODUCT.yaml has every required field",
        "product-type": f"PRODUCT.yaml type is one of: {', '.join(PRODUCT_TYPES)}{BEYOND}",
        "product-format": "PRODUCT.yaml URLs and e-mail address are well-formed",
    }
    if http is not None:
        titles["product-pages"] = "PRODUCT.yaml URLs lead to HTML pages"
        titles["product-pages-answer"] = "PRODUCT.yaml URLs answer 200" + BEYOND
    if entry is None:
        for scenario in ("product-fields", "product-format", "product-pages", "product-type"):
            failed[scenario] = [escaped("missing required file 'PRODUCT.yaml'")]
    try:
        if entry is None or entry.size == 0:
            raise InputError("PRODUCT.yaml is missing or empty")
        with entry.open() as stream:
            product = read_product(stream)
    except InputError as exc:
        if entry is not None and entry.size == 0:
            # an empty document: every field missing, for the bot
            failed["product-fields"] = [_bot_missing_field(name) for name in PRODUCT_FIELDS]
        elif entry is not None:
            # "is valid yaml" comes after README.md's hints, before e2e.log's and junit's
            hints = failed.setdefault("files", [])
            hints.insert(sum("README.md" in hint for hint in hints), escaped(
                f"failed to parse (PRODUCT.yaml) YAML, {bot_yaml_error(exc)}"))
            for scenario in ("product-fields", "product-format"):
                failed[scenario] = [escaped("unable to read file 'PRODUCT.yaml'")]
        return [Check(name, title, False, str(exc), beyond=title.endswith(BEYOND))
                for name, title in titles.items()]
    fields = {key: _text(value) for key, value in product.items()}
    result.product = {key: fields[key] for key in PRODUCT_FIELDS if fields.get(key)}

    # the bot: a field is missing when absent or null; "" is there
    absent = [name for name in PRODUCT_FIELDS if product.get(name) is None]
    if absent:
        failed["product-fields"] = [_bot_missing_field(name) for name in absent]
    kind = fields.get("type", "")
    strings = bot_strings(product)
    if strings is None:
        bad = ["a value is a list or mapping, so the bot cannot read the URLs (it expects text)"]
        failed["product-format"] = [escaped("unable to read file 'PRODUCT.yaml'")]
    else:
        bad = []
        for name in (*URL_FIELDS, "contact_email_address"):
            value = strings.get(name, "")
            if name == "contact_email_address":
                problem = email_problem(value) if value else None
                hint = (f"email field '{name}' in PRODUCT.yaml is not a valid address,"
                        f" {problem}")
            else:
                problem = url_error(value) if value else None
                hint = f"URL for field '{name}' in PRODUCT.yaml is not a valid URL, {problem}"
            if problem:
                bad.append(hint)
                failed.setdefault("product-format", []).append(escaped(hint))
    checks = [
        Check("product-fields", titles["product-fields"], not absent,
              f"missing or null: {', '.join(absent)}" if absent else ""),
        Check("product-type", titles["product-type"], kind in PRODUCT_TYPES,
              "" if kind in PRODUCT_TYPES else
              f"type {kind!r} is not one of: {', '.join(PRODUCT_TYPES)}" if kind else
              "type is missing", beyond=True),
        Check("product-format", titles["product-format"], not bad, "; ".join(bad)),
    ]
    if http is not None:
        urls = {name: (strings or {}).get(name, "") for name in PAGE_FIELDS}
        answers = {name: ask_page(http, url) for name, url in urls.items()
                   if url and url_problem(url) is None}
        # the bot fails a page only on a Content-Type that is not text/html
        wrong = [name for name in PAGE_FIELDS if name in answers and answers[name].content_type
                 and "text/html" not in answers[name].content_type]
        if wrong:
            failed["product-pages"] = [escaped(
                f"URL field '{name}' in PRODUCT.yaml resolving content type"
                f" '{answers[name].content_type}' must be (text/html)") for name in wrong]
        checks += [
            Check("product-pages", titles["product-pages"], not wrong, "; ".join(
                f"{name} {urls[name]}: content type {answers[name].content_type}, not text/html"
                for name in wrong)),
            Check("product-pages-answer", titles["product-pages-answer"],
                  not any(a.problem for n, a in answers.items() if n not in wrong),
                  "; ".join(f"{name} {urls[name]}: {answer.problem}"
                            for name, answer in answers.items()
                            if answer.problem and name not in wrong), beyond=True),
        ]
    return checks


def _bot_missing_field(name: str) -> str:
    return escaped(f"missing or empty field '{name}' in file 'PRODUCT.yaml'")


def _title_checks(submission: Submission, release: Release, title: str,
                  failed: dict[str, list[str]]) -> list[Check]:
    wanted = f"{TITLE_PHRASE} {submission.name}"
    found = _BOT_TITLE.search(title)
    named = found[2] if found else ""
    folder = version_name(release)
    release_hint = ("" if named == folder else
                    f"the title names {named}, the folder {folder}" if named else
                    "the title names no release (v1.NN followed by a space or /)")
    if release_hint:
        failed["title-release"] = [escaped(
            f"the Kubernetes release version in the title ({named}) and folder structure"
            f" ({folder}) don't match")]
    if found is None:
        failed["title-format"] = [escaped(
            "title must be formatted like 'Conformance results for [KubernetesReleaseVersion]/"
            "[ProductName]' (e.g: Conformance results for v1.23/CoolKubernetes)")]
    return [
        Check("title-format", "the title reads like 'Conformance results for vX.Y/<product>'",
              found is not None, "" if found else f"the title should read {wanted!r}"),
        Check("title-release", "the title names the folder's release", not release_hint,
              release_hint),
    ]


def _e2e_checks(result: Verification, release: Release, entry: Readable | None) -> list[Check]:
    wanted = version_name(release)
    version_title = f"e2e.log: the kube-apiserver version is {wanted}{BEYOND}"
    success_title = f"e2e.log: the run ended with SUCCESS! and 0 Failed, 0 Pending{BEYOND}"
    if entry is None:
        return [Check("e2e-version", version_title, False, "e2e.log is missing or empty", (),
                      True),
                Check("e2e-success", success_title, False, "e2e.log is missing or empty", (),
                      True)]
    try:
        with entry.open() as stream:
            log = read_e2e_log(stream)
    except InputError as exc:
        return [Check("e2e-version", version_title, False, str(exc), (), True),
                Check("e2e-success", success_title, False, str(exc), (), True)]
    result.apiserver_version = log.apiserver_version
    if log.apiserver_minor is None:
        version_hint = "e2e.log has no 'kube-apiserver version:' line"
    elif log.apiserver_minor != release:
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
    return [Check("e2e-version", version_title, not version_hint, version_hint, (), True),
            Check("e2e-success", success_title, log.succeeded, success_hint, (), True)]


def _test_checks(
    result: Verification, minor: Release, required: list[ReleaseTest], entry: Readable | None,
    bot_failed: dict[str, list[str]],
) -> tuple[list[Check], list[str]]:
    """The two junit_01.xml checks and the labels the bot gives from them (none when it
    cannot read the file). One streamed pass: the testcases go to a spool for the database;
    in memory stay only the required names found and the failed names (DETAILS_MAX)."""
    bot_hint = ("missing required file 'junit_01.xml'" if entry is None else
                "unable to parse junit_01.xml file, EOF" if entry.size == 0 else "")
    if bot_hint:
        bot_failed["required-tests"] = bot_failed["tests-pass"] = [escaped(bot_hint)]
        entry = None
    release = version_name(minor)
    required_title = (f"junit_01.xml: all {len(required)} required conformance tests of"
                      f" {release} are there, none skipped or failed")
    failed_title = "junit_01.xml: no [Conformance] test failed or errored"
    if entry is None:
        hint = "junit_01.xml is missing or empty"
        return [Check("required-tests", required_title, False, f"{hint}: none of the"
                      f" {len(required)} required tests can be verified"),
                Check("no-failed-tests", failed_title, False, hint)], []
    wanted = {t.codename for t in required}
    present: set[str] = set()
    failed: set[str] = set()
    failures = 0
    spool = TestcaseSpool()
    try:
        with entry.open() as stream:
            for case in read_junit(stream):
                spool.add(case)
                if not case.conformance or case.status == "skipped":
                    continue
                if case.status != "failed" and case.name in wanted:
                    present.add(case.name)
                if case.status in ("failed", "errored"):
                    failures += 1
                    if len(failed) < DETAILS_MAX:
                        failed.add(case.name)
    except TagTooLarge:
        spool.close()
        raise
    except InputError as exc:
        spool.close()
        hint = f"the bot cannot read junit_01.xml: {exc}"
        bot_failed["required-tests"] = bot_failed["tests-pass"] = [escaped(
            f"unable to parse junit_01.xml file, {bot_xml_error(exc)}")]
        return [Check("required-tests", required_title, False, hint),
                Check("no-failed-tests", failed_title, False, hint)], []
    result.testcases = spool
    absent = sorted(wanted - present)
    listed = "".join(f"\n    - {name}" for name in absent)
    if absent:
        bot_failed["required-tests"] = [escaped(
            f"the following test(s) are missing or failed: {listed}")]
    if failures:
        bot_failed["tests-pass"] = ["it appears that there are failures in some tests"]
    elif absent:
        bot_failed["tests-pass"] = [escaped(
            f"there appears to be {len(absent)} tests missing: {listed}")]
    labels = ["required-tests-missing" if absent else f"tests-verified-{release}",
              "evidence-missing" if failures else f"no-failed-tests-{release}"]
    return [
        Check("required-tests", required_title, not absent,
              f"{len(absent)} of {len(required)} required tests missing, skipped or failed"
              if absent else "", tuple(absent)),
        Check("no-failed-tests", failed_title, not failures,
              f"{failures} [Conformance] testcase(s) failed or errored" if failures else "",
              tuple(_shown(name) for name in sorted(failed))),
    ], labels


def _shown(name: str) -> str:
    """A testcase's name as listed under a check: cut after NAME_SHOWN characters."""
    if len(name) <= NAME_SHOWN:
        return name
    return f"{name[:NAME_SHOWN]}… ({len(name)} characters)"
