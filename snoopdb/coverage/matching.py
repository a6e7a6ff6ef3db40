"""Map an audit event's (verb, requestURI) to the operationId of one OpenAPI spec.

An audit event records the verb the API server derived from the HTTP request,
not the HTTP method, so the method is recovered first. The table below follows
what kube-apiserver actually logs (k8s.io/apiserver `RequestInfoFactory`):

=====================  ========  ==================================================
audit verb             method    why
=====================  ========  ==================================================
get, list, watch       get       GET on a named object, a collection, or with
                                 ``?watch=true`` / under ``/watch/``
create                 post
update                 put
patch                  patch
delete,                delete    DELETE on a named object / on a collection
deletecollection
"" (empty)             options   a resource request with any other method (OPTIONS)
get + URI ending       head      HEAD is logged as ``get``; the conformance proxy
in ``HEAD``                      tests send HEAD to ``…/proxy?method=HEAD`` and
                                 ``…/proxy/some/path/with/HEAD``, as snoopDB assumes
post, put, head,       same      non-resource requests (``/version``, ``/apis/…/``,
options (and the                 ``/logs/``) are logged with the lowercased HTTP
shared ones above)               method itself
proxy                  get       the pre-1.10 ``/api/v1/proxy/…`` paths are logged
                                 with the verb ``proxy`` whatever the method, which
                                 is lost: such events count for the GET operation,
                                 and the other methods of those paths are never found
=====================  ========  ==================================================

Connect operations have no verb of their own: ``connectCoreV1GetNamespacedPodExec``
is GET on ``…/pods/{name}/exec`` and is logged as ``get`` (websocket exec, as in
the v1.37 GCE sample), ``connectCoreV1PostNamespacedPodExec`` is POST and logged
as ``create`` (SPDY exec); likewise attach, portforward, and the per-method proxy
operations. snoopDB's ``connect`` → connect mapping names no operation of any
spec, and the API server never logs ``connect``, so it is an unknown verb here.

Paths are matched segment by segment in a trie built once per spec. Every
``{parameter}`` segment is the same edge whatever its name, so branches such as
``/api/v1/namespaces/{name}/status`` and ``/api/v1/namespaces/{namespace}/pods``
share one node; a literal edge is tried before the parameter edge, with
backtracking. The trailing parameter of a proxy template (``…/proxy/{path}``,
``/api/v1/proxy/nodes/{name}/{path}``) and of ``/logs/{logpath}`` takes every
remaining segment. Results are cached per distinct (verb, path), at most
CACHE_LIMIT of them (the older half is forgotten when full).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import psycopg

from snoopdb.core.errors import DatabaseError

IGNORED_PATH = "ignored path"
UNKNOWN_GROUP = "unknown API group"
UNKNOWN_PATH = "unknown path"
NO_METHOD = "no such method on path"
UNKNOWN_VERB = "unknown verb"
REASONS = (IGNORED_PATH, UNKNOWN_GROUP, UNKNOWN_PATH, NO_METHOD, UNKNOWN_VERB)

METHOD_OF_VERB = {
    "get": "get",
    "list": "get",
    "watch": "get",
    "proxy": "get",
    "create": "post",
    "post": "post",
    "update": "put",
    "put": "put",
    "patch": "patch",
    "delete": "delete",
    "deletecollection": "delete",
    "": "options",
    "options": "options",
    "head": "head",
}
# First path segments the API server serves outside any API group (health,
# metrics, profiling, its own OpenAPI documents): never an operation of the spec.
IGNORED_ROOTS = frozenset({
    "healthz", "livez", "readyz", "metrics", "openapi", "debug",
    "swagger.json", "swagger-2.0.0.pb-v1", "swaggerapi",
})
# A template's trailing parameter after one of these segments is a catch-all.
CATCH_ALL_AFTER = frozenset({"proxy", "logs"})
CACHE_LIMIT = 250_000  # about 35 MB of paths

Result = tuple[str | None, str | None]


class _Node:
    __slots__ = ("literal", "ops", "param", "rest")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.rest: dict[str, str] | None = None  # method → operationId for a catch-all tail
        self.ops: dict[str, str] | None = None  # method → operationId of the path ending here


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


class Matcher:
    """The operations of one spec as a segment trie, with a per-(verb, path) result cache."""

    def __init__(self, root: _Node, groups: frozenset[str], cache_limit: int) -> None:
        self._root = root
        self._groups = groups
        # verb → path → result: a hit costs two dict lookups and builds no key tuple.
        self._cache: dict[str, dict[str, Result]] = {verb: {} for verb in METHOD_OF_VERB}
        self._cached = 0
        self._cache_limit = cache_limit
        self._found: dict[str, Result] = {}

    @classmethod
    def from_operations(
        cls, operations: Iterable[tuple[str, str, str]], *, cache_limit: int = CACHE_LIMIT
    ) -> Matcher:
        """Build from (http_method, path_template, operationId) triples."""
        templates: dict[tuple[str, ...], dict[str, str]] = {}
        for method, path, endpoint in operations:
            templates.setdefault(tuple(_segments(path)), {})[method.lower()] = endpoint
        # Canonical shapes (every parameter spelled {}) of all templates, to tell a
        # proxied path (`…/{name}/proxy/{path}`: its parent is a template too) from
        # an object name (`/api/v1/proxy/nodes/{name}`: `/api/v1/proxy/nodes` is not).
        shapes = {tuple("{}" if _is_param(s) else s for s in t) for t in templates}
        root = _Node()
        groups = set()
        for segments, ops in templates.items():
            if len(segments) >= 2 and segments[0] == "apis":
                groups.add(segments[1])
            shape = tuple("{}" if _is_param(s) else s for s in segments)
            catch_all = (
                len(segments) >= 2
                and _is_param(segments[-1])
                and not CATCH_ALL_AFTER.isdisjoint(segments[:-1])
                and shape[:-1] in shapes
            )
            node = root
            for segment in segments[:-1] if catch_all else segments:
                if _is_param(segment):
                    node.param = node.param or _Node()
                    node = node.param
                else:
                    node = node.literal.setdefault(segment, _Node())
            if catch_all:
                node.rest = {**(node.rest or {}), **ops}
            else:
                node.ops = {**(node.ops or {}), **ops}
        return cls(root, frozenset(groups), cache_limit)

    @classmethod
    def for_release(
        cls, conn: psycopg.Connection, release: str, *, cache_limit: int = CACHE_LIMIT
    ) -> Matcher:
        """Build from the open_api rows of `release`."""
        rows = conn.execute(
            "SELECT method, path, endpoint FROM open_api WHERE release = %s", (release,)
        ).fetchall()
        if not rows:
            # Every event would be "unknown path": a missing spec, not a mapping result.
            raise DatabaseError(f"open_api has no operations of release {release}: load its spec")
        return cls.from_operations(rows, cache_limit=cache_limit)

    @property
    def cache_size(self) -> int:
        """How many distinct (verb, path) results are cached now."""
        return self._cached

    def match(self, verb: str, request_uri: str) -> Result:
        """(operationId, None) for the operation the request hit, else (None, reason)."""
        path = request_uri.partition("?")[0]
        if verb == "get" and request_uri.endswith("HEAD"):
            verb = "head"
        paths = self._cache.get(verb)
        if paths is None:
            return None, UNKNOWN_VERB
        cached = paths.get(path)
        if cached is not None:
            return cached
        if self._cached >= self._cache_limit:
            self._evict()
        result = paths[path] = self._resolve(METHOD_OF_VERB[verb], path)
        self._cached += 1
        return result

    def _evict(self) -> None:
        """Forget the older half of the cache.

        Distinct paths grow with object names (a CI run has hundreds of thousands),
        but requests come in bursts per test namespace: keeping the newest entries
        (dicts keep insertion order) keeps the working set, at no cost per hit.
        """
        for verb, entries in self._cache.items():
            newest = itertools.islice(entries.items(), len(entries) - len(entries) // 2, None)
            self._cache[verb] = dict(newest)
        self._cached = sum(len(entries) for entries in self._cache.values())

    def _resolve(self, method: str, path: str) -> Result:
        segments = _segments(path)
        found = _walk(self._root, segments, 0, method)
        if found is not None:
            # One shared tuple per operation: the cache holds many paths per operation.
            return self._found.setdefault(found, (found, None))
        if _walk(self._root, segments, 0, None) is not None:
            return None, NO_METHOD
        if segments and segments[0] in IGNORED_ROOTS:
            return None, IGNORED_PATH
        if len(segments) >= 2 and segments[0] == "apis" and segments[1] not in self._groups:
            return None, UNKNOWN_GROUP
        return None, UNKNOWN_PATH


def _walk(node: _Node, segments: list[str], index: int, method: str | None) -> str | None:
    """The operationId of `method` on the best-matching template (literal before
    parameter before catch-all, backtracking); with method None, any operation."""
    if index == len(segments):
        return _pick(node.ops, method)
    segment = segments[index]
    child = node.literal.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1, method)
        if found is not None:
            return found
    if node.param is not None:
        found = _walk(node.param, segments, index + 1, method)
        if found is not None:
            return found
    return _pick(node.rest, method)


def _pick(ops: dict[str, str] | None, method: str | None) -> str | None:
    if not ops:
        return None
    if method is None:
        return next(iter(ops.values()))
    return ops.get(method)
