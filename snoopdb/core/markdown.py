"""Text from outside — a test name from an audit log, a reason from a YAML list —
made safe to put in a Markdown document that GitHub renders (a pull request's
comment).

Unescaped, such text could close a table cell (`|`), open a link or an image
(`[x](…)`), start an HTML tag or a `<details>` of its own, mention someone (`@user`)
or a team, or carry a control character that rewrites the terminal it is printed
on. Control characters are shown as their escapes first (core.terminal), then each
ASCII punctuation character that can start or end Markdown syntax is backslash-escaped, and
`<`, `>`, `&` and `@` become character references. One cell in, one cell out.
"""

from __future__ import annotations

import re

from snoopdb.core.terminal import shown

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_REFERENCES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "&#64;"}
_REFERENCED = re.compile("[&<>@]")


def inline(text: str) -> str:
    """`text` as Markdown that renders as `text` itself, on one line."""
    escaped = _PUNCTUATION.sub(r"\\\1", shown(text))
    return _REFERENCED.sub(lambda found: _REFERENCES[found.group()], escaped)
