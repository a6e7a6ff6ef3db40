"""Benchmark `snoopdb verify-submission --all` on 100 generated certification submissions.

Each submission is what a vendor sends for v1.35: a junit_01.xml of about 7,000
Ginkgo v2 testcases (2–3 MB, mostly skipped, every conformance test of the real
release-1.35 conformance.yaml passed), an e2e.log with STEP lines for every test
run, PRODUCT.yaml and README.md. The run uses a database created for it and
dropped afterwards.

    python -m bench.submissions [--count 100] [--server postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

from snoopdb.cli import main
from snoopdb.testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent

SHARED = Path(os.environ.get("SNOOPDB_SHARED_DATA", REPO.parent / "shared" / "data"))
CONFORMANCE = SHARED / "conformance" / "conformance-1.35.yaml"
TESTCASES = 7000
SIGS = ("api-machinery", "apps", "auth", "cli", "instrumentation", "network", "node",
        "scheduling", "storage", "windows")
SUBJECTS = ("Pods", "Services", "CSI Volumes [Driver: csi-hostpath]", ("DRA [Feature:Dynamic"
            "ResourceAllocation]"), "In-tree Volumes [Driver: local][LocalVolumeType: dir]",
            "Kubectl client", "NetworkPolicy [Feature:NetworkPolicy]", "Probing container",
            "CronJob", "Garbage collector")
PATTERNS = ("[Testpattern: Dynamic PV (block volmode)] multiVolume [Slow]",
            "[Testpattern: Pre-provisioned PV (filesystem volmode)] volumeMode",
            "[Testpattern: Generic Ephemeral-volume (default fs) (late-binding)] ephemeral",
            "[Testpattern: Inline-volume (default fs)] subPath", "when the node is ready")
ACTIONS = ("should support", "should not allow", "must be able to", "should recover from",
           "should reject", "should eventually report")
OBJECTS = ("file sharing with 'readOnly' mounts", "a \"quoted\" argument",
           "pod restarts after node reboot [Disruptive]", "expansion of pvcs <1Gi> [Slow]",
           "sysctls & seccomp profiles [LinuxOnly]", "topology-aware hints [Serial]")


def escape(text: str) -> str:
    """Attribute text as Ginkgo's Go encoder writes it."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;"),
                         ('"', "&#34;")):
        text = text.replace(char, entity)
    return text


def junit(conformance: list[str], rng: random.Random) -> str:
    skipped = {f"[sig-{rng.choice(SIGS)}] {rng.choice(SUBJECTS)} {rng.choice(PATTERNS)}"
               f" {rng.choice(ACTIONS)}"
               f" {rng.choice(OBJECTS)} #{n}" for n in range(TESTCASES - len(conformance))}
    cases = sorted([(name, True) for name in conformance] + [(name, False) for name in skipped])
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           (f'  <testsuites tests="{len(cases)}" disabled="{len(skipped)}" errors="0"'
            ' failures="0" time="11492.672089172">'),
           (f'      <testsuite name="Kubernetes e2e suite" package="/usr/local/bin"'
            f' tests="{len(cases)}" skipped="{len(skipped)}" errors="0" failures="0">')]
    for name, passed in cases:
        head = (f'          <testcase name="{escape("[It] " + name)}" classname="Kubernetes e2e'
                f' suite" status="{"passed" if passed else "skipped"}"')
        out.append(f'{head} time="{rng.uniform(0.1, 120):.9f}"></testcase>' if passed else
                   f'{head} time="0">\n              <skipped message="skipped"></skipped>\n'
                   "          </testcase>")
    out += ["      </testsuite>", "  </testsuites>", ""]
    return "\n".join(out)


def e2e_log(conformance: list[str], skipped: int) -> str:
    out = ["Running Suite: Kubernetes e2e suite - /usr/local/bin",
           f"Will run {len(conformance)} of {len(conformance) + skipped} specs",
           "  I0106 13:08:19.718914 21 e2e.go:245] e2e test version: v1.35.0",
           "  I0106 13:08:19.762742 21 e2e.go:254] kube-apiserver version: v1.35.0"]
    for name in conformance:
        out.append(f"------------------------------\n• [1.234 seconds]\n{name}")
        out += [f"  STEP: step {n} of the test @ 01/06/26 13:{n:02d}:19.1" for n in range(30)]
    out += [f"Ran {len(conformance)} of {len(conformance) + skipped} Specs in 11492.672 seconds",
            f"SUCCESS! -- {len(conformance)} Passed | 0 Failed | 0 Pending | {skipped} Skipped",
            "PASS", ""]
    return "\n".join(out)


def generate(root: Path, count: int) -> int:
    """`count` submissions under root/v1.35/; returns the bytes of junit written."""
    conformance = [t["codename"] for t in yaml.safe_load(CONFORMANCE.read_bytes())]
    log = e2e_log(conformance, TESTCASES - len(conformance))
    size = 0
    for n in range(count):
        folder = root / "v1.35" / f"product-{n:03d}"
        folder.mkdir(parents=True)
        (folder / "README.md").write_text(f"# Product {n}\nRun hydrophone --conformance.\n")
        (folder / "PRODUCT.yaml").write_text(yaml.safe_dump({
            "vendor": f"Vendor {n}", "name": f"Product {n}", "version": "v1.35.1",
            "type": "distribution", "description": "A Kubernetes distribution",
            "website_url": f"https://product-{n}.example.com/",
            "documentation_url": f"https://product-{n}.example.com/docs",
            "contact_email_address": f"conformance@product-{n}.example.com"}))
        (folder / "e2e.log").write_text(log)
        content = junit(conformance, random.Random(n))
        (folder / "junit_01.xml").write_text(content)
        size += len(content)
    return size


def bench(server: str, count: int) -> None:
    with scratch_database(server, "snoopdb_bench") as url:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            size = generate(root / "k8s-conformance", count)
            print(f"generated {count} submissions ({size / count / 1e6:.1f} MB of junit each)")
            if main(["--database-url", url, "init"]) != 0:
                raise SystemExit("snoopdb init failed")
            os.environ["SNOOPDB_CACHE_DIR"] = str(root / "cache")
            started = time.monotonic()
            code = main(["--database-url", url, "verify-submission", "--all",
                         str(root / "k8s-conformance"), "--release", "v1.35",
                         "--conformance-file", str(CONFORMANCE)])
            seconds = time.monotonic() - started
        print(f"verify-submission --all: {count} submissions in {seconds:.1f}s"
              f" (exit {code})", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--server", default=os.environ.get(
        "SNOOPDB_BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"))
    options = parser.parse_args()
    bench(options.server, options.count)
