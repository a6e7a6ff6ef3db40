"""Whole numbers written in outside text (a build folder's name, a Content-Length, a
listed size): ASCII digits only, and few enough of them.

`str.isdigit()` is no such test: `²` passes it and `int()` refuses it, `٣` passes both
(int() reads any script's digits), and `int()` refuses numbers past 4,300 digits. A
value this module does not read is a bad input for the caller to name, never a
traceback."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
# more than any count of bytes or build id needs (2**63 has 19 digits)
MAX_DIGITS = 19


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as a whole number (0 or more) when it is ASCII digits, at most
    `max_digits` of them; else None."""
    if len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)
