"""Deployment files, checked without a cluster or a Docker engine: every Kubernetes
manifest under kind/manifests/ (and the PodSpec of the prow job under ci/prow/) is
validated against the Kubernetes OpenAPI schema of the shared data, and the
Dockerfile, docker-compose.yml, the kind cluster config, the webhook kubeconfig
script and the manifests are checked to agree with each other.

`python tests/test_deploy.py` prints what the validator checked."""

from __future__ import annotations

import base64
import contextlib
import copy
import fnmatch
import gzip
import io
import ipaddress
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import tomllib
import yaml

REPO = Path(__file__).resolve().parent.parent
KIND = REPO / "kind"
MANIFESTS = KIND / "manifests"
PROW_JOB = REPO / "ci" / "prow" / "apisnoop-conformance-gate.yaml"
WEBHOOK_SCRIPT = KIND / "webhook-config.sh"
SWAGGER = Path("openapi") / "swagger-1.36.json.gz"
SNOOPDB_IMAGE = "snoopdb"
POSTGRES_IMAGE = "snoopdb-postgres:15"
# The Secrets docs/deploy.md has the user create (never committed): name -> keys.
SETUP_SECRETS = {"auditlogger-token": {"token"}, "snoopdb-postgres": {"password"}}
# Environment variables a snoopdb container may have besides those snoopdb reads.
PYTHON_ENV = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


# --- YAML -------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=StrictLoader) if doc is not None]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    """Every object of kind/manifests/*.yaml, as (file#index, object)."""
    return [(f"{path.relative_to(REPO)}#{i}", doc)
            for path in sorted(MANIFESTS.glob("*.yaml")) for i, doc in enumerate(load_yaml(path))]


