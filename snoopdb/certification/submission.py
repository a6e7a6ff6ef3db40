"""A certification submission and its verdict, as data: the folder `vX.Y/<product>/`
(`locate`, `find_submissions`), its release's conformance list (`parse_release_tests`,
`required_tests`), the testcases read from its junit_01.xml (`Testcase`, kept in a
`TestcaseSpool`) and the outcome of checking it (`Check`, `Verification`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from snoopdb.certification.bot import label_changes
from snoopdb.core import copytext
from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.releases import Release, parse_release
from snoopdb.loaders import conformance

_FOLDER_RELEASE = re.compile(r"^v(\d+)\.(\d+)$")
# The bot's comment on a pull request whose paths name no release it can read.
BOT_NO_RELEASE = "Unable to parse release version."
# Codenames key `conformance.release_test`: a btree entry holds at most ~2,700 bytes, and
# no real test name comes near this.
CODENAME_MAX_BYTES = 2000


# hashicorp/go-version's NewSemver, as the bot reads a conformance list's releases
_GO_SEMVER = re.compile(
    r"v?([0-9]+(?:\.[0-9]+)*?)"
    r"(-([0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|(-([A-Za-z\-~]+[0-9A-Za-z\-~]*"
    r"(?:\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?")
# go-version reads each number as an int64 (a larger one is no version, for the bot);
# release_key() reads a stored one as a PostgreSQL integer: a larger number is stored as
# STORED_MAX, which keeps its order against every release a submission can name.
NUMBER_MAX = 2**63 - 1
STORED_MAX = 2**31 - 1


@dataclass(frozen=True)
class ListedRelease:
    """A release a conformance list names, read as the bot reads it (go-version): any
    numbers (`v1.1256` is just newer), a pre-release after a `-`."""

    numbers: tuple[int, ...]
    pre: str = ""

    @classmethod
    def parse(cls, text: str) -> ListedRelease:
        found = _GO_SEMVER.fullmatch(text)
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        if found is None:
            raise ReleaseError(f"malformed version: {shown}")
        numbers = tuple(int(n) for n in found[1].split("."))
        if max(numbers) > NUMBER_MAX:
            raise ReleaseError(f"error parsing version {shown}: a number past {NUMBER_MAX}")
        return cls(numbers, found[5] or found[3] or "")

    def not_newer_than(self, release: Release) -> bool:
        """Whether a submission for `release` must pass a test listing this release."""
        mine = self._key()
        theirs = (release.major, release.minor, release.patch)
        width = max(len(mine), 3)
        # equal numbers: a pre-release comes before the release, so it is not newer either
        return mine + (0,) * (width - len(mine)) <= theirs + (0,) * (width - 3)

    def _key(self) -> tuple[int, ...]:
        return self.numbers + (0,) * (3 - len(self.numbers))

    def __lt__(self, other: ListedRelease) -> bool:
        width = max(len(self._key()), len(other._key()))
        mine = self._key() + (0,) * (width - len(self._key()))
        theirs = other._key() + (0,) * (width - len(other._key()))
        if mine != theirs:
            return mine < theirs
        return bool(self.pre) and (not other.pre or self.pre < other.pre)

    def __str__(self) -> str:
        """As `conformance.release_test` keeps it (numbers past STORED_MAX as STORED_MAX)."""
        return (".".join(str(min(n, STORED_MAX)) for n in self._key())
                + (f"-{self.pre}" if self.pre else ""))


@dataclass(frozen=True)
class ReleaseTest:
    """A test of a release's conformance.yaml; required from `first_release` on (the
    oldest release its `release:` lists)."""

    codename: str
    testname: str
    first_release: ListedRelease
    last_release: ListedRelease
    description: str
    file: str


@dataclass(frozen=True)
class Submission:
    """A submission folder and the release it is for. `release` is None when the
    folder's path names none (`unplaced` says why): the bot cannot process it."""

    path: Path
    release: Release | None
    product: str
    unplaced: str = ""

    @property
    def name(self) -> str:
        """`v1.35/coolkube`, its place in cncf/k8s-conformance (the folder's name when
        no release is known)."""
        if self.release is None:
            return self.product
        return f"{version_name(self.release)}/{self.product}"


class Testcase(NamedTuple):
    """A junit_01.xml testcase: name without a leading `[It] `, and how it ended.
    (A tuple: thousands are made per submission, and tuples are the cheapest to make.)"""

    name: str
    status: str  # passed | skipped | failed | errored

    @property
    def conformance(self) -> bool:
        return "[Conformance]" in self.name


