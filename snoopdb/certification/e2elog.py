"""e2e.log, streamed: the API server's version and the run's final Ginkgo summary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.releases import RANGE, Release

E2E_MAX_LINE = 64 << 10

_APISERVER_VERSION = re.compile(r"kube-apiserver version: (v?(\d+)\.(\d+)\S*)")
_SUMMARY = re.compile(r"(?:SUCCESS|FAIL)! -- (\d+) Passed \| (\d+) Failed \| (\d+) Pending"
                      r" \| (\d+) Skipped")


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
                try:
                    version, minor = found[1], Release(int(found[2]), int(found[3]))
                except (ReleaseError, ValueError):  # ValueError: past int's 4,300 digits
                    raise InputError(f"e2e.log: kube-apiserver version {found[1][:40]!r} is "
                                     f"out of range ({RANGE})") from None
        elif "! -- " in line:
            found = _SUMMARY.search(line)
            if found:
                summary = found[0]
                succeeded = summary.startswith("SUCCESS") and found[2] == "0" and found[3] == "0"
    return E2eLog(version, minor, summary, succeeded)
