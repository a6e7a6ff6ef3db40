"""A hand-made spec and audit log for depth coverage (which parameters and status codes
tests exercise), loaded as users load theirs: the spec through loaders.spec, the
events as a local run of release 1.36.0 through loaders.local_logs (and, for a
live test, with `testing`). Small enough that tests can write out every row.

The spec: ConfigMaps (stable, core/v1) — list and create on the collection, read
and delete on an object, `namespace`, `name` and `pretty` declared on their paths —
and a beta Widget list (widgets.example.io/v1beta1).

The run (CONFORMANCE is a [Conformance] test, PLAIN an e2e test, and kube-controller
a component):
  LIST    GET  ...configmaps?labelSelector=app%3Dx&limit=5   by CONFORMANCE, 200
  LIST    GET  ...configmaps?watch=true&resourceVersion=7    by kube-controller, 200
  CREATE  POST ...configmaps?dryRun=All                      by PLAIN, 201
  READ    GET  ...configmaps/x                               by CONFORMANCE, 404
  DELETE  DELETE ...configmaps/x?propagationPolicy=Foreground by CONFORMANCE, 200
  WIDGETS GET  .../v1beta1/widgets?limit=1                   by CONFORMANCE, 200
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from snoopdb.core.config import Settings
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases, parse_release
from snoopdb.loaders import spec
from snoopdb.loaders.local_logs import load_log_files

LIST = "listCoreV1NamespacedConfigMap"
CREATE = "createCoreV1NamespacedConfigMap"
READ = "readCoreV1NamespacedConfigMap"
DELETE = "deleteCoreV1NamespacedConfigMap"
WIDGETS = "listWidgetsV1beta1Widget"
CONFORMANCE = "[sig-node] ConfigMap should be listed [Conformance]"
PLAIN = "[sig-node] ConfigMap should be dry-run"
E2E = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- "
CONTROLLER = "kube-controller-manager/v1.36.0 (linux/amd64) kubernetes/abc"

COLLECTION = "/api/v1/namespaces/{namespace}/configmaps"
OBJECT = COLLECTION + "/{name}"


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"in": "query", "name": name, "type": "string", "uniqueItems": True}
            for name in names]


def _path(*names: str) -> list[dict[str, Any]]:
    return [{"in": "path", "name": name, "required": True, "type": "string",
             "uniqueItems": True} for name in names]


def _responses(*codes: str) -> dict[str, Any]:
    return {code: {"description": "OK" if code.startswith("2") else "Unauthorized"}
            for code in codes}


def _op(operation: str, action: str, kind: str, version: str, group: str,
        parameters: list[dict[str, Any]], codes: tuple[str, ...]) -> dict[str, Any]:
    return {"operationId": operation, "description": f"{action} {kind}",
            "parameters": parameters, "responses": _responses(*codes),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": group, "kind": kind,
                                                "version": version}}


BODY = [{"in": "body", "name": "body", "required": True,
         "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"}}]
SPEC: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Kubernetes", "version": "v1.36.0"},
    "definitions": {
        "io.k8s.api.core.v1.ConfigMap": {"type": "object", "properties": {
            "data": {"type": "object", "additionalProperties": {"type": "string"}},
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        }},
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {
            "name": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        }},
    },
    "paths": {
        COLLECTION: {
            "parameters": _path("namespace") + _query("pretty"),
            "get": _op(LIST, "list", "ConfigMap", "v1", "",
                       _query("labelSelector", "limit", "resourceVersion", "watch"),
                       ("200", "401")),
            "post": _op(CREATE, "post", "ConfigMap", "v1", "",
                        BODY + _query("dryRun", "fieldManager"), ("200", "201", "202", "401")),
        },
        OBJECT: {
            "parameters": _path("name", "namespace") + _query("pretty"),
            "get": _op(READ, "get", "ConfigMap", "v1", "", [], ("200", "401")),
            "delete": _op(DELETE, "delete", "ConfigMap", "v1", "",
                          _query("dryRun", "propagationPolicy"), ("200", "202", "401")),
        },
        "/apis/widgets.example.io/v1beta1/widgets": {
            "get": _op(WIDGETS, "list", "Widget", "v1beta1", "widgets.example.io",
                       _query("limit"), ("200", "401")),
        },
    },
}


def event(number: int, useragent: str, verb: str, uri: str, code: int) -> dict[str, Any]:
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": f"depth-{number}", "stage": "ResponseComplete", "requestURI": uri,
            "verb": verb, "userAgent": useragent, "responseStatus": {"code": code}}


CONFIGMAPS = "/api/v1/namespaces/ns/configmaps"
EVENTS = [
    event(1, E2E + CONFORMANCE, "list", CONFIGMAPS + "?labelSelector=app%3Dx&limit=5", 200),
    event(2, CONTROLLER, "watch", CONFIGMAPS + "?watch=true&resourceVersion=7", 200),
    event(3, E2E + PLAIN, "create", CONFIGMAPS + "?dryRun=All", 201),
    event(4, E2E + CONFORMANCE, "get", CONFIGMAPS + "/x", 404),
    event(5, E2E + CONFORMANCE, "delete", CONFIGMAPS + "/x?propagationPolicy=Foreground", 200),
    event(6, E2E + CONFORMANCE, "list", "/apis/widgets.example.io/v1beta1/widgets?limit=1",
           200),
]


def write_json_lines(path: Path, events: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def load_depth_data(conn: psycopg.Connection, fetcher: Fetcher, settings: Settings,
                    folder: Path, events: Sequence[dict[str, Any]] = EVENTS,
                    testing: Sequence[dict[str, Any]] = ()) -> None:
    """SPEC as release 1.36.0, `events` as a CI run of it, and `testing`, when given,
    as live events (a test being written)."""
    spec_file = folder / "swagger-depth.json"
    spec_file.write_text(json.dumps(SPEC))
    spec.load(conn, fetcher, str(spec_file), "1.36.0", None)
    load_log_files(conn, fetcher, settings, Releases.load(),
                   [write_json_lines(folder / "audit.log", events)], parse_release("1.36"))
    if testing:
        load_log_files(conn, fetcher, settings, Releases.load(),
                       [write_json_lines(folder / "live-audit.log", testing)], None,
                       testing=True)
