"""Benchmark: loading all shipped specs (local mirror and loopback HTTP), what the
body field trees add to it, one spec's peak memory, and the wheel install time.

    python -m bench.specs [--database-url URL] [--data ../shared/data] [--skip-wheel]
        [--repeat 3]

Prints each figure beside its floor (decompressing the same bytes without parsing).
The field trees' cost: all specs loaded in one process into a fresh database, with
their field trees and without (`spec.load(fields=False)`, the load as it was before
field-level coverage), the two in turn `--repeat` times so that other work on the
machine weighs on both alike; medians, ranges and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import psycopg

from snoopdb.db import schema
from snoopdb.loaders.spec import read_operations
from testkit.databases import scratch_database
from testkit.servers import build_raw_mirror, serve_directory

REPO = Path(__file__).resolve().parent.parent


ONE_SPEC = """
import resource, sys
from pathlib import Path
from snoopdb.db import connection, schema
from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import spec
conn = connection.connect(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spec.load(conn, Fetcher(Path(sys.argv[3])), sys.argv[2], "1.36.0", None)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after)
"""


ALL_SPECS = """
import sys, time
from pathlib import Path
from snoopdb.db import connection
from snoopdb.core.fetch import Fetcher
from snoopdb.loaders import spec
conn = connection.connect(sys.argv[1])
fields = sys.argv[2] == "fields"
specs = sys.argv[4:]
seconds = []
for _ in ("fresh database", "reload"):
    started = time.monotonic()
    for path in specs:
        minor = Path(path).name.removeprefix("swagger-").removesuffix(".json.gz")
        spec.load(conn, Fetcher(Path(sys.argv[3])), path, minor + ".0", None, fields=fields)
    seconds.append(time.monotonic() - started)
rows = conn.execute("SELECT (SELECT count(*) FROM open_api), (SELECT count(*) FROM body_field)"
                    ).fetchone()
print(*seconds, *rows)
"""


def field_tree_cost(database_url: str, specs: list[Path], repeat: int, tmp: str) -> None:
    """All `specs` loaded in one process into a fresh database, then loaded again (every
    field tree stored already), with and without field trees, in turn `repeat` times;
    prints medians, ranges and ratios."""
    figures: dict[tuple[str, int], list[float]] = {}
    rows: dict[str, tuple[int, int]] = {}
    for _ in range(repeat):
        for mode in ("none", "fields"):
            with scratch_database(database_url, "snoopdb_bench") as url:
                schema.migrate(url)
                out = subprocess.run([sys.executable, "-c", ALL_SPECS, url, mode, tmp,
                                      *map(str, specs)], check=True, capture_output=True,
                                     text=True).stdout.split()
            for step in (0, 1):
                figures.setdefault((mode, step), []).append(float(out[step]))
            rows[mode] = (int(out[2]), int(out[3]))
    for step, what in ((0, "into a fresh database"), (1, "loaded again")):
        for mode, label in (("none", "without field trees"), ("fields", "with field trees")):
            times = figures[mode, step]
            print(f"{len(specs)} specs in process, {what}, {label}: "
                  f"{statistics.median(times):.2f}s ({min(times):.2f}–{max(times):.2f}s over "
                  f"{len(times)}; {rows[mode][0]} open_api, {rows[mode][1]} body_field rows)")
        plain, full = (statistics.median(figures[m, step]) for m in ("none", "fields"))
        print(f"  field trees: {full / plain:.2f}x the time of the load without them")


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--skip-wheel", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="loads with and without field trees, each (medians reported)")
    args = parser.parse_args()
    snoopdb = str(Path(sys.executable).parent / "snoopdb")
    specs = sorted((args.data / "openapi").glob("swagger-*.json.gz"))

    started = time.monotonic()
    size = sum(len(gzip.decompress(p.read_bytes())) for p in specs)
    floor = time.monotonic() - started
    print(f"floor: gunzip {len(specs)} specs ({size / 1e6:.0f} MB JSON): {floor:.2f}s")
    started = time.monotonic()
    operations = 0
    for path in specs:
        with gzip.open(path) as stream:
            operations += sum(1 for _ in read_operations(stream, str(path)))
    parsed = time.monotonic() - started
    print(f"floor: gunzip + ijson parse of {operations} operations, no database: {parsed:.2f}s")

    with tempfile.TemporaryDirectory() as tmp:
        field_tree_cost(args.database_url, specs, args.repeat, tmp)
        mirror = build_raw_mirror(Path(tmp) / "raw", args.data)
        for label, extra, over_http in (
            ("local files (--from)", ["--from", str(mirror)], False),
            ("loopback HTTP server", [], True),
        ):
            base = None
            server = None
            if over_http:
                base, server = serve_directory(mirror)
            with scratch_database(args.database_url, "snoopdb_bench") as url:
                env = dict(os.environ, DATABASE_URL=url,
                           SNOOPDB_CACHE_DIR=f"{tmp}/cache-{label[:5]}")
                if base:
                    env["SNOOPDB_GITHUB_RAW_URL"] = base
                subprocess.run([snoopdb, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
                seconds = timed([snoopdb, "load", "--release", "1.36", "--only", "spec", *extra],
                                env)
                with psycopg.connect(url) as conn:
                    rows = conn.execute("SELECT count(*) FROM open_api").fetchone()[0]
                print(f"snoopdb load, {len(specs)} specs from {label}: {seconds:.2f}s "
                      f"({rows} rows; {seconds / parsed:.1f}x the parse floor, process start "
                      "and schema check included)")
            if server:
                server.shutdown()

        with scratch_database(args.database_url, "snoopdb_bench") as url:
            subprocess.run([snoopdb, "init"], check=True, env=dict(os.environ, DATABASE_URL=url),
                           stdout=subprocess.DEVNULL)
            out = subprocess.run([sys.executable, "-c", ONE_SPEC, url,
                                  str(args.data / "openapi" / "swagger-1.36.json.gz"), tmp],
                                 check=True, capture_output=True, text=True).stdout.split()
            before, after = int(out[0]) / 1024, int(out[1]) / 1024
            print(f"peak RSS of one spec load (1.36, 6 MB JSON): {after:.0f} MB "
                  f"(process before the load: {before:.0f} MB; added {after - before:.1f} MB)")

        if not args.skip_wheel:
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            f"{tmp}/wheels", str(REPO)], check=True)
            built = time.monotonic() - started
            venv.create(f"{tmp}/venv", with_pip=True)
            (wheel,) = Path(f"{tmp}/wheels").glob("*.whl")
            started = time.monotonic()
            subprocess.run([f"{tmp}/venv/bin/pip", "install", "-q", str(wheel)], check=True)
            print(f"wheel build: {built:.1f}s; install into a fresh venv (dependencies from "
                  f"pip's cache): {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
