"""Everything `snoopdb load` reads upstream, as one folder in the GitHub raw layout, over
the real files of ../shared/data: served by `servers.serve_directory`, it stands for
raw.githubusercontent.com (SNOOPDB_GITHUB_RAW_URL = its URL) and apisnoop's raw base
(SNOOPDB_APISNOOP_RAW_URL = its URL + /kubernetes-sigs/apisnoop/main).

- kubernetes/kubernetes/<tag>/: every shipped spec (servers.build_raw_mirror); the
  conformance.yaml of each tag from 1.16 (the releases branches' files for 1.34–1.36,
  else the real conformance.yaml cut to the tests promoted by that release); the
  ineligible list at 1.36; no pending list anywhere (a 404, as for most releases);
- kubernetes-sigs/apisnoop/main/resources/coverage/: the shipped releases list, and a
  published coverage file for each release with a shipped spec, generated (apisnoop's
  files are not in ../shared/data): the spec's operations (watch and deprecated ones
  left out, as apisnoop does) in apisnoop's format, each tested or not by a rule of
  its name, by a conformance test of that release or by another test; up to 1.16
  named and shaped as apisnoop's old files (`1.15.json`, release "1.15").
"""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import IO, cast

import yaml

from snoopdb.core.releases import UPSTREAM_PATH, Release, normalise_conformance_release
from snoopdb.loaders import conformance
from snoopdb.loaders.conformance import ConformanceTest
from snoopdb.loaders.github import APISNOOP, KUBERNETES
from snoopdb.loaders.history import COVERAGE_FOLDER
from snoopdb.loaders.spec import read_operations
from testkit.servers import build_raw_mirror

BRANCH_LISTS = ("1.34", "1.35", "1.36")
OTHER_TESTS = ("[sig-apps] Deployment should scale down old replica sets",
               "[sig-node] Pods should report their phase")


def build_upstream(root: Path, shared: Path) -> Path:
    """Write the upstream folder under `root` (see the module's docstring); returns root."""
    build_raw_mirror(root, shared)
    repo = root / KUBERNETES
    every = conformance.parse((shared / "conformance" / "conformance.yaml").read_bytes(),
                              "conformance.yaml")
    coverage = root / APISNOOP / COVERAGE_FOLDER
    coverage.mkdir(parents=True)
    (coverage / "releases.yaml").write_text(
        resources.files("snoopdb.core").joinpath("releases.yaml").read_text())
    assert UPSTREAM_PATH == f"{COVERAGE_FOLDER}/releases.yaml"
    for spec in sorted((shared / "openapi").glob("swagger-*.json.gz")):
        minor = spec.name.removeprefix("swagger-").removesuffix(".json.gz")
        major, number = (int(part) for part in minor.split("."))
        release = Release(major, number)
        testdata = repo / release.tag / "test" / "conformance" / "testdata"
        tests = [t for t in every if _key(t.release) <= (major, number)]
        if minor in BRANCH_LISTS:
            if release.tag != "v1.36.0":  # build_raw_mirror put 1.36's there
                testdata.mkdir(parents=True)
                (testdata / "conformance.yaml").symlink_to(
                    shared / "conformance" / f"conformance-{minor}.yaml")
        elif number >= 16:
            testdata.mkdir(parents=True)
            (testdata / "conformance.yaml").write_text(yaml.safe_dump(
                [{"testname": t.testname, "codename": t.codename, "description":
                  t.description, "release": f"v{t.release.rsplit('.', 1)[0]}", "file": t.file}
                 for t in tests], sort_keys=False))
        name = f"{release}.json" if number > 16 else f"{minor}.json"
        published = published_coverage(spec, release, tests, old=number <= 16)
        (coverage / name).write_text(json.dumps(published, indent=None if number <= 16 else 2))
    return root


def _key(release: str) -> tuple[int, int]:
    major, minor, _ = normalise_conformance_release(release).split(".")
    return int(major), int(minor)


def _pick(name: str, salt: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{name}".encode()).digest()[:4], "big") % n


def published_coverage(spec: Path, release: Release, conformance_tests: list[ConformanceTest],
                       *, old: bool = False) -> dict:
    """apisnoop's published coverage of `release`, made up over the real spec: an endpoint
    is tested when a rule of its name says so (about half of them), by one of
    `conformance_tests` (two in three of the tested) or by another test."""
    endpoints: list[dict] = []
    named: dict[str, ConformanceTest] = {}
    with gzip.open(spec) as unzipped:
        operations = [op for op in read_operations(cast(IO[bytes], unzipped), str(spec))
                      if not op.deprecated and op.k8s_action not in ("watch", "watchlist")]
    for op in operations:
        tested = _pick(op.endpoint, "tested", 2) == 0
        tests: list[str | None] = [None]
        if tested:
            if conformance_tests and _pick(op.endpoint, "conformance", 3):
                chosen = conformance_tests[_pick(op.endpoint, "test", len(conformance_tests))]
                test = named.setdefault(chosen.codename, chosen).codename
            else:
                test = OTHER_TESTS[_pick(op.endpoint, "other", len(OTHER_TESTS))]
            tests = [test]
        endpoints.append({
            "kind": op.k8s_kind, "path": op.path, "group": op.k8s_group, "level": op.level,
            "tests": tests, "action": op.k8s_action, "tested": tested,
            "release": str(release), "version": op.k8s_version, "category": op.category,
            "endpoint": op.endpoint, "conf_tested": tested and "[Conformance]" in str(tests[0]),
            "description": op.description})
    document: dict = {"release": release.minor_name if old else str(release),
                      "spec": f"https://raw.githubusercontent.com/kubernetes/kubernetes/"
                              f"{release.tag}/api/openapi-spec/swagger.json",
                      "sources": [], "endpoints": endpoints}
    if not old:
        document["tests"] = [{"test": t.codename, "testname": t.testname, "file": t.file,
                              "conformance_test": True, "promotion_release": t.release,
                              "release": str(release)} for t in named.values()]
    return document
