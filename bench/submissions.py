"""Benchmark `snoopdb verify-submission` on generated certification submissions.

`--all` on 100 submissions (the default): each is what a vendor sends for v1.35: a
junit_01.xml of about 7,000 Ginkgo v2 testcases (2–3 MB, mostly skipped, every
conformance test of the real release-1.35 conformance.yaml passed), an e2e.log with
STEP lines for every test run, PRODUCT.yaml and README.md.

`--testcases N`: the peak RSS of one `snoopdb verify-submission` process (a child, so
nothing of the generator counts) on a junit_01.xml of N testcases, beside the same
run on 7,000; it fails (exit 1) when the large run's peak exceeds the small one's by
more than --max-growth MB: memory must stay flat in the number of testcases.

Runs use a database created for them and dropped afterwards.

    python -m bench.submissions [--count 100] [--server postgresql://postgres@127.0.0.1/postgres]
    python -m bench.submissions --testcases 1000000 [--max-growth 50]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from snoopdb.cli import main
from testkit.databases import scratch_database

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


def junit_lines(conformance: list[str], rng: random.Random, testcases: int) -> Iterator[str]:
    """The junit_01.xml, a line at a time (a million testcases never sit in memory whole:
    the skipped ones are numbered in order, the conformance ones spread among them)."""
    skipped = testcases - len(conformance)
    every = max(skipped // max(len(conformance), 1), 1)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (f'  <testsuites tests="{testcases}" disabled="{skipped}" errors="0"'
           ' failures="0" time="11492.672089172">\n')
    yield (f'      <testsuite name="Kubernetes e2e suite" package="/usr/local/bin"'
           f' tests="{testcases}" skipped="{skipped}" errors="0" failures="0">\n')
    pending = list(conformance)
    for n in range(skipped):
        if n % every == 0 and pending:
            name = pending.pop()
            yield (f'          <testcase name="{escape("[It] " + name)}" classname="Kubernetes'
                   f' e2e suite" status="passed" time="{rng.uniform(0.1, 120):.9f}">'
                   "</testcase>\n")
        name = (f"[sig-{rng.choice(SIGS)}] {rng.choice(SUBJECTS)} {rng.choice(PATTERNS)}"
                f" {rng.choice(ACTIONS)} {rng.choice(OBJECTS)} #{n}")
        yield (f'          <testcase name="{escape("[It] " + name)}" classname="Kubernetes e2e'
               ' suite" status="skipped" time="0">\n              <skipped message="skipped">'
               "</skipped>\n          </testcase>\n")
    for name in pending:
        yield (f'          <testcase name="{escape("[It] " + name)}" classname="Kubernetes e2e'
               f' suite" status="passed" time="1.0"></testcase>\n')
    yield "      </testsuite>\n  </testsuites>\n"


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


def generate(root: Path, count: int, testcases: int = TESTCASES) -> int:
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
        with (folder / "junit_01.xml").open("w") as out:
            out.writelines(junit_lines(conformance, random.Random(n), testcases))
            size += out.tell()
    return size


def peak_rss(url: str, folder: Path, cache: Path) -> tuple[float, int, float]:
    """(peak RSS in MB, exit status, seconds) of one verify-submission process on `folder`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "snoopdb", "--database-url", url, "verify-submission",
         str(folder), "--conformance-file", str(CONFORMANCE)],
        env=dict(os.environ, SNOOPDB_CACHE_DIR=str(cache)), capture_output=True, check=False)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("cannot tell the child's peak RSS: run a smaller one first")
    return peak / 1024, done.returncode, seconds


def bench_memory(server: str, testcases: int, max_growth: float) -> None:
    with scratch_database(server, "snoopdb_bench") as url, \
            tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if main(["--database-url", url, "init"]) != 0:
            raise SystemExit("snoopdb init failed")
        small_size = generate(root / "small", 1)
        large_size = generate(root / "large", 1, testcases)
        # the small run first: RUSAGE_CHILDREN keeps the largest child's peak
        small = peak_rss(url, root / "small" / "v1.35" / "product-000", root / "cache")
        large = peak_rss(url, root / "large" / "v1.35" / "product-000", root / "cache")
    print(f"{TESTCASES:>9,} testcases ({small_size / 1e6:6.1f} MB junit): peak RSS"
          f" {small[0]:6.1f} MB, {small[2]:5.1f}s (exit {small[1]})")
    print(f"{testcases:>9,} testcases ({large_size / 1e6:6.1f} MB junit): peak RSS"
          f" {large[0]:6.1f} MB, {large[2]:5.1f}s (exit {large[1]})")
    growth = large[0] - small[0]
    if small[1] != 0 or large[1] != 0:
        raise SystemExit("a verification did not pass")
    if growth > max_growth:
        raise SystemExit(f"peak RSS grew by {growth:.1f} MB (more than {max_growth} MB)")
    print(f"growth {growth:.1f} MB: flat (limit {max_growth} MB)")


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
    parser.add_argument("--testcases", type=int,
                        help="measure peak RSS on one junit_01.xml of this many testcases")
    parser.add_argument("--max-growth", type=float, default=50.0,
                        help="with --testcases: MB the peak RSS may grow over 7,000 testcases")
    parser.add_argument("--server", default=os.environ.get(
        "SNOOPDB_BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"))
    options = parser.parse_args()
    if options.testcases:
        bench_memory(options.server, options.testcases, options.max_growth)
    else:
        bench(options.server, options.count)
