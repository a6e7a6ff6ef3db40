"""Depth coverage of audit events (docs/depth.md): the query parameters a request named
(from its requestURI), the values of those that select behaviour, and the status
code it was answered with (responseStatus.code), tallied per endpoint and sender.

Everything here is outside input, bounded (docs/bounds.md#depth-coverage): a query
string is read to MAX_QUERY_CHARS, an event's names to MAX_EVENT_PARAMETERS, a name
cut to MAX_NAME_BYTES and a value to MAX_VALUE_BYTES; per endpoint, MAX_UNDECLARED
names the spec does not declare and MAX_VALUES values of a parameter are listed,
the rest counted under MORE (`$more`; no declared parameter starts with `$`, and a
request that names `$more` itself is counted with them). A status code that is not a number from 100
to 599 counts as INVALID_CODE. What each bound cut is counted in `bounded`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from snoopdb.coverage.fields import Agent, storable_key

# The parameters whose values select what a request does (dry run or not, how a
# delete propagates, a watch or a list…): their values are tallied too.
BEHAVIOUR = frozenset({"dryRun", "propagationPolicy", "watch", "fieldValidation",
                       "resourceVersionMatch", "sendInitialEvents", "orphanDependents",
                       "force"})
MORE = "$more"
INVALID_CODE = "$invalid"
# Characters of a query string read (real ones are a few hundred bytes: label and field
# selectors, a continue token); past it the rest is left out, counted as one MORE
# hit (a last value cut in two is kept, cut further anyway; a last name is not).
MAX_QUERY_CHARS = 16 << 10
# Distinct names read from one event (the real operations declare at most 15).
MAX_EVENT_PARAMETERS = 64
MAX_NAME_BYTES = 128
MAX_VALUE_BYTES = 64
# Names the spec does not declare, listed per endpoint (a tally is one run, or one
# batch of live events), as unknown body paths are (fields.MAX_UNKNOWN).
MAX_UNDECLARED = 100
# Values of one behaviour-selecting parameter listed per endpoint.
MAX_VALUES = 20
MIN_CODE, MAX_CODE = 100, 599

# What `bounded` counts: the bound → events (or names, values) it cut.
CUT_QUERY = "query strings cut"
CUT_EVENT_NAMES = "names past an event's limit"
CUT_NAMES = "names cut in length"
CUT_VALUES = "values cut in length"
MORE_UNDECLARED = "undeclared names past an endpoint's limit"
MORE_VALUES = "values past a parameter's limit"
BAD_CODES = "status codes not 100-599"


def _decoded(text: str, max_bytes: int) -> str:
    # Go's url.ParseQuery: '+' is a space, %XX a byte; invalid escapes and bytes that
    # are not UTF-8 become U+FFFD rather than a lost event
    if "%" in text or "+" in text:
        text = unquote_plus(text, errors="replace")
    return storable_key(text, max_bytes)


def query_parameters(uri: str) -> tuple[dict[str, str], int, bool]:
    """The query parameters of request URI `uri`: ({name: its first value, as written},
    names left out, whether the query string was cut). Names are decoded and bounded
    (MAX_NAME_BYTES); values are left as written (`decoded_value` decodes the few that
    are kept). At most MAX_EVENT_PARAMETERS names, of the first MAX_QUERY_CHARS
    characters; empty names are skipped."""
    query = uri.partition("?")[2]
    if not query:
        return {}, 0, False
    cut = len(query) > MAX_QUERY_CHARS
    if cut:
        query = query[:MAX_QUERY_CHARS]
        if "=" not in query.rpartition("&")[2]:
            query = query.rpartition("&")[0]  # a name cut in two is no name
    names: dict[str, str] = {}
    more = 0
    for pair in query.split("&"):
        raw, _, value = pair.partition("=")
        if not raw:
            continue
        name = _decoded(raw, MAX_NAME_BYTES)
        if name in names:
            continue  # the first value is the one the API server reads
        if len(names) == MAX_EVENT_PARAMETERS:
            more += 1
            continue
        names[name] = value
    return names, more, cut


def decoded_value(value: str) -> str:
    """A behaviour-selecting parameter's value as tallied: decoded, MAX_VALUE_BYTES."""
    return _decoded(value, MAX_VALUE_BYTES)


