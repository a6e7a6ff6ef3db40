"""Writing files under a folder without ever following a link inside it.

`snoopdb mirror --out DIR` writes a tree of files into DIR; a symbolic link already in
DIR (`DIR/kubernetes -> /etc`) would have it write wherever the link points. Here
each folder under DIR is opened relative to the one above it with O_NOFOLLOW, made
if missing, and each file written to a new name there (O_EXCL) and renamed into
place, all through directory descriptors: no path is resolved again between the
check and the write, and a link met on the way is refused, named. Files get the
mode ordinary files get (0666 less the umask: 0644 usually).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from snoopdb.core.errors import InputError

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkRefused(InputError):
    """A symbolic link where a folder or file is to be written."""

    def __init__(self, path: Path):
        super().__init__(f"{path}: a symbolic link; snoopdb never writes through one "
                         "(remove it, or choose another folder)")


def write(root: Path, relative: str, chunks: Iterable[bytes]) -> None:
    """Write `chunks` to `root`/`relative`, whole or not at all, following no link
    below `root` (LinkRefused names one met)."""
    with _folder(root, PurePosixPath(relative).parent) as (folder, where):
        name = PurePosixPath(relative).name
        _refuse_link(folder, name, where / name)
        partial = f".{name}.partial-{secrets.token_hex(4)}"
        fd = os.open(partial, _NEW_FILE, 0o666, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial, dir_fd=folder)
            raise


def place(root: Path, relative: str, finished: Path) -> None:
    """Move the finished file `finished` (on the same file system, outside any link) to
    `root`/`relative` in one rename, replacing what is there, following no link below
    `root`; the folder's entry is made durable (fsync) before it returns."""
    with _folder(root, PurePosixPath(relative).parent) as (folder, where):
        name = PurePosixPath(relative).name
        _refuse_link(folder, name, where / name)
        os.replace(finished, name, dst_dir_fd=folder)
        os.fsync(folder)


def remove(root: Path, relative: str) -> None:
    """Remove the file `root`/`relative`, if there, following no link below `root`."""
    with _folder(root, PurePosixPath(relative).parent) as (folder, _):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(PurePosixPath(relative).name, dir_fd=folder)


@contextlib.contextmanager
def _folder(root: Path, relative: PurePosixPath) -> Iterator[tuple[int, Path]]:
    """A descriptor of the folder `root`/`relative` (made if missing), and its path."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    where = root
    try:
        for part in relative.parts:
            if part in ("", ".", ".."):
                raise InputError(f"{root / relative}: not a path inside {root}")
            where = where / part
            try:
                os.mkdir(part, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                inner = os.open(part, _FOLDER, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(fd, part):
                    raise LinkRefused(where) from None
                raise
            os.close(fd)
            fd = inner
        yield fd, where
    finally:
        os.close(fd)


def _refuse_link(folder: int, name: str, where: Path) -> None:
    if _is_link(folder, name):
        raise LinkRefused(where)


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder).st_mode)
    except FileNotFoundError:
        return False
