"""The dashboard's pages, each a document (a dict of JSON values) counted by SQL over the
views (`sql/queries/dashboard/*.sql`), which the page is rendered from and its `/api/`
twin returns as it is (web/routes.py): a release's overview, conformance progress, the
endpoint table, one endpoint, the Depth page, live testing, and the Runs page. This
module only nests rows for the templates, and the browser script only draws them.

Where a release has no coverage data (no CI run loaded, no published coverage
imported), whether its endpoints are tested is unknown: the documents say null, the
pages "no data", never "untested" or 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from snoopdb.core.errors import InputError, NoSpecLoaded, ReleaseError, SnoopError
from snoopdb.core.releases import Release, Releases, parse_release
from snoopdb.db.queries import rows
from snoopdb.db.run_diff import diff_runs, group_fields
from snoopdb.db.runs import handles, job_name, list_runs

LEVELS = ("stable", "beta", "alpha")
# An endpoint's colour everywhere: hit by a [Conformance] user agent, by a test
# only, or by none (endpoints.sql derives it the same way).
STATES = ("conformance", "tested", "untested")
# The sunburst's nodes also count apart the endpoints of a release without coverage
# data (`states`).
_COLOURS = (*STATES, "no_data")
# overview.sql's GROUPING(level, category, kind, endpoint): the category totals
# over all levels, and the sunburst's nodes by depth (1 level ... 4 endpoint).
_CATEGORY_ROW = 11
_TREE_DEPTH = {7: 1, 3: 2, 1: 3, 0: 4}
_NODE_TYPES = ("release", "level", "category", "kind", "endpoint")


def releases(conn: psycopg.Connection) -> list[str]:
    """The releases whose spec is loaded, newest first."""
    return [row["release"] for row in rows(conn, "dashboard/releases.sql")]


@dataclass(frozen=True)
class ReleaseChoice:
    """The release a page shows, and why.

    `default_release` is the newest release with coverage data (CI runs' audit events
    or imported published coverage), the newest loaded when none has any: a page asked
    for no release shows it, and says which it is, rather than opening on a newer
    release nothing is known of. `coverage` is where the shown release's coverage
    comes from (`audit events`, `published coverage` or `no data`), and `runs` and
    `events` how much backs it (its CI runs and their events); `releases_without_data`
    lists the loaded releases that have none, newest first."""

    release: str
    releases: list[str]
    default_release: str
    coverage: str
    releases_without_data: list[str]
    runs: int
    events: int

    @classmethod
    def of(cls, conn: psycopg.Connection, release: Release | None) -> ReleaseChoice:
        """`release`, or the default one; NoSpecLoaded when nothing is loaded,
        ReleaseError when `release` is not."""
        has_data = {row["release"]: row["has_data"] for row in rows(conn, "dashboard/releases.sql")}
        if not has_data:
            raise NoSpecLoaded()
        known = list(has_data)
        with_data = [name for name in known if has_data[name]]
        default = with_data[0] if with_data else known[0]
        chosen = default if release is None else str(release)
        if chosen not in has_data:
            raise ReleaseError(f"release {chosen} is not loaded; loaded: {', '.join(known)}")
        backing = rows(conn, "dashboard/release_coverage.sql", release=chosen)[0]
        return cls(chosen, known, default, backing["coverage"],
                   [name for name in known if not has_data[name]], backing["runs"],
                   backing["events"])


def _coverage(conn: psycopg.Connection, release: str) -> str:
    """Where `release`'s coverage comes from: audit events, published coverage or no data."""
    return str(rows(conn, "dashboard/release_coverage.sql", release=release)[0]["coverage"])


def _nothing_loaded() -> dict[str, Any]:
    """The overview of a database with no spec: the document's keys, empty, and `load`,
    the command that loads the newest release snoopdb knows of (its shipped list: the
    dashboard reads no network)."""
    return {"release": None, "releases": [], "default_release": None, "coverage": "no data",
            "releases_without_data": [], "runs": 0, "events": 0, "totals": None,
            "by_level": [], "by_category": [], "sunburst": None,
            "load": f"snoopdb load --release {Releases.load().newest.minor_name}"}