def status_code(status: Any) -> str | None:
    """An event's responseStatus as tallied: its code, 100-599, as text; INVALID_CODE for
    any other code (a number out of range, a string, a fraction); None when it has none
    (no responseStatus, or one without a code)."""
    if status is None:
        return None
    code = status.get("code") if isinstance(status, dict) else status
    if code is None:
        return None
    if type(code) is int and MIN_CODE <= code <= MAX_CODE:
        return str(code)
    return INVALID_CODE


class DepthTally:
    """Counts, per endpoint and sender, the query parameters events named (and the
    values of BEHAVIOUR ones) and the status codes they were answered with.

    `declared` maps an endpoint to the query parameters its spec declares: those are
    always listed; others up to MAX_UNDECLARED per endpoint. A sender is its test
    (CI runs) or, `by_useragent`, its user agent (live events), as in FieldTally.
    """

    def __init__(self, declared: Mapping[str, frozenset[str]], *,
                 by_useragent: bool = False) -> None:
        self.declared = declared
        self.by_useragent = by_useragent
        # (endpoint, parameter, value or None, sender, test_hit, conf_test_hit) → events
        self.params: Counter[tuple[Any, ...]] = Counter()
        # (endpoint, code, sender, test_hit, conf_test_hit) → events
        self.codes: Counter[tuple[Any, ...]] = Counter()
        self.listed: dict[str, set[str]] = {}
        self.values: dict[tuple[str, str], set[str]] = {}
        self.bounded: Counter[str] = Counter()

    def add(self, endpoint: str, agent: Agent, uri: str, status: Any) -> None:
        """Tally one event on `endpoint` from `agent`: its request URI and its
        responseStatus (as the event has it, or None)."""
        useragent, test, test_hit, conf = agent
        sender = useragent if self.by_useragent else test
        code = status_code(status)
        if code is not None:
            if code == INVALID_CODE:
                self.bounded[BAD_CODES] += 1
            self.codes[(endpoint, code, sender, test_hit, conf)] += 1
        if "?" not in uri:
            return
        names, more, cut = query_parameters(uri)
        if more:
            self.bounded[CUT_EVENT_NAMES] += more
        if cut:
            self.bounded[CUT_QUERY] += 1
            more += 1
        declared = self.declared.get(endpoint, frozenset())
        for name, raw in names.items():
            if len(name) > MAX_NAME_BYTES // 4 and name.endswith("…"):
                self.bounded[CUT_NAMES] += 1
            if name not in declared:
                listed = self.listed.setdefault(endpoint, set())
                if name not in listed:
                    if len(listed) >= MAX_UNDECLARED:
                        self.bounded[MORE_UNDECLARED] += 1
                        more += 1
                        continue
                    listed.add(name)
            value = None
            if name in BEHAVIOUR:
                value = self._value(endpoint, name, raw)
            self.params[(endpoint, name, value, sender, test_hit, conf)] += 1
        if more:
            self.params[(endpoint, MORE, None, sender, test_hit, conf)] += more

    def _value(self, endpoint: str, name: str, raw: str) -> str:
        value = decoded_value(raw)
        if len(value) > MAX_VALUE_BYTES // 4 and value.endswith("…"):
            self.bounded[CUT_VALUES] += 1
        listed = self.values.setdefault((endpoint, name), set())
        if value not in listed:
            if len(listed) >= MAX_VALUES:
                self.bounded[MORE_VALUES] += 1
                return MORE
            listed.add(value)
        return value

    def param_rows(self) -> Iterator[tuple[Any, ...]]:
        """(endpoint, parameter, value, useragent | test, test_hit, conf_test_hit, hits)."""
        for key, count in self.params.items():
            yield (*key, count)

    def status_rows(self) -> Iterator[tuple[Any, ...]]:
        """(endpoint, code, useragent | test, test_hit, conf_test_hit, hits)."""
        for key, count in self.codes.items():
            yield (*key, count)
