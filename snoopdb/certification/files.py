"""A submission folder's entries, read without following links: git stores a link as
its target's path, so that path is what the bot would read, and what is read here."""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from snoopdb.core.errors import InputError


class Readable(Protocol):
    """A file a check reads: a folder's entry, a blob of a git commit, a pull request's
    file on GitHub. `kind` is file, link (its content is the link's target path), dir or
    other (never opened)."""

    @property
    def kind(self) -> str: ...

    @property
    def size(self) -> int: ...

    def open(self) -> IO[bytes]: ...


@dataclass(frozen=True)
class Entry:
    """One entry of a submission folder, as `lstat` sees it: a regular file, a symbolic
    link (its content is the link's target path, what git stores), a directory or
    something else (a FIFO, a socket, a device: never opened)."""

    path: Path
    kind: str  # file | link | dir | other
    size: int

    def open(self) -> IO[bytes]:
        """The content as a binary stream; a link is never followed."""
        if self.kind == "link":
            return io.BytesIO(os.fsencode(os.readlink(self.path)))
        if self.kind != "file":
            raise InputError(f"{self.path}: not a regular file")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags)
        except OSError as exc:
            raise InputError(f"{self.path}: {exc.strerror}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since it was listed
            os.close(fd)
            raise InputError(f"{self.path}: not a regular file")
        return os.fdopen(fd, "rb")


def list_entries(folder: Path) -> dict[str, Entry]:
    """The entries of `folder` by name; nothing when `folder` itself is a link."""
    if folder.is_symlink():
        return {}
    entries = {}
    with os.scandir(folder) as listing:
        for item in listing:
            info = item.stat(follow_symlinks=False)
            kind = ("link" if stat.S_ISLNK(info.st_mode) else
                    "file" if stat.S_ISREG(info.st_mode) else
                    "dir" if stat.S_ISDIR(info.st_mode) else "other")
            entries[item.name] = Entry(Path(item.path), kind, info.st_size)
    return entries