def _counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {"total": row["total"], "tested": row["tested"], "conf_tested": row["conf_tested"]}


def _node(node_type: str, name: str | None, row: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": node_type, "name": name, **_counts(row),
                            "states": {state: row[f"{state}_state"] for state in _COLOURS}}
    if node_type != "endpoint":
        node["children"] = []
    return node


def overview(conn: psycopg.Connection, release: Release | None = None) -> dict[str, Any]:
    """The release overview of `release` (default: the newest with coverage data):
    the ReleaseChoice's fields, then

    `totals`, `by_level` and `by_category` count endpoint_coverage rows (total,
    tested, conf_tested: null where the release has no coverage data); `sunburst`
    nests the same counts level → category → kind → endpoint, each node `{"type",
    "name", "total", "tested", "conf_tested", "states", "children"}`: `states` splits
    total by colour (conformance, tested, untested, no_data); an endpoint has no
    children; a kind may be null.

    With no spec loaded and no release asked for, the document of `_nothing_loaded`.
    """
    try:
        choice = ReleaseChoice.of(conn, release)
    except NoSpecLoaded:
        if release is not None:
            raise
        return _nothing_loaded()
    chosen = choice.release
    found = rows(conn, "dashboard/overview.sql", release=chosen)
    # Rows come parents first (overview.sql): the release's totals, then each node
    # after its parent.
    root = _node("release", chosen, found[0])
    nodes: dict[tuple[Any, ...], dict[str, Any]] = {(): root}
    by_level, by_category = [], []
    for row in found[1:]:
        if row["grouping"] == _CATEGORY_ROW:
            by_category.append({"category": row["category"], **_counts(row)})
            continue
        depth = _TREE_DEPTH[row["grouping"]]
        if depth == 1:
            by_level.append({"level": row["level"], **_counts(row)})
        key = (row["level"], row["category"], row["kind"], row["endpoint"])[:depth]
        node = _node(_NODE_TYPES[depth], key[-1], row)
        nodes[key[:-1]]["children"].append(node)
        nodes[key] = node
    return {**asdict(choice), "totals": _counts(found[0]), "by_level": by_level,
            "by_category": by_category, "sunburst": root}


def progress(conn: psycopg.Connection) -> dict[str, Any]:
    """conformance.progress (`progress`) and conformance.coverage_per_release
    (`coverage_per_release`, its column names with underscores), row for row; for
    each, the releases missing between two of its rows (`progress_gaps`,
    `coverage_per_release_gaps`, see `gaps`), which the charts mark."""
    tables = {"progress": rows(conn, "dashboard/progress.sql"),
              "coverage_per_release": rows(conn, "dashboard/coverage_per_release.sql")}
    return {**tables, **{f"{name}_gaps": gaps([row["release"] for row in table])
                         for name, table in tables.items()}}


def gaps(releases: list[str]) -> list[dict[str, Any]]:
    """Where `releases` (oldest first) skip minor releases, none of which has a row
    (no spec loaded: the shared data lacks 1.23 to 1.27, a mirror may lack more): each
    `{"after": "1.22.0", "before": "1.28.0", "missing": ["1.23.0", ..., "1.27.0"]}`."""
    found = []
    for older, newer in itertools.pairwise(releases):
        a, b = parse_release(older), parse_release(newer)
        if a.major == b.major and b.minor > a.minor + 1:
            found.append({"after": older, "before": newer,
                          "missing": [f"{a.major}.{minor}.0"
                                      for minor in range(a.minor + 1, b.minor)]})
    return found


@dataclass(frozen=True)
class EndpointFilter:
    """The endpoint table's filters; None means any. `q` is a case-insensitive
    substring of the endpoint's name, path or description."""

    category: str | None = None
    kind: str | None = None
    level: str | None = None
    state: str | None = None
    q: str | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> EndpointFilter:
        """The filters of a query string; blank values mean any, unknown ones are an InputError."""
        values = {name: (params.get(name) or "").strip() or None
                  for name in cls.__dataclass_fields__}
        for name, allowed in (("level", LEVELS), ("state", STATES)):
            if values[name] is not None and values[name] not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}, "
                                 f"not {values[name]!r}")
        return cls(**values)