class TestcaseSpool:
    """The testcases of one junit_01.xml, kept in an anonymous temporary file as rows
    of COPY text (`position, name, status, conformance`), so memory stays flat however
    many testcases a junit_01.xml holds. Close it (or let it be collected) to free the file."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (owned until close())
        self._pending: list[bytes] = []
        self.count = 0

    def add(self, case: Testcase) -> None:
        self.count += 1
        self._pending.append(
            f"{self.count}\t{copytext.text(case.name)}\t{case.status}\t"
            f"{'t' if case.conformance else 'f'}\n".encode())
        if len(self._pending) >= 1024:
            self._flush()

    def _flush(self) -> None:
        self._file.writelines(self._pending)
        self._pending.clear()

    def copy_data(self, prefix: bytes) -> Iterator[bytes]:
        """The rows as COPY text chunks, each row starting with `prefix` (`id\\t`)."""
        self._flush()
        self._file.seek(0)
        rest = b""
        while chunk := self._file.read(1 << 20):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            body, rest = chunk[:cut], chunk[cut:]
            if body:
                yield prefix + body[:-1].replace(b"\n", b"\n" + prefix) + b"\n"

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class Check:
    """One requirement: whether it passed, a one-line hint when not, and the names
    behind the hint (missing tests, failed tests). `beyond` marks a check the bot does
    not make: it never changes the labels."""

    name: str
    title: str
    passed: bool
    hint: str = ""
    details: tuple[str, ...] = ()
    beyond: bool = False


@dataclass
class Verification:
    """The outcome for one submission. `error` is set, and `checks` empty, when it
    could not be processed (a title that is no submission's, no release in its path, a
    release outside the supported window, no conformance list); `labels` are then the
    bot's, or empty when the bot would have processed it and only snoopdb could not (a
    download failed). `not_submission`: the pull request's title is no submission's.
    `comment` is what the bot would post (None where snoopdb cannot tell);
    `current_labels` the pull request's labels, when known (on GitHub).
    `pull_request` says which pull request was checked, None for a folder."""

    submission: Submission
    checks: list[Check] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    testcases: TestcaseSpool | None = None
    product: dict[str, str] = field(default_factory=dict)
    apiserver_version: str | None = None
    title: str | None = None
    error: str | None = None
    not_submission: bool = False
    pull_request: str | None = None
    comment: str | None = None
    current_labels: list[str] | None = None

    @property
    def result(self) -> str:
        """passed, failed or unprocessable; only the bot's checks count."""
        if self.error is not None:
            return "unprocessable"
        return "passed" if all(c.passed for c in self.checks if not c.beyond) else "failed"

    @property
    def status(self) -> str | None:
        """The commit status the bot sets: success, failure, or pending when it cannot
        process the pull request; None when only snoopdb could not (no labels)."""
        if not self.labels:
            return None
        if self.error is not None:
            return "pending"
        return "success" if self.result == "passed" else "failure"

    @property
    def label_changes(self) -> tuple[list[str], list[str]]:
        """The labels the bot would add and remove: against `current_labels`, or none
        (a new pull request)."""
        return label_changes(self.current_labels or (), self.labels)

    @property
    def beyond_failed(self) -> bool:
        """A check beyond the bot failed."""
        return any(not c.passed for c in self.checks if c.beyond)

    def exit_status(self, strict: bool = False) -> int:
        """0 passed, 1 a check failed (with `strict`, a check beyond the bot too),
        3 cannot be processed."""
        if self.result == "unprocessable":
            return 3
        return 1 if self.result == "failed" or (strict and self.beyond_failed) else 0

    @property
    def passed_checks(self) -> int:
        return sum(c.passed for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (testcases left out: the database keeps them)."""
        release = self.submission.release
        return {
            "submission": self.submission.name,
            "path": str(self.submission.path),
            "pull_request": self.pull_request,
            "title": self.title,
            "release": version_name(release) if release is not None else None,
            "product": self.submission.product,
            "result": self.result,
            "passed_checks": self.passed_checks,
            "total_checks": len(self.checks),
            "checks": [{"name": c.name, "title": c.title, "passed": c.passed, "hint": c.hint,
                        "details": list(c.details), "beyond_the_bot": c.beyond}
                       for c in self.checks],
            "labels": self.labels,
            "add": self.label_changes[0],
            "remove": self.label_changes[1],
            "status": self.status,
            "comment": self.comment,
            "error": self.error,
        }


def version_name(release: Release) -> str:
    """`v1.35`: how folders, titles and labels name a release."""
    return f"v{release.minor_name}"


def locate(path: Path, release: str | None = None) -> Submission:
    """The submission in folder `path`; its release from `release` (v1.35, 1.35) or else
    from the parent folder's name (`v1.35/<product>`). A folder named like a release holds
    its files directly in `vX.Y/`, where the bot finds no release, whatever `release` says."""
    if not path.is_dir():
        raise InputError(f"{path}: not a submission folder")
    resolved = path.resolve()
    if _FOLDER_RELEASE.match(resolved.name):
        return Submission(resolved, None, resolved.name, unplaced=(
            f"the files are directly in {resolved.name}/, not in a {resolved.name}/<product>/"
            f" folder: the bot finds no release ({BOT_NO_RELEASE!r})"))
    if release is not None:
        wanted = parse_release(release)
        return Submission(resolved, Release(wanted.major, wanted.minor), resolved.name)
    named = _folder_release(resolved.parent.name)
    if named is None:
        return Submission(resolved, None, resolved.name, unplaced=(
            f"the parent folder {resolved.parent.name[:40]!r} names no release (vX.Y; give"
            f" --release): the bot finds none ({BOT_NO_RELEASE!r})"))
    return Submission(resolved, named, resolved.name)


def _folder_release(name: str) -> Release | None:
    """The release a `vX.Y` folder is named after; None for another name, or numbers out
    of range."""
    match = _FOLDER_RELEASE.match(name)
    if not match:
        return None
    try:
        return Release(int(match[1]), int(match[2]))
    except ReleaseError:
        return None


def find_submissions(root: Path, release: Release | None = None) -> list[Submission]:
    """Every `vX.Y/<product>` folder under a cncf/k8s-conformance checkout (only `release`'s
    when given), ordered by release then product. A `vX.Y` that is a symbolic link is not
    entered; a `<product>` that is one is listed unresolved (its check then fails)."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    found = []
    for version_dir in root.iterdir():
        minor = _folder_release(version_dir.name)
        if minor is None or version_dir.is_symlink() or not version_dir.is_dir():
            continue
        if release is not None and minor != release:
            continue
        found += [Submission(p if p.is_symlink() else p.resolve(), minor, p.name)
                  for p in version_dir.iterdir() if p.is_symlink() or p.is_dir()]
    if not found:
        which = f"{version_name(release)}/<product>" if release else "vX.Y/<product>"
        raise InputError(f"{root}: no {which} folders")
    return sorted(found, key=lambda s: (s.release, s.product))


def parse_release_tests(content: bytes, origin: str) -> list[ReleaseTest]:
    """The tests of a conformance.yaml with the oldest and last release each lists.

    `conformance.parse` validates the list; the bot requires a test when any release
    listed is not newer than the submission's ("v1.9, v1.18" and "v1.31,v1.20" → from
    1.9 and 1.20), whatever its numbers (`v1.1256` is newer than every submission); only
    a release it cannot read at all makes the list unreadable.
    """
    tests = conformance.parse(content, origin, release_of=_listed_text)
    result = []
    for number, test in enumerate(tests, 1):
        size = len(test.codename.encode())
        if size > CODENAME_MAX_BYTES:
            raise InputError(f"{origin}: test #{number}: a codename of {size} bytes, more than"
                             f" the {CODENAME_MAX_BYTES} a conformance list may hold")
        try:
            listed = _listed_releases(test.release)
        except ReleaseError as exc:
            raise InputError(f"{origin}: test #{number}: {exc}") from exc
        result.append(ReleaseTest(test.codename, test.testname, min(listed), listed[-1],
                                  test.description, test.file))
    return result


def _listed_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _listed_releases(text: str) -> list[ListedRelease]:
    """The releases a `release:` value lists, in its order, spaces after the commas or not
    (the bot splits on "," alone and cannot read " v1.20", but meets it only in lists
    oldest first, where it stops at the first release before reading another)."""
    if not text:
        return [ListedRelease((1, 9))]  # tests that predate the field, as snoopDB reads them
    listed = [ListedRelease.parse(part.strip()) for part in text.split(",") if part.strip()]
    if not listed:
        raise ReleaseError(f"cannot read a release from {text[:40]!r}")
    return listed


def stored_release(text: str) -> ListedRelease:
    """A release as `conformance.release_test` keeps it (str of a ListedRelease)."""
    return ListedRelease.parse(text)


def required_tests(tests: Sequence[ReleaseTest], release: Release) -> list[ReleaseTest]:
    """The tests a submission for `release` must pass: those listing `release` or an earlier one."""
    return [t for t in tests if t.first_release.not_newer_than(release)]
