"""What a command runs against: the settings, the database and the releases list, resolved
lazily from the global options; and `say`, its voice on stderr."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from snoopdb.core.config import Settings
from snoopdb.core.errors import NoSchema, SchemaOutdated
from snoopdb.core.fetch import Fetcher
from snoopdb.core.releases import Releases
from snoopdb.db import connection, schema


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
        return conn

    def releases(self) -> Releases:
        """apisnoop's releases list (or --releases-file), read once per command; says on
        stderr when it falls back to a cached or the shipped copy."""
        if self._releases is None:
            self._releases = Releases.upstream(self.fetcher(), self.settings.apisnoop_raw_url,
                                              self.settings.cache_dir, self.releases_file)
            if self._releases.warning:
                say(f"warning: {self._releases.warning}")
        return self._releases

    def fetcher(self) -> Fetcher:
        return Fetcher(self.settings.cache_dir, self.settings.deadlines)


def say(message: str) -> None:
    print(message, file=sys.stderr)
