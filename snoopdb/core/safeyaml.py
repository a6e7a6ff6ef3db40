"""YAML from files nobody vouches for: bounded in size and in alias expansion.

A few hundred bytes of nested aliases (`b: [*a, *a, …]`, `c: [*b, *b, …]`) stand for
billions of nodes once anything walks the result; PyYAML builds them as shared
objects, so the blow-up comes later, wherever the data is printed, compared or
stored. `load_bounded` composes the document first, counts the nodes it would have
with every alias expanded, and refuses it before building a single object.
"""

from __future__ import annotations

from typing import Any

import yaml

from snoopdb.core.errors import InputError

# The largest file read this way, conformance.yaml, is under 1 MiB and ~20,000 nodes;
# these leave room for growth and stop hostile files early.
MAX_BYTES = 16 << 20
MAX_NODES = 1_000_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_bounded(
    text_or_bytes: str | bytes,
    *,
    source: str,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
) -> Any:
    """The one YAML document in `text_or_bytes` as Python objects (None when empty).

    Raises InputError, with a one-line message naming `source`, when the input is
    larger than `max_bytes` (UTF-8), is not YAML, holds more than one document, nests
    an alias inside its own anchor, or would have more than `max_nodes` nodes with
    every alias expanded.
    """
    size = len(text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes)
    if size > max_bytes:
        raise InputError(f"{source}: {size} bytes, more than the {max_bytes} byte limit "
                         "for a YAML file")
    loader = _Loader(text_or_bytes)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source, max_nodes)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"{source}: not YAML: {exc.problem or exc.context}{where}") from exc
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise InputError(f"{source}: not YAML: {' '.join(str(exc).split())}") from exc
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str, max_nodes: int) -> None:
    """Count the nodes below `root` as if every alias were a copy of its anchor: each
    node's expanded size once (memoised by identity), so the count costs the size of
    the composed graph, not of its expansion. Iterative: nesting depth is the input's."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > max_nodes:
                raise InputError(f"{source}: more than {max_nodes} YAML nodes once aliases are"
                                 " expanded (an alias bomb?)")
            sizes[key] = total
            continue
        if key in open_nodes:
            raise InputError(f"{source}: a YAML alias refers to a node that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise InputError(f"{source}: a YAML alias refers to a node that contains it")
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