def find(kind: str, name: str) -> dict[str, Any]:
    (obj,) = [o for _, o in manifests() if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


# --- the OpenAPI validator --------------------------------------------------

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"


@dataclass
class Validator:
    """Validates values against the `definitions` of a Kubernetes OpenAPI v2 document:
    known apiVersion/kind (x-kubernetes-group-version-kind), required fields, types
    and formats (int32/int64 ranges, int-or-string, quantities, base64 bytes), enums,
    and no field the schema does not have, recursively through $ref definitions."""

    swagger: dict[str, Any]
    objects: int = 0
    fields: int = 0
    manifest_fields: int = 0
    definitions_used: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.definitions: dict[str, Any] = self.swagger["definitions"]
        self.kinds: dict[tuple[str, str], str] = {}
        for name, definition in self.definitions.items():
            if "kind" not in definition.get("properties", {}):
                continue
            for gvk in definition.get("x-kubernetes-group-version-kind", []):
                api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                self.kinds[(api_version, gvk["kind"])] = name
        # namespaced kinds: those created under /namespaces/{namespace}/
        self.namespaced: set[tuple[str, str]] = set()
        for path, item in self.swagger["paths"].items():
            for operation in item.values():
                gvk = isinstance(operation, dict) and operation.get(
                    "x-kubernetes-group-version-kind")
                if gvk and "{namespace}" in path:
                    group = f"{gvk['group']}/" if gvk["group"] else ""
                    self.namespaced.add((group + gvk["version"], gvk["kind"]))

    def validate_object(self, obj: Any, where: str) -> list[str]:
        """Errors of one top-level Kubernetes object (empty when valid)."""
        if not isinstance(obj, dict):
            return [f"{where}: not a mapping"]
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key not in self.kinds:
            return [f"{where}: unknown apiVersion/kind {key[0]}/{key[1]}"]
        self.objects += 1
        errors = self.validate(obj, self.kinds[key], where)  # type: ignore[index]
        if not (obj.get("metadata") or {}).get("name"):
            errors.append(f"{where}.metadata.name: required")
        return errors or names_errors(obj, where)

    def validate(self, value: Any, definition: str, where: str) -> list[str]:
        """Errors of `value` against the named definition."""
        errors: list[str] = []
        self._check(value, {"$ref": f"#/definitions/{definition}"}, where, errors)
        return errors

    def _check(self, value: Any, schema: dict[str, Any], where: str, errors: list[str]) -> None:
        self.fields += 1
        name = None
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in self.definitions:
                errors.append(f"{where}: schema {name} not in the spec")
                return
            self.definitions_used.add(name)
            schema = self.definitions[name]
        if value is None:
            errors.append(f"{where}: null")
            return
        kind, fmt = schema.get("type"), schema.get("format")
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if fmt == "int-or-string":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                errors.append(f"{where}: expected an integer or a string, got {_type(value)}")
        elif name == QUANTITY_DEF:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                errors.append(f"{where}: expected a quantity, got {_type(value)}")
            elif isinstance(value, str) and not QUANTITY.match(value):
                errors.append(f"{where}: {value!r} is not a quantity")
        elif kind == "object":
            self._check_object(value, schema, where, errors)
        elif kind == "array":
            if not isinstance(value, list):
                errors.append(f"{where}: expected a list, got {_type(value)}")
                return
            for i, item in enumerate(value):
                self._check(item, schema.get("items", {}), f"{where}[{i}]", errors)
        elif kind == "string":
            if not isinstance(value, str):
                errors.append(f"{where}: expected a string, got {_type(value)}")
            elif fmt == "byte":
                try:
                    base64.b64decode(value, validate=True)
                except ValueError:
                    errors.append(f"{where}: not base64")
        elif kind == "integer":
            low, high = INT32 if fmt == "int32" else INT64
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected an integer, got {_type(value)}")
            elif not low <= value <= high:
                errors.append(f"{where}: {value} out of range for {fmt}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{where}: expected a number, got {_type(value)}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{where}: expected a boolean, got {_type(value)}")
        # no type (apiextensions JSON and the like): anything goes

    def _check_object(self, value: Any, schema: dict[str, Any], where: str,
                      errors: list[str]) -> None:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a mapping, got {_type(value)}")
            return
        if any(not isinstance(key, str) for key in value):
            errors.append(f"{where}: keys must be strings")
            return
        properties = schema.get("properties")
        if properties is not None:
            for key in schema.get("required", []):
                if key not in value:
                    errors.append(f"{where}.{key}: required")
            for key, item in value.items():
                if key not in properties:
                    errors.append(f"{where}.{key}: unknown field")
                else:
                    self._check(item, properties[key], f"{where}.{key}", errors)
        elif "additionalProperties" in schema:
            for key, item in value.items():
                self._check(item, schema["additionalProperties"], f"{where}[{key!r}]", errors)
        # an object with neither (RawExtension, FieldsV1): any mapping


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
PORT_NAME = re.compile(r"^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


def names_errors(obj: dict[str, Any], where: str) -> list[str]:
    """What the API server's validation (not the schema) says of names: DNS-1123 object,
    container and volume names, IANA port names, label values."""
    errors = []
    if not DNS_SUBDOMAIN.match(obj["metadata"]["name"]):
        errors.append(f"{where}.metadata.name: not a DNS-1123 subdomain")
    for key, value in (obj["metadata"].get("labels") or {}).items():
        if not LABEL_VALUE.match(value):
            errors.append(f"{where}.metadata.labels[{key!r}]: not a label value")
    for spec in pod_specs(obj):
        for container in containers(spec):
            if not DNS_LABEL.match(container["name"]):
                errors.append(f"{where}: container name {container['name']!r} not a DNS-1123 label")
            for port in container.get("ports", []):
                if "name" in port and not PORT_NAME.match(port["name"]):
                    errors.append(f"{where}: port name {port['name']!r} not an IANA service name")
        for volume in spec.get("volumes", []):
            if not DNS_LABEL.match(volume["name"]):
                errors.append(f"{where}: volume name {volume['name']!r} not a DNS-1123 label")
    return errors


def _type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


@pytest.fixture(scope="module")
def swagger(shared_data: Path) -> dict[str, Any]:
    with gzip.open(shared_data / SWAGGER) as stream:
        return json.load(stream)


@pytest.fixture
def validator(swagger: dict[str, Any]) -> Validator:
    return Validator(swagger)


# --- the prow job ------------------------------------------------------------

# Fields of a prow periodic (prow's config.Periodic, JobBase, UtilityConfig).
PERIODIC_FIELDS = {
    "name", "interval", "cron", "minimum_interval", "cluster", "decorate", "decoration_config",
    "annotations", "labels", "extra_refs", "spec", "max_concurrency", "reporter_config",
    "rerun_auth_config", "hidden", "error_on_eviction", "namespace", "agent", "tags",
    "job_queue_name", "path_alias", "clone_uri", "ssh_host_fingerprints", "skip_cloning",
    "cookiefile",
}
DECORATION_FIELDS = {"timeout", "grace_period", "utility_images", "resources", "gcs_configuration",
                     "gcs_credentials_secret", "default_service_account_name", "skip_cloning",
                     "censor_secrets", "upload_ignores_interrupts", "oauth_token_secret"}
TESTGRID_ANNOTATIONS = {"testgrid-dashboards", "testgrid-tab-name", "testgrid-alert-email",
                        "testgrid-num-failures-to-alert"}
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def check_prow_config(config: Any, validator: Validator) -> list[str]:
    """Errors of a prow job config holding periodics; each job's spec is validated as a
    core/v1 PodSpec."""
    if not isinstance(config, dict) or set(config) != {"periodics"}:
        return ["top level: expected exactly the key periodics"]
    if not isinstance(config["periodics"], list) or not config["periodics"]:
        return ["periodics: expected a non-empty list"]
    errors: list[str] = []
    for i, job in enumerate(config["periodics"]):
        where = f"periodics[{i}]"
        if not isinstance(job, dict):
            errors.append(f"{where}: not a mapping")
            continue
        errors += [f"{where}.{key}: unknown field" for key in job if key not in PERIODIC_FIELDS]
        for key in ("name", "spec"):
            if key not in job:
                errors.append(f"{where}.{key}: required")
        if ("interval" in job) == ("cron" in job):
            errors.append(f"{where}: exactly one of interval and cron")
        if "interval" in job and not DURATION.match(str(job["interval"])):
            errors.append(f"{where}.interval: {job['interval']!r} is not a duration")
        if not isinstance(job.get("decorate", False), bool):
            errors.append(f"{where}.decorate: expected a boolean")
        decoration = job.get("decoration_config", {})
        if not isinstance(decoration, dict):
            errors.append(f"{where}.decoration_config: expected a mapping")
        else:
            errors += [f"{where}.decoration_config.{key}: unknown field"
                       for key in decoration if key not in DECORATION_FIELDS]
            for key in ("timeout", "grace_period"):
                if key in decoration and not DURATION.match(str(decoration[key])):
                    errors.append(f"{where}.decoration_config.{key}: not a duration")
        for key in ("annotations", "labels"):
            values = job.get(key, {})
            if not isinstance(values, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
                errors.append(f"{where}.{key}: expected a mapping of strings to strings")
        missing = TESTGRID_ANNOTATIONS - set(job.get("annotations") or {})
        if missing:
            errors.append(f"{where}.annotations: missing {', '.join(sorted(missing))}")
        if "spec" in job:
            errors += validator.validate(job["spec"], "io.k8s.api.core.v1.PodSpec", f"{where}.spec")
            for j, container in enumerate((job["spec"] or {}).get("containers") or []):
                # decorated containers run under prow's entrypoint, which needs the command
                if job.get("decorate") and not (isinstance(container, dict)
                                                and container.get("command")):
                    errors.append(f"{where}.spec.containers[{j}].command: required when decorated")
    return errors


def prow_job() -> dict[str, Any]:
    (config,) = load_yaml(PROW_JOB)
    return config


# --- the Dockerfile ----------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]]

    def all(self, instruction: str) -> list[str]:
        return [args for op, args in self.instructions if op == instruction]

    def last(self, instruction: str) -> str | None:
        found = self.all(instruction)
        return found[-1] if found else None


def parse_dockerfile(path: Path) -> list[Stage]:
    """The stages of a Dockerfile: continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        if not pending and raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        op, _, args = line.strip().partition(" ")
        op, args = op.upper(), args.strip()
        if op == "FROM":
            words = args.split()
            stages.append(Stage(words[0], words[2] if len(words) == 3 else None, []))
        else:
            stages[-1].instructions.append((op, args))
    return stages


def image_config(path: Path = REPO / "Dockerfile") -> dict[str, Any]:
    """What the final stage gives a container: entrypoint, cmd, user, ports, environment."""
    final = parse_dockerfile(path)[-1]
    env: dict[str, str] = {}
    for args in final.all("ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            env[key] = value
    ports = {int(p.split("/")[0]) for args in final.all("EXPOSE") for p in args.split()}
    return {"base": final.base, "entrypoint": json.loads(final.last("ENTRYPOINT") or "null"),
            "cmd": json.loads(final.last("CMD") or "null"), "user": final.last("USER"),
            "ports": ports, "env": env, "workdir": final.last("WORKDIR")}


# --- what snoopdb reads ------------------------------------------------------


def snoopdb_environment() -> set[str]:
    """Environment variables the snoopdb package reads (found in its sources), and the
    libpq PG* variables it honours."""
    names: set[str] = set()
    for root, _, files in os.walk(REPO / "snoopdb", followlinks=True):
        for name in files:
            if name.endswith(".py"):
                text = (Path(root) / name).read_text()
                names |= set(re.findall(r'environ(?:\.get)?[(\[]\s*"([A-Z][A-Z0-9_]*)"', text))
                names |= set(re.findall(r'getenv\(\s*"([A-Z][A-Z0-9_]*)"', text))
                if "environ" in text:
                    names |= set(re.findall(r'"(PG[A-Z]+)"', text))
    return names


def project_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def parse_cli(argv: list[str]) -> str | None:
    """None when snoopdb's own argument parser accepts `argv`, else its message."""
    from snoopdb.cli import build_parser

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            return stderr.getvalue().strip().splitlines()[-1]
    return None


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
        return [obj["spec"]["template"]["spec"]]
    return [obj["spec"]] if obj["kind"] == "Pod" else []


def containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def check_snoopdb_container(container: dict[str, Any], pod: dict[str, Any],
                            image: dict[str, Any], *, shell: bool = False) -> list[str]:
    """Errors where a container of the snoopdb image disagrees with the image: its
    command line (snoopdb's parser must accept it; the entrypoint is used unless
    `shell`), tag, user, ports and environment."""
    where = f"container {container['name']}"
    errors = []
    name, _, tag = container["image"].rpartition(":")
    if tag != project_version():
        errors.append(f"{where}: image tag {tag} is not the project version {project_version()}")
    if shell:
        script = (container.get("command", []) + container.get("args", []))[-1]
        lines = [shlex.split(line) for line in script.splitlines()]
        argvs = [words[1:] for words in lines if words and words[0] == image["entrypoint"][0]]
        if not argvs:
            errors.append(f"{where}: its script never runs {image['entrypoint'][0]}")
    else:
        if "command" in container:
            errors.append(f"{where}: command overrides the image's entrypoint "
                          f"{image['entrypoint']}")
        argvs = [container.get("args") or image["cmd"]]
    for argv in argvs:
        problem = parse_cli(argv)
        if problem:
            errors.append(f"{where}: snoopdb {shlex.join(argv)}: {problem}")
    context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    if str(context.get("runAsUser", image["user"])) != image["user"]:
        errors.append(f"{where}: runAsUser {context.get('runAsUser')} is not the image's USER "
                      f"{image['user']}")
    if not context.get("runAsNonRoot"):
        errors.append(f"{where}: runAsNonRoot is not set")
    for port in container.get("ports", []):
        if port["containerPort"] not in image["ports"]:
            errors.append(f"{where}: port {port['containerPort']} is not EXPOSEd by the image "
                          f"({sorted(image['ports'])})")
    known = snoopdb_environment() | PYTHON_ENV
    for variable in container.get("env", []):
        if variable["name"] not in known:
            errors.append(f"{where}: snoopdb reads no variable {variable['name']}")
    if context.get("readOnlyRootFilesystem"):
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        env = {**image["env"], **{v["name"]: v.get("value", "") for v in container.get("env", [])}}
        writable = ["/tmp"] + ([env["SNOOPDB_CACHE_DIR"]] if argvs and argvs[0][:1] == ["load"]
                               else [])
        for path in writable:
            if not any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts):
                errors.append(f"{where}: {path} is not writable (read-only root, no volume)")
    return errors


def snoopdb_containers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(c, spec) for _, obj in manifests() for spec in pod_specs(obj) for c in containers(spec)
            if c["image"].rpartition(":")[0] == SNOOPDB_IMAGE]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {v["name"]: v.get("value", v.get("valueFrom")) for v in container.get("env", [])}


# --- validation of everything, with counts -----------------------------------


def validate_all(swagger: dict[str, Any]) -> tuple[Validator, list[str]]:
    validator = Validator(swagger)
    errors: list[str] = []
    for where, obj in manifests():
        errors += validator.validate_object(obj, where)
    validator.manifest_fields = validator.fields
    errors += check_prow_config(prow_job(), validator)
    return validator, errors


def test_every_manifest_is_valid_kubernetes_1_36(swagger: dict[str, Any]) -> None:
    validator, errors = validate_all(swagger)
    assert errors == []
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for _, o in manifests())
    assert kinds == ["Deployment/auditlogger", "Deployment/dashboard", "Job/snoopdb-load",
                     "Namespace/snoopdb", "Service/auditlogger", "Service/dashboard",
                     "Service/postgres", "StatefulSet/postgres"]
    assert validator.objects == 8
    # every field of every object was visited: far more than the top-level keys
    assert validator.fields > 300
    print(f"\nmanifest validation against {SWAGGER.name}: {validator.objects} objects "
          f"({validator.manifest_fields} fields) and the prow job's PodSpec "
          f"({validator.fields - validator.manifest_fields} fields) valid; "
          f"{validator.fields} fields checked in all, "
          f"{len(validator.definitions_used)} schema definitions used")


