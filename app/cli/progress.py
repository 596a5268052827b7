"""A one-line progress bar on stderr (quiet when stderr is not a terminal)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 28) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._lock = threading.Lock()
        self._last_label = ""
        self._last_draw = 0.0

    def update(self, label: str, fraction: float) -> None:
        with self._lock:
            now = time.monotonic()
            if not self.tty:
                if label != self._last_label:  # logs and pipes get one line per stage
                    self.stream.write(f"{label}…\n")
                    self.stream.flush()
                    self._last_label = label
                return
            if label == self._last_label and now - self._last_draw < 0.1 and fraction < 1:
                return
            self._last_label, self._last_draw = label, now
            filled = int(self.width * max(0.0, min(1.0, fraction)))
            bar = "█" * filled + "░" * (self.width - filled)
            self.stream.write(f"\r{label:<22} {bar} {fraction * 100:5.1f}%")
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self.tty and self._last_label:
                self.stream.write("\n")
                self.stream.flush()
            self._last_label = ""
