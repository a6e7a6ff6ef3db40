"""How counts are said, in the CLI's lines and on the dashboard's pages alike."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`1 run`, `2 runs`, `1,000 runs`."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