def test_namespaced_objects_are_in_the_snoopdb_namespace(validator: Validator) -> None:
    seen = set()
    for where, obj in manifests():
        key = (obj["apiVersion"], obj["kind"])
        namespace = obj["metadata"].get("namespace")
        if key in validator.namespaced:
            assert namespace == "snoopdb", where
        else:
            assert namespace is None, where
        assert (obj["kind"], obj["metadata"]["name"]) not in seen, f"{where}: given twice"
        seen.add((obj["kind"], obj["metadata"]["name"]))


BROKEN = [
    # (what is done to which object, the error expected)
    ("unknown field in a container", "Deployment", "auditlogger",
     lambda o: o["spec"]["template"]["spec"]["containers"][0].update(imagePullPolice="Always"),
     ".spec.template.spec.containers[0].imagePullPolice: unknown field"),
    ("unknown top-level field", "Service", "postgres", lambda o: o.update(status2={}),
     ".status2: unknown field"),
    ("replicas as a string", "Deployment", "auditlogger",
     lambda o: o["spec"].update(replicas="1"), ".spec.replicas: expected an integer, got a string"),
    ("a port as a boolean", "Service", "auditlogger",
     lambda o: o["spec"]["ports"][0].update(port=True), "expected an integer, got a boolean"),
    ("a port beyond int32", "Service", "auditlogger",
     lambda o: o["spec"]["ports"][0].update(port=2**40), "out of range for int32"),
    ("targetPort as a list", "Service", "auditlogger",
     lambda o: o["spec"]["ports"][0].update(targetPort=[9900]),
     "expected an integer or a string, got a list"),
    ("args as a string", "Job", "snoopdb-load",
     lambda o: o["spec"]["template"]["spec"]["containers"][0].update(args="load"),
     "args: expected a list, got a string"),
    ("env value as a number", "Job", "snoopdb-load",
     lambda o: o["spec"]["template"]["spec"]["containers"][0]["env"][0].update(value=5432),
     "env[0].value: expected a string, got an integer"),
    ("a container without a name", "StatefulSet", "postgres",
     lambda o: o["spec"]["template"]["spec"]["containers"][0].pop("name"),
     ".spec.template.spec.containers[0].name: required"),
    ("a Service port without a port", "Service", "postgres",
     lambda o: o["spec"]["ports"][0].pop("port"), ".spec.ports[0].port: required"),
    ("a Deployment without a selector", "Deployment", "auditlogger",
     lambda o: o["spec"].pop("selector"), ".spec.selector: required"),
    ("a pod without containers", "Job", "snoopdb-load",
     lambda o: o["spec"]["template"]["spec"].pop("containers"),
     ".spec.template.spec.containers: required"),
    ("a bad quantity", "StatefulSet", "postgres",
     lambda o: o["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"].update(
         memory="lots"), "'lots' is not a quantity"),
    ("a label value as a number", "Namespace", "snoopdb",
     lambda o: o["metadata"]["labels"].update(version=1), "expected a string, got an integer"),
    ("a null field", "Deployment", "auditlogger",
     lambda o: o["spec"]["template"]["spec"].update(volumes=None),
     ".spec.template.spec.volumes: null"),
    ("no name", "Namespace", "snoopdb", lambda o: o["metadata"].pop("name"),
     ".metadata.name: required"),
    ("an upper-case name", "Service", "postgres", lambda o: o["metadata"].update(name="Postgres"),
     ".metadata.name: not a DNS-1123 subdomain"),
    ("a container port name too long", "Deployment", "auditlogger",
     lambda o: o["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
         name="auditlogger-http"), "port name 'auditlogger-http' not an IANA service name"),
    ("a kind of another group", "Service", "auditlogger", lambda o: o.update(apiVersion="apps/v1"),
     "unknown apiVersion/kind apps/v1/Service"),
    ("a made-up kind", "Deployment", "auditlogger", lambda o: o.update(kind="Deploymnet"),
     "unknown apiVersion/kind apps/v1/Deploymnet"),
]


