"""What a command runs against: the settings, the database and the releases list, resolved
lazily from the global options; and `say`, its voice on stderr."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.core.config import Settings
from snoopdb.core.errors import NoSchema, SchemaOutdated
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import UPSTREAM_PATH, Releases
from snoopdb.core.terminal import shown
from snoopdb.db import connection, schema
from snoopdb.loaders.github import APISNOOP


@dataclass
class Context:
    """What every command needs, resolved lazily from the global options."""

    settings: Settings
    url_option: str | None = None
    releases_file: Path | None = None
    _url: str | None = field(default=None, repr=False)
    _releases: Releases | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = connection.database_url(self.settings, self.url_option)
        return self._url

    def connect(self, *, migrate: bool = False) -> psycopg.Connection:
        """A connection to a database whose schema is at head: migrated first by commands
        that write (`migrate`), checked by those that only read, which never migrate."""
        if migrate:
            schema.migrate(self.url)
        conn = connection.connect(self.url)
        if not migrate:
            try:
                schema.require_current(conn)
            except SchemaOutdated as exc:
                conn.close()
                if exc.current is None:
                    raise NoSchema(connection.redact(self.url)) from None
                raise
            except BaseException:
                conn.close()
                raise
        return conn

    def releases(self, mirror: Path | None = None) -> Releases:
        """apisnoop's releases list (or --releases-file, or the copy in the `mirror` a
        command reads with --from), read once per command; says on stderr when it first
        falls back to a cached or the shipped copy."""
        if self._releases is None and mirror is not None and self.releases_file is None:
            self._releases = Releases.mirrored(mirror / APISNOOP / UPSTREAM_PATH)
            if self._releases.warning:
                say(f"warning: {self._releases.warning} (--releases-file FILE names another)")
        if self._releases is None:
            # one quick try: the list is kept a day, and a copy of it ships with snoopdb
            quick = self.fetcher().alike(dataclasses.replace(self.settings.deadlines,
                                                             attempts=2))
            self._releases = Releases.upstream(quick, self.settings.apisnoop_raw_url,
                                              self.settings.cache_dir, self.releases_file)
            if self._releases.warning:
                say(f"warning: {self._releases.warning} (--releases-file FILE names another)")
        return self._releases

    def fetcher(self) -> Fetcher:
        return Fetcher(self.settings.cache_dir, self.settings.deadlines, say)


def say(message: str) -> None:
    """One line on stderr, what came from outside in it escaped (core.terminal)."""
    print(shown(message), file=sys.stderr)


def show(line: str) -> None:
    """One line of a report on stdout, what came from outside in it escaped: a newline
    in a name shows as `\\n`, never as a line of its own."""
    print(shown(line))

