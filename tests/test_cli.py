"""CLI manners: help with a summary and an example everywhere, exit codes as the README's
table gives them, hints that name what the failing command accepts, and one clean line
(no traceback, no library warning) for the mistakes users make."""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg
import pytest

from snoopdb.cli import build_parser, main
from snoopdb.cli.exits import SOURCE_SETTINGS, hint
from snoopdb.commands import gate
from snoopdb.core.config import Settings
from snoopdb.core.errors import FetchError, NoSchema, NoSpecLoaded, SchemaOutdated
from snoopdb.core.releases import parse_release
from snoopdb.db import schema
from snoopdb.loaders import spec
from testkit.databases import scratch_database
from testkit.hits import insert_hits

REPO = Path(__file__).resolve().parent.parent
SNOOPDB = str(Path(sys.executable).with_name("snoopdb"))  # the installed entry point


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found = [("snoopdb", build_parser())]
    for name, parser in found:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found += [(f"{name} {sub}", child) for sub, child in action.choices.items()]
    return found


PARSERS = dict(_parsers())
# the commands that run something (not `snoopdb` itself, nor `snoopdb db`, a group)
COMMANDS = {name: parser for name, parser in PARSERS.items()
            if "handler" in parser._defaults}


def test_every_command_and_subcommand_has_an_example() -> None:
    assert {"snoopdb load", "snoopdb db", "snoopdb db upgrade", "snoopdb db current",
            "snoopdb db history", "snoopdb gate", "snoopdb mirror", "snoopdb releases",
            "snoopdb releases drop", "snoopdb query", "snoopdb db psql"} <= PARSERS.keys()
    for name, parser in list(PARSERS.items())[1:]:
        assert "\nExample: " in (parser.description or ""), name


def test_top_level_help_gives_whole_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    for name, parser in PARSERS.items():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    summary = choice.help or ""
                    assert summary.endswith((".", "?")), f"{name} {choice.dest}: {summary!r}"
                    assert "\n" not in summary


def test_help_shows_the_defaults_of_the_servers_options() -> None:
    serve = PARSERS["snoopdb serve"].format_help()
    auditlogger = PARSERS["snoopdb auditlogger"].format_help()
    for text, default in ((serve, "8000"), (serve, "127.0.0.1"), (serve, "info"),
                          (auditlogger, "9900"), (auditlogger, "24h"), (auditlogger, "10MB")):
        assert f"default: {default})" in " ".join(text.split()), default


# --- exit codes -------------------------------------------------------------------

def test_exit_codes_table_lists_every_status() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### Exit codes"):]
    table = table[:table.index("\n\n", table.index("| status"))]
    assert re.findall(r"^\| (\d+) \|", table, re.M) == ["0", "1", "2", "3", "130"]
    # the gate's "cannot decide" is 3 wherever it is documented
    for page in (REPO / "README.md", *(REPO / "docs").glob("*.md")):
        text = page.read_text()
        assert "2 cannot decide" not in text and "2 cannot\n" not in text, page.name
    prow = (REPO / "ci" / "prow" / "apisnoop-conformance-gate.yaml").read_text()
    assert "3 cannot" in prow and "2 cannot" not in prow


