"""Kubernetes release names: parsing and ordering (with the `semver` package), and
the list of known releases — apisnoop's, read at run time and cached for a day,
with the copy shipped here as the offline fallback."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import semver

from snoopdb.core import bounds
from snoopdb.core.errors import FetchError, InputError, ReleaseError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.safeyaml import load_bounded

# Releases before this one have no OpenAPI spec in kubernetes/kubernetes.
OLDEST = (1, 5)
# The release numbers snoopdb reads (docs/releases.md): Kubernetes is at 1.3x and
# adds three minors a year, so 1.99 is decades away. A number past these is a
# hostile or broken file, refused where it is read, before it reaches a table
# (release_key() reads each number as a PostgreSQL integer) or decides which
# release is the newest.
MAJORS = range(1, 10)
MINORS = range(0, 100)
PATCHES = range(0, 1000)
RANGE = f"{MAJORS[0]}.0.0 to {MAJORS[-1]}.{MINORS[-1]}.{PATCHES[-1]}"
UPSTREAM_PATH = "resources/coverage/releases.yaml"
CACHE_NAME = "releases.yaml"
CACHE_SECONDS = 24 * 3600
# After a failed read of the upstream list: not asked for again for an hour (offline,
# every command would wait for the network and warn again).
FAILED_NAME = "releases.yaml.unreadable"
RETRY_SECONDS = 3600


@dataclass(frozen=True, order=True)
class Release:
    """A minor release such as 1.20.0; ordered numerically (1.9.0 < 1.10.0)."""

    major: int
    minor: int
    patch: int = 0

    def __post_init__(self) -> None:
        if (self.major not in MAJORS or self.minor not in MINORS
                or self.patch not in PATCHES):
            raise ReleaseError(f"release {self.major}.{self.minor}.{self.patch} is out of "
                               f"range ({RANGE})")

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_name(self) -> str:
        """`1.20`, the form release branches and folders use."""
        return f"{self.major}.{self.minor}"

    @property
    def tag(self) -> str:
        """The git tag of the release: `v1.20.0`."""
        return f"v{self}"


def _semver(text: str) -> semver.Version | None:
    """`text` without its leading `v` as a semantic version (`1.20` → 1.20.0); None if it is
    not one. At least major.minor: a bare `1` names no Kubernetes release."""
    bare = text.strip().removeprefix("v")
    if "." not in bare:
        return None
    try:
        return semver.Version.parse(bare, optional_minor_and_patch=True)
    except ValueError:
        return None


def parse_release(text: str) -> Release:
    """Parse `1.20`, `1.20.0` or `v1.20.0`; anything else is a ReleaseError."""
    version = _semver(text)
    if version is None or version.prerelease or version.build:
        raise ReleaseError(f"bad release {_shown(text)}: expected 1.20, 1.20.0 or v1.20.0")
    return _bounded(version.major, version.minor, version.patch, text)


def _bounded(major: int, minor: int, patch: int, text: str) -> Release:
    try:
        return Release(major, minor, patch)
    except ReleaseError:
        raise ReleaseError(f"bad release {_shown(text)}: out of range ({RANGE})") from None


def _shown(text: str) -> str:
    """`text` quoted for a message, cut short when it is long."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def release_of_version(version: str) -> Release:
    """The release a build version counts towards: the X.Y.0 of its version
    (`v1.38.0-alpha.2.41+abc` → 1.38.0, `v1.36.2` → 1.36.0)."""
    parsed = _semver(version)
    if parsed is None:
        raise ReleaseError(f"cannot read a release from version {_shown(version)}")
    bounded = _bounded(parsed.major, parsed.minor, parsed.patch, version)
    return Release(bounded.major, bounded.minor)


def commit_of_version(version: str) -> str | None:
    """The commit a build version names after its `+` (`v1.38.0-alpha.2.41+1b23e20` →
    1b23e20); None when its build metadata is not a commit hash (`+abc-dirty`)."""
    parsed = _semver(version)
    build = parsed.build if parsed is not None else None
    if build and 7 <= len(build) <= 40 and all(c in "0123456789abcdef" for c in build):
        return build
    return None


