"""PRODUCT.yaml, read bounded in size and alias expansion, and as the bot decodes it."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from snoopdb.core.errors import InputError
from snoopdb.core.safeyaml import load_bounded

PRODUCT_MAX_BYTES = 64 << 10
PRODUCT_MAX_NODES = 10_000


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
        raise InputError("PRODUCT.yaml is not a mapping of fields")
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
