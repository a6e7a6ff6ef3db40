"""Audit events (audit.k8s.io Event objects), one at a time: the checks an event must pass
to be stored (its text fields are text, its numbers fit jsonb), and the rows it becomes —
its endpoint matched, its user agent attributed to a test, its hit and request-body
fields tallied — in COPY text, for a CI run's table or for the live table. What a run's
load did is counted in its AuditReport."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from snoopdb.core import copytext
from snoopdb.coverage.attribution import classify, reattribute
from snoopdb.coverage.depth import DepthTally
from snoopdb.coverage.fields import FieldTally
from snoopdb.coverage.matching import Matcher

# testing.audit_event's columns, as EventRows.row writes them. Column order chosen so
# that a row is a constant head, the per-event values, and the cached user-agent part,
# joined without reshuffling (a CI run's rows have the same tail: run_store.EVENT_COLUMNS).
LIVE_COLUMNS = ("release", "release_date", "source", "audit_id", "endpoint", "error",
                "useragent", "test", "test_hit", "conf_test_hit", "data")
# jsonb holds a number as numeric, which keeps at most 16,383 digits after the point:
# 1e-16384 is refused (orjson reads it as 0.0). Lines where such a number may be (an
# exponent of 5 digits or more, or 16,384 digits after a point) are checked exactly.
# Searches that start with a literal byte are several times faster than one that
# starts with a class: "-NNNNN" first (one line in eight: names, resource versions),
# then the exponent itself.
_DASH_DIGITS = re.compile(rb"-0*[1-9][0-9]{4}")
_EXPONENT = re.compile(rb"[0-9][eE]-0*[1-9][0-9]{4}")
_LONG_FRACTION = re.compile(rb"\.[0-9]{16384}")
NUMERIC_MAX_SCALE = 16383


class BadEvent(ValueError):
    """A JSON object that is not a usable audit event; the message says why, `reason`
    (the message by default) is what a report counts it under."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


_JSON_TYPES = {dict: "an object", list: "an array", int: "a number", float: "a number",
               bool: "a boolean"}


def _text_field(event: dict, name: str, *, required: bool) -> str | None:
    """Field `name` of an event as text; None when absent (or null) and not required.

    These fields become columns of their own: a value of another JSON type, or
    one holding a NUL character (PostgreSQL text cannot hold it, and no API server
    writes one into a verb, URI, user agent or audit ID), makes the line bad."""
    value = event.get(name)
    if value is None:
        if required:
            raise BadEvent(f"no {name}")
        return None
    if not isinstance(value, str):
        raise BadEvent(f"{name} is {_JSON_TYPES.get(type(value), 'not text')}, not a string")
    if "\x00" in value:
        raise BadEvent(f"{name} holds a NUL character")
    return value


UNSTORABLE_NUMBER = "a number beyond what PostgreSQL's jsonb can hold"


def check_number(literal: str) -> float:
    """json.loads' parse_float: BadEvent for a number PostgreSQL's jsonb cannot hold."""
    mantissa, _, exponent = literal.lower().partition("e")
    fraction = mantissa.partition(".")[2]
    if len(fraction) - int(exponent or 0) > NUMERIC_MAX_SCALE:
        shown = literal if len(literal) <= 40 else literal[:20] + "…" + literal[-10:]
        raise BadEvent(f"number {shown} is beyond what PostgreSQL's jsonb can hold",
                       UNSTORABLE_NUMBER)
    return 0.0


def check_storable(line: bytes | str) -> None:
    """BadEvent when the JSON text `line` holds a number jsonb cannot hold."""
    text = line.encode() if isinstance(line, str) else line
    if ((_DASH_DIGITS.search(text) and _EXPONENT.search(text))
            or _LONG_FRACTION.search(text)):
        try:
            json.loads(line, parse_float=check_number, parse_int=len)
        except RecursionError as exc:
            raise BadEvent("nested too deeply to check its numbers") from exc


