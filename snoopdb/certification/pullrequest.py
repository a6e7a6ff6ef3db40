"""A pull request on cncf/k8s-conformance as the bot reads it: its title, the files it
adds, changes or renames (in the order GitHub lists them: by path), and its commits when
they are known. Read from a checkout (`read_checkout`): the files of `git diff
BASE...HEAD`, read at HEAD, or every file of a folder that is no git checkout; the GitHub
API is `snoopdb.certification.github`.

The bot takes the release and the product from the first file whose path matches
`(v1.[0-9]{2})/(.*)/.*` (`PullRequest.submission`), and checks every file's folder
against `(v1.[0-9]{2})/(.*)`; both patterns are its own, unanchored.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from snoopdb.certification.files import Entry, Readable
from snoopdb.certification.submission import BOT_NO_RELEASE, Submission
from snoopdb.core import bounds, numbers
from snoopdb.core.bounds import TooLarge
from snoopdb.core.errors import ConfigError, InputError
from snoopdb.core.releases import Release

# GitHub lists at most 3,000 files of a pull request; the bot sees no more.
MAX_FILES = 3000
BOT_FOLDER = re.compile(r"(v1.[0-9]{2})/(.*)/.*")
BOT_STRUCTURE = re.compile(r"(v1.[0-9]{2})/(.*)")
DEFAULT_BASES = ("origin/main", "main", "master")
_RELEASE_NAME = re.compile(r"v(1)\.([0-9]{2})")
_GIT_KINDS = {"100644": "file", "100755": "file", "120000": "link"}


@dataclass(frozen=True)
class PullRequestFile:
    """A file of the pull request: its path in the repository (`/`-separated) and how
    to read it."""

    name: str
    entry: Readable

    @property
    def folder(self) -> str:
        """The path's folder, as Go's `path.Dir` gives it (`.` at the top)."""
        return self.name.rpartition("/")[0] or "."

    @property
    def base_name(self) -> str:
        return self.name.rpartition("/")[2]


@dataclass
class PullRequest:
    """What the bot reads of a pull request. `commits` is None when unknown (a folder
    with no git: the bot's pull request event has none either); `labels` are its labels,
    None when unknown (not on GitHub); `root` is the folder its file names are relative
    to (None on GitHub); `kinds_known` says whether links and other special files can be
    told apart (not on GitHub); `warnings` what reading it found odd (a path GitHub would
    refuse). `close()` removes what was downloaded for it."""

    origin: str
    title: str
    files: list[PullRequestFile]
    commits: int | None = None
    labels: list[str] | None = None
    root: Path | None = None
    kinds_known: bool = True
    temporary: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def submission(self) -> Submission:
        """The submission the bot sees: release and product from the first file whose
        path matches its pattern; no release when none does, or when what it finds
        there is no release it can parse."""
        place = self.root or Path()
        for file in self.files:
            found = BOT_FOLDER.search(file.name)
            if found is None:
                continue
            folder = file.name[:found.end(2)]
            named = _RELEASE_NAME.fullmatch(found[1])
            if named is None:
                return Submission(place / folder, None, folder, unplaced=(
                    f"{found[1]!r}, read from {file.name}, is no release: the bot cannot"
                    f" parse it ({BOT_NO_RELEASE!r})"))
            return Submission(place / folder, Release(int(named[1]), int(named[2])), found[2])
        listed = ", ".join(f.name for f in self.files[:5])
        more = f" and {len(self.files) - 5} more" if len(self.files) > 5 else ""
        return Submission(place, None, "the pull request", unplaced=(
            f"no file of the pull request is in a vX.Y/<product>/ folder"
            f" ({len(self.files)} file(s){': ' + listed + more if listed else ''}): the bot"
            f" finds no release ({BOT_NO_RELEASE!r})"))

    def close(self) -> None:
        for path in self.temporary:
            path.unlink(missing_ok=True)
        self.temporary.clear()


def read_checkout(root: Path, title: str, base: str | None = None) -> PullRequest:
    """The pull request a checkout of cncf/k8s-conformance makes: with git, the files of
    `git diff --diff-filter=AMR BASE...HEAD` (BASE: `base`, else the first of origin/main,
    main, master) and the commits since their merge base, read at HEAD; without git,
    every file under `root` (links listed, never followed) and no commits known."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    root = root.resolve()
    if base is not None and (not base or base.startswith("-")):
        raise ConfigError(f"--base {base!r}: not a git revision")
    if (root / ".git").exists():
        return _from_git(root, title, base)
    if base is not None:
        raise ConfigError(f"{root} is not a git checkout: --base needs one")
    return _from_folder(root, title)


def _from_folder(root: Path, title: str) -> PullRequest:
    files: list[PullRequestFile] = []
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as listing:
            for item in listing:
                info = item.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(item.path))
                    continue
                kind = ("link" if stat.S_ISLNK(info.st_mode) else
                        "file" if stat.S_ISREG(info.st_mode) else "other")
                name = _text(os.fsencode(Path(item.path).relative_to(root).as_posix()))
                files.append(PullRequestFile(name, Entry(Path(item.path), kind, info.st_size)))
                if len(files) > MAX_FILES:
                    raise InputError(f"{root}: more than {MAX_FILES} files, more than GitHub"
                                     " lists of a pull request")
    files.sort(key=lambda f: f.name)
    return PullRequest(f"{root} (no git: every file under it)", title, files, root=root)


