"""Benchmark: 30 runs of one job, 1,000,000 audit events each, and the views that say
how stable coverage is across them.

    python -m bench.history_runs [--database-url URL] [--runs 30] [--events 1000000]
                                 [--data ../shared/data]

Builds its own database on the server (created and dropped here): the real 1.35 and
1.36 specs, conformance.yaml of 1.36 and the ineligible list, loaded by snoopdb's
loaders. Then `--runs` builds of ci-kubernetes-e2e-gci-gce (release 1.36.0, three
hours apart), each stored as a load stores a run (loaders/run_store: events COPYed
into the run's fresh table, its hit summary, the swap, the run merged into the
release's summaries, its build facts recorded), then the job's older hot run compacted, as
`snoopdb load --last N` does. Events are bench.views' model of an e2e run (every
test and every system component hits the same endpoints in every run, each call at
least once), plus a known set of flaky calls: FLAKY_CALLS conformance tests each
reach one endpoint no other conformance test reaches, in every run but those whose
number their period divides (run 0 included).

Prints, per run, the time to store it, to merge it into the release's summaries and to
compact the run before; then each stability view's `select *` (median of 5) and
rows; the bytes a run takes (hot, compact, and its share of the stability
summaries); and checks that endpoint_stability's flaky endpoints and
test_endpoint_stability's flaky (test, endpoint) pairs are exactly the known ones.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.views import (
    COMMIT,
    NON_CONFORMANCE_TESTS,
    PROW,
    SERVER,
    SIGS,
    Actor,
    audit_lines,
    release_endpoints,
    system_actors,
    test_actors,
    timed,
)
from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, run_diff, run_store, schema
from snoopdb.loaders import conformance, ineligible, spec
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent
RELEASE, JOB, FIRST_BUILD = "1.36.0", "ci-kubernetes-e2e-gci-gce", 2065053743543488512
FIRST_START = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
FLAKY_CALLS = 12
VIEWS = ("run_coverage", "endpoint_stability", "test_endpoint_stability",
         "conformance.stable_coverage", "conformance.stable_progress")
FLAKY = "SELECT endpoint FROM endpoint_stability WHERE 0 < runs_conf_hit AND runs_conf_hit < runs"
FLAKY_PAIRS = ("SELECT test, endpoint FROM test_endpoint_stability"
               " WHERE runs_test_ran = %s AND runs_hit < runs_test_ran")
RUN_BYTES = """
SELECT r.state, sum(pg_total_relation_size(c.oid))::bigint
FROM audit_run r
JOIN pg_class c ON c.relnamespace = 'runs'::regnamespace
 AND c.relname IN ('events_' || r.run, 'chunks_' || r.run, 'test_' || r.run, 'hit_' || r.run,
                   'field_hit_' || r.run, 'body_hit_' || r.run)
