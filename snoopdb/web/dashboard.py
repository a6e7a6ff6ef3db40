"""`snoopdb serve`: the coverage dashboard, server-rendered pages over the views.

Five pages, each with a JSON twin under `/api/` that returns the very document
the page is rendered from (so the numbers on screen and in the API cannot differ):

- `/`, `/api/overview`: a release (`?release=`, default the newest with coverage
  data, see `ReleaseChoice`): totals by level and by category, and the sunburst
  (`overview`); before anything is loaded, what to load;
- `/progress`, `/api/progress`: conformance.progress and
  conformance.coverage_per_release (`progress`);
- `/endpoints`, `/api/endpoints`: endpoint_coverage of a release, filtered
  (`endpoints`, `EndpointFilter`);
- `/endpoints/{name}`, `/api/endpoints/{name}`: one endpoint, its releases and
  the tests that hit it (`endpoint`);
- `/live`, `/api/live`: testing.endpoint_hit_by_new_test and
  testing.projected_change_in_coverage (`live`);
- `/runs`, `/api/runs`: coverage per run, flaky endpoints, the diff of two runs
  (`snoopdb.web.runs`).

Every number is counted by SQL over the views (`sql/queries/dashboard/*.sql`); this module
only nests rows for the templates, and the browser script only draws them. Each
request reads one snapshot (a repeatable-read, read-only transaction), so a load
committing meanwhile cannot make a page's numbers disagree with each other.

Where a release has no coverage data (no CI run loaded, no published coverage
imported), whether its endpoints are tested is unknown: the documents say null, the
pages "no data", never "untested" or 0. Any other path is a styled 404 page (JSON
under `/api/`).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import jinja2
import psycopg
from markupsafe import Markup, escape
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from snoopdb import __version__
from snoopdb.core.errors import InputError, NoSpecLoaded, ReleaseError
from snoopdb.core.releases import Releases, parse_release
from snoopdb.core.wording import plural
from snoopdb.coverage.attribution import shown_test
from snoopdb.db.queries import query
from snoopdb.web.app import DB_TIMEOUT, one_line
from snoopdb.web.runs import endpoint_runs, runs_page

# Pages are a few milliseconds of SQL each; a handful of connections serves many
# readers without crowding a small server.
POOL_SIZE = 4

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

_templates = jinja2.Environment(loader=jinja2.PackageLoader("snoopdb.web", "templates"),
                                autoescape=jinja2.select_autoescape(),
                                undefined=jinja2.StrictUndefined)

# Where a long name may wrap: between the words of a camel-case name
# (createAppsV1NamespacedDeployment: create|Apps|V1|Namespaced|Deployment), after
# each / of a path and each . of its group (/apis/|rbac.|authorization.|k8s.|io/).
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEGMENT_END = re.compile(r"(?<=[/.])")


def _with_breaks(pattern: re.Pattern[str]) -> Callable[[str], Markup]:
    def breaks(text: str) -> Markup:
        """`text`, escaped, with <wbr> where `pattern` matches: line breaks only
        where needed, and none in the text one copies."""
        return Markup("<wbr>").join(escape(piece) for piece in pattern.split(text))
    return breaks


_templates.filters["word_breaks"] = _with_breaks(_WORD_START)
_templates.filters["path_breaks"] = _with_breaks(_SEGMENT_END)
_templates.filters["plural"] = plural
_templates.filters["test_name"] = shown_test
# The pages, in the navigation's order (error pages list them too): (page, path, label).
_templates.globals["pages"] = [
    ("overview", "/", "Overview"), ("progress", "/progress", "Progress"),
    ("endpoints", "/endpoints", "Endpoints"), ("live", "/live", "Live testing"),
    ("runs", "/runs", "Runs")]


def _query(name: str) -> str:
    return query(f"dashboard/{name}.sql")


def _rows(conn: psycopg.Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_query(name), params).fetchall()


def releases(conn: psycopg.Connection) -> list[str]:
    """The releases whose spec is loaded, newest first."""
    return [row["release"] for row in _rows(conn, "releases")]


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
    def of(cls, conn: psycopg.Connection, release: str | None) -> ReleaseChoice:
        """`release` (1.20, 1.20.0 or v1.20.0), or the default one; NoSpecLoaded when
        nothing is loaded, ReleaseError when `release` is not."""
        has_data = {row["release"]: row["has_data"] for row in _rows(conn, "releases")}
        if not has_data:
            raise NoSpecLoaded()
        known = list(has_data)
        with_data = [name for name in known if has_data[name]]
        default = with_data[0] if with_data else known[0]
        chosen = default if release is None else str(parse_release(release))
        if chosen not in has_data:
            raise ReleaseError(f"release {chosen} is not loaded; loaded: {', '.join(known)}")
        backing = _rows(conn, "release_coverage", release=chosen)[0]
        return cls(chosen, known, default, backing["coverage"],
                   [name for name in known if not has_data[name]], backing["runs"],
                   backing["events"])


def _coverage(conn: psycopg.Connection, release: str) -> str:
    """Where `release`'s coverage comes from: audit events, published coverage or no data."""
    return str(_rows(conn, "release_coverage", release=release)[0]["coverage"])


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