def endpoints(conn: psycopg.Connection, release: Release | None = None,
              filters: EndpointFilter = EndpointFilter()) -> dict[str, Any]:
    """The endpoint table of `release` (default: the newest with coverage data; the
    ReleaseChoice's fields): the rows of endpoint_coverage that pass `filters`, the
    default release's untested stable eligible ones first, with the choices each
    filter offers. A row's `state` (and tested, conf_tested, tests) is null where the
    release has no coverage data; `ineligible` says why an endpoint is not eligible
    for conformance (None when it is)."""
    choice = ReleaseChoice.of(conn, release)
    options = rows(conn, "dashboard/endpoint_options.sql", release=choice.release)[0]
    found = rows(conn, "dashboard/endpoints.sql", release=choice.release,
                 default_release=choice.default_release, **asdict(filters))
    why = _ineligible(conn, release=choice.release)
    for row in found:
        row["ineligible"] = why.get(row["endpoint"])
    return {**asdict(choice), "filters": asdict(filters),
            "options": {**options, "state": list(STATES)}, "count": len(found), "endpoints": found}


# endpoint_releases.sql's columns: the endpoint's details, shown as of the newest
# release that has it, and its coverage in each release.
_ENDPOINT_DETAILS = ("level", "category", "path", "description", "kind", "version", "group",
                     "action")
_ENDPOINT_COVERAGE = ("release", "tested", "conf_tested", "tests")


def _ineligible(conn: psycopg.Connection, release: str | None = None,
                endpoint: str | None = None) -> dict[str, str]:
    """Why endpoints (of `release`, or `endpoint`) are not eligible for conformance,
    by name; an eligible endpoint is not in it."""
    return {row["endpoint"]: row["why"]
            for row in rows(conn, "dashboard/ineligible.sql", release=release,
                            endpoint=endpoint)}


def endpoint(conn: psycopg.Connection, name: str,
             release: Release | None = None) -> dict[str, Any] | None:
    """One endpoint: its details in the newest release that has it, its coverage in
    every release it exists in (`tests` = how many tests hit it there; tested,
    conf_tested and tests null where the release has no coverage data), the tests
    that hit it, its conformance.eligible_endpoint_coverage row (`eligibility`,
    None when not eligible, and then `ineligible` says why) and its request-body
    fields (`fields`, see `endpoint_fields`) and its depth (`depth`, see
    `endpoint_depth`); None when no release has it (or it is deprecated)."""
    in_releases = rows(conn, "dashboard/endpoint_releases.sql", endpoint=name)
    if not in_releases:
        return None
    eligibility = rows(conn, "dashboard/endpoint_eligibility.sql", endpoint=name)
    return {"endpoint": name,
            **{key: in_releases[-1][key] for key in _ENDPOINT_DETAILS},
            "releases": [{key: row[key] for key in _ENDPOINT_COVERAGE} for row in in_releases],
            "tests": rows(conn, "dashboard/endpoint_tests.sql", endpoint=name),
            "eligibility": eligibility[0] if eligibility else None,
            "ineligible": _ineligible(conn, endpoint=name).get(name),
            "fields": endpoint_fields(conn, name, release),
            "depth": endpoint_depth(conn, name, release),
            "runs": endpoint_runs(conn, name)}


