"""The SQL the application runs, kept in sql/queries/ rather than in Python strings."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def query(name: str) -> str:
    """The text of sql/queries/<name>, e.g. `gate.sql` or `dashboard/overview.sql`."""
    return resources.files("snoopdb.sql").joinpath("queries", name).read_text()
