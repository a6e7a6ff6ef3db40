"""PostgreSQL's COPY text format, written one way by every loader: a row a line, its
values tab-separated, None as `\\N`, booleans as `t` and `f`; backslash, tab, newline
and carriage return escaped.

One NUL policy: PostgreSQL text (and jsonb) cannot hold NUL, so a NUL is written as
U+FFFD, the replacement character, in plain text and in JSON text alike: the row is
stored with the rest of what it says rather than the whole COPY refused. Values that
must never hold one (an event's verb or URI, a spec's names) are refused where they
are read, before they get here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

NULL = "\\N"
NUL_STANDS_IN = "\ufffd"
# rows are sent in chunks of about this many characters: a run has up to a few million
# field rows, and psycopg's write_row per row costs three times as much
CHUNK = 1 << 20
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r",
                          "\x00": NUL_STANDS_IN})


def text(value: str) -> str:
    """`value` as a COPY text value."""
    # Most values need nothing: testing for the few characters first is several times
    # faster than translating every value.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\x00" in value:
        return value.translate(_ESCAPES)
    return value


def value(item: object) -> str:
    """One column's value: None as NULL, booleans as t and f, anything else as its text."""
    if item is None:
        return NULL
    if item is True:
        return "t"
    if item is False:
        return "f"
    return text(str(item))


def encoded(item: str | None) -> bytes:
    """A text column's value (None: NULL) as the bytes COPY reads."""
    return b"\\N" if item is None else text(item).encode()


def json_value(document: bytes) -> bytes:
    """A JSON document (UTF-8, as a log line holds it) as the value of a jsonb column.

    JSON writes NUL as the escape \\u0000, which jsonb refuses: it becomes \\ufffd.
    JSON text holds no raw newline, but tabs and carriage returns may stand between
    its tokens."""
    if b"\\u0000" in document:
        document = document.replace(b"\\u0000", b"\\ufffd")
    document = document.replace(b"\\", b"\\\\")
    if b"\t" in document or b"\r" in document:
        document = document.replace(b"\t", b"\\t").replace(b"\r", b"\\r")
    return document


def rows(values: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """Rows of values (see `value`) as COPY text, in chunks of about CHUNK characters."""
    lines: list[str] = []
    size = 0
    for row in values:
        line = "\t".join(map(value, row))
        lines.append(line)
        size += len(line)
        if size >= CHUNK:
            yield ("\n".join(lines) + "\n").encode()
            lines.clear()
            size = 0
    if lines:
        yield ("\n".join(lines) + "\n").encode()
