"""How a command ends: its exit status, and the advice a failure's line ends with."""

from __future__ import annotations

from snoopdb.core.config import Settings
from snoopdb.core.errors import (
    FetchError,
    NoSchema,
    NoSpecLoaded,
    NotFound,
    SchemaOutdated,
    SnoopError,
)

# Exit statuses (README, "Exit codes"): 2 is argparse's for usage errors; 3 (cannot
# decide, cannot process) is the verdict of the gate's and verify-submission's reports.
EXIT_OK, EXIT_FAILED = 0, 1


def hint(exc: SnoopError, settings: Settings) -> str | None:
    """What the user can do about `exc`: the command to run, or the setting that points
    at an unreachable source and the flag that does without it."""
    if isinstance(exc, NoSpecLoaded):
        release = exc.release.rsplit(".", 1)[0] if exc.release else "X"
        return f": run `snoopdb load --release {release}` first"
    if isinstance(exc, (NoSchema, SchemaOutdated)):
        return ": run `snoopdb init`"
    if isinstance(exc, FetchError) and not isinstance(exc, NotFound):
        message = str(exc)
        for prefix, setting, flag in (
            (settings.apisnoop_raw_url, "SNOOPDB_APISNOOP_RAW_URL", "--no-history"),
            (settings.gcs_url, "SNOOPDB_GCS_URL", "--audit-log FILE"),
            (settings.github_raw_url, "SNOOPDB_GITHUB_RAW_URL", "--from DIR"),
        ):
            if message.startswith(prefix.rstrip("/")):
                return f" ({setting} points there: set it to a reachable mirror, or use {flag})"
    return None
