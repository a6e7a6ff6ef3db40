"""Checking a k8s-conformance certification submission the way the CNCF bot
(kubernetes-sigs/verify-conformance, formerly cncf-infra/verify-conformance) does:
the folder `vX.Y/<product>/` with README.md, PRODUCT.yaml, e2e.log and junit_01.xml.

The labels are the bot's, case by case (its `internal/suite/suite.go` and
`internal/plugin/plugin.go`, scenarios in `kodata/features/verify-conformance.feature`).
Checks the bot does not make are kept, marked "beyond the bot": they never change
the labels, and fail a verification only when asked to (`strict`).

Submissions are treated as hostile: no symbolic link is followed (git stores a link
as its target's path, so that path is what the bot would read, and what is read
here), PRODUCT.yaml is read bounded in size and alias expansion, junit_01.xml and
e2e.log are streamed, and the testcases go to a temporary file, not to a list.

Everything here reads files and returns data; storing results is
`snoopdb.certification.store`, printing them is the CLI.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.parsers import expat

import requests
import yaml
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.releases import Release, parse_release
from snoopdb.core.safeyaml import load_bounded
from snoopdb.loaders import conformance

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
URL_TIMEOUT = (5, 20)
MAX_REDIRECTS = 10  # Go's http.Client default, the bot's client
PRODUCT_MAX_BYTES = 64 << 10
PRODUCT_MAX_NODES = 10_000
E2E_MAX_LINE = 64 << 10
DETAILS_MAX = 100  # names listed under a failed check; the count is always whole
CHUNK = 1 << 16

BEYOND = " (beyond the bot)"
SUBMISSION_LABEL = "conformance-product-submission"
NOT_SUBMISSION_LABEL = "not-conformance-product-submission"
UNABLE_LABEL = "unable-to-process"

_FOLDER_RELEASE = re.compile(r"^v(\d+)\.(\d+)$")
# the bot's title pattern (feature file and suite.go): `$2` is the release
_BOT_TITLE = re.compile(r"(.*) (v1.[0-9]{2})[ /](.*)")
_APISERVER_VERSION = re.compile(r"kube-apiserver version: (v?(\d+)\.(\d+)\S*)")
_SUMMARY = re.compile(r"(?:SUCCESS|FAIL)! -- (\d+) Passed \| (\d+) Failed \| (\d+) Pending"
                      r" \| (\d+) Skipped")
# The bot "un-escapes" these in testcase names before comparing them with conformance.yaml.
_BOT_NAME_FIXES = (("&#39;", "'"), ("&#34;", '"'), ("&gt;", ">"),
                   ("'cat /tmp/health'", '"cat /tmp/health"'))


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
            f"{self.count}\t{_copy_text(case.name)}\t{case.status}\t"
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


def _copy_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


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
    could not be processed (a release outside the supported window, no conformance list,
    not a conformance pull request); `labels` are then the bot's, or empty when the bot
    would have processed it and only snoopdb could not (a download failed)."""

    submission: Submission
    checks: list[Check] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    testcases: TestcaseSpool | None = None
    product: dict[str, str] = field(default_factory=dict)
    apiserver_version: str | None = None
    title: str | None = None
    error: str | None = None

    @property
    def result(self) -> str:
        """passed, failed or unprocessable; only the bot's checks count."""
        if self.error is not None:
            return "unprocessable"
        return "passed" if all(c.passed for c in self.checks if not c.beyond) else "failed"

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
        return {
            "submission": self.submission.name,
            "path": str(self.submission.path),
            "release": version_name(self.submission.release),
            "product": self.submission.product,
            "result": self.result,
            "passed_checks": self.passed_checks,
            "total_checks": len(self.checks),
            "checks": [{"name": c.name, "title": c.title, "passed": c.passed, "hint": c.hint,
                        "details": list(c.details), "beyond_the_bot": c.beyond}
                       for c in self.checks],
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
    when given), ordered by release then product. A `vX.Y` that is a symbolic link is not
    entered; a `<product>` that is one is listed unresolved (its check then fails)."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    found = []
    for version_dir in root.iterdir():
        match = _FOLDER_RELEASE.match(version_dir.name)
        if not match or version_dir.is_symlink() or not version_dir.is_dir():
            continue
        minor = Release(int(match[1]), int(match[2]))
        if release is not None and minor != release:
            continue
        found += [Submission(p if p.is_symlink() else p.resolve(), minor, p.name)
                  for p in version_dir.iterdir() if p.is_symlink() or p.is_dir()]
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


