"""Long work in the CLI: a one-line progress bar on stderr (quiet when stderr is not a
terminal), and running the work on a thread so Ctrl-C cancels it cleanly."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

from app.cli.context import CliContext

if TYPE_CHECKING:
    from app.pipeline.events import ProgressCallback

T = TypeVar("T")


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


def run_with_progress(ctx: CliContext,
                      work: Callable[[ProgressCallback, threading.Event], T]) -> T:
    """Run ``work(on_progress, cancel)`` on a worker thread under a progress bar; Ctrl-C sets
    ``cancel`` (what is done so far is kept) and waits a moment for the work to stop."""
    bar = ProgressBar()
    cancel = threading.Event()
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = work(lambda e: bar.update(e.label, e.stage_progress), cancel)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="pipeline", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        bar.finish()
        ctx.error("Stopping… (what is done so far is kept)")
        worker.join(10)
    bar.finish()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]
