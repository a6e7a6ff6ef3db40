"""Property-based: audit events holding the values nobody expects, generated (hypothesis)
rather than mutated — NUL in keys and values, numbers beyond jsonb's range, strings
past 8 KB, deep and wide objects, any JSON type in any field — through the CI loader
and the auditlogger. Whatever the events: a load of exactly the storable ones (with
--skip-bad-lines, the others counted), or one `FILE:LINE: malformed audit event` error
and nothing of the run stored; the auditlogger answers 200 or a 400 naming the item,
never a 500; every stored event is one jsonb holds, so queries of data never fail."""

from __future__ import annotations

import hashlib
import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_auditlogger import running

from snoopdb.core.errors import InputError
from snoopdb.core.fetch import Fetcher
from snoopdb.coverage.attribution import TEST_NAME_LIMIT
from snoopdb.coverage.matching import Matcher
from snoopdb.loaders import audit, live, spec
from snoopdb.loaders.events import UNSTORABLE_NUMBER
from snoopdb.loaders.logs import LogFile
from snoopdb.web.auditlogger import create_app

E2E = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- "
URIS = ("/api/v1/namespaces/ns/pods", "/api/v1/namespaces/ns/pods/p", "/healthz",
        "/apis/apps/v1/namespaces/ns/deployments")


class Raw(str):
    """JSON text written as it is: a number literal (Python floats cannot hold
    1e-99999), or nesting deeper than Python's recursion allows."""


# Numbers around jsonb's limits: numeric keeps at most 16,383 digits after the point
# (1e-16383 fits, 1e-16384 does not); orjson refuses what a double cannot hold (1e400).
NUMBERS = st.sampled_from([
    "0", "-0", "1e-16383", "1e-16384", "1e-99999", "-2.5E-20000", "1.5e308", "1e400",
    "123456789012345678901234567890", "0." + "0" * 16383 + "1", "1e-0000000016384",
]).map(Raw)
KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["k\x00", "\x00", "", "a" * 9000,
                                                       "metadata", "spec", "[]"]))
STRINGS = st.one_of(st.text(max_size=20), st.sampled_from(["\x00", "a\x00b", "x" * 9000,
                                                           "\ud800", "\\u0000", " -- "]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), STRINGS, NUMBERS)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=25)
DEEP = st.integers(1, 1500).map(lambda depth: Raw("[" * depth + "1" + "]" * depth))


# A long name PostgreSQL cannot compress below an index page, as real random text is.
INCOMPRESSIBLE = "".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range(141))


def agents() -> st.SearchStrategy[Any]:
    names = st.one_of(st.text(max_size=30), st.sampled_from(
        ["n" * 9000, INCOMPRESSIBLE, "a [Conformance]", "x\x00y", "é" * 600]))
    return st.one_of(names.map(lambda n: E2E + n), VALUES)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """An event whose every field may hold anything; usually the four text fields are
    text, so most events are storable."""
    made: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1",
        "verb": draw(st.one_of(st.sampled_from(["get", "create", "list", "patch"]), VALUES)),
        "requestURI": draw(st.one_of(st.sampled_from(URIS), VALUES)),
        "userAgent": draw(agents()),
        "auditID": draw(st.one_of(st.uuids().map(str), VALUES)),
    }
    if draw(st.booleans()):
        made["requestObject"] = draw(st.one_of(VALUES, DEEP))
    made.update(draw(st.dictionaries(KEYS, VALUES, max_size=3)))
    return made