GROUP BY r.run, r.state"""
SUMMARY_BYTES = """
SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint
FROM pg_inherits i
WHERE i.inhparent IN ('release_run_hit'::regclass, 'release_test_endpoint_hit'::regclass)"""


def flaky_calls(endpoints: list, actors: list[Actor]) -> list[tuple[Actor, int, int]]:
    """(conformance test, endpoint index, period): each test reaches an endpoint no
    conformance test reaches otherwise, in the runs whose number `period` does not divide."""
    reached = {i for a in actors if a.conf_test_hit for i in a.endpoints}
    rng = random.Random("flaky")
    candidates = [i for i, e in enumerate(endpoints)
                  if i not in reached and "/v1/" in e.uri and not e.name.startswith("watch")]
    chosen = rng.sample(candidates, FLAKY_CALLS)
    tests = rng.sample([a for a in actors if a.conf_test_hit], FLAKY_CALLS)
    return [(test, endpoint, 2 + n % 4) for n, (test, endpoint) in
            enumerate(zip(tests, chosen, strict=True))]


def store_run(conn: psycopg.Connection, number: int, endpoints: list, actors: list[Actor],
              flaky: list[tuple[Actor, int, int]], events: int, *, detailed: bool = False,
              keep_hot: int | None = 1) -> tuple[float, float, float]:
    """Run `number` stored as a load stores it (`detailed`: its events as an API server
    logs them, views.audit_lines); (seconds to store, of which merging it into the
    release's summaries, seconds compacting the job's runs beyond `keep_hot`, None: none)."""
    build = str(FIRST_BUILD + number)
    source = f"{PROW}/{JOB}/{build}"
    today = [Actor(a.useragent, a.username, a.test, a.conf_test_hit, (i,), 0.05)
             for a, i, period in flaky if number % period]
    hits: collections.Counter[tuple[str, str | None, bool, bool]] = collections.Counter()
    started = time.perf_counter()
    with conn.transaction():
        run = run_store.prepare(conn, source, RELEASE)
        with run_store.copy_events(conn, run) as copy:
            batch: list[str] = []
            for line in audit_lines(endpoints, actors + today, events, number, hits,
                                    every_call=True, detailed=detailed):
                batch.append(line)
                if len(batch) == 20_000:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        run_store.store_summaries(conn, run, ((*key, count) for key, count in sorted(
            hits.items(), key=lambda item: (item[0][0], item[0][1] or ""))), (), ())
        previous = run_store.publish(conn, run, RELEASE, None, events)
        run_store.describe(conn, run, run_store.BuildFacts(
            build, FIRST_START + dt.timedelta(hours=3 * number), COMMIT, "SUCCESS"))
        summaries = time.perf_counter()
        if previous is None:  # a new run, as a load merges it
            run_store.add_to_summaries(conn, run)
        else:
            run_store.refresh(conn, RELEASE, previous)
        summaries = time.perf_counter() - summaries
    stored = time.perf_counter() - started
    started = time.perf_counter()
    if keep_hot is not None:
        run_store.keep_hot(conn, source, keep_hot)
    return stored, summaries, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=SERVER, help="server to create the database on")
    parser.add_argument("--runs", type=int, default=30, help="builds of the job")
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events per run")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    with scratch_database(args.database_url, "snoopdb_bench_history") as url:
        schema.migrate(url)
        with connection.connect(url) as conn, tempfile.TemporaryDirectory() as cache:
            bench(conn, Fetcher(Path(cache)), args.data, args.runs, args.events)


def job_model(conn: psycopg.Connection, fetcher: Fetcher,
              data: Path) -> tuple[list, list[Actor], list[tuple[Actor, int, int]], str]:
    """The real 1.35 and 1.36 specs, 1.36's conformance tests and ineligible endpoints
    loaded; the release's endpoints, the job's actors (every conformance test, other
    tests, system components) and its flaky calls; and a line saying so."""
    for minor in (35, 36):
        spec.load(conn, fetcher, str(data / "openapi" / f"swagger-1.{minor}.json.gz"),
                  f"1.{minor}.0", None)
    conformance.load(conn, fetcher, str(data / "conformance" / "conformance-1.36.yaml"),
                     RELEASE)
    ineligible.load(conn, fetcher, str(data / "conformance" / "ineligible_endpoints.yaml"),
                    RELEASE)
    codenames = [r[0] for r in conn.execute("SELECT codename FROM conformance.test ORDER BY 1")]
    rng = random.Random(0)
    others = [f"[sig-{rng.choice(SIGS)}] Feature {n} should behave as specified {n}"
              for n in range(NON_CONFORMANCE_TESTS)]
    endpoints = release_endpoints(conn, RELEASE)
    version = f"v{RELEASE}"
    actors = (test_actors(endpoints, codenames + others, version, False)
              + system_actors(endpoints, version))
    flaky = flaky_calls(endpoints, actors)
    return endpoints, actors, flaky, (f"{len(codenames)} conformance and {len(others)} other "
                                      f"tests; {len(flaky)} flaky conformance calls")


def bench(conn: psycopg.Connection, fetcher: Fetcher, data: Path, count: int,
          events: int) -> None:
    endpoints, actors, flaky, said = job_model(conn, fetcher, data)
    print(f"{count} runs of {JOB} ({RELEASE}), {events:,} events each; {said}")

    print("\n| run | store | of which the release's summaries | compact the run before |")
    print("|---:|---:|---:|---:|")
    stores, refreshes, compactions = [], [], []
    for number in range(count):
        stored, summaries, compacted = store_run(conn, number, endpoints, actors, flaky, events)
        stores.append(stored)
        refreshes.append(summaries)
        compactions.append(compacted)
        print(f"| {number + 1} | {stored:.1f} s | {summaries:.2f} s | {compacted:.1f} s |",
              flush=True)
    print(f"| median | {statistics.median(stores):.1f} s | {statistics.median(refreshes):.2f} s"
          f" | {statistics.median(compactions[1:] or [0]):.1f} s |")
    conn.execute("VACUUM ANALYZE")

    print("\n| view | rows | `select *`, median of 5 |")
    print("|---|---:|---:|")
    last, before = (f"{JOB}#{FIRST_BUILD + count - back}" for back in (1, 2))
    for name, what in [*((f"`{view}`", f"SELECT * FROM {view}") for view in VIEWS),
                       ("flaky endpoints", FLAKY)]:
        timings = [timed(conn, what) for _ in range(5)]
        print(f"| {name} | {timings[0][1]:,} | "
              f"{statistics.median(s for s, _ in timings) * 1000:.0f} ms |")
    diffs = []
    for _ in range(5):
        started = time.perf_counter()
        diff = run_diff.diff_runs(conn, before, last)
        diffs.append(time.perf_counter() - started)
    print(f"| `snoopdb runs diff` of the last two runs | {len(diff.endpoints)} endpoints | "
          f"{statistics.median(diffs) * 1000:.0f} ms |")

    sizes = collections.defaultdict(list)
    for state, size in conn.execute(RUN_BYTES):
        sizes[state].append(size)
    summary = conn.execute(SUMMARY_BYTES).fetchone()[0]
    print("\nbytes per run: " + ", ".join(
        f"{state} {statistics.mean(found) / 1e6:,.1f} MB ({statistics.mean(found) / events:,.0f}"
        " bytes per event)" for state, found in sorted(sizes.items()))
          + f"; stability summaries {summary / count / 1e3:,.1f} kB")

    known = {endpoints[i].name for _, i, _ in flaky}
    found = {row[0] for row in conn.execute(FLAKY)}
    pairs = {(a.test, endpoints[i].name) for a, i, _ in flaky}
    found_pairs = set(conn.execute(FLAKY_PAIRS, (count,)).fetchall())
    print(f"flaky endpoints found: {len(found)} of {len(known)} known; flaky (test, endpoint) "
          f"pairs: {len(found_pairs)} of {len(pairs)}")
    if found != known or found_pairs != pairs:
        sys.exit(f"flaky endpoints differ from the known ones: {sorted(found ^ known)}, "
                 f"{sorted(found_pairs ^ pairs)}")


if __name__ == "__main__":
    main()
