"""Settings from the environment (and CLI options, which take precedence)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GITHUB_RAW_URL = "https://raw.githubusercontent.com"
DEFAULT_GCS_URL = "https://storage.googleapis.com"
DEFAULT_APISNOOP_RAW_URL = "https://raw.githubusercontent.com/kubernetes-sigs/apisnoop/main"
PG_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE")


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

    def github_raw(self, repo: str, ref: str, path: str) -> str:
        """URL of `path` in GitHub repository `repo` at `ref`, through the raw base URL."""
        return f"{self.github_raw_url.rstrip('/')}/{repo}/{ref}/{path}"


def pg_environment_set() -> bool:
    """True when any standard libpq variable names a server."""
    return any(os.environ.get(name) for name in PG_VARIABLES)
