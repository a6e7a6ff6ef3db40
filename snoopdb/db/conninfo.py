"""Connection strings as libpq reads them, with their secrets hidden for messages.

libpq takes a URI (`postgresql://` or `postgres://`) or a `key=value` string. A URI's
password is the userinfo after its first `:`; libpq ends the userinfo at the first
`@` met before any `/`, so `se#cret` and `se?cret` are passwords to it, while
`se/cret` turns the user name into a host and the password into a port — which the
person who wrote it still meant as a password. So the part hidden is the userinfo
as written: everything from its first `:` to the URI's last `@`, whatever it holds.
Query parameters `password` and `sslpassword` (names percent-decoded, as libpq
does) are hidden too, and in a `key=value` string the values of those keys, quoted
or not, and the userinfo of any URI a value holds. Hiding too much (an `@` in a
query value) is preferred to showing a secret.
"""

from __future__ import annotations

import re
import urllib.parse

import psycopg
from psycopg.conninfo import conninfo_to_dict

SECRET_KEYS = frozenset({"password", "sslpassword"})
MASK = "***"
# A URI: what libpq takes as one (postgresql://, postgres://), and any other
# scheme, so that a mistyped one is not printed whole either.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# One query parameter of a URI: its name and its value (up to the next `&`).
_QUERY_PARAMETER = re.compile(r"[?&]([^&=]*)=([^&]*)")
# One pair of a key=value string: libpq's rules (whitespace around `=`, a value
# single-quoted with backslash escapes, or unquoted up to whitespace, `\` escaping
# the next character; an unterminated quote runs to the end).
_PAIR = re.compile(r"([A-Za-z_]\w*)\s*=\s*('(?:[^'\\]|\\.)*(?:'|\\?$)|(?:\\.|[^\s\\'])*\\?)",
                   re.DOTALL)
_QUOTED = re.compile(r'"[^"]*"')
# Secrets shorter than this are hidden from error text only where libpq quotes a
# value; hiding every "pw" in a message would garble it.
_SHORTEST_SCRUBBED = 4


def redact(conninfo: str) -> str:
    """`conninfo` (a URI or a key=value string) with every password shown as ***."""
    return _apply(conninfo, _spans(conninfo))


def _spans(conninfo: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the secrets in `conninfo`."""
    if _URI.match(conninfo):
        return _uri_spans(conninfo, 0, len(conninfo))
    spans = []
    for pair in _PAIR.finditer(conninfo):
        key, value = pair.group(1), pair.group(2)
        start, end = pair.span(2)
        if key.lower() in SECRET_KEYS:
            if start < end:
                spans.append((start, end))
            continue
        body = value[1:] if value.startswith("'") else value
        found = _URI.search(body)
        if found:  # a URI in a value (dbname=postgresql://…): its own secrets
            offset = end - len(body)
            spans += _uri_spans(conninfo, offset + found.start(), end)
    return spans


def _uri_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    scheme = _URI.match(text, start)
    assert scheme is not None
    rest = scheme.end()
    spans = []
    at = text.rfind("@", rest, end)
    colon = text.find(":", rest, at) if at >= 0 else -1
    if colon >= 0 and colon + 1 < at:
        spans.append((colon + 1, at))
    for parameter in _QUERY_PARAMETER.finditer(text, rest, end):
        name = urllib.parse.unquote(parameter.group(1)).lower()
        if name in SECRET_KEYS and parameter.start(2) < parameter.end(2):
            spans.append(parameter.span(2))
    return spans


def _apply(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (overlapping ones merged) replaced by ***."""
    out = []
    shown = 0
    for start, end in sorted(spans):
        if end <= shown:
            continue
        if start >= shown:
            out.append(text[shown:start])
            out.append(MASK)
        shown = end
    out.append(text[shown:])
    return "".join(out)


def secrets(conninfo: str) -> set[str]:
    """The secrets of `conninfo` as written and as libpq reads them (decoded)."""
    found: set[str] = set()
    for start, end in _spans(conninfo):
        written = conninfo[start:end]
        found |= {written, urllib.parse.unquote(written), written.strip("'")}
    read = _libpq(conninfo)
    if read:
        found |= {read[key] for key in SECRET_KEYS if read.get(key)}
    return {secret for secret in found if secret}


def misread(conninfo: str) -> str | None:
    """Why libpq does not read `conninfo`'s password as it is written (its error
    text could then quote part of it); None when it does."""
    read = _libpq(conninfo)
    if read is None:
        return "libpq cannot parse this connection string"
    if _URI.match(conninfo):
        written = _uri_spans(conninfo, 0, len(conninfo))
        at = conninfo.rfind("@")
        userinfo = next(((s, e) for s, e in written if e == at), None)
        # a userinfo inside a query parameter's value is that parameter's
        inside = userinfo is not None and any(
            s <= userinfo[0] and userinfo[1] <= e for s, e in written if (s, e) != userinfo)
        if userinfo is not None and not inside and (
                urllib.parse.unquote(conninfo[slice(*userinfo)]) != read.get("password")):
            return ("libpq does not read this URL's password as written (percent-encode "
                    "/ ? # @ : in a password: %2F %3F %23 %40 %3A)")
    return None


def _libpq(conninfo: str) -> dict[str, str] | None:
    try:
        return {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    except psycopg.Error:
        return None


def scrub(text: str, conninfo: str) -> str:
    """`text` (a message about `conninfo`) with its secrets hidden: any double-quoted
    value holding one, and every occurrence of those long enough to tell."""
    hidden = secrets(conninfo)
    if not hidden:
        return text
    text = _QUOTED.sub(lambda q: '"***"' if any(s in q.group() for s in hidden)
                       else q.group(), text)
    for secret in sorted(hidden, key=len, reverse=True):
        if len(secret) >= _SHORTEST_SCRUBBED:
            text = text.replace(secret, MASK)
    return text
