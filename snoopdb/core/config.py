"""Settings from the environment (and CLI options, which take precedence)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from snoopdb.core.errors import ConfigError

DEFAULT_GITHUB_RAW_URL = "https://raw.githubusercontent.com"
DEFAULT_GCS_URL = "https://storage.googleapis.com"
DEFAULT_APISNOOP_RAW_URL = "https://raw.githubusercontent.com/kubernetes-sigs/apisnoop/main"
DEFAULT_QUERY_TIMEOUT = 300.0
DEFAULT_LOCK_WAIT = 60.0
PG_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE")


@dataclass(frozen=True)
class Deadlines:
    """How long a download may take and what it must prove (docs/settings.md); each
    is an environment variable. `connect`: to open a connection; `read`: with no
    byte arriving; `total`: for one file, every attempt and pause between them
    included, and in each attempt the headers as well as the body, so a server
    that drips or hangs fails the load instead of holding it forever; `attempts`:
    tries of a file whose answer was a 5xx, cut short, of a length nothing vouches
    for, or did not match its listed size or checksum; `no_length`: accept a body
    with neither Content-Length nor chunked encoding (a cut there cannot be told
    from its end) instead of refusing it."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 900.0
    attempts: int = 4
    no_length: bool = False

    @classmethod
    def from_environment(cls) -> Deadlines:
        default = cls()
        return cls(
            connect=_positive("SNOOPDB_CONNECT_TIMEOUT", default.connect),
            read=_positive("SNOOPDB_READ_TIMEOUT", default.read),
            total=_positive("SNOOPDB_DOWNLOAD_DEADLINE", default.total),
            attempts=int(_positive("SNOOPDB_DOWNLOAD_ATTEMPTS", default.attempts, whole=True)),
            no_length=_yes("SNOOPDB_ALLOW_NO_LENGTH"),
        )


def _yes(variable: str) -> bool:
    text = os.environ.get(variable, "").strip()
    if text.lower() in ("", "0", "no", "false"):
        return False
    if text.lower() in ("1", "yes", "true"):
        return True
    raise ConfigError(f"{variable}={text!r}: expected 1 or 0")


def _positive(variable: str, default: float, *, whole: bool = False) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = 0
    if not value > 0 or value == float("inf"):
        kind = "a whole number" if whole else "a number of seconds"
        raise ConfigError(f"{variable}={text!r}: expected {kind} above 0")
    return value


def lock_wait() -> float:
    """SNOOPDB_LOCK_WAIT: how many seconds a load, drop or compaction waits for locks
    that others (an open reader's transaction) hold before it gives up, unchanged."""
    return _positive("SNOOPDB_LOCK_WAIT", DEFAULT_LOCK_WAIT)


def _xdg(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable) or str(Path.home() / fallback)
    return Path(base) / "snoopdb"


@dataclass(frozen=True)
class Settings:
    """Where snoopdb reads from and keeps its files."""

    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL"))
    github_raw_url: str = field(
        default_factory=lambda: os.environ.get("SNOOPDB_GITHUB_RAW_URL", DEFAULT_GITHUB_RAW_URL)
    )
    gcs_url: str = field(
        default_factory=lambda: os.environ.get("SNOOPDB_GCS_URL", DEFAULT_GCS_URL)
    )
    apisnoop_raw_url: str = field(
        default_factory=lambda: os.environ.get("SNOOPDB_APISNOOP_RAW_URL", DEFAULT_APISNOOP_RAW_URL)
    )
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ["SNOOPDB_DATA_DIR"])
        if os.environ.get("SNOOPDB_DATA_DIR")
        else _xdg("XDG_DATA_HOME", ".local/share")
    )
    cache_dir: Path = field(
        default_factory=lambda: Path(os.environ["SNOOPDB_CACHE_DIR"])
        if os.environ.get("SNOOPDB_CACHE_DIR")
        else _xdg("XDG_CACHE_HOME", ".cache")
    )

    deadlines: Deadlines = field(default_factory=Deadlines.from_environment)
    # `snoopdb query`: each statement it sends stops after this many seconds, so a
    # client killed without a word (SIGKILL) leaves nothing running on the server longer
    query_timeout: float = field(
        default_factory=lambda: _positive("SNOOPDB_QUERY_TIMEOUT", DEFAULT_QUERY_TIMEOUT))

    def github_raw(self, repo: str, ref: str, path: str) -> str:
        """URL of `path` in GitHub repository `repo` at `ref`, through the raw base URL."""
        return f"{self.github_raw_url.rstrip('/')}/{repo}/{ref}/{path}"


def pg_environment_set() -> bool:
    """True when any standard libpq variable names a server."""
    return any(os.environ.get(name) for name in PG_VARIABLES)
