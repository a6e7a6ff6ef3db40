"""Random and mutated outside input through the parsers that read it: audit log lines,
swagger.json, conformance.yaml. Whatever the input, the outcome is a load, a one-line
InputError (the CLI's `snoopdb: error:`), or with --skip-bad-lines a counted skip:
never another exception, never part of a run stored.

A seeded generator of our own (not hypothesis): the cases are the same on every run,
so a failure names its seed and case number and replays as it is."""

from __future__ import annotations

import copy
import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_audit import EVENTS

from snoopdb.cli import main
from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import conformance, spec
from snoopdb.loaders.local_logs import load_log_files

SEED = 14
AUDIT_CASES = 300
SPEC_CASES = 300
CONFORMANCE_CASES = 300

ODD_VALUES: list[Any] = [
    None, 0, -1, 1.5, 1e308, 10**30, True, False, "", "\u0000", "a\u0000b", "\ud7ff", "é",
    "\U0001f600", "\\", "\t\n\r", "--", " -- ", "[Conformance]", "e2e.test", "e2e.test -- ",
    "/", "//", "/api/v1/namespaces/%00/pods", "/api/v1/" + "a/" * 300, "?", "x" * 5000,
    [], [1, "a"], {}, {"a": None}, "${jndi}", "'; DROP TABLE audit_event; --",
]


