"""YAML from outside read with bounds: a size limit, and a limit on the nodes the
document stands for once its aliases are expanded.

PyYAML's safe loader shares one object per anchor, but whatever walks the result
(normalising, checking, copying into rows) visits every alias again: a small
"billion laughs" file of nested aliases makes that walk take gigabytes and
minutes. Counting each node with the size of what it expands to refuses such a
file as soon as the count passes `max_nodes`, long before anything is built.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

from snoopdb.core.errors import InputError

# The largest file read this way, conformance.yaml, is under 1 MiB and ~20,000
# nodes; these leave room for growth and stop hostile files early.
MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 1_000_000


class _TooLarge(Exception):
    """The document expands to more than the loader's node limit."""


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that counts composed nodes, an alias counting as the whole
    subtree it repeats, and stops past `max_nodes`."""

    def __init__(self, stream: str | bytes, max_nodes: int) -> None:
        super().__init__(stream)
        self.max_nodes = max_nodes
        self.expanded = 0
        self.weights: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(AliasEvent):
            node = super().compose_node(parent, index)  # type: ignore[arg-type]
            # an alias of a node still being composed (a recursive structure) counts 1
            self._count(self.weights.get(id(node), 1))
            return node
        before = self.expanded
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        self._count(1)
        self.weights[id(node)] = self.expanded - before
        return node

    def _count(self, nodes: int) -> None:
        self.expanded += nodes
        if self.expanded > self.max_nodes:
            raise _TooLarge


def load_bounded(text: str | bytes, *, source: str, max_bytes: int = MAX_BYTES,
                 max_nodes: int = MAX_NODES) -> Any:
    """The YAML document in `text`, as yaml.safe_load gives it; InputError (one line
    naming `source`) when it is not YAML, is larger than `max_bytes`, or expands to
    more than `max_nodes` nodes (aliases counted as what they repeat)."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise InputError(f"{source}: {size} bytes, more than the {max_bytes} byte limit "
                         "for a YAML file")
    loader = None
    try:
        # the reader decodes the first bytes already: a bad encoding raises here
        loader = _BoundedLoader(text, max_nodes)
        return loader.get_single_data()
    except _TooLarge:
        raise InputError(f"{source}: expands to more than {max_nodes} YAML nodes "
                         "(nested aliases?); refused") from None
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        problem = exc.problem or exc.context or "malformed"
        raise InputError(f"{source}: not YAML: {' '.join(problem.split())}{where}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError:
        raise InputError(f"{source}: YAML nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