@pytest.mark.parametrize("what, kind, name, breaks, error", BROKEN, ids=[b[0] for b in BROKEN])
def test_validator_rejects_a_broken_manifest(validator: Validator, what, kind, name, breaks,
                                             error) -> None:
    obj = copy.deepcopy(find(kind, name))
    assert validator.validate_object(copy.deepcopy(obj), "x") == []
    breaks(obj)
    errors = validator.validate_object(obj, "x")
    assert any(error in e for e in errors), errors


def test_yaml_with_a_key_given_twice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("kind: Service\nkind: Pod\n")
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'kind'"):
        load_yaml(path)


# --- the image ---------------------------------------------------------------


def test_dockerfile_builds_the_wheel_and_runs_snoopdb_as_a_user() -> None:
    build, final = parse_dockerfile(REPO / "Dockerfile")
    assert any("pip wheel" in run for run in build.all("RUN"))
    assert final.base.startswith("python:") and "slim" in final.base
    assert all(op != "COPY" or "--from=" in args for op, args in final.instructions)
    image = image_config()
    assert image["entrypoint"] == ["snoopdb"]
    assert image["user"].isdigit() and int(image["user"]) != 0
    assert image["ports"] == {9900, 8000}
    assert set(image["env"]) <= snoopdb_environment() | PYTHON_ENV
    # the cache the manifests mount a volume on exists in the image, owned by the user
    assert any(image["env"]["SNOOPDB_CACHE_DIR"] in run and f"chown -R {image['user']}" in run
               for run in final.all("RUN"))


def test_dockerignore_keeps_what_the_wheel_build_needs() -> None:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/")
                   for p in patterns)

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {"pyproject.toml", pyproject["project"]["readme"],
              *pyproject["tool"]["setuptools"]["package-dir"].values()}
    needed |= {os.path.normpath(os.path.join("snoopdb", os.readlink(p)))
               for p in (REPO / "snoopdb").iterdir() if p.is_symlink()}
    assert [n for n in sorted(needed) if ignored(n)] == []
    for heavy in (".git", ".venv", "tests", "kind"):
        assert ignored(heavy)


def test_snoopdb_containers_agree_with_the_image() -> None:
    image = image_config()
    found = snoopdb_containers()
    assert sorted(c["name"] for c, _ in found) == ["auditlogger", "dashboard", "init", "load"]
    for container, pod in found:
        assert check_snoopdb_container(container, pod, image) == []


MISMATCHES = [
    ("command overrides the entrypoint", lambda c: c.update(command=["python", "-m", "snoopdb"]),
     "command overrides the image's entrypoint"),
    ("an option snoopdb does not have", lambda c: c["args"].append("--tokn-file=abc"),
     "unrecognized arguments: --tokn-file=abc"),
    ("a command snoopdb does not have", lambda c: c.update(args=["webhook"]),
     "invalid choice: 'webhook'"),
    ("a port the image does not expose", lambda c: c["ports"][0].update(containerPort=8080),
     "port 8080 is not EXPOSEd"),
    ("a variable snoopdb does not read",
     lambda c: c["env"].append({"name": "DATABASE_ULR", "value": "x"}),
     "snoopdb reads no variable DATABASE_ULR"),
    ("another user", lambda c: c.update(securityContext={**c["securityContext"], "runAsUser": 0}),
     "runAsUser 0 is not the image's USER"),
    ("another tag", lambda c: c.update(image="snoopdb:latest"), "image tag latest is not"),
    ("no writable /tmp", lambda c: c.update(volumeMounts=c["volumeMounts"][:1]),
     "/tmp is not writable"),
]