def endpoint_fields(conn: psycopg.Connection, name: str,
                    release: Release | None = None) -> dict[str, Any] | None:
    """The endpoint's request-body fields in `release` (default: the newest release
    in which it takes a body): `releases` (field_coverage_summary per release),
    `summary` (the chosen release's row), `tree` (endpoint_field_coverage rows
    nested by parent, each with `children`, and `open` when a field beneath it is
    set, so the page unfolds what the tests reached) and `unknown` (paths bodies
    set that the schema lacks); None when no release gives it a body."""
    summaries = rows(conn, "dashboard/endpoint_field_releases.sql", endpoint=name)
    if not summaries:
        return None
    by_release = {row["release"]: row for row in summaries}
    chosen = summaries[-1]["release"] if release is None else str(release)
    if chosen not in by_release:
        raise ReleaseError(f"{name} takes no request body in release {chosen}; it does in "
                           + ", ".join(by_release))
    fields = rows(conn, "dashboard/endpoint_fields.sql", endpoint=name, release=chosen)
    top: list[dict[str, Any]] = []
    nodes: dict[str, dict[str, Any]] = {}
    for row in fields:
        node = nodes[row["field"]] = {**row, "name": _field_name(row), "children": [],
                                      "open": False}
        holder = nodes.get(row["parent"])
        (holder["children"] if holder else top).append(node)
    for row in reversed(fields):  # children come after their parents
        node = nodes[row["field"]]
        holder = nodes.get(row["parent"])
        if holder is not None and (node["tested"] or node["open"]):
            holder["open"] = True
    return {"release": chosen, "releases": summaries, "summary": by_release[chosen],
            "tree": top, "unknown": rows(conn, "dashboard/endpoint_unknown_fields.sql",
                                         endpoint=name, release=chosen)}


def endpoint_depth(conn: psycopg.Connection, name: str,
                   release: Release | None = None) -> dict[str, Any]:
    """The endpoint's depth in `release` (default: the newest release of its in which
    events were loaded): `releases` (its endpoint_depth rows, oldest first), `release`
    (the one shown, None when no release of its has events), `summary` (that release's
    row), `parameters` (endpoint_parameter_coverage: each declared query parameter,
    then those passed but not declared, with `state` conformance / tested /
    untested), `values` (endpoint_parameter_value) and `codes`
    (endpoint_status_coverage, with the tests that saw each and `state` likewise).
    A release asked for that has no events shows no rows: nothing is known of what
    its tests exercise."""
    found = rows(conn, "dashboard/endpoint_depth_releases.sql", endpoint=name)
    with_data = [row["release"] for row in found if row["depth"] is not None]
    chosen = str(release) if release is not None else (with_data[-1] if with_data else None)
    summary = next((row for row in found if row["release"] == chosen), None)
    empty: dict[str, Any] = {"parameters": [], "values": [], "codes": []}
    if chosen is None or chosen not in with_data:
        return {"releases": found, "release": chosen, "summary": summary, **empty}
    params = {"endpoint": name, "release": chosen}
    return {"releases": found, "release": chosen, "summary": summary,
            "parameters": rows(conn, "dashboard/endpoint_parameters.sql", **params),
            "values": rows(conn, "dashboard/endpoint_parameter_values.sql", **params),
            "codes": rows(conn, "dashboard/endpoint_statuses.sql", **params)}


# endpoint_depth's classes, deepest first
DEPTHS = ("full", "partial", "untested")


@dataclass(frozen=True)
class DepthFilter:
    """The Depth page's filters; None means any. `group` is an API group as people
    say it (`core` for the legacy group), `kind` a kind, `depth` one of DEPTHS."""

    group: str | None = None
    kind: str | None = None
    depth: str | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> DepthFilter:
        """The filters of a query string; blank values mean any, an unknown depth is an
        InputError."""
        values = {name: (params.get(name) or "").strip() or None
                  for name in cls.__dataclass_fields__}
        if values["depth"] is not None and values["depth"] not in DEPTHS:
            raise InputError(f"depth must be one of {', '.join(DEPTHS)}, "
                             f"not {values['depth']!r}")
        return cls(**values)


def depth(conn: psycopg.Connection, release: Release | None = None,
          filters: DepthFilter = DepthFilter()) -> dict[str, Any]:
    """The Depth page of `release` (default: the newest with coverage data; the
    ReleaseChoice's fields): its stable endpoints eligible for conformance that pass
    `filters`, ranked by what their conformance tests leave out (depth.sql: declared
    query parameters not passed, then declared status codes not seen; the untested
    last), with the
    choices each filter offers and `classes`, how many of the rows are in each depth
    class (`{"depth", "endpoints"}`: full, partial, untested, then null for those of
    a release without events)."""
    choice = ReleaseChoice.of(conn, release)
    options = rows(conn, "dashboard/depth_options.sql", release=choice.release,
                   group=filters.group)[0]
    found = rows(conn, "dashboard/depth.sql", release=choice.release, **asdict(filters))
    classes = rows(conn, "dashboard/depth_classes.sql", release=choice.release,
                   **asdict(filters))
    return {**asdict(choice), "filters": asdict(filters),
            "options": {**options, "depth": list(DEPTHS)}, "count": len(found),
            "classes": classes, "endpoints": found}


