"""`snoopdb serve`: the coverage dashboard's routes, its pages (web/pages.py) rendered
with their templates, over one snapshot of the views per request.

Seven pages, each with a JSON twin under `/api/` that returns the very document
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
- `/depth`, `/api/depth`: a release's stable eligible endpoints ranked by the
  parameters and status codes their conformance tests leave out, filtered by group
  and kind (`depth`, `DepthFilter`);
- `/live`, `/api/live`: testing.endpoint_hit_by_new_test and
  testing.projected_change_in_coverage (`live`);
- `/runs`, `/api/runs`: coverage per run, flaky endpoints, the diff of two runs
  (`runs_page`).

A `?release=` is parsed here, once, into the Release the page is about. Each request
reads one snapshot (a repeatable-read, read-only transaction), so a load committing
meanwhile cannot make a page's numbers disagree with each other. Any other path is a
styled 404 page (JSON under `/api/`).
"""


from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import jinja2
import psycopg
from markupsafe import Markup, escape
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from snoopdb import __version__
from snoopdb.core.errors import InputError, NoSpecLoaded, ReleaseError
from snoopdb.core.releases import Release, parse_release
from snoopdb.core.wording import plural
from snoopdb.coverage.attribution import shown_test
from snoopdb.web.pages import (
    DepthFilter,
    EndpointFilter,
    depth,
    endpoint,
    endpoints,
    live,
    overview,
    progress,
    runs_page,
)
from snoopdb.web.server import DB_TIMEOUT, one_line

# Pages are a few milliseconds of SQL each; a handful of connections serves many
# readers without crowding a small server.
POOL_SIZE = 4

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
    ("endpoints", "/endpoints", "Endpoints"), ("depth", "/depth", "Depth"),
    ("live", "/live", "Live testing"),
    ("runs", "/runs", "Runs")]


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
             lambda request, conn: overview(conn, release_parameter(request))),
            ("/progress", "/api/progress", "progress.html",
             lambda request, conn: progress(conn)),
            ("/endpoints", "/api/endpoints", "endpoints.html",
             lambda request, conn: endpoints(conn, release_parameter(request),
                                             EndpointFilter.from_query(request.query_params))),
            ("/endpoints/{name}", "/api/endpoints/{name}", "endpoint.html",
             lambda request, conn: endpoint(conn, request.path_params["name"],
                                            release_parameter(request))),
            ("/depth", "/api/depth", "depth.html",
             lambda request, conn: depth(conn, release_parameter(request),
                                         DepthFilter.from_query(request.query_params))),
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


def release_parameter(request: Request) -> Release | None:
    """The release `?release=` names (1.20, 1.20.0 or v1.20.0), None when it names none;
    a ReleaseError when it names no release."""
    text = request.query_params.get("release")
    return parse_release(text) if text else None


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