# --- files, read without following links -------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One entry of a submission folder, as `lstat` sees it: a regular file, a symbolic
    link (its content is the link's target path, what git stores), a directory or
    something else (a FIFO, a socket, a device: never opened)."""

    path: Path
    kind: str  # file | link | dir | other
    size: int

    def open(self) -> IO[bytes]:
        """The content as a binary stream; a link is never followed."""
        if self.kind == "link":
            return io.BytesIO(os.fsencode(os.readlink(self.path)))
        if self.kind != "file":
            raise InputError(f"{self.path}: not a regular file")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags)
        except OSError as exc:
            raise InputError(f"{self.path}: {exc.strerror}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since it was listed
            os.close(fd)
            raise InputError(f"{self.path}: not a regular file")
        return os.fdopen(fd, "rb")


def list_entries(folder: Path) -> dict[str, Entry]:
    """The entries of `folder` by name; nothing when `folder` itself is a link."""
    if folder.is_symlink():
        return {}
    entries = {}
    with os.scandir(folder) as listing:
        for item in listing:
            info = item.stat(follow_symlinks=False)
            kind = ("link" if stat.S_ISLNK(info.st_mode) else
                    "file" if stat.S_ISREG(info.st_mode) else
                    "dir" if stat.S_ISDIR(info.st_mode) else "other")
            entries[item.name] = Entry(Path(item.path), kind, info.st_size)
    return entries


def _required_entry(entries: dict[str, Entry], name: str) -> Entry | None:
    """The file the bot takes for `name`: its base name compared without case; a
    directory or special file is nothing git (so the bot) would see."""
    candidates = [entries[name]] if name in entries else []
    candidates += [e for key, e in sorted(entries.items())
                   if key != name and key.lower() == name.lower()]
    return next((e for e in candidates if e.kind in ("file", "link")), None)


# --- junit_01.xml --------------------------------------------------------------------

def read_junit(source: Path | IO[bytes], origin: str = "junit_01.xml") -> Iterator[Testcase]:
    """The testcases of a junit XML file, streamed with expat (no tree is built: memory
    stays flat whatever the number of testcases), read as the bot's Go decoder reads
    them: the root must be <testsuites>; its <testsuite> children's <testcase> children
    count; anything after the root element is ignored; a DTD entity is refused.
    InputError (naming `origin`) when the bot could not read it either."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            yield from read_junit(stream, origin)
        return
    reader = _JunitReader(origin)
    while not reader.done:
        chunk = source.read(CHUNK)
        reader.feed(chunk, final=not chunk)
        yield from reader.cases
        reader.cases.clear()
        if not chunk:
            break


class _JunitReader:
    def __init__(self, origin: str):
        self.origin = origin
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.EntityDeclHandler = self._entity
        self.parser.XmlDeclHandler = self._declaration
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.cases: list[Testcase] = []
        self.path: list[str] = []
        self.name: str | None = None
        self.children: set[str] = set()
        self.done = False

    def feed(self, chunk: bytes, final: bool) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            if self.done:  # trailing content after the root element: Go never reads it
                return
            raise InputError(f"{self.origin}: not well-formed XML: {exc}") from exc
        if final and not self.done:
            raise InputError(f"{self.origin}: not well-formed XML: no root element")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        if self.done:
            return
        local = tag.rpartition(":")[2]
        depth = len(self.path)
        if depth == 0 and local != "testsuites":
            raise InputError(f"{self.origin}: expected element type <testsuites> but have"
                             f" <{local}>")
        self.path.append(local)
        if depth == 2 and local == "testcase" and self.path[1] == "testsuite":
            self.name = attributes.get("name", "")
            self.children = set()
        elif depth == 3 and self.name is not None:
            self.children.add(local)

    def _end(self, tag: str) -> None:
        if self.done:
            return
        self.path.pop()
        if len(self.path) == 2 and self.name is not None:
            self.cases.append(Testcase(_bot_name(self.name), _status(self.children)))
            self.name = None
        elif not self.path:
            self.done = True

    def _entity(self, name: str, *_: object) -> None:
        raise InputError(f"{self.origin}: declares the XML entity {name!r}; entities are"
                         " not read")

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower() != "utf-8":
            raise InputError(f"{self.origin}: encoding {encoding!r} declared; the bot reads"
                             " UTF-8 only")


def _bot_name(name: str) -> str:
    for old, new in _BOT_NAME_FIXES:
        name = name.replace(old, new)
    # Ginkgo v2 prefixes spec names with the node type; conformance.yaml does not.
    return name.removeprefix("[It] ")


def _status(children: set[str]) -> str:
    # the bot ignores a skipped testcase whatever else it holds
    if "skipped" in children:
        return "skipped"
    if "failure" in children:
        return "failed"
    if "error" in children:
        return "errored"
    return "passed"


# --- e2e.log ---------------------------------------------------------------------------

@dataclass(frozen=True)
class E2eLog:
    """What e2e.log says: the API server's version and the run's final summary line."""

    apiserver_version: str | None
    apiserver_minor: Release | None
    summary: str | None
    succeeded: bool


def read_e2e_log(source: Path | IO[bytes]) -> E2eLog:
    """Stream e2e.log (lines read at most E2E_MAX_LINE bytes at a time): the first
    `kube-apiserver version:` and the last Ginkgo summary."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return read_e2e_log(stream)
    version = minor = summary = None
    succeeded = False
    while raw := source.readline(E2E_MAX_LINE):
        line = raw.decode("utf-8", errors="replace")
        if version is None and "kube-apiserver version:" in line:
            found = _APISERVER_VERSION.search(line)
            if found:
                version, minor = found[1], Release(int(found[2]), int(found[3]))
        elif "! -- " in line:
            found = _SUMMARY.search(line)
            if found:
                summary = found[0]
                succeeded = summary.startswith("SUCCESS") and found[2] == "0" and found[3] == "0"
    return E2eLog(version, minor, summary, succeeded)


# --- PRODUCT.yaml ------------------------------------------------------------------------

def read_product(source: Path | IO[bytes]) -> dict[str, Any]:
    """PRODUCT.yaml as a mapping (empty for an empty document, as the bot's decoder gives);
    InputError when it is too large, not YAML, an alias bomb or not a mapping."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return read_product(stream)
    content = load_bounded(source.read(PRODUCT_MAX_BYTES + 1), source="PRODUCT.yaml",
                           max_bytes=PRODUCT_MAX_BYTES, max_nodes=PRODUCT_MAX_NODES)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise InputError("PRODUCT.yaml is not a mapping of fields")
    return {str(key): value for key, value in content.items()}


def _bot_strings(product: dict[str, Any]) -> dict[str, str] | None:
    """PRODUCT.yaml as the bot decodes it into map[string]string for its URL and e-mail
    checks: scalars as text, null as ""; None when a value is a list or mapping (the
    bot cannot decode the file then, and the check fails)."""
    strings = {}
    for key, value in product.items():
        if isinstance(value, (list, dict)):
            return None
        strings[key] = ("" if value is None else
                        str(value).lower() if isinstance(value, bool) else str(value))
    return strings


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- Go's url.ParseRequestURI and mail.ParseAddress, as the bot calls them ---------------

_HOST_PUNCTUATION = set("-_.~!$&'()*+,;=:[]<>\"")
_USERINFO_PUNCTUATION = set("-._:~!$&'()*+,;=%@")


def url_problem(raw: str) -> str | None:
    """Why Go's `url.ParseRequestURI` refuses `raw` (None when it accepts it): an
    absolute URL or an absolute path; the host checked character by character, the
    port all digits, every `%` followed by two hex digits; no fragment is split off."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "invalid control character in URL"
    if raw == "":
        return "empty url"
    if raw == "*":
        return None
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return "missing protocol scheme"
            scheme, rest = raw[:i], raw[i + 1:]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        return None if scheme else "invalid URI for request"
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        problem = _authority_problem(authority)
        if problem:
            return problem
        rest = slash + path
    return _escape_problem(rest)


def _authority_problem(authority: str) -> str | None:
    userinfo, at, host = authority.rpartition("@")
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1:]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    if port and not (port[0] == ":" and all(c in "0123456789" for c in port[1:])):
        return f"invalid port {port!r} after host"
    problem = _escape_problem(host, in_host=True)
    if problem:
        return problem
    if at:
        if any(c.isascii() and not c.isalnum() and c not in _USERINFO_PUNCTUATION
               for c in userinfo):
            return "net/url: invalid userinfo"
        return _escape_problem(userinfo)
    return None


def _escape_problem(text: str, in_host: bool = False) -> str | None:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            code = text[i + 1:i + 3]
            if len(code) < 2 or any(d not in "0123456789abcdefABCDEF" for d in code):
                return f"invalid URL escape {text[i:i + 3]!r}"
            if in_host and int(code[0], 16) < 8 and code != "25":
                return f"invalid URL escape {text[i:i + 3]!r}"
            i += 3
            continue
        if in_host and c.isascii() and not c.isalnum() and c not in _HOST_PUNCTUATION:
            return f"invalid character {c!r} in host name"
        i += 1
    return None


class _MailError(Exception):
    pass


def _is_atext(c: str, dot: bool) -> bool:
    if c == ".":
        return dot
    if c in "()<>[]:;@\\,\"":
        return False
    return "!" <= c <= "~" or ord(c) >= 0x80


def _is_vchar(c: str) -> bool:
    return "!" <= c <= "~" or ord(c) >= 0x80


class _AddressParser:
    """RFC 5322 address parsing with Go's net/mail rules: an addr-spec (dot-atom or
    quoted local part, dot-atom or IP-literal domain; a domain needs no dot), optionally
    with a (comment), or a phrase and an <angle-addr>, or a one-address group."""

    def __init__(self, text: str):
        self.s = text

    def parse_single(self) -> None:
        addresses = self.address(groups=True)
        if not self.skip_cfws():
            raise _MailError("misformatted parenthetical comment")
        if self.s:
            raise _MailError(f"expected single address, got {self.s!r}")
        if len(addresses) != 1:
            raise _MailError("empty group" if not addresses else
                             "group with multiple addresses")

    def address(self, groups: bool) -> list[str]:
        self.skip_space()
        if not self.s:
            raise _MailError("no address")
        saved = self.s
        try:
            spec = self.addr_spec()
        except _MailError:
            self.s = saved
        else:
            self.skip_space()
            if self.s.startswith("("):
                self.s = self.s[1:]
                if not self.comment():
                    raise _MailError("misformatted parenthetical comment")
            return [spec]
        name = "" if self.s.startswith("<") else self.phrase()
        self.skip_space()
        if groups and self.consume(":"):
            return self.group()
        if not self.consume("<"):
            if all(_is_atext(c, True) for c in name):
                raise _MailError("missing '@' or angle-addr")
            raise _MailError("no angle-addr")
        spec = self.addr_spec()
        if not self.consume(">"):
            raise _MailError("unclosed angle-addr")
        return [spec]

    def group(self) -> list[str]:
        found: list[str] = []
        self.skip_space()
        if self.consume(";"):
            if not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            return found
        while True:
            self.skip_space()
            found += self.address(groups=False)
            if not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            if self.consume(";"):
                if not self.skip_cfws():
                    raise _MailError("misformatted parenthetical comment")
                return found
            if not self.consume(","):
                raise _MailError("expected comma")

    def addr_spec(self) -> str:
        self.skip_space()
        if not self.s:
            raise _MailError("no addr-spec")
        if self.s.startswith('"'):
            local = self.quoted()
            if not local:
                raise _MailError("empty quoted-string in addr-spec")
        else:
            local = self.atom(dot=True, permissive=False)
        if not self.consume("@"):
            raise _MailError("missing @ in addr-spec")
        self.skip_space()
        if not self.s:
            raise _MailError("no domain in addr-spec")
        domain = self.domain_literal() if self.s.startswith("[") else \
            self.atom(dot=True, permissive=False)
        return f"{local}@{domain}"

    def phrase(self) -> str:
        words: list[str] = []
        while True:
            if words and not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            self.skip_space()
            if not self.s:
                break
            try:
                words.append(self.quoted() if self.s.startswith('"') else
                             self.atom(dot=True, permissive=True))
            except _MailError as exc:
                if not words:
                    raise _MailError(f"missing word in phrase: {exc}") from exc
                break
        if not words:
            raise _MailError("missing word in phrase")
        return " ".join(words)

    def atom(self, dot: bool, permissive: bool) -> str:
        i = 0
        while i < len(self.s) and _is_atext(self.s[i], dot):
            i += 1
        if i == 0:
            raise _MailError("invalid string")
        atom, self.s = self.s[:i], self.s[i:]
        if not permissive:
            if atom.startswith("."):
                raise _MailError("leading dot in atom")
            if ".." in atom:
                raise _MailError("double dot in atom")
            if atom.endswith("."):
                raise _MailError("trailing dot in atom")
        return atom

    def quoted(self) -> str:
        text, escaped, i = [], False, 1
        while True:
            if i >= len(self.s):
                raise _MailError("unclosed quoted-string")
            c = self.s[i]
            if escaped:
                if not (_is_vchar(c) or c in " \t"):
                    raise _MailError(f"bad character in quoted-string: {c!r}")
                text.append(c)
                escaped = False
            elif c == '"':
                break
            elif c == "\\":
                escaped = True
            elif _is_vchar(c) or c in " \t":
                text.append(c)
            else:
                raise _MailError(f"bad character in quoted-string: {c!r}")
            i += 1
        self.s = self.s[i + 1:]
        return "".join(text)

    def domain_literal(self) -> str:
        end = self.s.find("]")
        if end < 0:
            raise _MailError("unclosed domain-literal")
        literal, self.s = self.s[1:end], self.s[end + 1:]
        if any(not ("!" <= c <= "Z" or "^" <= c <= "~" or ord(c) >= 0x80) for c in literal):
            raise _MailError("bad character in domain-literal")
        try:
            ipaddress.ip_address(literal)
        except ValueError:
            raise _MailError(f"invalid IP address in domain-literal: {literal!r}") from None
        return f"[{literal}]"

    def comment(self) -> bool:
        depth = 1
        while self.s and depth:
            if self.s[0] == "\\" and len(self.s) > 1:
                self.s = self.s[1:]
            elif self.s[0] == "(":
                depth += 1
            elif self.s[0] == ")":
                depth -= 1
            self.s = self.s[1:]
        return depth == 0

    def skip_space(self) -> None:
        self.s = self.s.lstrip(" \t")

    def skip_cfws(self) -> bool:
        self.skip_space()
        while self.consume("("):
            if not self.comment():
                return False
            self.skip_space()
        return True

    def consume(self, char: str) -> bool:
        if self.s.startswith(char):
            self.s = self.s[1:]
            return True
        return False


def email_problem(value: str) -> str | None:
    """Why Go's `mail.ParseAddress` refuses `value` (None when it accepts it)."""
    try:
        _AddressParser(value).parse_single()
    except _MailError as exc:
        return str(exc)
    return None


# --- --check-urls ------------------------------------------------------------------------

def refused_address(address: str) -> str | None:
    """Why `--check-urls` will not connect to `address` (None when it will):
    loopback, link-local, private and other non-public addresses are refused, so a
    PRODUCT.yaml cannot make snoopdb probe the machine or its network."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address {ip}"
    return None


class RefusedAddress(Exception):
    """The URL leads to an address `--check-urls` does not connect to. Not an OSError,
    so neither urllib3 nor requests retries or wraps it."""


def _guarded(connection: type[HTTPConnection]) -> type[HTTPConnection]:
    class Guarded(connection):  # type: ignore[valid-type,misc]
        """Checks the address actually connected to (after DNS, on every redirect)."""

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            problem = refused_address(sock.getpeername()[0])
            if problem:
                sock.close()
                raise RefusedAddress(f"refused: {problem}")
            return sock

    return Guarded


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _guarded(HTTPConnection)


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _guarded(HTTPSConnection)  # type: ignore[assignment]


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}


def url_session(allow_private: bool = False) -> requests.Session:
    """The session `--check-urls` asks with: no proxy from the environment (the address
    checked must be the server's), at most MAX_REDIRECTS redirects, and unless
    `allow_private` only public addresses, checked once connected (so neither DNS nor
    a redirect can lead elsewhere)."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    if not allow_private:
        session.mount("http://", _GuardedAdapter())
        session.mount("https://", _GuardedAdapter())
    return session


@dataclass(frozen=True)
class PageAnswer:
    """What asking for a URL gave: the final Content-Type (empty when the request
    failed or none was sent, as the bot sees it) and why it is not a good page."""

    content_type: str
    problem: str | None


def ask_page(session: requests.Session, url: str) -> PageAnswer:
    """HEAD `url` as the bot does, following redirects; a server that refuses HEAD is
    asked again with a streamed GET (headers only), for the status only."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        return PageAnswer("", "not an absolute URL: not asked")
    try:
        response = session.head(url, allow_redirects=True, timeout=URL_TIMEOUT)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code in (405, 501):
            with session.get(url, stream=True, timeout=URL_TIMEOUT) as response:
                pass
    except RefusedAddress as exc:
        return PageAnswer("", str(exc))
    except requests.RequestException as exc:
        return PageAnswer("", type(exc).__name__)
    if response.status_code != 200:
        return PageAnswer(content_type, f"HTTP {response.status_code}")
    content_type = response.headers.get("Content-Type", "")
    if "text/html" not in content_type:
        return PageAnswer(content_type, f"content type {content_type or 'none'}, not text/html")
    return PageAnswer(content_type, None)


# --- the verdict ---------------------------------------------------------------------------

def oldest_supported(stable: Release) -> Release:
    """The oldest release the bot still accepts: `stable`, the newest released, minus two minors."""
    return Release(stable.major, max(stable.minor - SUPPORTED_MINORS, 0))


def unable(submission: Submission, reason: str, *, title: str | None = None,
           labels: Sequence[str] = (SUBMISSION_LABEL, UNABLE_LABEL)) -> Verification:
    """A verdict without checks: the submission cannot be processed, for `reason`."""
    return Verification(submission, labels=sorted(labels), title=title, error=reason)


def precheck(submission: Submission, stable: Release, title: str | None) -> Verification | None:
    """What the bot decides before checking anything (None when it goes on to check):
    a title without "conformance results for" is not a submission; a release older than
    `stable` (the newest released) minus two minors is not accepted any more."""
    if title is not None and TITLE_PHRASE.lower() not in title.lower():
        return unable(submission, f"the title does not contain {TITLE_PHRASE!r}: not a"
                      " conformance results submission", title=title,
                      labels=(NOT_SUBMISSION_LABEL, UNABLE_LABEL))
    oldest = oldest_supported(stable)
    if submission.release < oldest:
        return unable(submission, f"{version_name(submission.release)} is older than"
                      f" {version_name(oldest)}, the oldest release still accepted (newest"
                      f" {version_name(stable)} minus {SUPPORTED_MINORS})", title=title)
    return None


def verify(
    submission: Submission,
    tests: Sequence[ReleaseTest],
    stable: Release,
    *,
    title: str | None = None,
    http: requests.Session | None = None,
) -> Verification:
    """Run every check on `submission` against its release's conformance list `tests`.

    `stable` is the newest released release (the bot's stable.txt): older than it minus
    two minors cannot be processed; `title` the pull request's title, checked when given;
    `http` a session (see `url_session`) to ask PRODUCT.yaml's URLs with, not asked when None.
    """
    early = precheck(submission, stable, title)
    if early is not None:
        return early
    result = Verification(submission, title=title)
    checks = result.checks
    entries = list_entries(submission.path)
    required = {name: _required_entry(entries, name) for name in FILES}
    missing = [name for name, entry in required.items() if entry is None]
    empty = [name for name, entry in required.items() if entry is not None and entry.size == 0]
    usable = {name: entry for name, entry in required.items()
              if entry is not None and entry.size > 0}

    checks.append(Check(
        "files", "the submission has README.md, PRODUCT.yaml, e2e.log and junit_01.xml,"
        " none empty", not missing and not empty,
        "; ".join(part for part in (
            f"missing: {', '.join(missing)}" if missing else "",
            f"empty: {', '.join(empty)}" if empty else "") if part)))
    others = sorted(name for name in entries if name not in FILES)
    checks.append(Check(
        "only-files", "the submission has no other files", not others,
        f"remove {len(others)} other file(s): {', '.join(others)}" if others else ""))
    irregular = [f"{name} ({_KIND_NAMES[entry.kind]})" for name, entry in sorted(entries.items())
                 if entry.kind in ("link", "other")]
    if submission.path.is_symlink():
        irregular.insert(0, f"the folder {submission.name} is a symbolic link")
    checks.append(Check(
        "regular-files", "the submission's files are regular files" + BEYOND, not irregular,
        f"not followed nor opened: {', '.join(irregular)}" if irregular else "", beyond=True))

    checks += _product_checks(result, usable.get("PRODUCT.yaml"), http)
    if title is not None:
        checks += _title_checks(submission, title)
    checks += _e2e_checks(result, usable.get("e2e.log"))

    release = version_name(submission.release)
    test_checks, test_labels = _test_checks(result, required_tests(tests, submission.release),
                                            usable.get("junit_01.xml"))
    checks += test_checks
    result.labels = sorted([
        SUBMISSION_LABEL, *(f"missing-file-{name}" for name in missing), *test_labels,
        f"release-{release}",
        "release-documents-checked" if result.result == "passed" else "not-verifiable"])
    return result


_KIND_NAMES = {"link": "symbolic link", "other": "not a regular file"}


def _product_checks(
    result: Verification, entry: Entry | None, http: requests.Session | None
) -> list[Check]:
    titles = {
        "product-fields": "PRODUCT.yaml has every required field",
        "product-type": f"PRODUCT.yaml type is one of: {', '.join(PRODUCT_TYPES)}{BEYOND}",
        "product-format": "PRODUCT.yaml URLs and e-mail address are well-formed",
    }
    if http is not None:
        titles["product-pages"] = "PRODUCT.yaml URLs lead to HTML pages"
        titles["product-pages-answer"] = "PRODUCT.yaml URLs answer 200" + BEYOND
    try:
        if entry is None:
            raise InputError("PRODUCT.yaml is missing or empty")
        with entry.open() as stream:
            product = read_product(stream)
    except InputError as exc:
        return [Check(name, title, False, str(exc), beyond=title.endswith(BEYOND))
                for name, title in titles.items()]
    fields = {key: _text(value) for key, value in product.items()}
    result.product = {key: fields[key] for key in PRODUCT_FIELDS if fields.get(key)}

    # the bot: a field is missing when absent or null; "" is there
    absent = [name for name in PRODUCT_FIELDS if product.get(name) is None]
    kind = fields.get("type", "")
    strings = _bot_strings(product)
    if strings is None:
        bad = ["a value is a list or mapping, so the bot cannot read the URLs (it expects text)"]
    else:
        bad = [f"{name} {strings[name]!r} is not a URL ({problem})" for name in URL_FIELDS
               if strings.get(name) and (problem := url_problem(strings[name]))]
        email = strings.get("contact_email_address", "")
        if email and (problem := email_problem(email)):
            bad.append(f"contact_email_address {email!r} is not an e-mail address ({problem})")
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
        answers = {name: ask_page(http, url) for name, url in urls.items() if url}
        # the bot fails a page only on a Content-Type that is not text/html
        wrong = {name for name, answer in answers.items()
                 if answer.content_type and "text/html" not in answer.content_type}
        checks += [
            Check("product-pages", titles["product-pages"], not wrong, "; ".join(
                f"{name} {urls[name]}: content type {answers[name].content_type}, not text/html"
                for name in sorted(wrong, key=PAGE_FIELDS.index))),
            Check("product-pages-answer", titles["product-pages-answer"],
                  not any(a.problem for n, a in answers.items() if n not in wrong),
                  "; ".join(f"{name} {urls[name]}: {answer.problem}"
                            for name, answer in answers.items()
                            if answer.problem and name not in wrong), beyond=True),
        ]
    return checks


def _title_checks(submission: Submission, title: str) -> list[Check]:
    wanted = f"{TITLE_PHRASE} {submission.name}"
    found = _BOT_TITLE.search(title)
    named = found[2] if found else ""
    folder = version_name(submission.release)
    release_hint = ("" if named == folder else
                    f"the title names {named}, the folder {folder}" if named else
                    "the title names no release (v1.NN followed by a space or /)")
    return [
        Check("title-format", "the title reads like 'Conformance results for vX.Y/<product>'",
              found is not None, "" if found else f"the title should read {wanted!r}"),
        Check("title-release", "the title names the folder's release", not release_hint,
              release_hint),
    ]


def _e2e_checks(result: Verification, entry: Entry | None) -> list[Check]:
    wanted = version_name(result.submission.release)
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
    return [Check("e2e-version", version_title, not version_hint, version_hint, (), True),
            Check("e2e-success", success_title, log.succeeded, success_hint, (), True)]


def _test_checks(
    result: Verification, required: list[ReleaseTest], entry: Entry | None
) -> tuple[list[Check], list[str]]:
    """The two junit_01.xml checks and the labels the bot gives from them (none when it
    cannot read the file). One streamed pass: the testcases go to a spool for the database;
    in memory stay only the required names found and the failed names (DETAILS_MAX)."""
    release = version_name(result.submission.release)
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
    except InputError as exc:
        spool.close()
        hint = f"the bot cannot read junit_01.xml: {exc}"
        return [Check("required-tests", required_title, False, hint),
                Check("no-failed-tests", failed_title, False, hint)], []
    result.testcases = spool
    absent = sorted(wanted - present)
    labels = ["required-tests-missing" if absent else f"tests-verified-{release}",
              "evidence-missing" if failures else f"no-failed-tests-{release}"]
    return [
        Check("required-tests", required_title, not absent,
              f"{len(absent)} of {len(required)} required tests missing, skipped or failed"
              if absent else "", tuple(absent)),
        Check("no-failed-tests", failed_title, not failures,
              f"{failures} [Conformance] testcase(s) failed or errored" if failures else "",
              tuple(sorted(failed))),
    ], labels