def _field_name(row: Mapping[str, Any]) -> str:
    """The last step of a field's path as the tree shows it: `containers[]`, `image`."""
    step = {"array": "[]", "map": "{}"}.get(row["type"], "") if not row["leaf"] or \
        row["recursion"] else ""
    return row["field"].rsplit(".", 1)[-1] + step


def live(conn: psycopg.Connection) -> dict[str, Any]:
    """The live testing page: per live user agent its endpoints (testing.
    endpoint_hit_by_new_test; `hit_by_ete` false = newly covered) and totals, and
    testing.projected_change_in_coverage (`projected`, None when no spec is loaded)
    with the release it counts in and that release's `coverage`. Where that release
    has no coverage data, what CI tests is unknown: `hit_by_ete`, `newly_covered`
    and the projected coverage are null."""
    row = rows(conn, "dashboard/projected_change.sql")[0]
    del row["has_data"]  # its nulls say so; `coverage` says where the data comes from
    projected = None
    if row["release"] is not None:
        projected = {"release": row["release"], "coverage": _coverage(conn, row["release"]),
                     **row}
    hits = rows(conn, "dashboard/live.sql")
    agents = [{**agent, "hits": [h for h in hits if h["useragent"] == agent["useragent"]]}
              for agent in rows(conn, "dashboard/live_agents.sql")]
    return {"agents": agents, "projected": projected}


def runs_page(conn: psycopg.Connection, a: str | None = None,
              b: str | None = None) -> dict[str, Any]:
    """The Runs page: `jobs`, each with its runs oldest first (run_coverage: `at` the
    run's start, else its load time, `started` whether it is its start); `flaky`,
    endpoint_stability's flaky rows with their share (%) of runs; `choices`, every run
    by name (db.runs.Run.name; its source where another run has the same name), newest
    first, for the diff picker; and, when runs `a` and `b` are named, `diff`
    (RunDiff.as_json, with `field_groups`: its fields grouped by endpoint and tests,
    see group_fields) from a to b, or `diff_error` saying why not (a run not loaded)."""
    names = handles(list_runs(conn))
    jobs: dict[str, dict[str, Any]] = {}
    for row in rows(conn, "dashboard/runs.sql"):
        job = jobs.setdefault(row["job"], {"job": row["job"], "name": job_name(row["job"]),
                                           "runs": []})
        job["runs"].append({**row, "name": names[row["run"]]})
    flaky = _with_job_names(rows(conn, "dashboard/runs_flaky.sql"))
    choices = sorted((run for job in jobs.values() for run in job["runs"]),
                     key=lambda run: run["at"], reverse=True)
    diff, error = None, None
    if a and b:
        try:
            changes = diff_runs(conn, a, b)
            diff = {**changes.as_json(), "field_groups": [
                asdict(group) for group in group_fields(changes.fields)]}
        except SnoopError as exc:
            error = str(exc)
    return {"jobs": list(jobs.values()), "flaky": flaky,
            "choices": [run["name"] for run in choices], "a": a, "b": b, "diff": diff,
            "diff_error": error}


def endpoint_runs(conn: psycopg.Connection, endpoint: str) -> dict[str, Any]:
    """An endpoint across runs: `stability`, per release and job its runs, runs hit,
    by tests, by conformance tests and that share (%); `tests`, per job of the newest
    release whose runs hit it, each test that did, in how many of the runs it ran in,
    and the builds it did in, oldest first."""
    return {"stability": _with_job_names(rows(conn, "dashboard/endpoint_runs.sql",
                                              endpoint=endpoint)),
            "tests": _with_job_names(rows(conn, "dashboard/endpoint_run_tests.sql",
                                          endpoint=endpoint))}


def _with_job_names(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with a job, each with the job's name as people say it (`job_name`)."""
    return [{**row, "job_name": job_name(row["job"])} for row in found]