def normalise_conformance_release(value: object) -> str:
    """conformance.yaml `release:` → X.Y.Z as snoopDB stores it.

    "" → 1.9.0 (tests that predate the field); "v1.16" → 1.16.0;
    "v1.9, v1.18" → the last one listed, 1.18.0 (the release it was last promoted in).
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return "1.9.0"
    listed = [part for part in text.split(",") if part.strip()]
    if not listed:
        raise ReleaseError(f"cannot read a release from {_shown(text)}")
    return str(parse_release(listed[-1]))


@dataclass(frozen=True)
class KnownRelease:
    release: Release
    date: dt.date | None


def parse_known_releases(text: str, origin: str) -> list[KnownRelease]:
    """A releases.yaml (apisnoop's format: a list of {version, release_date}), newest first."""
    try:
        entries = load_bounded(text, source=origin)
    except InputError as exc:
        raise ReleaseError(str(exc)) from exc
    try:
        known = [
            KnownRelease(parse_release(str(e["version"])), _date(e.get("release_date")))
            for e in entries
        ]
    except (TypeError, KeyError, ValueError, ReleaseError) as exc:
        raise ReleaseError(f"{origin}: not a list of {{version, release_date}}: {exc}") from exc
    if not known:
        raise ReleaseError(f"{origin}: no releases listed")
    return sorted(known, key=lambda k: k.release, reverse=True)


def load_known_releases(path: Path | None = None) -> list[KnownRelease]:
    """The releases file (the shipped one unless `path`), newest first."""
    if path is None:
        return parse_known_releases(_shipped_text(), SHIPPED)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ReleaseError(f"{path}: {exc.strerror}") from exc
    return parse_known_releases(text, str(path))


SHIPPED = "releases.yaml (shipped)"


def _shipped_text() -> str:
    return resources.files("snoopdb.core").joinpath("releases.yaml").read_text()


def _date(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class Releases:
    """The known releases, newest first, with look-ups by release.

    A release no list names yet but newer than every listed one (a CI run of the next
    release, `--release` of the branch being developed) is a release in development:
    no date, its files read at `master`. `origin` says where the list came from and
    `warning`, when set, why it is not the upstream list.
    """

    def __init__(self, known: list[KnownRelease], origin: str = SHIPPED,
                 warning: str | None = None):
        self.known = known
        self.origin = origin
        self.warning = warning
        self._by_release = {k.release: k for k in known}

    @classmethod
    def load(cls, path: Path | None = None) -> Releases:
        """The list in `path`, else the shipped copy; nothing is downloaded."""
        return cls(load_known_releases(path), str(path) if path else SHIPPED)

    @classmethod
    def mirrored(cls, path: Path) -> Releases:
        """The list a mirror holds at `path` (`snoopdb mirror` writes it); the shipped one,
        with a warning, for a mirror made without it. Nothing is downloaded."""
        if path.exists():
            return cls.load(path)
        shipped = load_known_releases()
        return cls(shipped, SHIPPED, f"{path}: the mirror has no releases list: using the "
                                     f"copy shipped with snoopdb, newest "
                                     f"{shipped[0].release.minor_name}")

    @classmethod
    def upstream(cls, fetcher: Fetcher, apisnoop_raw_url: str, cache_dir: Path,
                 path: Path | None = None) -> Releases:
        """apisnoop's list as it is today (`path` overrides it): read from
        `{apisnoop_raw_url}/resources/coverage/releases.yaml` at most once a day (kept
        under `cache_dir`); offline, the cached copy, else the shipped one. The first
        failure to read it sets `warning`; for an hour after it, the list is not asked
        for again and the fallback is used without a warning."""
        if path is not None:
            return cls.load(path)
        url = f"{apisnoop_raw_url.rstrip('/')}/{UPSTREAM_PATH}"
        cached = cache_dir / CACHE_NAME
        age = _age(cached)
        if age is not None and age < CACHE_SECONDS:
            try:
                return cls(parse_known_releases(cached.read_text(), f"{url} (cached)"),
                           f"{url} (cached)")
            except (OSError, ReleaseError):
                pass  # a damaged cache: read the list again
        failed = cache_dir / FAILED_NAME
        failed_age = _age(failed)
        if failed_age is not None and failed_age < RETRY_SECONDS:
            return cls._fallback(cached, age, None)
        try:
            text = fetcher.read_bytes(url, bound=bounds.YAML, cache=False).decode()
            known = parse_known_releases(text, url)
        except (FetchError, ReleaseError, InputError, UnicodeDecodeError) as exc:
            _write_cache(failed, "")
            return cls._fallback(cached, age, _reason(str(exc), url))
        _write_cache(cached, text)
        failed.unlink(missing_ok=True)
        return cls(known, url)

    @classmethod
    def _fallback(cls, cached: Path, age: float | None, reason: str | None) -> Releases:
        """The cached copy, else the shipped one; warning of it when `reason` says why."""
        if age is not None:
            try:
                known = parse_known_releases(cached.read_text(), str(cached))
            except (OSError, ReleaseError):
                pass
            else:
                day = dt.datetime.fromtimestamp(time.time() - age).date()
                return cls(known, str(cached), reason and (
                    f"apisnoop's releases list unreadable ({reason}): using the copy "
                    f"cached on {day}, newest {known[0].release.minor_name}"))
        shipped = load_known_releases()
        return cls(shipped, SHIPPED, reason and (
            f"apisnoop's releases list unreadable ({reason}): using the copy shipped with "
            f"snoopdb, newest {shipped[0].release.minor_name}"))

    @property
    def newest(self) -> Release:
        """The newest listed release (the one in development when the list has one)."""
        return self.known[0].release

    @property
    def development(self) -> Release | None:
        """The listed release in development (empty release_date), if any."""
        return next((k.release for k in self.known if k.date is None), None)

    @property
    def current(self) -> Release:
        """The release today's CI runs count towards: the one in development, else the
        newest listed."""
        return self.development or self.newest

    def in_development(self, release: Release) -> bool:
        """Not released yet: listed without a date, or newer than every listed release."""
        return self.date(release) is None

    def past(self, release: Release) -> bool:
        """Older than the current release: its CI runs are gone from the buckets."""
        return Release(release.major, release.minor) < self.current

    def resolve(self, wanted: Release) -> Release:
        """The minor release of one named by the user, when it is listed or the next one
        after the newest listed (in development); a ReleaseError otherwise."""
        minor = Release(wanted.major, wanted.minor)
        if (minor.major, minor.minor) < OLDEST:
            raise ReleaseError(f"unknown release {minor.minor_name!r}: releases before 1.5 "
                               "have no OpenAPI spec")
        if minor not in self._by_release and minor < self.newest:
            oldest = max(self.known[-1].release, Release(*OLDEST))
            raise ReleaseError(f"unknown release {minor.minor_name!r}: known releases are "
                               f"{oldest.minor_name} to {self.newest.minor_name}")
        # Beyond the next release nothing exists yet: read at master, a typo (1.99 for
        # 1.29) would store master's spec under a release that will not be for years.
        following = (self.newest.major, self.newest.minor + 1)
        if (minor.major, minor.minor) > following:
            raise ReleaseError(
                f"unknown release {minor.minor_name!r}: the newest release {self.origin} "
                f"lists is {self.newest.minor_name}; only the next one, "
                f"{following[0]}.{following[1]}, may be loaded before it is listed")
        return minor

    def date(self, release: Release) -> dt.date | None:
        known = self._by_release.get(Release(release.major, release.minor))
        return known.date if known else None

    def up_to(self, release: Release) -> list[Release]:
        """Every known release from 1.5 (apisnoop's list goes back to 1.0.0, which has no
        spec) up to and including `release` (listed or not), oldest first."""
        listed = {k.release for k in self.known if Release(*OLDEST) <= k.release <= release}
        return sorted(listed | {Release(release.major, release.minor)})


def _reason(message: str, url: str) -> str:
    """Why the list could not be read, without its URL and the retries' account:
    `host name not found`, `not a list of {version, release_date}: ...`."""
    first = message.splitlines()[0].removeprefix(f"{url}: ")
    return first.split(" (gave up after ")[0]


def _age(path: Path) -> float | None:
    """Seconds since `path` was written; None when it does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None


def _write_cache(path: Path, text: str) -> None:
    """Keep the list read from upstream, whole or not at all."""
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, path)
    except OSError:
        pass  # a read-only cache directory: the list is read again next time
    finally:
        if partial is not None and os.path.exists(partial):
            os.unlink(partial)
