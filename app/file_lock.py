"""A non-blocking, cross-process lock on a small lock file (flock on POSIX, msvcrt on Windows).

Two Recap processes (the window and the CLI, say) must not append to the same partial download
at once: the second one is told the first is busy instead of corrupting its file. The lock goes
away with the process that holds it, so a crash never leaves a stale lock behind; the empty
lock file itself is left in place (removing it safely would need another lock).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _try_lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def exclusive(lock_path: Path, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold `lock_path` for the block; raise `busy()` at once if another process holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            _try_lock(fd)
        except OSError as exc:
            raise busy() from exc
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
