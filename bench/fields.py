"""Benchmark: what field tallying costs the audit load, and how fast the field views answer.

    python -m bench.fields [--events 1000000] [--repeat 3] [--runs 3] [--database-url URL]
        [--logs DIR]

Generates (once, kept under --logs) two logs of the same events with
testkit.auditgen: one whose logged writes carry request bodies drawn
from the 1.36 spec's body schemas (`--bodies schema`), one without any body
(`--bodies none`). Into a scratch database with the 1.36 spec it then measures
`snoopdb load --only audit` end to end (process start to commit: events/s, peak
RSS; each `--repeat` times, the three in turn, medians reported) of
  1. the log without bodies;
  2. the log with bodies, with no endpoint's body schema stored (so they are
     stored in audit_event but no field is tallied): what storing bodies costs;
  3. the log with bodies, fields tallied: the slowdown against 1, split into
     storing the bodies (2 - 1) and the field tallies (3 - 2);
  * the field walk alone (FieldTally.add over the same bodies, in process) and
    writing and refreshing the field summaries (from load_log);
  * the field views, median of 5, once `--runs` runs of the bodies log are loaded
    (the same files hard-linked under other names, so each is a run of its own)
    and 20,000 of its events as live ones (user agent live-test-writing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psycopg

from bench.audit_load import MEASURE
from snoopdb.coverage.fields import FieldTally
from snoopdb.loaders import spec
from testkit.databases import scratch_database
from testkit.hits import drop_all_runs
from testkit.servers import build_raw_mirror

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
SPEC = DATA / "openapi" / "swagger-1.36.json.gz"
CONFORMANCE = DATA / "conformance" / "conformance-1.36.yaml"
POD = "createCoreV1NamespacedPod"
VIEWS = (
    ("field_coverage_summary, all rows", "SELECT * FROM field_coverage_summary"),
    ("endpoint_field_coverage, one endpoint (the Pod, 1,361 fields)",
     f"SELECT * FROM endpoint_field_coverage WHERE release = '1.36.0' AND endpoint = '{POD}'"
     " ORDER BY position"),
    ("endpoint_field_coverage, the release (81,123 rows)",
     "SELECT * FROM endpoint_field_coverage WHERE release = '1.36.0'"),
    ("endpoint_unknown_field, all rows", "SELECT * FROM endpoint_unknown_field"),
    ("testing.field_hit_by_new_test, all rows", "SELECT * FROM testing.field_hit_by_new_test"),
)


def generate(logs: Path, events: int, bodies: str) -> list[Path]:
    folder = logs / bodies
    marker = folder / f".complete-{events}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "testkit.auditgen", "--spec", str(SPEC),
                        "--events", str(events), "--out", str(folder), "--bodies", bodies,
                        "--conformance", str(CONFORMANCE)], check=True)
        marker.touch()
    return sorted(p for p in folder.iterdir() if p.name.startswith("kube-apiserver-audit.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of the bodies log loaded before the views are timed")
    parser.add_argument("--repeat", type=int, default=3,
                        help="times each of the three loads is measured (medians reported)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--logs", type=Path, help="directory to keep the generated logs in")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.gettempdir()) / f"snoopdb-bench-fields-{args.events}"
    with_bodies = generate(logs, args.events, "schema")
    without = generate(logs, args.events, "none")
    for name, files in (("with bodies", with_bodies), ("without bodies", without)):
        size = sum(p.stat().st_size for p in files)
        print(f"log {name}: {args.events:,} events in {len(files)} files, {size / 1e6:.0f} MB")
    with scratch_database(args.database_url, "snoopdb_bench_fields") as url:
        measure(url, with_bodies, without, args.runs, args.repeat)


def load(url: str, files: list[Path]) -> tuple[float, float]:
    """(seconds, peak RSS MB) of `snoopdb load --only audit` of `files`."""
    env = dict(os.environ, DATABASE_URL=url)
    snoopdb = str(Path(sys.executable).parent / "snoopdb")
    measured = subprocess.run([sys.executable, "-c", MEASURE, snoopdb, "load", "--release",
                               "1.36", "--only", "audit", "--audit-log", *map(str, files)],
                              check=True, env=env, capture_output=True, text=True)
    seconds, peak = (float(x) for x in measured.stdout.strip().splitlines()[-1].split())
    return seconds, peak


def measure(url: str, with_bodies: list[Path], without: list[Path], runs: int,
            repeat: int) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    snoopdb = str(Path(sys.executable).parent / "snoopdb")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([snoopdb, "load", "--release", "1.36", "--only", "spec", "--from",
                        str(build_raw_mirror(Path(tmp), DATA))], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the three loads in turn, `repeat` times, so that other work on the machine
    # weighs on all three alike; medians (and the range) are reported
    figures: dict[int, list[tuple[float, float, float]]] = {1: [], 2: [], 3: []}
    for _ in range(repeat):
        for case, files in ((1, without), (2, with_bodies), (3, with_bodies)):
            with psycopg.connect(url, autocommit=True) as conn:
                drop_all_runs(conn)
                if case == 2:  # the same bodies stored but not walked: no body schemas
                    conn.execute("CREATE TABLE saved_endpoint_body AS"
                                 " SELECT * FROM endpoint_body; DELETE FROM endpoint_body")
            seconds, peak = load(url, files)
            with psycopg.connect(url, autocommit=True) as conn:
                figures[case].append((seconds, peak, summary_seconds(conn)))
                if case == 2:
                    conn.execute("INSERT INTO endpoint_body SELECT * FROM saved_endpoint_body;"
                                 " DROP TABLE saved_endpoint_body")
    with psycopg.connect(url, autocommit=True) as conn:
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        bodies, field_rows, distinct_fields = conn.execute(
            "SELECT (SELECT sum(bodies) FROM endpoint_body_hit),"
            " (SELECT count(*) FROM endpoint_field_hit),"
            " (SELECT count(*) FROM release_field_hit WHERE known)").fetchone()
        walk, walked = walk_cost(conn, with_bodies)
    (plain, plain_peak, plain_summary), (stored, stored_peak, stored_summary), \
        (tallied, tallied_peak, tallied_summary) = (
            tuple(statistics.median(x[i] for x in figures[case]) for i in range(3))
            for case in (1, 2, 3))

    def spread(case: int) -> str:
        times = [x[0] for x in figures[case]]
        return f"{min(times):.1f}–{max(times):.1f}s over {len(times)}"

    print(f"medians of {repeat} loads each:")
    print(f"1. without bodies: {rate(events, plain, plain_peak)} ({spread(1)}), summaries "
          f"{plain_summary:.2f}s")
    print(f"2. with bodies ({bodies:,} events with a body, {100 * bodies / events:.1f}%), "
          f"fields not tallied (no body schema): {rate(events, stored, stored_peak)} "
          f"({spread(2)}), summaries {stored_summary:.2f}s")
    print(f"3. with bodies, fields tallied: {rate(events, tallied, tallied_peak)} "
          f"({spread(3)}), summaries (endpoint_hit and field tallies written, "
          f"refresh_coverage) {tallied_summary:.2f}s")
    print(f"slowdown: 3 takes {tallied / plain:.2f}x the time of 1 (+{tallied - plain:.1f}s): "
          f"storing the bodies {stored - plain:+.1f}s (2 - 1), the field tallies "
          f"{tallied - stored:+.1f}s (3 - 2; writing them and refreshing the summaries "
          f"{tallied_summary - stored_summary:+.1f}s of it)")
    print(f"field walk alone (FieldTally.add over {walked:,} bodies, in process): {walk:.2f}s "
          f"= {100 * walk / tallied:.1f}% of load 3")
    print(f"field tallies: {field_rows:,} endpoint_field_hit rows; {distinct_fields:,} "
          "(endpoint, field) pairs set")
    extra = []
    for run in range(1, runs):
        folder = with_bodies[0].parent / f"hardlinked-{run}"
        folder.mkdir(exist_ok=True)
        for path in with_bodies:
            link = folder / path.name
            if not link.exists():
                os.link(path, link)  # a run is named by its files' real paths: no symlinks
        extra.append(sorted(folder.iterdir()))
    for files in extra:
        load(url, files)
    live = with_bodies[0].parent / "live.log"
    if not live.exists():
        write_live(with_bodies, live)
    subprocess.run([snoopdb, "load", "--release", "1.36", "--only", "audit", "--testing",
                    "--audit-log", str(live)], check=True, env=env, capture_output=True)
    with psycopg.connect(url, autocommit=True) as conn:
        total, field_rows = conn.execute(
            "SELECT (SELECT count(*) FROM audit_event), (SELECT count(*) FROM endpoint_field_hit)"
        ).fetchone()
        started = time.monotonic()
        conn.execute("SELECT refresh_coverage()")
        refresh = time.monotonic() - started
        print(f"views on {total:,} events in {runs} runs ({field_rows:,} endpoint_field_hit "
              f"rows); refresh_coverage() {refresh:.2f}s:")
        for name, sql in VIEWS:
            times = []
            for _ in range(5):
                started = time.monotonic()
                rows = conn.execute(sql).fetchall()
                times.append(time.monotonic() - started)
            print(f"  {name}: {len(rows):,} rows, {1000 * statistics.median(times):.0f} ms")


def rate(events: int, seconds: float, peak: float) -> str:
    return (f"{events:,} events in {seconds:.1f}s = {events / seconds:,.0f} events/s, "
            f"peak RSS {peak:.0f} MB")


LIVE_EVENTS = 20_000


def write_live(files: list[Path], out: Path) -> None:
    """The first LIVE_EVENTS events, the e2e tests' ones as a test being written
    (user agent live-test-writing): what the testing views read."""
    lines = []
    with files[0].open("rb") as stream:  # the plain (newest) file
        for line in stream:
            event = orjson.loads(line)
            if str(event.get("userAgent", "")).startswith("e2e.test"):
                event["userAgent"] = "live-test-writing"
            lines.append(orjson.dumps(event))
            if len(lines) == LIVE_EVENTS:
                break
    out.write_bytes(b"\n".join(lines) + b"\n")


def summary_seconds(conn: psycopg.Connection) -> float:
    row = conn.execute("SELECT details->>'summary_seconds' FROM load_log WHERE kind = 'audit'"
                       " ORDER BY id DESC LIMIT 1").fetchone()
    return float(row[0]) if row and row[0] else 0.0


def walk_cost(conn: psycopg.Connection, files: list[Path]) -> tuple[float, int]:
    """Seconds FieldTally.add takes over every body of `files` (parsing excluded)."""
    import gzip

    tally = FieldTally(spec.body_schemas(conn, "1.36.0"))
    endpoints = {row[0]: row[1] for row in conn.execute(
        "SELECT audit_id, endpoint FROM audit_event WHERE endpoint IS NOT NULL AND"
        " data ? 'requestObject'")}
    spent, walked = 0.0, 0
    agent = ("e2e.test", "a test", True, False)
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            for line in stream:
                if b'"requestObject"' not in line:
                    continue
                event = orjson.loads(line)
                endpoint = endpoints.get(event.get("auditID"))
                if endpoint is None:
                    continue
                body = event["requestObject"]
                started = time.perf_counter()
                tally.add(endpoint, agent, body)
                spent += time.perf_counter() - started
                walked += 1
    return spent, walked


if __name__ == "__main__":
    main()
