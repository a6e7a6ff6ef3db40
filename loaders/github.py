"""Where a release's Kubernetes files come from: the GitHub raw layout at the release's
tag (or `master` before it is released), or a local mirror of that layout (what
`snoopdb mirror` writes), which holds apisnoop's files too, at APISNOOP."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from snoopdb.core.config import Settings
from snoopdb.core.releases import Release, Releases

KUBERNETES = "kubernetes/kubernetes"
SPEC_PATH = "api/openapi-spec/swagger.json"
# apisnoop's raw base (SNOOPDB_APISNOOP_RAW_URL's default) in a mirror: its releases list
# and published coverage are DIR/kubernetes-sigs/apisnoop/main/resources/coverage/…
APISNOOP = "kubernetes-sigs/apisnoop/main"


def apisnoop_base(settings: Settings, local_dir: Path | None = None) -> str:
    """apisnoop's raw base: SNOOPDB_APISNOOP_RAW_URL, or its place in the mirror `local_dir`."""
    return str(local_dir / APISNOOP) if local_dir is not None else settings.apisnoop_raw_url


class Sources:
    """Where each file of a release comes from: the GitHub raw base URL, or a local
    mirror of it (the same layout: DIR/kubernetes/kubernetes/<ref>/<path>)."""

    def __init__(self, settings: Settings, releases: Releases, local_dir: Path | None = None):
        self.settings = settings
        self.releases = releases
        self.local_dir = local_dir

    def ref(self, release: Release) -> str:
        """`v1.20.0` for a published release; `master` for one not released yet."""
        date = self.releases.date(release)
        if date is None or date > dt.date.today():
            return "master"
        return release.tag

    def location(self, release: Release, path: str) -> str:
        if self.local_dir is not None:
            return str(self.local_dir / KUBERNETES / self.ref(release) / path)
        return self.settings.github_raw(KUBERNETES, self.ref(release), path)

    def immutable(self, release: Release) -> bool:
        return self.ref(release) != "master"
