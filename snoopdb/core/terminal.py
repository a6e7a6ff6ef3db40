"""Text from outside — a file name in a pull request, a test name in an audit log, a
URL a server gave — made safe to print on a terminal.

A control character in it would act instead of showing: ESC starts a sequence that
moves the cursor, clears the line or recolours what follows (`[FAIL]` overwritten
with `[PASS]`), a newline or carriage return forges a line of its own, bidirectional
overrides reorder what is shown. Each such character is shown as its escape (`\\x1b`,
`\\n`, `\\u202e`); everything else is left as it is. One line printed, one line shown.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL; the line and paragraph separators; the bidirectional
# marks, embeddings, overrides and isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str) -> str:
    """`text` with every character that would act on a terminal shown as its escape."""
    return _UNSAFE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