def overview(conn: psycopg.Connection, release: str | None = None) -> dict[str, Any]:
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
    rows = _rows(conn, "overview", release=chosen)
    # Rows come parents first (overview.sql): the release's totals, then each node
    # after its parent.
    root = _node("release", chosen, rows[0])
    nodes: dict[tuple[Any, ...], dict[str, Any]] = {(): root}
    by_level, by_category = [], []
    for row in rows[1:]:
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
    return {**asdict(choice), "totals": _counts(rows[0]), "by_level": by_level,
            "by_category": by_category, "sunburst": root}


def progress(conn: psycopg.Connection) -> dict[str, Any]:
    """conformance.progress (`progress`) and conformance.coverage_per_release
    (`coverage_per_release`, its column names with underscores), row for row; for
    each, the releases missing between two of its rows (`progress_gaps`,
    `coverage_per_release_gaps`, see `gaps`), which the charts mark."""
    rows = {"progress": _rows(conn, "progress"),
            "coverage_per_release": _rows(conn, "coverage_per_release")}
    return {**rows, **{f"{name}_gaps": gaps([row["release"] for row in table])
                       for name, table in rows.items()}}


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


def endpoints(conn: psycopg.Connection, release: str | None = None,
              filters: EndpointFilter = EndpointFilter()) -> dict[str, Any]:
    """The endpoint table of `release` (default: the newest with coverage data; the
    ReleaseChoice's fields): the rows of endpoint_coverage that pass `filters`, the
    default release's untested stable eligible ones first, with the choices each
    filter offers. A row's `state` (and tested, conf_tested, tests) is null where the
    release has no coverage data; `ineligible` says why an endpoint is not eligible
    for conformance (None when it is)."""
    choice = ReleaseChoice.of(conn, release)
    options = _rows(conn, "endpoint_options", release=choice.release)[0]
    rows = _rows(conn, "endpoints", release=choice.release,
                 default_release=choice.default_release, **asdict(filters))
    why = _ineligible(conn, release=choice.release)
    for row in rows:
        row["ineligible"] = why.get(row["endpoint"])
    return {**asdict(choice), "filters": asdict(filters),
            "options": {**options, "state": list(STATES)}, "count": len(rows), "endpoints": rows}


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
            for row in _rows(conn, "ineligible", release=release, endpoint=endpoint)}


def endpoint(conn: psycopg.Connection, name: str,
             release: str | None = None) -> dict[str, Any] | None:
    """One endpoint: its details in the newest release that has it, its coverage in
    every release it exists in (`tests` = how many tests hit it there; tested,
    conf_tested and tests null where the release has no coverage data), the tests
    that hit it, its conformance.eligible_endpoint_coverage row (`eligibility`,
    None when not eligible, and then `ineligible` says why) and its request-body
    fields (`fields`, see `endpoint_fields`); None when no release has it (or it is
    deprecated)."""
    in_releases = _rows(conn, "endpoint_releases", endpoint=name)
    if not in_releases:
        return None
    eligibility = _rows(conn, "endpoint_eligibility", endpoint=name)
    return {"endpoint": name,
            **{key: in_releases[-1][key] for key in _ENDPOINT_DETAILS},
            "releases": [{key: row[key] for key in _ENDPOINT_COVERAGE} for row in in_releases],
            "tests": _rows(conn, "endpoint_tests", endpoint=name),
            "eligibility": eligibility[0] if eligibility else None,
            "ineligible": _ineligible(conn, endpoint=name).get(name),
            "fields": endpoint_fields(conn, name, release),
            "runs": endpoint_runs(conn, name)}


