"""Errors snoopdb raises on purpose; the CLI prints each as one line and exits non-zero."""


class SnoopError(Exception):
    """Base class: a failure the user can act on, described in one line."""


class ConfigError(SnoopError):
    """A setting, option or environment variable has a value snoopdb cannot use."""


class ReleaseError(SnoopError):
    """A release name cannot be parsed or is not a known release."""


class FetchError(SnoopError):
    """A file could not be downloaded or read (names the URL or path)."""


class NotFound(FetchError):
    """The server answered 404, or the local file does not exist."""


class InputError(SnoopError):
    """An input file is malformed (names the file and, where known, the line)."""


class DatabaseError(SnoopError):
    """The database cannot be reached or is not in the expected state."""
