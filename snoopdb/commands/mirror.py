"""`snoopdb mirror`: every file `snoopdb load --release X.Y` reads from GitHub and from
apisnoop, downloaded, checked whole and readable, into the layout `--from DIR` reads
(loaders/github.py): DIR/kubernetes/kubernetes/<ref>/<path> and
DIR/kubernetes-sigs/apisnoop/main/resources/coverage/<file>. CI runs (GCS) are not
mirrored: a mirror's loads name local logs with --audit-log.

Files are written under DIR through core.nofollow (a link inside DIR is refused, never
written through), with the mode ordinary files get. A mirror is marked incomplete
(INCOMPLETE, written first and removed last) until every file is in: `--from DIR`
refuses a folder holding the mark, whatever stopped the mirror."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from snoopdb.core import bounds, nofollow, progress
from snoopdb.core.bounds import Bound
from snoopdb.core.config import Settings
from snoopdb.core.errors import InputError, NotFound, SnoopError
from snoopdb.core.fetch import Fetcher, decoded
from snoopdb.core.releases import UPSTREAM_PATH, Release, Releases, parse_known_releases
from snoopdb.loaders import conformance, history, ineligible, pending, spec
from snoopdb.loaders.github import APISNOOP, SPEC_PATH, Sources

T = TypeVar("T")
# The published totals compare-published reads beside the per-release files.
SUMMARY_FILES = ("conformance-progress.json", "conformance-coverage-per-release.json")
# In DIR while a mirror is being written: its text is the command that writes it.
INCOMPLETE = "snoopdb-mirror-incomplete"


@dataclass(frozen=True)
class MirroredFile:
    """A file written into the mirror `out`: what it is, where it came from and went, its
    size, and whether its download was verified whole (a body no check vouches for,
    with no Content-Length and not chunked, is written but said to be unverified)."""

    what: str
    url: str
    path: Path
    bytes: int
    verified: bool
    out: Path

    def remove(self) -> None:
        """Take the file out of the mirror again, following no link."""
        nofollow.remove(self.out, self.path.relative_to(self.out).as_posix())


@dataclass
class MirrorReport:
    release: Release
    out: Path
    history: bool
    files: list[MirroredFile] = field(default_factory=list)
    # what upstream does not have (404) and load does without: `spec 1.5.0`, ...
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def releases_list_url(settings: Settings) -> str:
    return f"{settings.apisnoop_raw_url.rstrip('/')}/{UPSTREAM_PATH}"


def read_releases(fetcher: Fetcher, settings: Settings,
                  releases_file: Path | None = None) -> tuple[Releases, bytes, str]:
    """The releases list a mirror holds: `releases_file`, else apisnoop's, downloaded now
    (never a cached or shipped copy: a mirror is a copy of upstream); the list, its
    text and where it came from."""
    origin = str(releases_file) if releases_file is not None else releases_list_url(settings)
    content = (releases_file.read_bytes() if releases_file is not None
               else fetcher.read_bytes(origin, bound=bounds.YAML, cache=False))
    try:
        known = parse_known_releases(content.decode(), origin)
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin}: not a releases list: {exc}") from exc
    return Releases(known, origin), content, origin


def mirror(
    fetcher: Fetcher,
    settings: Settings,
    releases: Releases,
    releases_text: bytes,
    release: Release,
    out: Path,
    *,
    history_wanted: bool | None = None,
    on_file: Callable[[MirroredFile], None] | None = None,
) -> MirrorReport:
    """Download into `out` what `snoopdb load --release <release>` reads: the releases
    list, the specs of every release up to it (its own first: a release that does not
    exist fails before anything else is written), its conformance.yaml, ineligible and
    pending lists, and apisnoop's published coverage of every release up to it with the
    published totals (`history_wanted` None: when load would import them, i.e. for a
    past release; True: always; False: never). Files load treats as optional and
    upstream lacks are listed in `missing`; the release's own spec, and its published
    coverage when history is wanted for a past release, must exist."""
    started = time.monotonic()
    wants_history = releases.past(release) if history_wanted is None else history_wanted
    report = MirrorReport(release, out, wants_history)
    remote = Sources(settings, releases)
    local = Sources(settings, releases, out)

    def save(what: str, url: str, target: Path, *, bound: Bound, cache: bool) -> MirroredFile:
        verified = fetcher.save(url, out, target.relative_to(out).as_posix(), bound=bound,
                                cache=cache)
        written = MirroredFile(what, url, target, target.stat().st_size, verified, out)
        report.files.append(written)
        if on_file:
            on_file(written)
        return written

    def kubernetes_file(what: str, rel: Release, path: str, bound: Bound) -> MirroredFile:
        return save(what, remote.location(rel, path), Path(local.location(rel, path)),
                    bound=bound, cache=remote.immutable(rel))

    listed = out / APISNOOP / UPSTREAM_PATH
    specs = sorted(releases.up_to(release), key=lambda r: (r != release, r))
    made = not out.exists()
    nofollow.write(out, INCOMPLETE, [f"snoopdb mirror --release {release.minor_name} --out "
                                     f"{out}\n".encode()])
    with progress.bar(total=len(specs) + 4, desc="mirror", unit="file") as bar:
        try:
            _spec(kubernetes_file(f"spec {release}", release, SPEC_PATH, bounds.SPEC))
        except NotFound as exc:
            # no such release: nothing was written, and the mark goes (DIR too, if made)
            nofollow.remove(out, INCOMPLETE)
            if made:
                out.rmdir()
            raise NotFound(f"no spec for release {release}: {exc}") from exc
        bar.update(1)
        nofollow.write(out, listed.relative_to(out).as_posix(), [releases_text])
        report.files.append(MirroredFile("releases list", releases.origin, listed,
                                         len(releases_text), True, out))
        for rel in specs[1:]:
            try:
                _spec(kubernetes_file(f"spec {rel}", rel, SPEC_PATH, bounds.SPEC))
            except NotFound:
                report.missing.append(f"spec {rel}")
            bar.update(1)
        for what, path, parse in (("conformance tests", conformance.PATH, conformance.parse),
                                  ("ineligible endpoints", ineligible.PATH, ineligible.parse),
                                  ("pending endpoints", pending.PATH, pending.parse)):
            try:
                checked(kubernetes_file(f"{what} {release}", release, path, bounds.YAML),
                        parse, bounds.YAML)
            except NotFound:
                report.missing.append(f"{what} {release}")
            bar.update(1)
        if wants_history:
            _mirror_history(fetcher, settings, releases, release, out, report, save)
        bar.update(1)
    nofollow.remove(out, INCOMPLETE)
    report.seconds = time.monotonic() - started
    return report


def _mirror_history(fetcher: Fetcher, settings: Settings, releases: Releases, release: Release,
                    out: Path, report: MirrorReport,
                    save: Callable[..., MirroredFile]) -> None:
    """apisnoop's published coverage of every release up to `release`, under the name it
    is published by (`1.20.0.json`, else `1.15.json`), and the published totals."""
    folder = history.default_folder(settings)
    target = Path(history.default_folder(settings, out))
    required = release if releases.past(release) else None
    for rel in releases.up_to(release):
        names = (f"{rel}.json", f"{rel.minor_name}.json")
        for name in names:
            try:
                written = save(f"published coverage {rel}", history.location(folder, name),
                               target / name, bound=bounds.PUBLISHED,
                               cache=rel != releases.newest)
            except NotFound:
                continue
            coverage = checked(written, history.parse, bounds.PUBLISHED)
            if coverage.release != str(rel):
                raise InputError(f"{written.url}: is the coverage of release "
                                 f"{coverage.release}, not {rel}")
            break
        else:
            missing = f"{history.location(folder, names[0])}: not found (nor {names[1]})"
            if rel == required:
                raise SnoopError(f"no published coverage for release {rel}: {missing}")
            report.missing.append(f"published coverage {rel}")
    for name in SUMMARY_FILES:
        try:
            save(name, history.location(folder, name), target / name, bound=bounds.PUBLISHED,
                 cache=False)
        except NotFound:
            report.missing.append(name)


def checked(written: MirroredFile, parse: Callable[[bytes, str], T], bound: Bound) -> T:
    """What `parse` reads from a file just mirrored, so that a mirror never holds a
    file `snoopdb load` would refuse: such a file is removed, and the InputError names
    the URL it came from."""
    try:
        with decoded(written.path, written.url, bound) as stream:
            try:
                content = stream.read()
            except (OSError, EOFError) as exc:
                raise InputError(f"{written.url}: truncated or corrupt gzip: {exc}") from exc
        return parse(content, written.url)
    except InputError:
        written.remove()
        raise


def _spec(written: MirroredFile) -> None:
    """A spec just mirrored read through (one path item in memory at a time), as
    `checked` does for the other files."""
    try:
        with decoded(written.path, written.url, bounds.SPEC) as stream:
            if sum(1 for _ in spec.read_operations(stream, written.url)) == 0:
                raise InputError(f"{written.url}: no operations under `paths`")
    except InputError:
        written.remove()
        raise


def incomplete(folder: Path) -> str | None:
    """The command that was writing the mirror `folder` when it stopped before its end
    (its INCOMPLETE mark); None for a whole mirror."""
    try:
        return (folder / INCOMPLETE).read_text(errors="replace").strip() or "snoopdb mirror"
    except FileNotFoundError:
        return None
