"""The "mock test ticket" of a test being written against a live cluster, as Markdown.

A test run with a `live…` user agent against a cluster whose audit webhook is
`snoopdb auditlogger` leaves its events in testing.audit_event; the ticket says
which endpoints it hit (and whether CI tests them today), which untested ones it
would newly cover, which request-body fields it sets that no conformance test
sets, how coverage would change, and outlines a test of the kinds of those
endpoints, in the shape of apisnoop's ticket-writing tickets. Everything is read
from the views (testing.endpoint_hit_by_new_test, testing.field_hit_by_new_test,
testing.projected_change_in_coverage, endpoint_coverage, endpoint_eligibility).

The ticket names the release the live events were mapped against (the newest loaded
spec, loaders/live.py), and, when it is another, the release whose CI coverage they are
compared with (the views' latest release: the newest with coverage data). When that
release has no coverage data (no CI run loaded, no published coverage imported), what
CI tests is unknown: the ticket says "no data" there, never "no", and outlines every
endpoint it hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from snoopdb.core.errors import InputError
from snoopdb.core.terminal import shown
from snoopdb.db.queries import query
from snoopdb.loaders import live

LIVE_PREFIX = "live"
# what the ticket says where the release has no coverage data
NO_DATA = "no data"

# The lifecycle every outline walks: (x-kubernetes-action, scenario title,
# Given/When/Then lines), {kind} filled in; actions the kind lacks are skipped.
STEPS = (
    ("post", "create", (
        "Given the e2e test has a valid {kind} manifest with a label",
        "When the test creates the {kind}",
        "Then the requested action is accepted without any error",
        "And the {kind} is found with the label")),
    ("patch", "patch", (
        "Given the e2e test has created a {kind}",
        "When the test patches the {kind} with a new label",
        "Then the requested action is accepted without any error",
        "And the patched label is found")),
    ("get", "get", (
        "Given the e2e test has patched the {kind}",
        "When the test gets the {kind} by name",
        "Then the requested action is accepted without any error",
        "And the {kind} has the patched label")),
    ("list", "list", (
        "Given the e2e test has created a {kind} with a label",
        "When the test lists {kind} objects with a label selector",
        "Then the requested action is accepted without any error",
        "And exactly one {kind} is found")),
    ("delete", "delete", (
        "Given the e2e test has a {kind}",
        "When the test deletes the {kind}",
        "Then the requested action is accepted without any error",
        "And the {kind} is no longer found")),
)
LIFECYCLE_ACTIONS = frozenset(action for action, _, _ in STEPS)


@dataclass(frozen=True)
class Hit:
    """An endpoint the live test hit, from testing.endpoint_hit_by_new_test; `tested`
    is None where the release has no coverage data."""

    endpoint: str
    tested: bool | None
    hits: int
    path: str
    kind: str | None
    group: str | None
    version: str | None
    level: str
    eligible: bool
    # why not eligible (endpoint_eligibility.reason); None when eligible
    reason: str | None


def ticket(conn: psycopg.Connection, useragent: str) -> str:
    """The Markdown ticket of the live test `useragent` (e.g. live-test-writing).

    InputError when the user agent does not start with `live` (the views see only
    those) or has no mapped events.
    """
    if not useragent.startswith(LIVE_PREFIX):
        raise InputError(f"user agent {useragent!r}: the testing views follow only user "
                         f"agents starting with {LIVE_PREFIX!r}, e.g. live-test-writing")
    hits = [Hit(*row) for row in conn.execute(query("ticket_hits.sql"), (useragent,))]
    if not hits:
        raise InputError(f"no live events of user agent {useragent!r} map to an endpoint of "
                         "the latest release: is the cluster's audit webhook pointing at "
                         "`snoopdb auditlogger`, and did the test set that user agent?")
    release, known, total, old = conn.execute(  # type: ignore[misc]
        query("ticket_release.sql")).fetchone()
    mapped = live.live_release(conn)
    new = [hit for hit in hits if hit.tested is False]

    lines = [
        f"# Mock test ticket: {useragent}",
        "",
        (f"What the test running as user agent `{useragent}` hit in a live cluster, "
         f"against the Kubernetes {mapped} API."
         + ("" if mapped == release else f" What CI tests is that of {release}, the newest "
            "release with coverage data.")),
        "",
    ]
    if not known:
        lines += [(f"**No data**: no CI run of {release} is loaded and no published coverage "
                   "of it is imported, so which of these endpoints CI tests today is unknown. "
                   f"`snoopdb load --release {release.rsplit('.', 1)[0]}` loads it."), ""]
    lines += [
        "## Endpoints hit",
        "",
        "| endpoint | path | hits | tested by CI today |",
        "|---|---|---|---|",
    ]
    lines += [f"| {h.endpoint} | `{h.path}` | {h.hits} | {_tested(h.tested)} |" for h in hits]
    lines += ["", "## Untested endpoints it covers", ""]
    if not known:
        lines.append("No data: which of them CI leaves untested is unknown.")
    elif new:
        lines += ["| endpoint | path | kind | level | eligible for conformance |",
                  "|---|---|---|---|---|"]
        lines += [f"| {h.endpoint} | `{h.path}` | {h.kind or ''} | {h.level} | "
                  f"{'yes' if h.eligible else f'no: {h.reason}'} |" for h in new]
    else:
        lines.append("None: CI already tests every endpoint this test hit.")
    lines += ["", "## Fields it sets that no conformance test sets", ""]
    lines += _fields(conn, useragent, known)
    lines += ["", "## Projected change in coverage", ""]
    if not known:
        lines.append(f"No data: with no coverage data of {release}, how test coverage would "
                     f"change is unknown. The test hit {len(hits)} of the {total} endpoints of "
                     f"{release}.")
    else:
        lines.append(f"If a test with these calls gets merged, **test coverage will go up by "
                     f"{len(new)} {'endpoint' if len(new) == 1 else 'endpoints'}**: from {old} "
                     f"to {old + len(new)} of the {total} endpoints of {release} "
                     f"({_percent(old, total)} to {_percent(old + len(new), total)}).")
    lines += ["", "## Test outline", ""]
    # with no data, every endpoint it hit may be one it newly covers
    candidates = new if known else hits
    kinds = sorted({(h.kind, h.group or "", h.version or "") for h in candidates if h.kind})
    if not kinds:
        lines.append("No untested endpoint of a Kubernetes kind: nothing to outline.")
    covered = {h.endpoint for h in candidates}
    for kind, group, version in kinds:
        lines += _outline(conn, kind, group, version, covered)
    # user agents and body field names come from the cluster: each line shown as one
    return "\n".join(map(shown, lines)).rstrip("\n") + "\n"


def _fields(conn: psycopg.Connection, useragent: str, known: bool) -> list[str]:
    """The request-body fields the test newly covers for conformance (with no coverage
    data, `known` False: every field it set, whether CI sets it unknown), and the
    paths it set that the schema does not have."""
    params = {"useragent": useragent}
    bodies = conn.execute(query("ticket_bodies.sql"), params).fetchone()[0]  # type: ignore[index]
    if not bodies:
        return ["No request body of this test was logged: the cluster's audit policy must log "
                "writes at the `Request` or `RequestResponse` level for fields to be seen."]
    rows = conn.execute(query("ticket_fields.sql"), params).fetchall()
    new = [row for row in rows if row[2]]
    unknown = [row for row in rows if not row[2]]
    out = [f"From {bodies} request {'body' if bodies == 1 else 'bodies'}."]
    if not known:
        out += ["", "No data: which fields conformance tests set is unknown; the fields it set:"]
    if new:
        out += ["", "| endpoint | field | set by other CI tests today | bodies |",
                "|---|---|---|---|"]
        out += [f"| {endpoint} | `{field}` | {('yes' if ete else 'no') if known else NO_DATA} "
                f"| {hits} |"
                for endpoint, field, _, ete, hits in new]
    else:
        out += ["", "None: conformance tests already set every field this test set."]
    if unknown:
        out += ["", "Paths it set that the endpoint's schema does not have: "
                + ", ".join(f"`{field}` ({endpoint})" for endpoint, field, *_ in unknown) + "."]
    return out


def _outline(conn: psycopg.Connection, kind: str, group: str, version: str,
             covered: set[str]) -> list[str]:
    """Scenarios for one kind: the create, patch, get, list and delete endpoints of the
    object itself, then one for each other endpoint of the kind in `covered` (a
    replace, a subresource such as status or a token)."""
    lifecycle: dict[str, list[tuple[str, bool | None]]] = {}
    others = []
    for action, endpoint, tested, subresource in conn.execute(query("ticket_kind_endpoints.sql"),
                                                             (kind, group, version)):
        if action in LIFECYCLE_ACTIONS and not subresource:
            lifecycle.setdefault(action, []).append((endpoint, tested))
        elif endpoint in covered:
            others.append((endpoint, tested))
    steps = [(title, lines, lifecycle[action]) for action, title, lines in STEPS
             if action in lifecycle]
    api = f"{group or 'core'}/{version}"
    covers = _and([title for title, _, _ in steps] + [endpoint for endpoint, _ in others])
    out = [f"### {kind} ({api})", "", "```", f"Feature: Test {covers} of {kind} ({api})",
           "```", ""]
    for title, lines, endpoints in steps:
        out += [f"- {endpoint}{_mark(tested)}" for endpoint, tested in endpoints]
        out += ["", "```", f"Scenario: the test can {title} a {kind}"]
        out += [f"  {line.format(kind=kind)}" for line in lines]
        out += ["```", ""]
    for endpoint, tested in others:
        out += [f"- {endpoint}{_mark(tested)}", "", "```",
                f"Scenario: the test calls {endpoint} for a {kind}",
                f"  Given the e2e test has created what {endpoint} needs",
                f"  When the test calls {endpoint}",
                "  Then the requested action is accepted without any error",
                "```", ""]
    return out


def _tested(tested: bool | None) -> str:
    """A "tested by CI" cell: yes, **no**, or no data (the release has none)."""
    return NO_DATA if tested is None else "yes" if tested else "**no**"


def _mark(tested: bool | None) -> str:
    """What an outline's endpoint line adds: nothing when CI tests it."""
    return "" if tested else " (no data)" if tested is None else " (untested)"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "0.00%"