def odd_value(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        value: Any = rng.choice(ODD_VALUES)
        for _ in range(rng.choice((10, 200, 300, 1100))):
            value = [value]
        return value
    if rng.random() < 0.3:
        return "".join(chr(rng.choice((rng.randrange(0, 0x80), rng.randrange(0x80, 0xD800),
                                       rng.randrange(0xE000, 0x110000))))
                       for _ in range(rng.randrange(0, 20)))
    return copy.deepcopy(rng.choice(ODD_VALUES))


def mutate_document(value: Any, rng: random.Random) -> Any:
    """`value` with one node somewhere in it replaced, removed or given an odd key."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        action = rng.random()
        if action < 0.2:
            del value[key]
        elif action < 0.3:
            value[rng.choice(["\u0000", "", key.upper(), "x" * 300])] = odd_value(rng)
        elif action < 0.7 and isinstance(value[key], (dict, list)):
            value[key] = mutate_document(value[key], rng)
        else:
            value[key] = odd_value(rng)
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        if rng.random() < 0.5 and isinstance(value[index], (dict, list)):
            value[index] = mutate_document(value[index], rng)
        else:
            value[index] = odd_value(rng)
        return value
    return odd_value(rng)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """`data` truncated, with bytes flipped, inserted or removed."""
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        action = rng.random()
        if action < 0.25:
            del data[at:]
        elif action < 0.5:
            data[at] = rng.randrange(256)
        elif action < 0.75:
            data[at:at] = rng.choice((b"\x00", b"\\u0000", b"\xff", b'"', b"{", b"\\ud800",
                                      b"\n", b"]]]]", b"&a", b"*a"))
        else:
            del data[at:at + rng.randrange(1, 20)]
    return bytes(data)


# --- audit lines ---------------------------------------------------------------------

@pytest.fixture
def spec_1_36(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)


def audit_case(rng: random.Random) -> list[bytes]:
    """A log of a few valid events and one or two mutated ones."""
    lines = [json.dumps(e).encode() for e in rng.sample(EVENTS, 4)]
    for _ in range(rng.randrange(1, 3)):
        at = rng.randrange(len(lines))
        if rng.random() < 0.6:
            event = mutate_document(copy.deepcopy(rng.choice(EVENTS)), rng)
            try:
                line = json.dumps(event).encode()
            except (ValueError, RecursionError):
                line = b"{" * 2000
        else:
            line = mutate_bytes(json.dumps(rng.choice(EVENTS)).encode(), rng)
        lines.insert(at, line)
    return lines


def test_mutated_audit_lines_load_or_fail_in_one_line(conn, fetcher, settings, spec_1_36,
                                                      tmp_path) -> None:
    rng = random.Random(SEED)
    releases = Releases.load()
    outcomes = {"loaded": 0, "refused": 0, "skipped lines": 0}
    for case in range(AUDIT_CASES):
        lines = audit_case(rng)
        log = tmp_path / f"case-{case}.log"
        content = b"\n".join(lines) + b"\n"
        log.write_bytes(gzip.compress(content) if case % 7 == 0 else content)
        testing = case % 3 != 0  # the live table skips the summary refresh: quicker
        release = None if testing else parse_release("1.36")
        table = "testing.audit_event" if testing else "audit_event"
        counted = [line for line in content.split(b"\n") if line.strip(b" \t\r")]
        where = f"seed {SEED} case {case}"
        try:
            report = load_log_files(conn, fetcher, settings, releases, [log], release,
                                    testing=testing)
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(f"{log}:"), where
            stored = conn.execute(f"SELECT count(*) FROM {table} WHERE source = %s",  # noqa: S608
                                  (log.resolve().as_uri(),)).fetchone()
            assert stored == (0,), where
            outcomes["refused"] += 1
        else:
            assert report.events == len(counted) and report.bad_lines == 0, where
            outcomes["loaded"] += 1
        report = load_log_files(conn, fetcher, settings, releases, [log], release,
                                testing=testing, skip_bad_lines=True)
        assert report.events + report.bad_lines == len(counted), where
        assert sum(report.bad_reasons.values()) == report.bad_lines, where
        stored = conn.execute(f"SELECT count(*) FROM {table} WHERE source = %s",  # noqa: S608
                              (log.resolve().as_uri(),)).fetchone()
        assert stored == (report.events,), where
        outcomes["skipped lines"] += report.bad_lines
    # the generator must reach both sides
    assert outcomes["loaded"] > 20 and outcomes["refused"] > 100, outcomes


def test_cli_on_unusable_events_is_one_line_or_a_counted_skip(conn, settings, spec_1_36,
                                                              tmp_path, capsys) -> None:
    log = tmp_path / "bad.log"
    good = [json.dumps(e) for e in EVENTS[:3]]
    bad = [json.dumps({**EVENTS[0], "userAgent": 123}),
           json.dumps({**EVENTS[0], "auditID": "a\u0000b"}),
           json.dumps({**EVENTS[0], "requestObject": json.loads("[" * 500 + "]" * 500)}),
           "[" * 2000 + "]" * 2000]
    log.write_text("\n".join(good[:1] + bad + good[1:]) + "\n")
    argv = ["load", "--release", "1.36", "--only", "audit", "--audit-log", str(log)]
    assert main(argv) == 1
    assert capsys.readouterr().err == (f"snoopdb: error: {log.resolve()}:2: malformed audit "
                                       "event: userAgent is a number, not a string\n")
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)
    assert main([*argv, "--skip-bad-lines"]) == 0
    out = capsys.readouterr().out
    assert ("4 events, 4 matched, 0 unmatched, 3 bad lines skipped (1 userAgent is a number, "
            "not a string; 1 auditID holds a NUL character; 1 not JSON)") in out
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (4,)


# --- swagger.json --------------------------------------------------------------------

def small_spec(shared_data: Path) -> dict[str, Any]:
    """The first 40 paths of the real 1.36 spec."""
    document = json.loads(gzip.decompress(
        (shared_data / "openapi" / "swagger-1.36.json.gz").read_bytes()))
    return {"swagger": "2.0", "info": document["info"],
            "paths": dict(list(document["paths"].items())[:40])}


def test_mutated_specs_load_or_fail_in_one_line(conn, fetcher, shared_data, tmp_path) -> None:
    rng = random.Random(SEED)
    base = small_spec(shared_data)
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(base))
    before = spec.load(conn, fetcher, str(path), "1.36.0", None, cache=False)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(SPEC_CASES):
        if case % 3 == 0:
            content = mutate_bytes(json.dumps(base).encode(), rng)
        else:
            document = copy.deepcopy(base)
            for _ in range(rng.randrange(1, 3)):
                document = mutate_document(document, rng)
            try:
                content = json.dumps(document).encode()
            except (ValueError, RecursionError):
                content = b"[" * 5000
        if case % 5 == 0:
            content = gzip.compress(content)[:None if case % 10 else -7]
        path.write_bytes(content)
        try:
            spec.load(conn, fetcher, str(path), "1.36.0", None, cache=False)
        except InputError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), f"case {case}"
            # the release's previous rows are untouched
            assert conn.execute("SELECT count(*) FROM open_api WHERE release = '1.36.0'"
                                ).fetchone() == (before,), f"case {case}"
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
            path.write_text(json.dumps(base))
            before = spec.load(conn, fetcher, str(path), "1.36.0", None, cache=False)
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 10, outcomes


# --- conformance.yaml ----------------------------------------------------------------

CONFORMANCE_SNIPPETS = [
    b"- &t {codename: a, testname: t}\n- *t\n",  # an alias: a duplicate codename
    b"- codename: !!binary aGVsbG8=\n",
    b"- codename: !!python/object:os.system x\n",
    b"- {codename: a, release: [1, 2]}\n",
    b"- {codename: \"\\0\", release: v1.9}\n",
    b"- {codename: a, release: ', ,'}\n",
    b"- {codename: a, release: v99999999999999999999.1}\n",
    b"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
    b"g: &g [*f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g]\n",
    b"[" * 5000,
    b"- " * 3000 + b"x\n",
    b"\xff\xfe",
]


def test_mutated_conformance_lists_load_or_fail_in_one_line(conn, fetcher, shared_data,
                                                            tmp_path) -> None:
    rng = random.Random(SEED)
    real = (shared_data / "conformance" / "conformance.yaml").read_bytes()
    import yaml

    entries = yaml.safe_load(real)[:30]
    base = yaml.safe_dump(entries).encode()
    path = tmp_path / "conformance.yaml"
    outcomes = {"loaded": 0, "refused": 0}
    cases: list[Callable[[], bytes]] = [lambda s=s: s for s in CONFORMANCE_SNIPPETS]
    for _ in range(CONFORMANCE_CASES - len(cases)):
        if rng.random() < 0.4:
            cases.append(lambda: mutate_bytes(base, rng))
        else:
            def structural() -> bytes:
                document = mutate_document(copy.deepcopy(entries), rng)
                try:
                    return yaml.safe_dump(document, allow_unicode=rng.random() < 0.5).encode()
                except (yaml.YAMLError, RecursionError):
                    return b"- [" * 100
            cases.append(structural)
    for number, case in enumerate(cases):
        path.write_bytes(case())
        try:
            conformance.load(conn, fetcher, str(path), "1.36.0")
        except InputError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), f"case {number}"
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 10, outcomes


def test_a_yaml_bomb_is_refused_at_once(tmp_path, capsys, conn, settings) -> None:
    from snoopdb.core.safeyaml import load_bounded

    bomb = CONFORMANCE_SNIPPETS[7].replace(b"h: [", b"i: &i [") + b"j: [" + b", ".join(
        [b"*i"] * 8) + b"]\n"
    with pytest.raises(InputError, match=r"^bomb.yaml: more than 1000000 YAML nodes once aliases are expanded"):
        load_bounded(bomb, source="bomb.yaml")
    with pytest.raises(InputError, match=r"^small.yaml: \d+ bytes, more than the 10 byte"):
        load_bounded(b"- a\n- b\n- c\n", source="small.yaml", max_bytes=10)
    assert load_bounded(b"- &a {x: 1}\n- *a\n", source="ok.yaml") == [{"x": 1}, {"x": 1}]
    pending = tmp_path / "pending.yaml"
    pending.write_bytes(bomb)
    assert main(["gate", "--pending-file", str(pending)]) in (1, 3)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