def dump(value: Any) -> str:
    """JSON text of `value`, Raw text as written."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


@pytest.fixture
def matcher(conn: psycopg.Connection, fetcher: Fetcher, shared_data: Path) -> Matcher:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)
    return Matcher.for_release(conn, "1.36.0")


PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
MALFORMED = re.compile(r"^\S+\.log:(\d+): malformed audit event: [^\n]+$")


def stored_queries_run(conn: psycopg.Connection, source: str) -> int:
    """Every query of data works on what was stored; the number of events stored."""
    conn.execute("SELECT data->>'verb', count(*) FROM audit_event GROUP BY 1").fetchall()
    conn.execute("SELECT jsonb_path_query_array(data, '$.**') FROM audit_event").fetchall()
    conn.execute("SELECT count(*) FROM endpoint_field_hit").fetchall()
    return conn.execute("SELECT count(*) FROM audit_event WHERE source = %s",
                        (source,)).fetchone()[0]


@PROPERTY
@given(st.lists(events(), min_size=1, max_size=6), st.booleans())
def test_any_events_load_whole_or_fail_in_one_line(conn, matcher, tmp_path, made, skip) -> None:
    lines = [dump(event) for event in made]
    path = tmp_path / "kube-apiserver-audit.log"
    path.write_text("\n".join(lines) + "\n")
    source = f"file://{path}"
    stored = "SELECT run, events, loaded_at FROM audit_run WHERE source = %s"
    before = conn.execute(stored, (source,)).fetchall()
    try:
        report = audit.load_run(conn, [LogFile(path, str(path))], matcher,
                                release="1.36.0", release_date=None, source=source,
                                skip_bad_lines=skip)
    except InputError as exc:
        assert not skip
        assert MALFORMED.match(str(exc)), str(exc)
        assert conn.execute(stored, (source,)).fetchall() == before  # the run as it was
        return
    assert report.events + report.bad_lines == len(lines)
    assert sum(report.bad_reasons.values()) == report.bad_lines
    assert stored_queries_run(conn, source) == report.events
    # every stored test name fits the indexes, cut by the documented rule
    longest = conn.execute("SELECT max(length(test)) FROM audit_event").fetchone()[0]
    assert longest is None or longest <= TEST_NAME_LIMIT + 1


@PROPERTY
@given(st.lists(events(), min_size=1, max_size=6))
def test_any_event_list_is_stored_or_400_naming_the_item(conn, database_url, matcher,
                                                         made) -> None:
    body = ('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":['
            + ",".join(dump(event) for event in made) + "]}").encode()
    before = conn.execute("SELECT count(*) FROM testing.audit_event").fetchone()[0]
    # the examples share one database: an auditID stored by an earlier one makes its
    # event a resent one (stored once, counted as a duplicate)
    ids = [e.get("auditID") for e in made if isinstance(e.get("auditID"), str)]
    known = conn.execute("SELECT count(*) FROM testing.audit_event WHERE audit_id = ANY(%s)",
                         (ids,)).fetchone()[0]
    with running(create_app(database_url)) as url:
        response = requests.post(f"{url}/events", data=body, timeout=30)
    after = conn.execute("SELECT count(*) FROM testing.audit_event").fetchone()[0]
    if response.status_code == 200:
        answer = response.json()
        assert after - before == answer["events"]
        # "duplicates" only when there are some
        assert answer["events"] + answer.get("duplicates", 0) == len(made)
        assert answer.get("duplicates", 1) > 0
        if not known and len(set(ids)) == len(ids):
            assert answer == {"events": len(made)}
    else:
        assert response.status_code == 400, response.text
        assert re.match(r"^(items\[\d+\] is not a usable audit event|not an EventList)",
                        response.text), response.text
        assert after == before
    conn.execute("SELECT data->>'verb', count(*) FROM testing.audit_event GROUP BY 1").fetchall()
    conn.execute("SELECT count(*) FROM testing.field_hit").fetchall()


@pytest.mark.parametrize(("literal", "storable"), [
    ("1e-16383", True), ("1e-16384", False), ("1e-99999", False), ("-2.5E-20000", False),
    ("0." + "0" * 16382 + "1", True), ("0." + "0" * 16383 + "1", False), ("1e308", True),
])
def test_numbers_jsonb_cannot_hold_are_bad_lines(conn, matcher, tmp_path, literal,
                                                 storable) -> None:
    """The boundary, checked against PostgreSQL itself."""
    try:
        conn.execute("SELECT %s::jsonb", (literal,))
        postgres_holds = True
    except psycopg.errors.NumericValueOutOfRange:
        postgres_holds = False
    assert postgres_holds == storable
    path = tmp_path / "a.log"
    event = {"verb": "get", "requestURI": "/api/v1/namespaces/ns/pods", "auditID": "a"}
    path.write_text(dump(dict(event, requestObject={"a": Raw(literal)})) + "\n"
                    + dump(event) + "\n")
    report = audit.load_run(conn, [LogFile(path, str(path))], matcher, release="1.36.0",
                            release_date=None, source="numbers", skip_bad_lines=True)
    assert (report.events, report.bad_lines) == ((2, 0) if storable else (1, 1))
    if not storable:
        assert dict(report.bad_reasons) == {UNSTORABLE_NUMBER: 1}
        with pytest.raises(InputError, match=r"^\S+a\.log:1: malformed audit event: number "):
            audit.load_run(conn, [LogFile(path, str(path))], matcher, release="1.36.0",
                           release_date=None, source="numbers")


def test_an_event_longer_than_the_bound_is_read_past(conn, matcher, tmp_path) -> None:
    """A 20 MiB line is a bad line, counted; it is never held whole."""
    path = tmp_path / "a.log"
    event = {"verb": "get", "requestURI": "/api/v1/namespaces/ns/pods", "auditID": "a"}
    with path.open("w") as out:
        out.write(json.dumps(dict(event, pad="x" * (20 << 20))) + "\n")
        out.write(json.dumps(event) + "\n")
    tracemalloc.start()
    try:
        report = audit.load_run(conn, [LogFile(path, str(path))], matcher,
                                release="1.36.0", release_date=None, source="long",
                                skip_bad_lines=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.events, dict(report.bad_reasons)) == (1, {"an event longer than 16 MiB": 1})
    # the 16 MiB read buffer, twice at most, and what a load holds for the release (its
    # body field trees and, since revision 0019, its declared parameters: about 1 MB for
    # 1.36's spec); the 20 MiB line held whole would add 20 MiB more
    assert peak < 42 << 20
    assert orjson.loads(conn.execute("SELECT data::text FROM audit_event").fetchone()[0]) == event


def test_a_nul_in_a_body_key_and_a_9_kb_test_name_load(conn, matcher, tmp_path,
                                                       database_url) -> None:
    """Both legitimate JSON: stored (the NUL as U+FFFD, the name cut for the indexes),
    by the loader and by the auditlogger alike. The name is incompressible (hex
    digits) and its event has a body: a repeated letter compresses under the limit of
    an index page, and only events with a body reach the live field tallies."""
    long_name = "[sig-x] " + INCOMPRESSIBLE
    made = [
        {"verb": "create", "requestURI": "/api/v1/namespaces/ns/pods", "auditID": "nul",
         "userAgent": E2E + "[sig-x] makes pods", "requestObject": {"k\x00": 1, "spec": {}}},
        {"verb": "create", "requestURI": "/api/v1/namespaces/ns/pods", "auditID": "long",
         "userAgent": E2E + long_name, "requestObject": {"spec": {"x": 1}}},
    ]
    path = tmp_path / "a.log"
    path.write_text("".join(json.dumps(event) + "\n" for event in made))
    report = audit.load_run(conn, [LogFile(path, str(path))], matcher, release="1.36.0",
                            release_date=None, source="hostile")
    assert (report.events, report.bad_lines) == (2, 0)
    assert conn.execute("SELECT audit_id, test, data->'requestObject' FROM audit_event"
                        " ORDER BY id").fetchall() == [
        ("nul", "[sig-x] makes pods", {"k\ufffd": 1, "spec": {}}),
        ("long", long_name[:TEST_NAME_LIMIT] + "…", {"spec": {"x": 1}})]
    assert conn.execute("SELECT field FROM endpoint_field_hit WHERE NOT known"
                        " ORDER BY field").fetchall() == [("k\ufffd",), ("spec.x",)]
    assert conn.execute("SELECT tests FROM release_endpoint_hit WHERE endpoint ="
                        " 'createCoreV1NamespacedPod'").fetchone() == (
        sorted(["[sig-x] makes pods", long_name[:512] + "…"]),)
    body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": made})
    with running(create_app(database_url)) as url:
        stored = requests.post(f"{url}/events", data=body, timeout=30)
        refused = requests.post(f"{url}/events", data=body.replace(
            '"items": [', '"items": [{"verb": "get", "requestURI": "/", "n": 1e-99999}, '),
            timeout=30)
    assert (stored.status_code, stored.json()) == (200, {"events": 2})
    assert (refused.status_code, refused.text) == (400, (
        "items[0] is not a usable audit event: number 1e-99999 is beyond what PostgreSQL's"
        " jsonb can hold; nothing of this batch was stored\n"))
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone() == (2,)
    live.load_logs(conn, [LogFile(path, str(path))], "live-file")
    assert conn.execute("SELECT source = 'live-file', length(useragent) FROM testing.field_hit"
                        " WHERE field = 'spec.x' ORDER BY 1").fetchall() == [
        (False, len(E2E + long_name)), (True, len(E2E + long_name))]