def _from_git(root: Path, title: str, base: str | None) -> PullRequest:
    if base is None:
        base = next((ref for ref in DEFAULT_BASES if _git_succeeds(
            root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")), None)
        if base is None:
            raise InputError(f"{root}: no {', '.join(DEFAULT_BASES)} to compare HEAD with;"
                             " give --base REF")
    names = [name for name in _git(root, "diff", "--name-only", "-z", "--no-ext-diff",
                                   "--diff-filter=AMR", f"{base}...HEAD").split(b"\0") if name]
    if len(names) > MAX_FILES:
        raise InputError(f"{root}: HEAD changes {len(names)} files since {base}, more than"
                         f" the {MAX_FILES} GitHub lists of a pull request")
    commits = int(_git(root, "rev-list", "--count", f"{base}..HEAD"))
    # HEAD's whole tree, filtered here: the names as arguments may pass the system's
    # limit on a command line (2,900 long paths: "Argument list too long"), and a
    # pathspec never matches a path through a tree entry named `..`, which ls-tree -r
    # lists as it is
    blobs: dict[bytes, GitBlob] = {}
    wanted = set(names)
    for line in (_git(root, "ls-tree", "-r", "-l", "-z", "HEAD").split(b"\0")
                 if names else ()):
        # <mode> <type> <object> <size, padded>\t<path>
        meta, _, path = line.partition(b"\t")
        fields = meta.split()
        if path not in wanted or len(fields) != 4:
            continue
        mode, _, obj, size = (part.decode() for part in fields)
        blobs[path] = GitBlob(root, _text(path), obj, _GIT_KINDS.get(mode, "other"),
                              numbers.whole_number(size) or 0)
    files = [PullRequestFile(blob.name, blob) for name in sorted(names)
             if (blob := blobs.get(name)) is not None]
    warnings = [f"{_text(name)}: git lists it as changed, but HEAD's tree has no file of "
                "that path: left out" for name in sorted(wanted - blobs.keys())]
    warnings += [f"{file.name}: a path through a `.` or `..` entry, which GitHub refuses in "
                 "a push: checked as named" for file in files
                 if {".", ".."} & set(file.name.split("/"))]
    return PullRequest(f"{root} (HEAD since {base}: {commits} commit(s))", title, files,
                       commits=commits, root=root, warnings=warnings)


def _text(name: bytes) -> str:
    """A path as text to print and store: bytes that are not UTF-8 shown as U+FFFD."""
    return name.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class GitBlob:
    """A file as a commit holds it: a link is its target's path, as `git cat-file` gives
    it; a submodule ("other") is never read."""

    root: Path
    name: str
    object: str
    kind: str
    size: int

    def open(self) -> IO[bytes]:
        """The content, copied to a temporary file, when it is at most
        bounds.PULL_REQUEST_FILE (git's own count of its bytes, exact)."""
        if self.kind not in ("file", "link"):
            raise InputError(f"{self.name}: not a regular file")
        if self.size > bounds.PULL_REQUEST_FILE.size:
            raise TooLarge(f"{self.root}: {self.name}", bounds.PULL_REQUEST_FILE)
        out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
        try:
            done = _run_git(self.root, ("cat-file", "blob", self.object), out)
            if done.returncode:
                raise InputError(f"{self.root}: git cat-file {self.name}:"
                                 f" {_first_line(done.stderr)}")
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return out


def file_at(root: Path, ref: str, path: str, limit: int) -> bytes | None:
    """The content of `path` at revision `ref` of the git checkout `root`, None when
    that revision has no such file; a file over `limit` bytes (git's own count) is
    refused before it is read."""
    if not ref or ref.startswith("-"):
        raise ConfigError(f"--base-ref {ref!r}: not a git revision")
    if not (root / ".git").exists():
        raise ConfigError(f"{root} is not a git checkout: --base-ref needs one")
    if not _git_succeeds(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"):
        raise InputError(f"{root}: no revision {ref} to compare with")
    size = _run_git(root, ("cat-file", "-s", f"{ref}:{path}"))
    if size.returncode:
        return None
    if (numbers.whole_number(size.stdout.decode(errors="replace").strip()) or 0) > limit:
        raise InputError(f"{root}: {path} at {ref} is larger than {limit:,} bytes")
    return _git(root, "cat-file", "blob", f"{ref}:{path}")


def _git(root: Path, *args: str) -> bytes:
    """git's output in `root`; an InputError with git's own first line when it fails."""
    done = _run_git(root, args)
    if done.returncode:
        what = next(arg for arg in args if not arg.startswith("-"))
        raise InputError(f"{root}: git {what}: {_first_line(done.stderr)}")
    return done.stdout


def _git_succeeds(root: Path, *args: str) -> bool:
    return _run_git(root, args).returncode == 0


def _run_git(root: Path, args: tuple[str, ...],
             stdout: IO[bytes] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git in `root`, its output kept (or written to `stdout`)."""
    try:
        # git from PATH with an argument list: paths and revisions are arguments, never
        # read by a shell, and --base cannot start with "-" (read_checkout)
        return subprocess.run(  # noqa: S603
            ["git", "-C", str(root), *args], check=False,  # noqa: S607
            stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise ConfigError(f"{root} is a git checkout, and git is not installed") from exc


def _first_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[0].strip() if lines else "failed"
