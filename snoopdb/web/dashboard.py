"""`snoopdb serve`: the coverage dashboard, server-rendered pages over the views.

Five pages, each with a JSON twin under `/api/` that returns the very document
the page is rendered from (so the numbers on screen and in the API cannot differ):

- `/`, `/api/overview`: a release (`?release=`, default the newest): totals by
  level and by category, and the sunburst (`overview`);
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

Every number is counted by SQL over the views (`sql/dashboard/*.sql`); this module
only nests rows for the templates, and the browser script only draws them. Each
request reads one snapshot (a repeatable-read, read-only transaction), so a load
committing meanwhile cannot make a page's numbers disagree with each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import jinja2
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from snoopdb import __version__
from snoopdb.core.errors import InputError, NoSpecLoaded, ReleaseError
from snoopdb.core.releases import parse_release
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
# overview.sql's GROUPING(level, category, kind, endpoint): the category totals
# over all levels, and the sunburst's nodes by depth (1 level ... 4 endpoint).
_CATEGORY_ROW = 11
_TREE_DEPTH = {7: 1, 3: 2, 1: 3, 0: 4}
_NODE_TYPES = ("release", "level", "category", "kind", "endpoint")

_templates = jinja2.Environment(loader=jinja2.PackageLoader("snoopdb.web", "templates"),
                                autoescape=jinja2.select_autoescape(),
                                undefined=jinja2.StrictUndefined)


def _query(name: str) -> str:
    return query(f"dashboard/{name}.sql")


def _rows(conn: psycopg.Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_query(name), params).fetchall()


def releases(conn: psycopg.Connection) -> list[str]:
    """The releases whose spec is loaded, newest first."""
    return [row["release"] for row in _rows(conn, "releases")]


def _resolve(conn: psycopg.Connection, release: str | None) -> tuple[str, list[str]]:
    """(`release` as X.Y.Z, default the newest loaded; every loaded release)."""
    known = releases(conn)
    if not known:
        raise NoSpecLoaded()
    if release is None:
        return known[0], known
    wanted = str(parse_release(release))
    if wanted not in known:
        raise ReleaseError(f"release {wanted} is not loaded; loaded: {', '.join(known)}")
    return wanted, known


def _counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {"total": row["total"], "tested": row["tested"], "conf_tested": row["conf_tested"]}


def _node(node_type: str, name: str | None, row: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": node_type, "name": name, **_counts(row),
                            "states": {state: row[f"{state}_state"] for state in STATES}}
    if node_type != "endpoint":
        node["children"] = []
    return node


def overview(conn: psycopg.Connection, release: str | None = None) -> dict[str, Any]:
    """The release overview of `release` (default: the newest loaded).

    `coverage` says where the release's coverage comes from (`audit events`,
    `published coverage`, or `no data`: then tested and conf_tested count nothing
    and the page says so). `totals`, `by_level` and `by_category` count
    endpoint_coverage rows (total,
    tested, conf_tested); `sunburst` nests the same counts level → category →
    kind → endpoint, each node `{"type", "name", "total", "tested", "conf_tested",
    "states", "children"}`: `states` splits total by colour (conformance, tested,
    untested: see STATES); an endpoint has no children; a kind may be null.
    """
    chosen, known = _resolve(conn, release)
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
    coverage = _rows(conn, "release_coverage", release=chosen)[0]["coverage"]
    return {"release": chosen, "releases": known, "coverage": coverage,
            "totals": _counts(rows[0]), "by_level": by_level, "by_category": by_category,
            "sunburst": root}


def progress(conn: psycopg.Connection) -> dict[str, Any]:
    """conformance.progress (`progress`) and conformance.coverage_per_release
    (`coverage_per_release`, its column names with underscores), row for row."""
    return {"progress": _rows(conn, "progress"),
            "coverage_per_release": _rows(conn, "coverage_per_release")}


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
    """The endpoint table of `release` (default: the newest loaded): the rows of
    endpoint_coverage that pass `filters`, untested stable eligible ones first,
    with the choices each filter offers."""
    chosen, known = _resolve(conn, release)
    options = _rows(conn, "endpoint_options", release=chosen)[0]
    rows = _rows(conn, "endpoints", release=chosen, **asdict(filters))
    return {"release": chosen, "releases": known, "filters": asdict(filters),
            "options": {**options, "state": list(STATES)}, "count": len(rows), "endpoints": rows}


# endpoint_releases.sql's columns: the endpoint's details, shown as of the newest
# release that has it, and its coverage in each release.
_ENDPOINT_DETAILS = ("level", "category", "path", "description", "kind", "version", "group",
                     "action")
_ENDPOINT_COVERAGE = ("release", "tested", "conf_tested", "tests")


def endpoint(conn: psycopg.Connection, name: str,
             release: str | None = None) -> dict[str, Any] | None:
    """One endpoint: its details in the newest release that has it, its coverage in
    every release it exists in (`tests` = how many tests hit it there), the tests
    that hit it, its conformance.eligible_endpoint_coverage row (`eligibility`,
    None when not eligible) and its request-body fields (`fields`, see
    `endpoint_fields`); None when no release has it (or it is deprecated)."""
    in_releases = _rows(conn, "endpoint_releases", endpoint=name)
    if not in_releases:
        return None
    eligibility = _rows(conn, "endpoint_eligibility", endpoint=name)
    return {"endpoint": name,
            **{key: in_releases[-1][key] for key in _ENDPOINT_DETAILS},
            "releases": [{key: row[key] for key in _ENDPOINT_COVERAGE} for row in in_releases],
            "tests": _rows(conn, "endpoint_tests", endpoint=name),
            "eligibility": eligibility[0] if eligibility else None,
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
    testing.projected_change_in_coverage (`projected`, None when no spec is loaded)."""
    projected = _rows(conn, "projected_change")[0]
    hits = _rows(conn, "live")
    agents = [{**agent, "hits": [h for h in hits if h["useragent"] == agent["useragent"]]}
              for agent in _rows(conn, "live_agents")]
    return {"agents": agents, "projected": projected if projected["release"] else None}


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

    def _error(self, template: str | None, status: int, message: str) -> Response:
        if template is None:
            return JSONResponse({"error": message}, status)
        return HTMLResponse(_templates.get_template("error.html").render(
            page=None, api_url=None, status=status, message=message, version=__version__), status)

    def healthz(self, request: Request) -> Response:
        try:
            with self.pool.connection() as conn:
                conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error) as exc:
            return JSONResponse({"database": "unreachable", "error": one_line(exc)}, 503)
        return JSONResponse({"database": "reachable"})


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
    return Starlette(routes=dashboard.routes(), lifespan=dashboard.lifespan)