def endpoint_fields(conn: psycopg.Connection, name: str,
                    release: str | None = None) -> dict[str, Any] | None:
    """The endpoint's request-body fields in `release` (default: the newest release
    in which it takes a body): `releases` (field_coverage_summary per release),
    `summary` (the chosen release's row), `tree` (endpoint_field_coverage rows
    nested by parent, each with `children`, and `open` when a field beneath it is
    set, so the page unfolds what the tests reached) and `unknown` (paths bodies
    set that the schema lacks); None when no release gives it a body."""
    summaries = _rows(conn, "endpoint_field_releases", endpoint=name)
    if not summaries:
        return None
    by_release = {row["release"]: row for row in summaries}
    chosen = summaries[-1]["release"] if release is None else str(parse_release(release))
    if chosen not in by_release:
        raise ReleaseError(f"{name} takes no request body in release {chosen}; it does in "
                           + ", ".join(by_release))
    rows = _rows(conn, "endpoint_fields", endpoint=name, release=chosen)
    top: list[dict[str, Any]] = []
    nodes: dict[str, dict[str, Any]] = {}
    for row in rows:
        node = nodes[row["field"]] = {**row, "name": _field_name(row), "children": [],
                                      "open": False}
        holder = nodes.get(row["parent"])
        (holder["children"] if holder else top).append(node)
    for row in reversed(rows):  # children come after their parents
        node = nodes[row["field"]]
        holder = nodes.get(row["parent"])
        if holder is not None and (node["tested"] or node["open"]):
            holder["open"] = True
    return {"release": chosen, "releases": summaries, "summary": by_release[chosen],
            "tree": top, "unknown": _rows(conn, "endpoint_unknown_fields", endpoint=name,
                                          release=chosen)}


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
    row = _rows(conn, "projected_change")[0]
    del row["has_data"]  # its nulls say so; `coverage` says where the data comes from
    projected = None
    if row["release"] is not None:
        projected = {"release": row["release"], "coverage": _coverage(conn, row["release"]),
                     **row}
    hits = _rows(conn, "live")
    agents = [{**agent, "hits": [h for h in hits if h["useragent"] == agent["useragent"]]}
              for agent in _rows(conn, "live_agents")]
    return {"agents": agents, "projected": projected}


