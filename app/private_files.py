"""Recap's files are the user's alone: folders 0700, files 0600 (where the OS has such modes).

Meetings, transcripts, recordings, logs and settings are private. The folders are made 0700
(so nothing inside can be reached by another account, whatever its own mode) and the files
Recap writes are created 0600; the tree is also tightened at every start, which fixes
installs from before this rule and anything a library created with the default mode.
Windows has no such modes (its per-user profile folders are private already): no-op there.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
_POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if _POSIX:
        os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` that creates the file 0600 (an existing file keeps its mode)."""
    return os.open(path, flags | getattr(os, "O_BINARY", 0), FILE_MODE)


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist yet (before a library opens it)."""
    os.close(open_private(path, os.O_WRONLY | os.O_CREAT))


def write_private_text(path: Path, text: str) -> None:
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w",
                   encoding="utf-8") as f:
        f.write(text)


def tighten(root: Path) -> int:
    """Every folder under `root` (itself included) 0700, every file 0600; links are left
    alone (their targets may not be ours). Returns how many modes changed."""
    if not _POSIX or not root.is_dir():
        return 0
    changed = _chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):  # does not follow links to folders
        for name in dirs:
            changed += _chmod(Path(folder, name), DIR_MODE)
        for name in files:
            changed += _chmod(Path(folder, name), FILE_MODE)
    if changed:
        log.info("made %d files and folders under %s private", changed, root)
    return changed


def _chmod(path: Path, mode: int) -> int:
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
            return 0
        if info.st_uid != os.geteuid():
            return 0  # not ours to change (and chmod would fail)
        os.chmod(path, mode)
        return 1
    except OSError as exc:
        log.warning("could not make %s private: %s", path, exc)
        return 0