@pytest.mark.parametrize("what, breaks, error", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_a_container_disagreeing_with_the_image_is_caught(what, breaks, error) -> None:
    deployment = copy.deepcopy(find("Deployment", "auditlogger"))
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    breaks(container)
    assert any(error in e for e in check_snoopdb_container(container, pod, image_config()))


# --- the wiring between the objects ------------------------------------------


def test_selectors_ports_volumes_and_secrets_resolve() -> None:
    objects = [o for _, o in manifests()]
    for obj in objects:
        for spec in pod_specs(obj):
            labels = obj["spec"]["template"]["metadata"]["labels"]
            selector = obj["spec"].get("selector", {}).get("matchLabels", {})
            assert selector.items() <= labels.items(), obj["metadata"]["name"]
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            claims = {c["metadata"]["name"] for c in obj["spec"].get("volumeClaimTemplates", [])}
            for container in containers(spec):
                port_names = {p.get("name") for p in container.get("ports", [])}
                for mount in container.get("volumeMounts", []):
                    assert mount["name"] in volumes or mount["name"] in claims, mount
                for probe in ("readinessProbe", "livenessProbe"):
                    port = container.get(probe, {}).get("tcpSocket", {}).get("port")
                    assert port is None or port in port_names or isinstance(port, int)
                for variable in container.get("env", []):
                    ref = variable.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in SETUP_SECRETS[ref["name"]], ref
            for volume in volumes.values():
                if "secret" in volume:
                    assert volume["secret"]["secretName"] in SETUP_SECRETS
    # every Service selects the pods of one workload and names one of their ports
    for service in (o for o in objects if o["kind"] == "Service"):
        (workload,) = [o for o in objects if pod_specs(o) and service["spec"]["selector"].items()
                       <= o["spec"]["template"]["metadata"]["labels"].items()]
        ports = {p.get("name"): p["containerPort"] for c in pod_specs(workload)[0]["containers"]
                 for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
    # docs/deploy.md creates every Secret the manifests use, from generated values
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    for name in SETUP_SECRETS:
        assert re.search(rf"kubectl -n snoopdb create secret generic {name} --from-", deploy_doc), name


def test_auditlogger_service_is_where_the_webhook_posts() -> None:
    service = find("Service", "auditlogger")
    deployment = find("Deployment", "auditlogger")
    label = {"app.kubernetes.io/name": "auditlogger"}
    for labels in (service["metadata"]["labels"], deployment["metadata"]["labels"],
                   deployment["spec"]["template"]["metadata"]["labels"],
                   service["spec"]["selector"],
                   deployment["spec"]["selector"]["matchLabels"]):
        assert label.items() <= labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    options = dict(arg.removeprefix("--").split("=", 1) for arg in container["args"][1:])
    assert container["args"][0] == "auditlogger"
    assert options["host"] == "0.0.0.0" and options["retain"] == "24h"
    (http,) = container["ports"]
    (port,) = service["spec"]["ports"]
    assert int(options["port"]) == http["containerPort"] == 9900
    assert port["targetPort"] == http["name"]

    # the token file is the key `token` of the Secret, mounted read-only
    token_dir = os.path.dirname(options["token-file"])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == token_dir]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert mount.get("readOnly") and "items" not in volumes[mount["name"]]["secret"]
    assert volumes[mount["name"]]["secret"]["secretName"] == "auditlogger-token"
    assert os.path.basename(options["token-file"]) == "token"
    # ...readable by the user: through fsGroup when the mode leaves others out
    mode = volumes[mount["name"]]["secret"].get("defaultMode", 0o644)
    pod_context = deployment["spec"]["template"]["spec"]["securityContext"]
    assert mode & 0o004 or (mode & 0o040 and pod_context.get("fsGroup") == pod_context["runAsUser"])
    # the readiness probe asks /healthz on the same port with that token
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    assert f"127.0.0.1:{options['port']}/healthz" in probe and options["token-file"] in probe

    # a fixed ClusterIP in the cluster's service subnet, not one the cluster takes itself
    cluster = load_yaml(KIND / "cluster.yaml")[0]
    subnet = ipaddress.ip_network(cluster["networking"]["serviceSubnet"])
    ip = ipaddress.ip_address(service["spec"]["clusterIP"])
    assert ip in subnet and ip not in (subnet[1], subnet[10])  # kubernetes, kube-dns
    # in the low band Kubernetes leaves to fixed addresses (min(max(16, size/16), 256))
    assert int(ip) - int(subnet[0]) < min(max(16, subnet.num_addresses // 16), 256)
    # the webhook kubeconfig's default server is that address
    script = WEBHOOK_SCRIPT.read_text()
    (default,) = re.findall(r"url=\$\{AUDITLOGGER_URL:-([^}]+)\}", script)
    assert default == f"http://{ip}:{port['port']}/events"


def parsed_cli(argv: list[str]) -> Any:
    """The namespace snoopdb's own parser makes of `argv` (the options it really has)."""
    from snoopdb.cli import build_parser

    assert parse_cli(argv) is None, parse_cli(argv)
    return build_parser().parse_args(argv)


def test_dashboard_service_serves_the_dashboard() -> None:
    """kind/manifests/dashboard.yaml: `snoopdb serve` with options the CLI has, on the
    port the image exposes, the Service's target, probed on /healthz."""
    service = find("Service", "dashboard")
    deployment = find("Deployment", "dashboard")
    label = {"app.kubernetes.io/name": "dashboard"}
    for labels in (service["metadata"]["labels"], deployment["metadata"]["labels"],
                   deployment["spec"]["template"]["metadata"]["labels"],
                   service["spec"]["selector"], deployment["spec"]["selector"]["matchLabels"]):
        assert label.items() <= labels.items()
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = parsed_cli(container["args"])
    assert (args.command, args.host, args.port, args.log_level) == (
        "serve", "0.0.0.0", 8000, "warning")
    (http,) = container["ports"]
    (port,) = service["spec"]["ports"]
    assert http["containerPort"] == args.port and args.port in image_config()["ports"]
    assert port["targetPort"] == http["name"] and service["spec"]["type"] == "ClusterIP"
    readiness = container["readinessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/healthz", http["name"])
    # it starts once the schema is there: the load Job's `snoopdb init` creates it
    (wait,) = pod["initContainers"]
    assert "alembic_version" in " ".join(wait["command"])
    assert env_of(wait) == env_of(container)
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert "kubectl -n snoopdb port-forward svc/dashboard 8000:8000" in deploy_doc
    assert "`kind/manifests/dashboard.yaml`" in deploy_doc


def test_postgres_and_its_clients_agree() -> None:
    service = find("Service", "postgres")
    statefulset = find("StatefulSet", "postgres")
    assert service["spec"]["clusterIP"] == "None"
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    pod = statefulset["spec"]["template"]["spec"]
    (postgres,) = pod["containers"]
    assert postgres["image"] == POSTGRES_IMAGE
    server = env_of(postgres)
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    (mount,) = postgres["volumeMounts"]
    assert mount["name"] == claim["metadata"]["name"]
    assert server["PGDATA"].startswith(mount["mountPath"] + "/")
    (port,) = service["spec"]["ports"]
    # every client (snoopdb and the psql/pg_isready waits) reaches this server
    clients = [c for _, o in manifests() for spec in pod_specs(o) for c in containers(spec)
               if c is not postgres and c["name"] != "postgres"]
    assert len(clients) == 7
    for client in clients:
        text = " ".join(client.get("command", []))
        if "pg_isready" in text:
            assert f"--host={service['metadata']['name']}" in text
            assert f"--dbname={server['POSTGRES_DB']}" in text
            continue
        env = env_of(client)
        assert env["PGHOST"] == service["metadata"]["name"]
        assert int(env.get("PGPORT", 5432)) == port["port"]
        assert env["PGUSER"] == server.get("POSTGRES_USER", "postgres")
        assert env["PGDATABASE"] == server["POSTGRES_DB"]
        assert env["PGPASSWORD"] == server["POSTGRES_PASSWORD"]


def test_load_job_loads_the_release_of_the_node_image() -> None:
    job = find("Job", "snoopdb-load")
    pod = job["spec"]["template"]["spec"]
    snoopdb_init = [c["args"] for c in pod["initContainers"]
                    if c["image"].startswith(SNOOPDB_IMAGE + ":")]
    assert snoopdb_init == [["init"]]
    (load,) = pod["containers"]
    assert load["args"][:2] == ["load", "--release"]
    release = load["args"][2]
    (node,) = load_yaml(KIND / "cluster.yaml")[0]["nodes"]
    image_release = re.fullmatch(r"kindest/node:v(\d+\.\d+)\.\d+(@sha256:[0-9a-f]{64})?",
                                 node["image"])
    assert image_release and image_release.group(1) == release
    assert f"{release}.0" in shipped_releases()
    assert pod["restartPolicy"] in ("OnFailure", "Never")


def shipped_releases() -> list[str]:
    (path,) = REPO.glob("snoopdb/**/releases.yaml")
    return [entry["version"] for entry in yaml.safe_load(path.read_text())]


# --- kind --------------------------------------------------------------------


# Fields of kind's Cluster (kind.x-k8s.io/v1alpha4) and of kubeadm's v1beta4
# ClusterConfiguration.apiServer that the config may use.
KIND_FIELDS = {
    "cluster": {"kind", "apiVersion", "name", "nodes", "networking", "featureGates",
                "runtimeConfig", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902",
                "containerdConfigPatches", "containerdConfigPatchesJSON6902"},
    "networking": {"ipFamily", "apiServerPort", "apiServerAddress", "podSubnet", "serviceSubnet",
                   "disableDefaultCNI", "kubeProxyMode", "dnsSearch"},
    "node": {"role", "image", "labels", "extraMounts", "extraPortMappings",
             "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902"},
    "mount": {"containerPath", "hostPath", "readOnly", "selinuxRelabel", "propagation"},
    "apiServer": {"extraArgs", "extraVolumes", "extraEnvs", "certSANs", "timeoutForControlPlane"},
    "arg": {"name", "value"},
    "volume": {"name", "hostPath", "mountPath", "readOnly", "pathType"},
}


def check_kind_cluster(cluster: dict[str, Any]) -> list[str]:
    """Unknown fields (typos kind and kubeadm would reject or ignore) in a kind cluster
    config and its kubeadm ClusterConfiguration patches."""
    def unknown(value: Any, allowed: str, where: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: expected a mapping"]
        return [f"{where}.{key}: unknown field" for key in value if key not in KIND_FIELDS[allowed]]

    errors = unknown(cluster, "cluster", "cluster")
    errors += unknown(cluster.get("networking", {}), "networking", "networking")
    for i, node in enumerate(cluster.get("nodes", [])):
        errors += unknown(node, "node", f"nodes[{i}]")
        for j, mount in enumerate(node.get("extraMounts", [])):
            errors += unknown(mount, "mount", f"nodes[{i}].extraMounts[{j}]")
        for j, text in enumerate(node.get("kubeadmConfigPatches", [])):
            patch = yaml.safe_load(text)
            if patch.get("kind") != "ClusterConfiguration":
                continue
            where = f"nodes[{i}].kubeadmConfigPatches[{j}].apiServer"
            api_server = patch.get("apiServer", {})
            errors += unknown(api_server, "apiServer", where)
            if not isinstance(api_server.get("extraArgs", []), list):
                errors.append(f"{where}.extraArgs: a list of name/value pairs (kubeadm v1beta4)")
            else:
                for k, arg in enumerate(api_server.get("extraArgs", [])):
                    errors += unknown(arg, "arg", f"{where}.extraArgs[{k}]")
            for k, volume in enumerate(api_server.get("extraVolumes", [])):
                errors += unknown(volume, "volume", f"{where}.extraVolumes[{k}]")
    return errors


KIND_BREAKS = [
    ("a misspelt mount field", lambda c: c["nodes"][0]["extraMounts"][0].update(readonly=True),
     "nodes[0].extraMounts[0].readonly: unknown field"),
    ("a misspelt networking field", lambda c: c["networking"].update(serviceSubnets="x"),
     "networking.serviceSubnets: unknown field"),
    ("v1beta3 extraArgs", lambda c: c["nodes"][0].update(kubeadmConfigPatches=[
        "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    audit-policy-file: x\n"]),
     "extraArgs: a list of name/value pairs"),
    ("a misspelt volume field", lambda c: c["nodes"][0].update(kubeadmConfigPatches=[
        c["nodes"][0]["kubeadmConfigPatches"][0].replace("mountPath", "mountpath")]),
     "extraVolumes[0].mountpath: unknown field"),
]


@pytest.mark.parametrize("what, breaks, error", KIND_BREAKS, ids=[b[0] for b in KIND_BREAKS])
def test_a_broken_kind_config_is_rejected(what, breaks, error) -> None:
    (cluster,) = load_yaml(KIND / "cluster.yaml")
    breaks(cluster)
    assert any(error in e for e in check_kind_cluster(cluster))


def test_kind_cluster_wires_policy_and_generated_webhook_into_the_api_server() -> None:
    (cluster,) = load_yaml(KIND / "cluster.yaml")
    assert check_kind_cluster(cluster) == []
    assert (cluster["kind"], cluster["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    (node,) = cluster["nodes"]
    assert node["role"] == "control-plane"
    (mount,) = node["extraMounts"]
    assert mount == {"hostPath": "./kind", "containerPath": "/etc/kubernetes/snoopdb",
                     "readOnly": True}
    (patch,) = [yaml.safe_load(text) for text in node["kubeadmConfigPatches"]]
    assert patch["kind"] == "ClusterConfiguration"
    args = {arg["name"]: arg["value"] for arg in patch["apiServer"]["extraArgs"]}
    assert set(args) == {"audit-policy-file", "audit-webhook-config-file",
                         "audit-webhook-batch-max-wait"}
    (volume,) = patch["apiServer"]["extraVolumes"]
    # node path -> the same path in the kube-apiserver pod
    assert volume["hostPath"] == volume["mountPath"] == mount["containerPath"]
    inside = {flag: Path(args[flag]).relative_to(mount["containerPath"])
              for flag in ("audit-policy-file", "audit-webhook-config-file")}
    # the policy is in the repository; the kubeconfig is what the script writes by default
    assert (KIND / inside["audit-policy-file"]).is_file()
    assert inside["audit-webhook-config-file"] == Path("generated/audit-webhook.kubeconfig")
    assert re.search(r'out=\$\{1:-\$\(dirname "\$0"\)/generated\}', WEBHOOK_SCRIPT.read_text())
    assert "kind/generated/" in (REPO / ".gitignore").read_text().splitlines()

    policy = load_yaml(KIND / "audit-policy.yaml")[0]
    # writes with their bodies (field-level coverage), never credentials' bodies
    assert policy == {"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                      "omitStages": ["RequestReceived"], "rules": [
                          {"level": "Metadata", "resources": [
                              {"group": "", "resources": ["secrets", "serviceaccounts/token"]},
                              {"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
                          {"level": "Request",
                           "verbs": ["create", "update", "patch", "delete", "deletecollection"]},
                          {"level": "Metadata"}]}


def run_webhook_script(out: Path, **env: str) -> dict[str, Any]:
    subprocess.run(["sh", str(WEBHOOK_SCRIPT), str(out)], check=True, capture_output=True,
                   env={"PATH": os.environ["PATH"], **env})
    (config,) = load_yaml(out / "audit-webhook.kubeconfig")
    return config


def webhook_target(config: dict[str, Any]) -> tuple[str, str]:
    """(server, token) of a webhook kubeconfig's current context."""
    assert (config["apiVersion"], config["kind"]) == ("v1", "Config")
    context = {c["name"]: c["context"] for c in config["contexts"]}[config["current-context"]]
    server = {c["name"]: c["cluster"] for c in config["clusters"]}[context["cluster"]]["server"]
    token = {u["name"]: u["user"] for u in config["users"]}[context["user"]]["token"]
    return server, token


def test_webhook_script_generates_a_secret_token_and_its_kubeconfig(tmp_path: Path) -> None:
    server, token = webhook_target(run_webhook_script(tmp_path / "a"))
    service = find("Service", "auditlogger")
    assert server == f"http://{service['spec']['clusterIP']}:9900/events"
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert (tmp_path / "a" / "token").read_text().strip() == token
    for name in ("token", "audit-webhook.kubeconfig"):
        assert stat.S_IMODE((tmp_path / "a" / name).stat().st_mode) == 0o600
    # run again: the token stays; elsewhere: another token
    assert webhook_target(run_webhook_script(tmp_path / "a"))[1] == token
    assert webhook_target(run_webhook_script(tmp_path / "b"))[1] != token
    # an existing Secret's token, another server
    assert webhook_target(run_webhook_script(tmp_path / "c", TOKEN="abc123",
                                             AUDITLOGGER_URL="http://10.0.0.5:9900/events")) \
        == ("http://10.0.0.5:9900/events", "abc123")


def test_generated_token_is_the_one_the_auditlogger_wants(conn, database_url, shared_data,
                                                         fetcher, tmp_path) -> None:
    from test_auditlogger import GCE_SAMPLE, event_list, real_events, running

    from snoopdb.loaders import spec
    from snoopdb.web.auditlogger import create_app, read_token

    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0", None)
    server, token = webhook_target(run_webhook_script(tmp_path / "generated"))
    # what the Secret holds, mounted as the auditlogger's --token-file
    app = create_app(database_url, token=read_token(str(tmp_path / "generated" / "token")))
    body = event_list(real_events(shared_data, GCE_SAMPLE)[:1])
    with running(app) as url:
        events = url + server.split(":9900", 1)[1]
        assert requests.post(events, data=body, timeout=10,
                             headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert requests.post(events, data=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert conn.execute("SELECT count(*) FROM testing.audit_event").fetchone()[0] == 1


def test_no_webhook_token_is_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, check=True, capture_output=True,
                             text=True).stdout.split()
    assert not [p for p in tracked if p.startswith("kind/generated/")]
    assert "kind/auditlogger-token" not in tracked
    for path in tracked:
        if path.endswith((".yaml", ".yml", ".kubeconfig", ".sh")):
            text = (REPO / path).read_text()
            # a literal token value; $token in the script's template is fine
            assert not re.search(r"^\s*token:\s*[^\s$]", text, re.M), path


# --- docker compose ----------------------------------------------------------


COMPOSE_PASSWORD = re.compile(r"\$\{SNOOPDB_POSTGRES_PASSWORD:\?[^}$]+\}")


def test_compose_starts_postgres_offline_with_a_healthcheck() -> None:
    (compose,) = load_yaml(REPO / "docker-compose.yml")
    postgres = compose["services"]["postgres"]
    assert "command" not in postgres and "entrypoint" not in postgres
    assert postgres["image"] == POSTGRES_IMAGE
    (stage,) = parse_dockerfile(REPO / postgres["build"] / "Dockerfile")
    assert stage.base.startswith("postgres:15")
    assert any("postgresql-15-semver" in run for run in stage.all("RUN"))
    assert stage.all("COPY") == ["initdb/ /docker-entrypoint-initdb.d/"]
    init_sql = (REPO / postgres["build"] / "initdb" / "10-semver.sql").read_text()
    assert "CREATE EXTENSION IF NOT EXISTS semver;" in init_sql
    health = postgres["healthcheck"]
    assert health["test"][:2] == ["CMD", "pg_isready"] and "--host=127.0.0.1" in health["test"]
    env = postgres["environment"]
    assert f"--dbname={env['POSTGRES_DB']}" in health["test"]

    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert "docker compose up -d --wait" in deploy_doc
    published = postgres["ports"][0].split(":")[1]
    assert (f"DATABASE_URL=postgresql://postgres:$SNOOPDB_POSTGRES_PASSWORD@127.0.0.1:{published}/"
            f"{env['POSTGRES_DB']}") in deploy_doc


def test_compose_publishes_on_loopback_and_holds_no_password() -> None:
    """Ports reach 127.0.0.1 only (compose's "5433:5432" opens every interface); the
    password is a variable compose refuses to run without, named in docs/deploy.md, and
    every snoopdb container reads the same one."""
    text = (REPO / "docker-compose.yml").read_text()
    (compose,) = load_yaml(REPO / "docker-compose.yml")
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            host, host_port, container_port = str(mapping).split(":")
            assert ipaddress.ip_address(host).is_loopback, (name, mapping)
            assert int(host_port) and int(container_port)
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert COMPOSE_PASSWORD.fullmatch(password)
    # no other value of a password: every ${...} in the file is this one
    assert set(re.findall(r"\$\{[^}]*\}", text)) == {password}
    assert "snoop@" not in text and "POSTGRES_PASSWORD: snoop" not in text
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert 'echo "SNOOPDB_POSTGRES_PASSWORD=$(openssl rand -hex 16)" > .env' in deploy_doc
    for ignore in (".gitignore", ".dockerignore"):
        assert ".env" in (REPO / ignore).read_text().splitlines(), ignore
    server = compose["services"]["postgres"]["environment"]
    for name in ("snoopdb", "init", "dashboard"):
        env = compose["services"][name]["environment"]
        assert set(env) <= snoopdb_environment(), name
        assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"],
                env["PGPASSWORD"]) == ("postgres", "5432", "postgres", server["POSTGRES_DB"],
                                       password), name


def test_compose_runs_the_dashboard_after_init() -> None:
    (compose,) = load_yaml(REPO / "docker-compose.yml")
    services = compose["services"]
    image = f"{SNOOPDB_IMAGE}:{project_version()}"
    for name in ("snoopdb", "init", "dashboard"):
        assert (services[name]["build"], services[name]["image"]) == (".", image), name
    assert services["snoopdb"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    (cache,) = services["snoopdb"]["volumes"]
    assert cache.split(":")[1] == image_config()["env"]["SNOOPDB_CACHE_DIR"]

    init, dashboard = services["init"], services["dashboard"]
    assert parsed_cli(init["command"]).command == "init"
    assert init["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert dashboard["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    assert init["profiles"] == dashboard["profiles"] == ["dashboard"]
    args = parsed_cli(dashboard["command"])
    assert (args.command, args.host) == ("serve", "0.0.0.0")  # inside its container
    (mapping,) = dashboard["ports"]
    assert mapping == f"127.0.0.1:{args.port}:{args.port}"
    assert args.port in image_config()["ports"]
    health = " ".join(dashboard["healthcheck"]["test"])
    assert f"http://127.0.0.1:{args.port}/healthz" in health
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert "docker compose --profile dashboard up -d --wait" in deploy_doc


# --- the prow job --------------------------------------------------------------


def test_prow_gate_job(validator: Validator) -> None:
    config = prow_job()
    assert check_prow_config(config, validator) == []
    (job,) = config["periodics"]
    assert job["name"] == job["annotations"]["testgrid-tab-name"] == "apisnoop-conformance-gate"
    assert job["annotations"]["testgrid-dashboards"] == "sig-arch-conformance"
    assert job["annotations"]["testgrid-num-failures-to-alert"] == "1"
    assert job["decorate"] is True
    (container,) = job["spec"]["containers"]
    name, _, tag = container["image"].rpartition(":")
    assert name.endswith("/" + SNOOPDB_IMAGE)
    assert check_snoopdb_container(container, job["spec"], image_config(), shell=True) == []
    script = container["command"][-1]
    commands = [shlex.split(line) for line in script.splitlines() if line.startswith("snoopdb")]
    newest = shipped_releases()[0].removesuffix(".0")
    assert commands == [["snoopdb", "load", "--release", newest],
                        ["snoopdb", "gate", "--release", newest,
                         "--junit", "$ARTIFACTS/junit_gate.xml"]]
    assert script.startswith("set -e\n")  # a failed load fails the job too
    # the embedded server and the cache on a writable volume
    env = env_of(container)
    assert "DATABASE_URL" not in env
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    for variable in ("SNOOPDB_DATA_DIR", "SNOOPDB_CACHE_DIR"):
        assert any(env[variable].startswith(m + "/") for m in mounts)


PROW_BREAKS = [
    ("a misspelt job field", lambda j: j.update(intervall="3h"),
     "periodics[0].intervall: unknown field"),
    ("an annotation as a number", lambda j: j["annotations"].update(
        {"testgrid-num-failures-to-alert": 1}), "annotations: expected a mapping of strings"),
    ("no testgrid dashboard", lambda j: j["annotations"].pop("testgrid-dashboards"),
     "annotations: missing testgrid-dashboards"),
    ("both interval and cron", lambda j: j.update(cron="0 */3 * * *"), "exactly one of interval"),
    ("a bad interval", lambda j: j.update(interval="3 hours"), "is not a duration"),
    ("no spec", lambda j: j.pop("spec"), "periodics[0].spec: required"),
    ("an unknown PodSpec field", lambda j: j["spec"].update(container=[]),
     ".spec.container: unknown field"),
    ("a container without command", lambda j: j["spec"]["containers"][0].pop("command"),
     "command: required when decorated"),
    ("resources as a list", lambda j: j["spec"]["containers"][0].update(resources=[]),
     "resources: expected a mapping, got a list"),
]


@pytest.mark.parametrize("what, breaks, error", PROW_BREAKS, ids=[b[0] for b in PROW_BREAKS])
def test_a_broken_prow_job_is_rejected(validator: Validator, what, breaks, error) -> None:
    config = copy.deepcopy(prow_job())
    breaks(config["periodics"][0])
    assert any(error in e for e in check_prow_config(config, validator))


if __name__ == "__main__":
    root = Path(os.environ.get("SNOOPDB_SHARED_DATA", REPO.parent / "shared" / "data"))
    with gzip.open(root / SWAGGER) as stream:
        checked, problems = validate_all(json.load(stream))
    print("\n".join(problems) or "no errors")
    print(f"{checked.objects} objects ({checked.manifest_fields} fields) + the prow PodSpec "
          f"({checked.fields - checked.manifest_fields} fields): {checked.fields} fields checked, "
          f"{len(checked.definitions_used)} definitions used")
    sys.exit(1 if problems else 0)