@dataclass
class AuditReport:
    """What a load did: events loaded, matched, unmatched by reason, bad lines skipped."""

    source: str = ""
    release: str = ""
    events: int = 0
    matched: int = 0
    unmatched: Counter[str] = field(default_factory=Counter)
    bad_lines: int = 0
    # why lines were skipped (with skip_bad_lines): reason → count
    bad_reasons: Counter[str] = field(default_factory=Counter)
    files: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    summary_seconds: float = 0.0
    # what the depth tally's bounds cut (coverage/depth.py): bound → count
    depth_bounded: Counter[str] = field(default_factory=Counter)
    # where the release's open_api spec came from (CI runs: loaded for it if need be)
    spec: str = ""
    # older runs of the job compacted after the load: (source, events)
    compacted: list[tuple[str, int]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def details(self) -> dict[str, Any]:
        """What load_log keeps of the load (its details)."""
        return {"matched": self.matched, "unmatched": dict(self.unmatched),
                "bad_lines": self.bad_lines, "bad_reasons": dict(self.bad_reasons),
                "files": self.files, "summary_seconds": round(self.summary_seconds, 3),
                **({"depth_bounded": dict(self.depth_bounded)} if self.depth_bounded else {})}


@dataclass(frozen=True)
class Agent:
    """A user agent with its test attribution."""

    useragent: str | None
    test: str | None
    test_hit: bool
    conf_test_hit: bool
    text: bytes  # the four values in COPY text format, tab-separated


class EventRows:
    """Maps raw audit events to their endpoint and agent, tallying hits; and turns them
    into COPY text rows: of a hot run's table (`numbered_row`) or of the live table
    (`row`).

    User agents and (verb, URI) matches repeat a great deal, so both are cached.
    `fields` (when given) tallies the fields each request body sets, `depth` the query
    parameters and status code of each event.
    """

    def __init__(self, matcher: Matcher, release: str, release_date: str | None, source: str,
                 fields: FieldTally | None = None, depth: DepthTally | None = None):
        self.matcher = matcher
        self.fields = fields
        self.depth = depth
        self.hits: Counter[tuple[str, str | None, bool, bool]] = Counter()
        self.report = AuditReport(source=source, release=release)
        self._agents: dict[tuple[str | None, str | None, bool, bool], Agent] = {}
        self._by_useragent: dict[str | None, Agent] = {}
        self._head = b"\t".join(map(copytext.encoded, (release, release_date, source))) + b"\t"

    def _agent(self, useragent: str | None, test: str | None, test_hit: bool,
               conf: bool) -> Agent:
        key = (useragent, test, test_hit, conf)
        agent = self._agents.get(key)
        if agent is None:
            agent = self._agents[key] = Agent(
                useragent, test, test_hit, conf,
                b"\t".join((copytext.encoded(useragent), copytext.encoded(test),
                            b"t" if test_hit else b"f", b"t" if conf else b"f")))
        return agent

    def map(self, event: dict) -> tuple[str | None, str | None, str | None, Agent]:
        """(audit_id, endpoint, error, agent) of one parsed event, its hit tallied;
        BadEvent, before anything is counted, for an event that cannot be stored."""
        verb = _text_field(event, "verb", required=True)
        uri = _text_field(event, "requestURI", required=True)
        useragent = _text_field(event, "userAgent", required=False)
        audit_id = _text_field(event, "auditID", required=False)
        assert verb is not None and uri is not None  # required fields
        agent = self._by_useragent.get(useragent)
        if agent is None:
            agent = self._by_useragent[useragent] = self._agent(useragent, *classify(useragent))
        endpoint, error = self.matcher.match(verb, uri)
        self.report.events += 1
        if endpoint is None:
            self.report.unmatched[error or "unknown"] += 1
        else:
            self.report.matched += 1
            credited = reattribute(endpoint, useragent, uri)
            if credited is not None:
                agent = self._agent(useragent, credited, True, "[Conformance]" in credited)
            self.hits[(endpoint, agent.test, agent.test_hit, agent.conf_test_hit)] += 1
            if self.fields is not None:
                body = event.get("requestObject")
                if body is not None:
                    self.fields.add(endpoint, (useragent, agent.test, agent.test_hit,
                                               agent.conf_test_hit), body)
            if self.depth is not None:
                self.depth.add(endpoint, (useragent, agent.test, agent.test_hit,
                                          agent.conf_test_hit), uri, event.get("responseStatus"))
        return audit_id, endpoint, error, agent

    def _tail(self, line: bytes, event: dict) -> bytes:
        audit_id, endpoint, error, agent = self.map(event)
        return b"".join((
            copytext.encoded(audit_id), b"\t", copytext.encoded(endpoint), b"\t",
            copytext.encoded(error), b"\t", agent.text, b"\t", copytext.json_value(line), b"\n",
        ))

    def row(self, line: bytes, event: dict) -> bytes:
        """The live table's COPY row of one parsed event (`line` is its JSON text), in
        LIVE_COLUMNS order."""
        return self._head + self._tail(line, event)

    def numbered_row(self, line: bytes, event: dict) -> bytes:
        """The COPY row of one parsed event of a hot run (run_store.EVENT_COLUMNS),
        numbered by its position in the run from 0."""
        n = self.report.events
        return b"%d\t" % n + self._tail(line, event)

    def hit_rows(self) -> Iterator[tuple[str, str | None, bool, bool, int]]:
        """(endpoint, test, test_hit, conf_test_hit, hits), by endpoint and test."""
        for (endpoint, test, test_hit, conf), hits in sorted(
                self.hits.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            yield (endpoint, test, test_hit, conf, hits)
