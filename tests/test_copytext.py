"""The one COPY text encoder (snoopdb.core.copytext), held against PostgreSQL itself:
whatever text it is given comes back as written, but for NUL, which comes back as
U+FFFD in text and in JSON alike."""

from __future__ import annotations

import json

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snoopdb.core import copytext

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
# any text Python's UTF-8 codec writes (lone surrogates are refused where text is read)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def round_trip(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> list[tuple]:
    conn.execute("CREATE TEMPORARY TABLE IF NOT EXISTS copied"
                 " (t text, n int, b boolean, j jsonb)")
    conn.execute("TRUNCATE copied")
    with conn.cursor().copy("COPY copied FROM STDIN") as copy:
        for chunk in copytext.rows(rows):
            copy.write(chunk)
    return conn.execute("SELECT t, n, b, j FROM copied").fetchall()


def test_values_as_copy_reads_them(conn: psycopg.Connection) -> None:
    assert b"".join(copytext.rows([("a\tb", None, True, "x\\y\nz\r"), ("c", 1)])) == (
        b"a\\tb\t\\N\tt\tx\\\\y\\nz\\r\nc\t1\n")
    assert copytext.encoded(None) == b"\\N"
    assert copytext.encoded("n\x00ul\t") == "n\ufffdul\\t".encode()
    stored = round_trip(conn, [("k\x00ey", 2, False, '{"a": "b\\tc"}')])
    assert stored == [("k\ufffdey", 2, False, {"a": "b\tc"})]


@PROPERTY
@given(st.lists(st.tuples(TEXT, st.none() | st.integers(-2**31, 2**31 - 1),
                          st.none() | st.booleans()), max_size=5))
def test_any_text_comes_back_but_nul(conn: psycopg.Connection,
                                     made: list[tuple[str, int | None, bool | None]]) -> None:
    stored = round_trip(conn, [(*row, None) for row in made])
    assert stored == [(text.replace("\x00", "\ufffd"), n, b, None) for text, n, b in made]


@PROPERTY
@given(st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8),
       st.sampled_from(["", "\t", "\r", " \t\r "]))
def test_any_json_document_comes_back_but_nul(conn: psycopg.Connection, document: object,
                                              between: str) -> None:
    """A log line's JSON (UTF-8, its tokens spaced as any writer may space them) stored in
    a jsonb column."""
    line = json.dumps(document, ensure_ascii=False, separators=("," + between, ":" + between))
    round_trip(conn, [])
    with conn.cursor().copy("COPY copied (j) FROM STDIN") as copy:
        copy.write(copytext.json_value(line.encode()) + b"\n")
    expected = json.loads(json.dumps(document).replace("\\u0000", "\\ufffd"))
    assert conn.execute("SELECT j FROM copied").fetchall() == [(expected,)]