# `db psql` hands what snoopdb does not know to psql (test_db_psql_…)
@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"snoopdb db psql"}))
def test_an_unknown_option_is_a_usage_error(
    name: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = name.split()[1:]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--bogus-option"])
    assert exit_info.value.code == 2
    # argparse names the option, or first the arguments the command requires
    err = capsys.readouterr().err
    assert ("unrecognized arguments: --bogus-option" in err
            or "the following arguments are required" in err), err


@pytest.mark.parametrize("argv, message", [
    (["load"], "snoopdb: error: --release is required (with --history it defaults to the "
               "newest)"),
    (["load", "--release", "1.20", "--only", "specs"],
     "argument --only: unknown part 'specs'; choose from spec,tests,ineligible,pending,audit,history"),
    (["load", "--release", "1.2O"],
     "argument --release: bad release '1.2O': expected 1.20, 1.20.0 or v1.20.0"),
    (["load", "--release", "1.3"],
     "snoopdb: error: unknown release '1.3': releases before 1.5 have no OpenAPI spec"),
    (["load", "--release", "1.20", "--testing"],
     "snoopdb: error: --testing applies to local logs: name them with --audit-log"),
    (["load", "--release", "1.20", "--build", "1"],
     "snoopdb: error: --build needs exactly one --job"),
    (["load", "--release", "1.20", "--history-dir", "/nonexistent"],
     "snoopdb: error: --history-dir /nonexistent: not a directory"),
    (["serve", "--port", "99999"],
     "argument --port: 99999 is not a port: expected 0 (any free port) to 65535"),
    (["auditlogger", "--port", "70000"],
     "argument --port: 70000 is not a port: expected 0 (any free port) to 65535"),
    (["auditlogger", "--port", "http"], "argument --port: 'http' is not a port number"),
    (["auditlogger", "--retain", "forever"],
     "snoopdb: error: --retain: 'forever' is not a duration such as 30m, 24h or 7d"),
    (["gate", "--release", "latest"], "argument --release: bad release 'latest'"),
    (["export", "--release", "1"], "argument --release: bad release '1'"),
    (["mirror", "--release", "1.20"], "the following arguments are required: --out"),
    (["releases", "drop", "one"], "argument RELEASE: bad release 'one'"),
    (["db", "upgrade", "0099"],
     "snoopdb: error: unknown revision '0099': this snoopdb ships 0001 to"),
    (["query"], "the following arguments are required: SQL"),
    (["gate", "--from", "/nonexistent"], "argument --from: no such folder: '/nonexistent'"),
    (["load", "--release", "1.20", "--retain", "forever"],
     "unrecognized arguments: --retain forever (see `snoopdb load --help`)"),
    (["runs", "drop", "x", "--keep", "2"],
     "unrecognized arguments: --keep 2 (see `snoopdb runs drop --help`)"),
])
def test_usage_errors_exit_2(
    settings: object, argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own
        status = exit_info.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_installed_entry_point_exits_with_the_status(settings: object,
                                                        conn: object) -> None:
    for argv, status in ((["load", "--release", "1.2O"], 2), (["load"], 2),
                         (["db", "current"], 0), (["gate"], 3)):
        done = subprocess.run([SNOOPDB, *argv], capture_output=True, text=True)
        assert done.returncode == status, (argv, done.stderr)


@pytest.mark.slow
def test_a_reader_that_stops_early_is_no_error(settings: object, conn: object) -> None:
    # `snoopdb query … | head -1`: far more rows than a pipe holds
    query = subprocess.Popen([SNOOPDB, "query", "SELECT generate_series(1, 200000) AS n",
                              "--csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert query.stdout is not None
    assert query.stdout.readline() == b"n\n"
    query.stdout.close()
    _, err = query.communicate(timeout=60)
    assert (query.returncode, err) == (0, b"")


@pytest.mark.slow
def test_interrupted_is_130(settings: object, conn: psycopg.Connection,
                            tmp_path: Path) -> None:
    # a load waiting on a download that never comes, interrupted as Ctrl-C does
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen()
        env = {**os.environ, "SNOOPDB_GITHUB_RAW_URL": f"http://127.0.0.1:"
               f"{hanging.getsockname()[1]}"}
        load = subprocess.Popen([SNOOPDB, "load", "--release", "1.20", "--only", "spec"],
                                env=env, stderr=subprocess.PIPE, text=True)
        # the connection is queued by the kernel: the download has started
        hanging.settimeout(30)
        accepted, _ = hanging.accept()
        load.send_signal(signal.SIGINT)
        _, err = load.communicate(timeout=30)
        accepted.close()
    assert (load.returncode, err) == (130, "snoopdb: interrupted\n")
    assert conn.execute("SELECT count(*) FROM open_api").fetchone() == (0,)


# --- hints ------------------------------------------------------------------------

def _flag_accepted(command: str, flag: str) -> bool:
    parser = PARSERS[command]
    return flag.split()[0] in parser._option_string_actions


def _read_by_settings(variable: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    before = Settings()
    monkeypatch.setenv(variable, "http://mirror.example")
    after = Settings()
    monkeypatch.delenv(variable)
    return before != after


def test_every_offline_hint_names_what_its_command_accepts(
    settings: object, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each command's `instead` (the flags it offers in place of a source it cannot
    reach): the variable is one Settings reads, each flag one the command's parser
    accepts; and the line a failure ends with says exactly that."""
    variables = {variable for variable, _ in SOURCE_SETTINGS}
    walked = 0
    for name, parser in COMMANDS.items():
        instead = parser._defaults["instead"]
        for variable, flags in instead.items():
            assert variable in variables and _read_by_settings(variable, monkeypatch), name
            for flag in flags:
                assert _flag_accepted(name, flag), (name, flag)
                walked += 1
        for variable, attribute in SOURCE_SETTINGS:
            monkeypatch.setenv(variable, "http://down.example/base")
            url = f"{getattr(Settings(), attribute)}/some/file"
            advice = hint(FetchError(f"{url}: connection refused"), Settings(), instead)
            flags = instead.get(variable, ())
            assert advice == (f" ({variable} points there: set it to a reachable mirror"
                              + (f", or use {' or '.join(flags)}" if flags else "") + ")")
            monkeypatch.delenv(variable)
    assert walked == 9  # load 4, compare-published 2, gate 2, verify-submission 1
    assert COMMANDS["snoopdb verify-submission"]._defaults["instead"] == {
        "SNOOPDB_GITHUB_RAW_URL": ("--conformance-file FILE",)}


_COMMAND_TEXT = re.compile(r"`(snoopdb [^`]+)`")


def _commands_named(text: str) -> list[str]:
    return _COMMAND_TEXT.findall(text)


def _check_command_text(text: str) -> None:
    """`snoopdb CMD [SUB] --flag …` as a hint writes it: the command exists and takes
    every flag named."""
    words = text.split()
    name = "snoopdb"
    for word in words[1:]:
        if f"{name} {word}" in PARSERS:
            name = f"{name} {word}"
        else:
            break
    assert name in COMMANDS, text
    for word in words:
        if word.startswith("--"):
            assert _flag_accepted(name, word.split("=")[0]), (text, word)


def test_every_command_a_message_names_takes_the_flags_it_names() -> None:
    """The commands that hints spell out (`snoopdb load --release X --only spec`, …), in
    every string of the package's source and in the messages built at run time."""
    found = []
    for folder in ("snoopdb", "loaders"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found += _commands_named(node.value)
    assert len(found) >= 10
    settings = Settings()
    built = [hint(NoSpecLoaded("1.36.0"), settings), hint(NoSchema("db"), settings),
             hint(SchemaOutdated("0005", "0012"), settings)]
    release = parse_release("1.36.0")
    for context, has_spec in (
            (gate.GateResult(None), False), (gate.GateResult(release), False),
            (gate.GateResult(release), True),
            (gate.GateResult(release, ("1.35.0",)), True),
            (gate.GateResult(release, ("1.35.0",), ("run",)), True)):
        built.append(gate._problem(context, has_spec))
    for text in built:
        assert text is not None
        found += _commands_named(text)
    for text in found:
        # placeholders (X, SOURCE…) stand for values; the flags are what is checked
        _check_command_text(text.replace(" X ", " 1.36 "))


def test_unreachable_source_names_its_setting_and_the_flags_that_do_without(
    settings: object, conn: object, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SNOOPDB_APISNOOP_RAW_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", f"http://127.0.0.1:{port}/raw")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "1")
    assert main(["load", "--only", "history"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"snoopdb: error: http://127.0.0.1:{port}/")
    assert err.endswith("(SNOOPDB_APISNOOP_RAW_URL points there: set it to a reachable mirror, "
                        "or use --from DIR or --no-history)\n")
    assert main(["load", "--release", "1.20", "--only", "spec"]) == 1
    assert capsys.readouterr().err.endswith(
        "(SNOOPDB_GITHUB_RAW_URL points there: set it to a reachable mirror, or use "
        "--from DIR)\n")
    assert main(["compare-published"]) == 1
    assert capsys.readouterr().err.endswith(
        "(SNOOPDB_APISNOOP_RAW_URL points there: set it to a reachable mirror, or use "
        "--from DIR or --history-dir DIR)\n")


def test_gate_that_cannot_read_the_pending_list_names_its_own_flags(
    settings: object, conn: psycopg.Connection, fetcher: object, shared_data: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for minor in ("1.35", "1.36"):
        spec.load(conn, fetcher, str(shared_data / "openapi" / f"swagger-{minor}.json.gz"),
                  f"{minor}.0", None)  # type: ignore[arg-type]
    insert_hits(conn, [("1.36.0", "run", "readCoreV1Namespace", "x [Conformance]", True, True,
                        1)])
    conn.execute("INSERT INTO conformance.test (testname, codename, release, description,"
                 " file) VALUES ('x', 'x [Conformance]', '1.9.0', '', '')")
    conn.execute("SELECT refresh_coverage()")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SNOOPDB_GITHUB_RAW_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SNOOPDB_DOWNLOAD_ATTEMPTS", "1")
    assert main(["gate"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"snoopdb: gate cannot decide: http://127.0.0.1:{port}/kubernetes/"
                          "kubernetes/v1.36.0/test/conformance/testdata/"
                          "pending_eligible_endpoints.yaml: connection refused")
    assert err.endswith("(SNOOPDB_GITHUB_RAW_URL points there: set it to a reachable mirror,"
                        " or use --from DIR or --pending-file FILE)\n")
    assert main(["gate", "--json", "--release", "v1.36"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert (document["release"], document["status"], document["exit_code"],
            document["verdicts"]) == ("1.36.0", "undecided", 3, [])
    assert "--pending-file FILE" in document["problem"]


# --- one line for the mistakes users make ------------------------------------------

def test_missing_audit_log_is_one_line(settings: object, conn: object, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.log"
    assert main(["load", "--release", "1.36", "--only", "audit", "--no-history",
                 "--audit-log", str(missing)]) == 1
    assert capsys.readouterr().err == f"snoopdb: error: {missing}: no such file\n"


def test_a_patch_release_is_read_as_its_minor_release_and_said_so(
    settings: object, conn: object, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["gate", "--release", "1.36.2"]) == 3
    assert capsys.readouterr().err.splitlines() == [
        "note: release 1.36.2 is read as 1.36: snoopdb keeps one spec and one coverage per "
        "minor release (X.Y.0)",
        "snoopdb: gate cannot decide: no spec loaded for release 1.36.0: run "
        "`snoopdb load --release 1.36`"]


def test_a_database_url_libpq_cannot_read_is_one_line_naming_it(
    settings: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "garbage")
    assert main(["db", "current"]) == 1
    assert capsys.readouterr().err == (
        "snoopdb: error: DATABASE_URL='garbage' is not a PostgreSQL URL such as "
        "postgresql://user@host:5432/snoopdb (missing \"=\" after \"garbage\" in connection "
        "info string)\n")
    # the option is a usage error (2), found before any work
    with pytest.raises(SystemExit) as exit_info:
        main(["--database-url", "nope password=secret", "gate"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("snoopdb: error: argument --database-url: 'nope password=***' is "
                          "not") and "secret" not in err


# --- servers: ports checked before anything is printed, the real port printed -------

def test_busy_port_is_one_line(settings: object, conn: object,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert capsys.readouterr().err == (
        f"snoopdb: error: cannot listen on 127.0.0.1:{port}: already in use\n")


@pytest.mark.parametrize("command, path", [("serve", "/healthz"), ("auditlogger", "/healthz")])
@pytest.mark.slow
def test_port_0_serves_on_a_free_port_and_prints_it(
    settings: object, conn: psycopg.Connection, fetcher: object, shared_data: Path,
    command: str, path: str,
) -> None:
    if command == "auditlogger":  # it maps events with the newest spec
        spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"),
                  "1.36.0", None)  # type: ignore[arg-type]
    server = subprocess.Popen([SNOOPDB, command, "--port", "0", "--log-level", "warning"],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found is not None and found.group(1) != "0", first
        with urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}{path}",
                                    timeout=30) as answer:
            assert answer.status == 200
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: requests in flight end, then 130
        _, rest = server.communicate(timeout=30)
    assert (server.returncode, rest) == (130, "snoopdb: interrupted\n")


# --- scripts: query, db current --json, db psql --------------------------------------

def test_query_prints_rows_as_json_or_csv_and_never_writes(
    settings: object, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str],
) -> None:
    sql = ("SELECT 1 AS n, 'a,b' AS text, NULL AS nothing, true AS yes, 2.50::numeric AS price,"
           " DATE '2026-04-22' AS day, ARRAY['x','y'] AS tags, '{\"k\": [1]}'::jsonb AS doc")
    assert main(["query", sql]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"n": 1, "text": "a,b", "nothing": None, "yes": True, "price": 2.5,
         "day": "2026-04-22", "tags": ["x", "y"], "doc": {"k": [1]}}]
    assert main(["query", sql, "--csv"]) == 0
    assert capsys.readouterr().out == ('n,text,nothing,yes,price,day,tags,doc\n'
                                       '1,"a,b",,true,2.50,2026-04-22,"[""x"", ""y""]",'
                                       '"{""k"": [1]}"\n')
    assert main(["query", "SELECT release FROM open_api WHERE false", "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"
    assert main(["query", "INSERT INTO load_log (kind, source, started_at, rows)"
                          " VALUES ('x', 'x', now(), 0) RETURNING id"]) == 1
    assert capsys.readouterr().err == ("snoopdb: error: database error: cannot execute INSERT "
                                       "in a read-only transaction\n")
    assert conn.execute("SELECT count(*) FROM load_log").fetchone() == (0,)


def test_db_current_json_and_history_whole_titles(
    settings: object, capsys: pytest.CaptureFixture[str],
) -> None:
    head = schema.head_revision()
    assert main(["db", "current", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"revision": head, "head": head,
                                                   "state": "head"}
    assert main(["db", "revisions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert main(["db", "history"]) == 0  # its older name
    assert capsys.readouterr().out.splitlines() == lines
    assert len(lines) == len(list(schema.revisions()))
    for line in lines:  # whole first paragraphs: sentences are not cut at a line's end
        assert line.endswith("."), line


def test_db_upgrade_to_an_older_revision_says_it_never_downgrades(
    database_server: str, capsys: pytest.CaptureFixture[str],
) -> None:
    with scratch_database(database_server) as url:
        schema.migrate(url)
        head = schema.head_revision()
        assert main(["--database-url", url, "db", "upgrade", "0003"]) == 1
        assert capsys.readouterr().err == (
            f"snoopdb: error: the schema is at revision {head}, newer than 0003: `db upgrade` "
            "never downgrades (restore a dump made at 0003 instead)\n")
        with psycopg.connect(url) as db:
            assert schema.schema_revision(db) == head


@pytest.mark.slow
def test_db_psql_opens_psql_on_the_database_in_use(settings: object, conn: object) -> None:
    done = subprocess.run([SNOOPDB, "db", "psql", "-tAc", "select current_database()"],
                          capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == os.environ["DATABASE_URL"].rsplit("dbname=", 1)[1].split()[0]
    failed = subprocess.run([SNOOPDB, "db", "psql", "--", "-v", "ON_ERROR_STOP=1", "-c",
                             "select 1/0"], capture_output=True, text=True)
    assert failed.returncode != 0 and "division by zero" in failed.stderr


def test_a_load_of_audit_events_only_says_nothing_of_files(
    settings: object, conn: psycopg.Connection, fetcher: object, shared_data: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec.load(conn, fetcher, str(shared_data / "openapi" / "swagger-1.36.json.gz"), "1.36.0",
              None)  # type: ignore[arg-type]
    sample = shared_data / "audit" / "gce-e2e-v1.37-2065053743543488512-sample.log"
    assert main(["load", "--release", "1.36", "--only", "audit", "--no-history",
                 "--audit-log", str(sample)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"audit 1.36.0 from {sample.as_uri()}: 12 events")
