"""How large each kind of file snoopdb reads may be, downloaded and decompressed.

A gzip bomb is a few megabytes that expand to gigabytes (2 MB of gzipped spaces is a
2 GB finished.json); an answer with `Content-Encoding: gzip` is one as well. Every
download and every decompression is read against the bound of what it is, and one
line names the file and the bound when it goes past (`TooLarge`), before it is held
whole or written anywhere else. Each bound leaves room over the largest real file
of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from snoopdb.core.errors import InputError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Bound:
    """The most bytes a kind of file (`what`) may hold, once decompressed."""

    what: str
    size: int

    def __str__(self) -> str:
        return f"{_size(self.size)} for {self.what}"


class TooLarge(InputError):
    """A file larger than its bound, downloaded or once decompressed."""

    def __init__(self, location: str, bound: Bound, how: str = "holds"):
        super().__init__(f"{location}: {how} more than {_size(bound.size)}, the bound for "
                         f"{bound.what}; refusing to read further")


def _size(count: int) -> str:
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if count >= unit and count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count:,} bytes"


# YAML lists (conformance.yaml is under 1 MiB): safeyaml's own bound
YAML = Bound("a YAML file", 16 * MiB)
# swagger.json is 3-6 MB
SPEC = Bound("an OpenAPI spec", 64 * MiB)
# apisnoop's <release>.json and totals: a few MB
PUBLISHED = Bound("a published coverage file", 64 * MiB)
# finished.json, started.json, latest-build.txt, kubernetes-version.txt: under 1 KB
PROW_FILE = Bound("a prow build file", 1 * MiB)
# a page of 1,000 objects is about 1 MB
LISTING = Bound("a GCS listing page", 16 * MiB)
# an API server rotates its log at 2,000 MB (GCE); a copy is read one line at a time
AUDIT_LOG = Bound("an audit log", 16 * GiB)
# a page of 100 files or commits, each with its patch as GitHub cuts it
GITHUB_ANSWER = Bound("a GitHub API answer", 32 * MiB)
# GitHub refuses pushes of files over 100 MiB
PULL_REQUEST_FILE = Bound("a pull request's file", 100 * MiB)
# a run's Parquet file in an archive (snoopdb runs hot from gs://): 30-100 bytes an
# event, 100 MB for a run of a million; an audit log's bound, for runs a hundred times that
ARCHIVE_FILE = Bound("an archive file", 16 * GiB)
