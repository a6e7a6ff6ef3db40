"""Kubernetes release names: parsing, ordering and the list of known releases."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.safeyaml import load_bounded

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_VERSION_PREFIX = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Release:
    """A minor release such as 1.20.0; ordered numerically (1.9.0 < 1.10.0)."""

    major: int
    minor: int
    patch: int = 0

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


def parse_release(text: str) -> Release:
    """Parse `1.20`, `1.20.0` or `v1.20.0`; anything else is a ReleaseError."""
    match = _RELEASE.match(text.strip())
    if not match:
        raise ReleaseError(f"bad release {text!r}: expected 1.20, 1.20.0 or v1.20.0")
    major, minor, patch = match.groups()
    return Release(int(major), int(minor), int(patch or 0))


def release_of_version(version: str) -> Release:
    """The X.Y.Z before the first `-` of a build version (`v1.37.0-alpha.1.5+abc` → 1.37.0)."""
    match = _VERSION_PREFIX.match(version.strip())
    if not match:
        raise ReleaseError(f"cannot read a release from version {version!r}")
    return Release(*(int(part) for part in match.groups()))


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
        raise ReleaseError(f"cannot read a release from {text!r}")
    return str(parse_release(listed[-1]))


@dataclass(frozen=True)
class KnownRelease:
    release: Release
    date: dt.date | None


def load_known_releases(path: Path | None = None) -> list[KnownRelease]:
    """The releases file (the shipped one unless `path`), newest first."""
    if path is None:
        text = resources.files("snoopdb.core").joinpath("releases.yaml").read_text()
        origin = "releases.yaml (shipped)"
    else:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ReleaseError(f"{path}: {exc.strerror}") from exc
        origin = str(path)
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


def _date(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class Releases:
    """The known releases, newest first, with look-ups by release."""

    def __init__(self, known: list[KnownRelease]):
        self.known = known
        self._by_release = {k.release: k for k in known}

    @classmethod
    def load(cls, path: Path | None = None) -> Releases:
        return cls(load_known_releases(path))

    @property
    def newest(self) -> Release:
        return self.known[0].release

    def resolve(self, text: str) -> Release:
        """Parse a release named by the user and check it is known (patch level ignored)."""
        wanted = parse_release(text)
        minor = Release(wanted.major, wanted.minor)
        if minor not in self._by_release:
            raise ReleaseError(
                f"unknown release {text!r}: known releases are "
                f"{self.known[-1].release.minor_name} to {self.newest.minor_name}"
            )
        return minor

    def cap(self, release: Release) -> Release:
        """Runs of an unreleased branch count towards the newest known release."""
        minor = Release(release.major, release.minor)
        return min(minor, self.newest)

    def date(self, release: Release) -> dt.date | None:
        known = self._by_release.get(release)
        return known.date if known else None

    def up_to(self, release: Release) -> list[Release]:
        """Every known release up to and including `release`, oldest first."""
        return sorted(k.release for k in self.known if k.release <= release)