class _Dashboard:
    """The server's state: a connection pool, and a page per (template, document)."""

    def __init__(self, database_url: str, pool_size: int, db_timeout: float) -> None:
        self.pool = ConnectionPool(database_url, min_size=1, max_size=pool_size, open=False,
                                   timeout=db_timeout, kwargs={"autocommit": True},
                                   check=ConnectionPool.check_connection, name="dashboard")

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # wait=False: the pages answer 503 while the database is down, then recover.
        self.pool.open(wait=False)
        try:
            yield
        finally:
            self.pool.close()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[psycopg.Connection]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    def routes(self) -> list[Route | Mount]:
        pages: list[tuple[str, str, str, Callable[[Request, psycopg.Connection],
                                                   dict[str, Any] | None]]] = [
            ("/", "/api/overview", "overview.html",
             lambda request, conn: overview(conn, request.query_params.get("release") or None)),
            ("/progress", "/api/progress", "progress.html",
             lambda request, conn: progress(conn)),
            ("/endpoints", "/api/endpoints", "endpoints.html",
             lambda request, conn: endpoints(conn, request.query_params.get("release") or None,
                                             EndpointFilter.from_query(request.query_params))),
            ("/endpoints/{name}", "/api/endpoints/{name}", "endpoint.html",
             lambda request, conn: endpoint(conn, request.path_params["name"],
                                            request.query_params.get("release") or None)),
            ("/live", "/api/live", "live.html", lambda request, conn: live(conn)),
            ("/runs", "/api/runs", "runs.html",
             lambda request, conn: runs_page(conn, request.query_params.get("a") or None,
                                             request.query_params.get("b") or None)),
        ]
        routes: list[Route | Mount] = []
        for path, api_path, template, load in pages:
            routes.append(Route(path, self._handler(load, template), methods=["GET"]))
            routes.append(Route(api_path, self._handler(load, None), methods=["GET"]))
        routes.append(Route("/healthz", self.healthz, methods=["GET"]))
        routes.append(Mount("/static", StaticFiles(packages=[("snoopdb.web", "static")]),
                            name="static"))
        return routes

    def _handler(self, load: Callable[[Request, psycopg.Connection], dict[str, Any] | None],
                 template: str | None) -> Callable[[Request], Response]:
        """A sync endpoint (Starlette runs it in its thread pool): the page's document
        rendered with `template`, or as JSON when `template` is None."""

        def handle(request: Request) -> Response:
            try:
                check_parameters(request)
                with self.snapshot() as conn:
                    document = load(request, conn)
            except NoSpecLoaded as exc:
                return self._error(template, 404, f"{exc}: run `snoopdb load --release X` first")
            except ReleaseError as exc:
                return self._error(template, 404, str(exc))
            except InputError as exc:
                return self._error(template, 400, str(exc))
            except psycopg.DataError as exc:  # a value PostgreSQL cannot take as given
                return self._error(template, 400, f"unusable parameter: {one_line(exc)}")
            except (PoolTimeout, psycopg.OperationalError) as exc:
                return self._error(template, 503, f"database unavailable: {one_line(exc)}")
            if document is None:  # only an endpoint's page can find nothing
                return self._error(template, 404, "no loaded release has a non-deprecated "
                                   f"endpoint {request.path_params['name']!r}")
            if template is None:
                return JSONResponse(document)
            return HTMLResponse(render(template, document, request))

        return handle

    def _error(self, template: str | None, status: int, message: str,
               headers: Mapping[str, str] | None = None) -> Response:
        if template is None:
            return JSONResponse({"error": message}, status, headers)
        return HTMLResponse(_templates.get_template("error.html").render(
            page=None, api_url=None, status=status, title=_ERROR_TITLES.get(status, "Error"),
            message=message, version=__version__), status, headers)

    def http_error(self, request: Request, exc: Exception) -> Response:
        """Starlette's own errors (no such page, a method other than GET) as the
        pages' errors are: a styled page, or JSON under /api/."""
        assert isinstance(exc, HTTPException)
        path = request.url.path
        message = {404: f"no page at {path}",
                   405: f"{request.method} is not allowed at {path}: the dashboard only "
                        "answers GET"}.get(exc.status_code, exc.detail)
        return self._error(None if path.startswith("/api/") else "error.html", exc.status_code,
                           message, exc.headers)

    def healthz(self, request: Request) -> Response:
        try:
            with self.pool.connection() as conn:
                conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error) as exc:
            return JSONResponse({"database": "unreachable", "error": one_line(exc)}, 503)
        return JSONResponse({"database": "reachable"})


_ERROR_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed",
                 503: "Unavailable"}


def check_parameters(request: Request) -> None:
    """InputError for a query or path parameter no page can use: one holding a NUL
    character (PostgreSQL text cannot hold it) or another control character."""
    values = [*request.query_params.multi_items(), *request.path_params.items()]
    for name, value in values:
        if any(ord(c) < 32 and c not in "\t" for c in str(value)):
            raise InputError(f"parameter {name!r} holds a control character")


def render(template: str, document: dict[str, Any], request: Request) -> str:
    """The HTML of a page: `template` over its API document (`data`), with a link
    to that document's JSON."""
    path = "/overview" if request.url.path == "/" else request.url.path
    api_url = f"/api{path}" + (f"?{request.url.query}" if request.url.query else "")
    return _templates.get_template(template).render(
        data=document, page=template.removesuffix(".html"), api_url=api_url,
        version=__version__)


def create_app(database_url: str, *, pool_size: int = POOL_SIZE,
               db_timeout: float = DB_TIMEOUT) -> Starlette:
    """The dashboard ASGI app over the database at `database_url` (read only).

    A database that does not answer within `db_timeout` seconds gets a request a 503.
    """
    dashboard = _Dashboard(database_url, pool_size, db_timeout)
    return Starlette(routes=dashboard.routes(), lifespan=dashboard.lifespan,
                     exception_handlers={HTTPException: dashboard.http_error})
