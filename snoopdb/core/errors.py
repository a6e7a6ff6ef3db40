"""Every error snoopdb raises on purpose, in one place. The library states facts;
the CLI prints each as one line and adds the flag or command that helps (cli.exits.hint)."""

from __future__ import annotations


class SnoopError(Exception):
    """Base class: a failure the user can act on, described in one line."""


class ConfigError(SnoopError):
    """A setting, option or environment variable has a value snoopdb cannot use."""


class UsageError(ConfigError):
    """The command line asks for what the command cannot do: a missing option, values that
    do not go together (exit status 2, as argparse's own usage errors)."""


class ReleaseError(SnoopError):
    """A release name cannot be parsed or is not a known release."""


class FetchError(SnoopError):
    """A file could not be downloaded or read (names the URL or path first, which the CLI
    matches against the settings to name the one that points there)."""


class NotFound(FetchError):
    """The server answered 404, or the local file does not exist."""


class InputError(SnoopError):
    """An input file is malformed (names the file and, where known, the line)."""


class ArchiveError(SnoopError):
    """A run's archive file cannot be written, read back or trusted (names the file); the
    run it was for stays as it was."""


class DatabaseError(SnoopError):
    """The database cannot be reached or is not in the expected state."""


class NoSchema(DatabaseError):
    """The database was never initialised."""

    def __init__(self, url: str):
        super().__init__(f"the database {url} has no snoopdb schema")


class SchemaOutdated(DatabaseError):
    """The schema is at another revision than this snoopdb's head."""

    def __init__(self, current: str | None, head: str):
        self.current, self.head = current, head
        where = f"at revision {current}" if current else "not initialised"
        super().__init__(f"the database schema is {where}; this snoopdb needs revision {head}")


class NoSpecLoaded(SnoopError):
    """No OpenAPI spec is loaded, or none for the release asked about."""

    def __init__(self, release: str | None = None, detail: str = ""):
        self.release = release
        what = f"no spec loaded for release {release}" if release else "no spec is loaded"
        super().__init__(what + (f": {detail}" if detail else ""))
