"""How a command ends: its exit status, and the advice a failure's line ends with."""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator, Mapping
from types import FrameType

from snoopdb.core.config import Settings
from snoopdb.core.errors import (
    FetchError,
    NoSchema,
    NoSpecLoaded,
    NotFound,
    SchemaOutdated,
    SnoopError,
)

# Exit statuses (README, "Exit codes"): 2 is argparse's for usage errors, and ours for
# options that do not go together; 3 (cannot decide, cannot process) is the verdict of
# the gate's and verify-submission's reports; 130 follows an interrupt (Ctrl-C).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 128 + signal.SIGTERM

# The settings that point at a source: environment variable, Settings attribute.
SOURCE_SETTINGS = (
    ("SNOOPDB_APISNOOP_RAW_URL", "apisnoop_raw_url"),
    ("SNOOPDB_GCS_URL", "gcs_url"),
    ("SNOOPDB_GITHUB_RAW_URL", "github_raw_url"),
)

# What a command offers instead of a source it reads: for each source's variable,
# flags of that command that do without it (`add_command(..., instead=...)`).
Instead = Mapping[str, tuple[str, ...]]
_URL = re.compile(r"https?://\S+")


def hint(exc: SnoopError, settings: Settings, instead: Instead | None = None) -> str | None:
    """What the user can do about `exc`: the command to run, or the setting that points
    at an unreachable source and the flags of this command that do without it."""
    if isinstance(exc, NoSpecLoaded):
        release = exc.release.rsplit(".", 1)[0] if exc.release else "X"
        return f": run `snoopdb load --release {release}` first"
    if isinstance(exc, (NoSchema, SchemaOutdated)):
        return ": run `snoopdb init`"
    if isinstance(exc, FetchError) and not isinstance(exc, NotFound):
        return source_hint(str(exc), settings, instead)
    return None


def source_hint(message: str, settings: Settings, instead: Instead | None = None) -> str | None:
    """The advice for a download that failed with `message` (naming its URL): the
    variable that points there and the flags of this command that do without it."""
    url = _URL.search(message)
    if url is None:
        return None
    # the longest base that names it (apisnoop's raw base is inside GitHub's)
    bases = sorted(((str(getattr(settings, attribute)).rstrip("/"), variable)
                    for variable, attribute in SOURCE_SETTINGS), reverse=True)
    for base, variable in bases:
        if url.group().startswith(f"{base}/"):
            flags = (instead or {}).get(variable, ())
            return (f" ({variable} points there: set it to a reachable mirror"
                    + (f", or use {' or '.join(flags)}" if flags else "") + ")")
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where it lands: the command ends as on Ctrl-C (psycopg cancels
    the statement under way on the server on a KeyboardInterrupt), with status 143."""


@contextlib.contextmanager
def cancelled_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the command as Ctrl-C does (`Terminated`), where its default action
    would end the process at once and leave its statement running on the server."""
    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
