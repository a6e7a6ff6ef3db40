"""The commands that run a server until stopped: `auditlogger` (the audit webhook) and
`serve` (the dashboard)."""

from __future__ import annotations

import argparse
import logging

from snoopdb.cli.context import Context, say
from snoopdb.cli.parsing import add_command, port_number
from snoopdb.core.errors import ConfigError, UsageError
from snoopdb.db import connection
from snoopdb.loaders import live


def cmd_auditlogger(args: argparse.Namespace, ctx: Context) -> int:
    """Run the audit webhook server a cluster's API server sends its audit events to.

    Every event is stored in testing.audit_event (release live), mapped against the newest
    loaded spec, and acknowledged once committed. GET / says hello and names that spec's
    release, GET /healthz reports whether the database is reachable; events older than
    --retain are deleted.

    Example: snoopdb auditlogger --host 0.0.0.0 --token-file token --retain 24h
    """
    # imported late: only the servers need the web stack
    from snoopdb.web import auditlogger, server

    token = auditlogger.read_token(args.token_file) if args.token_file else None
    exposure = auditlogger.token_file_exposure(args.token_file) if args.token_file else None
    if exposure:
        say(f"snoopdb: warning: {exposure}")
    try:
        max_body = auditlogger.parse_size(args.max_body)
        retain = auditlogger.parse_duration(args.retain)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    with ctx.connect(migrate=True) as conn:
        release = live.live_release(conn)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    sock = server.listen(args.host, args.port)
    say(f"auditlogger: POST {server.base_url(sock)}/events stores into "
        f"testing.audit_event of {connection.redact(ctx.url)}, mapped with the spec of {release}; "
        + ("bearer token required" if token else "no token required")
        + f"; bodies up to {max_body} bytes; "
        + (f"events kept for {args.retain}" if retain else "events kept forever"))
    server.serve(auditlogger.create_app(ctx.url, token, max_body, retain), sock,
                 log_level=args.log_level)
    return 0


def add_auditlogger(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "auditlogger", cmd_auditlogger)
    _address_options(parser, "0.0.0.0 for a cluster in containers", 9900)
    parser.add_argument("--token-file", metavar="FILE",
                        help="require `Authorization: Bearer <the token in FILE>` of every request")
    parser.add_argument("--retain", default="24h",
                        help="delete live events older than this (90s, 30m, 24h, 7d; 0: never; "
                             "default: %(default)s)")
    parser.add_argument("--max-body", default="10MB",
                        help="largest request body accepted (K, M, G are powers of 1024; "
                             "default: %(default)s)")
    _log_level_option(parser)


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Serve the coverage dashboard (web pages and a JSON API) over the views.

    Pages: a release's totals and sunburst (/), conformance progress and debt charts
    (/progress), the endpoint table and a page per endpoint (/endpoints), and live
    testing (/live); each page's data as JSON under /api/ (/api/overview, ...).

    Example: snoopdb serve --port 8000
    """
    # imported late: only these commands need the web stack
    from snoopdb.web import pages, routes, server

    with ctx.connect() as conn:
        loaded = pages.releases(conn)
    sock = server.listen(args.host, args.port)
    say(f"dashboard: {server.base_url(sock)}/ over {connection.redact(ctx.url)}; "
        + (f"releases {loaded[-1]} to {loaded[0]}" if loaded else
           "no spec loaded yet (run `snoopdb load --release X`)"))
    server.serve(routes.create_app(ctx.url), sock, log_level=args.log_level)
    return 0


def add_serve(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "serve", cmd_serve)
    _address_options(parser, "0.0.0.0 to serve other machines", 8000)
    _log_level_option(parser)


def _address_options(parser: argparse.ArgumentParser, wider: str, port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help=f"address to listen on ({wider}; default: %(default)s)")
    parser.add_argument("--port", type=port_number, default=port,
                        help="port to listen on (0: any free port; default: %(default)s)")


def _log_level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="info",
                        choices=("debug", "info", "warning", "error"),
                        help="info logs every request; warning only problems (default: "
                             "%(default)s)")
