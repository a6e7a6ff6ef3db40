"""One-line errors for hostile or broken files and settings that are not about
downloads (test_faults) or random input (test_fuzz): exact messages."""

from __future__ import annotations

import io
import json

import psycopg
import pytest

from snoopdb.core.errors import InputError, ReleaseError
from snoopdb.core.releases import load_known_releases
from snoopdb.db.connection import describe, redact
from snoopdb.loaders import conformance, spec


def operations(document: dict) -> list[str]:
    stream = io.BytesIO(json.dumps(document).encode())
    return [op.endpoint for op in spec.read_operations(stream, "swagger.json")]


@pytest.mark.parametrize(("paths", "error"), [
    ({"/a": {"get": {"operationId": "x"}}, "/b": {"put": {"operationId": "x"}}},
     "swagger.json: operationId x of PUT /b is also GET /a's"),
    ({"/a": {"get": {"operationId": 7}}}, "swagger.json: GET /a: operationId is a number, "
                                          "not a string"),
    ({"/a": {"get": {"operationId": "x", "tags": "core_v1"}}},
     "swagger.json: GET /a: tags is a string, not an array"),
    ({"/a": {"get": {"operationId": "x", "tags": [{"a": 1}]}}},
     "swagger.json: GET /a: tags[0] is an object, not a string"),
    ({"/a": {"get": {"operationId": "x", "x-kubernetes-group-version-kind": {"kind": 1}}}},
     "swagger.json: GET /a: x-kubernetes-group-version-kind.kind is a number, not a string"),
    ({"/a": {"get": {"operationId": "x", "description": "a\u0000b"}}},
     "swagger.json: GET /a: holds a NUL character"),
    ({"/a": {"get": ["x"]}}, "swagger.json: GET /a is an array, not an operation object"),
    ({"/a": []}, "swagger.json: path /a is an array, not an object"),
])
def test_malformed_swagger_is_one_line(paths: dict, error: str) -> None:
    with pytest.raises(InputError) as raised:
        operations({"swagger": "2.0", "paths": paths})
    assert str(raised.value) == error


@pytest.mark.parametrize(("text", "error"), [
    ("- {codename: a}\n- {codename: b}\n- {codename: a}\n",
     "c.yaml: test #3: codename 'a' is already test #1's"),
    ("- {codename: a, testname: [x]}\n", "c.yaml: test #1: testname is a list, not text"),
    ("- {codename: {x: 1}}\n", "c.yaml: test #1: codename is a dict, not text"),
    ("- {codename: a, release: ', ,'}\n", "c.yaml: test #1: cannot read a release from ', ,'"),
    ('- {codename: "a\\0"}\n', "c.yaml: test #1: codename holds a NUL character"),
    ("- {codename: a\n", "c.yaml: not YAML: did not find expected ',' or '}' (line 2, "
                         "column 1)"),
])
def test_malformed_conformance_yaml_is_one_line(text: str, error: str) -> None:
    with pytest.raises(InputError) as raised:
        conformance.parse(text.encode(), "c.yaml")
    assert str(raised.value) == error


def test_a_releases_file_bomb_is_a_release_error(tmp_path) -> None:
    path = tmp_path / "releases.yaml"
    path.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
        for i in range(7)))
    with pytest.raises(ReleaseError, match=r"releases.yaml: more than 1000000 YAML nodes once aliases are expanded"):
        load_known_releases(path)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u@h/db?password=s3cret&sslmode=require",
     "postgresql://u@h/db?password=***&sslmode=require"),
    ("postgresql:///db?host=/run/pg&PASSWORD=s3cret", "postgresql:///db?host=/run/pg&PASSWORD=***"),
    ("host=h password=s3cret dbname=d", "host=h password=*** dbname=d"),
    ("host=h password='s3 cret' dbname=d", "host=h password=*** dbname=d"),
    ("postgresql://h/db", "postgresql://h/db"),
    # what libpq takes as a password (# and ? do not end the userinfo for it)...
    ("postgresql://postgres:se#cret@h:5432/db", "postgresql://postgres:***@h:5432/db"),
    ("postgresql://postgres:se?cret@h/db", "postgresql://postgres:***@h/db"),
    # ...and what it misreads (a / ends it: user and password become host and port)
    ("postgresql://postgres:se/cret@h/db", "postgresql://postgres:***@h/db"),
    ("postgresql://a:p@ss@h/db", "postgresql://a:***@h/db"),
    ("postgresql://u@h/db?sslpassword=s3cret", "postgresql://u@h/db?sslpassword=***"),
    ("postgresql://u@h/db?pass%77ord=s3cret", "postgresql://u@h/db?pass%77ord=***"),
    ("postgresql://u@h/db?password=a:b@c&sslmode=require",
     "postgresql://u@h/db?password=***&sslmode=require"),
    ("host=h sslpassword=s3cret password=se\\ cret", "host=h sslpassword=*** password=***"),
    ("host=h password='it\\'s' dbname=d", "host=h password=*** dbname=d"),
    ("dbname=postgresql://u:s3cret@h/db", "dbname=postgresql://u:***@h/db"),
])
def test_passwords_are_redacted(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_misread_password_is_never_quoted_back(capsys) -> None:
    from snoopdb.cli import main

    # libpq reads `se` as a port and `cret@h/db` as a database, and would quote them
    url = "postgresql://postgres:se/cret@127.0.0.1:1/db"
    assert main(["runs", "--database-url", url]) == 1
    assert capsys.readouterr().err == (
        "snoopdb: error: cannot connect to postgresql://postgres:***@127.0.0.1:1/db: libpq "
        "does not read this URL's password as written (percent-encode / ? # @ : in a "
        "password: %2F %3F %23 %40 %3A)\n")
    # a string libpq cannot parse: its message would quote the password; a usage error
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "--database-url", "postgresql://u:se cret@127.0.0.1:1/db"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "se cret" not in err and err == (
        "snoopdb: error: argument --database-url: 'postgresql://u:***@127.0.0.1:1/db' is not a"
        " PostgreSQL URL such as postgresql://user@host:5432/snoopdb (unexpected spaces found"
        " in \"***\", use percent-encoded spaces (%20) instead) (see `snoopdb runs --help`)\n")


def test_database_errors_read_as_one_line() -> None:
    lost = describe(psycopg.errors.UniqueViolation("duplicate key value\nDETAIL: x"))
    assert lost == ("another snoopdb wrote the same rows at the same time, so this step was "
                    "rolled back; run it again (duplicate key value DETAIL: x)")
    assert describe(psycopg.OperationalError("server closed the connection")) == (
        "the database connection failed; the unfinished step was rolled back (server closed "
        "the connection)")
