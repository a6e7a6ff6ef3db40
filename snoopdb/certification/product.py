"""PRODUCT.yaml, read bounded in size and alias expansion, and as the bot decodes it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from snoopdb.core.errors import InputError
from snoopdb.core.safeyaml import load_bounded

PRODUCT_MAX_BYTES = 64 << 10
PRODUCT_MAX_NODES = 10_000
_YAML_PROBLEM = re.compile(r"PRODUCT\.yaml: not YAML: (.*?)(?: \(line (\d+), column \d+\))?")
# the JSON type Go's decoder names for a YAML value
_JSON_TYPES = ((bool, "bool"), ((int, float), "number"), (str, "string"), (list, "array"))


class NotAMapping(InputError):
    """PRODUCT.yaml is YAML, but not a mapping: `value` is what it holds."""

    def __init__(self, message: str, value: object):
        super().__init__(message)
        self.value = value


def read_product(source: Path | IO[bytes]) -> dict[str, Any]:
    """PRODUCT.yaml as a mapping (empty for an empty document, as the bot's decoder gives);
    InputError when it is too large, not YAML, an alias bomb or not a mapping."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return read_product(stream)
    content = load_bounded(source.read(PRODUCT_MAX_BYTES + 1), source="PRODUCT.yaml",
                           max_bytes=PRODUCT_MAX_BYTES, max_nodes=PRODUCT_MAX_NODES)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise NotAMapping("PRODUCT.yaml is not a mapping of fields", content)
    return {str(key): value for key, value in content.items()}


def bot_strings(product: dict[str, Any]) -> dict[str, str] | None:
    """PRODUCT.yaml as the bot decodes it into map[string]string for its URL and e-mail
    checks: scalars as text, null as ""; None when a value is a list or mapping (the
    bot cannot decode the file then, and the check fails)."""
    strings = {}
    for key, value in product.items():
        if isinstance(value, (list, dict)):
            return None
        strings[key] = ("" if value is None else
                        str(value).lower() if isinstance(value, bool) else str(value))
    return strings


def bot_yaml_error(exc: InputError) -> str:
    """What the bot's YAML decoder (sigs.k8s.io/yaml) says of a PRODUCT.yaml that
    `read_product` refused: its words for a document that is not a mapping; for one that
    is not YAML, libyaml's problem (which go-yaml shares) and the line its parser names."""
    if isinstance(exc, NotAMapping):
        kind = next((name for types, name in _JSON_TYPES if isinstance(exc.value, types)),
                    "object")
        return ("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal"
                f" {kind} into Go value of type map[string]interface {{}}")
    found = _YAML_PROBLEM.fullmatch(str(exc))
    if found is None:
        return str(exc)
    line = int(found[2]) - 1 if found[2] else 0
    return ("error converting YAML to JSON: yaml: "
            + (f"line {line}: " if line else "") + found[1])
