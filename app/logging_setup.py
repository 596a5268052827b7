"""A rotating log file for details; people see one-line messages, the log keeps tracebacks."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from app.private_files import open_private, private_dir

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each log file, the first and every one after a rotation, is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "a")), encoding=self.encoding,
                                errors=self.errors)


def configure_logging(log_file: Path, level: int = logging.INFO) -> None:
    private_dir(log_file.parent)
    root = logging.getLogger()
    # Idempotent: tests and the GUI may build more than one container in a process.
    for handler in root.handlers:
        if getattr(handler, "_recap_file", None) == str(log_file):
            return
    handler = _PrivateRotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._recap_file = str(log_file)  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
