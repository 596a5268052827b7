"""The GUI's side of the pipeline: files in, meetings out, one at a time, with progress.

Adding a file (hashing it, making the meeting row) runs on a worker thread at once, so a dropped
batch shows up as queued meetings within a moment. Processing runs on one dedicated thread in
order (there is one Whisper engine; two meetings at once would only share the two cores). Each
meeting has its own cancel event. Progress from the core arrives on that thread and is throttled
before it becomes a Qt signal: a stage can report hundreds of times a second.

Two threads, two priorities: whisper.cpp and the language models run on a compute thread below
the window's priority (their worker threads inherit it), so they cannot starve the window of
CPU; the pipeline's own Python (decoding, saving segments, progress) runs at normal priority,
because a low-priority thread holding the GIL when the scheduler pre-empts it freezes every
Python thread, the window's included (see app/pipeline/compute.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.actions import UseCases
from app.errors import RecapError, one_line
from app.pipeline.compute import ComputeThread, lower_priority_of_this_thread

if TYPE_CHECKING:
    from app.pipeline.events import ProgressEvent

log = logging.getLogger(__name__)

# Containers PyAV reads that can carry speech; anything else is refused before it is queued.
MEDIA_SUFFIXES = frozenset({
    ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aiff", ".aif",
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".3gp", ".amr", ".caf",
})
_PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Outcome:
    """How a run ended, as the GUI shows it."""

    meeting_id: str
    status: str  # a MeetingStatus value
    message: str


class ProcessingQueue(QObject):
    added = Signal(str, str)  # path, meeting id
    rejected = Signal(str, str)  # path, one-line reason
    started = Signal(str)  # meeting id
    progress = Signal(str, str, float, float)  # meeting id, stage label, stage 0..1, overall 0..1
    finished = Signal(object)  # Outcome

    def __init__(self, use_cases: UseCases, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.use_cases = use_cases
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancels: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._busy = threading.Event()  # set while a meeting is being added or processed
        self._adding = 0
        self._worker: threading.Thread | None = None
        self._compute = ComputeThread(initializer=lower_priority_of_this_thread)

    # -- input ---------------------------------------------------------------------------
    def add_files(self, paths: list[Path]) -> None:
        """Queue files; each becomes a meeting (or a rejection) without blocking the caller."""
        accepted = []
        for path in paths:
            if path.suffix.lower() not in MEDIA_SUFFIXES:
                self.rejected.emit(str(path), f"{path.name}: not an audio or video file Recap "
                                   "can read (try mp3, m4a, wav, flac, ogg, mp4, mkv…).")
            else:
                accepted.append(path)
        if not accepted:
            return
        with self._lock:
            self._adding += 1
        threading.Thread(target=self._add_all, args=(accepted,), name="recap-add",
                         daemon=True).start()

    def _add_all(self, paths: list[Path]) -> None:
        meetings = self.use_cases.meetings
        try:
            for path in paths:
                try:
                    meeting_id = meetings.add_file(path).meeting_id
                except RecapError as exc:
                    self.rejected.emit(str(path), one_line(exc))
                    continue
                except OSError as exc:
                    self.rejected.emit(str(path), f"{path.name} cannot be read: {exc.strerror}.")
                    continue
                self.added.emit(str(path), meeting_id)
                self.enqueue(meeting_id)
        finally:
            with self._lock:
                self._adding -= 1

    def enqueue_all(self, meeting_ids: list[str]) -> None:
        for meeting_id in meeting_ids:
            self.enqueue(meeting_id)

    def enqueue(self, meeting_id: str) -> None:
        """Process an existing meeting (a new one, or one left unfinished last time)."""
        with self._lock:
            if meeting_id in self._cancels:
                return  # already queued or running
            self._cancels[meeting_id] = threading.Event()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="recap-pipeline",
                                                daemon=True)
                self._worker.start()
        self._queue.put(meeting_id)

    def cancel(self, meeting_id: str) -> None:
        with self._lock:
            event = self._cancels.get(meeting_id)
        if event is not None:
            event.set()

    def pending(self) -> set[str]:
        with self._lock:
            return set(self._cancels)

    def is_idle(self) -> bool:
        with self._lock:
            return not self._cancels and self._adding == 0

    # -- the worker ----------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            meeting_id = self._queue.get()
            if meeting_id is None:
                return
            with self._lock:
                cancel = self._cancels.get(meeting_id) or threading.Event()
            try:
                outcome = self._run_one(meeting_id, cancel)
            except Exception as exc:  # never lose the worker to one bad meeting
                log.exception("processing meeting %s failed", meeting_id)
                outcome = Outcome(meeting_id, "failed", f"Processing stopped: {exc}")
            with self._lock:
                self._cancels.pop(meeting_id, None)
            self.finished.emit(outcome)

    def _run_one(self, meeting_id: str, cancel: threading.Event) -> Outcome:
        self.started.emit(meeting_id)
        last_time, last_stage = 0.0, ""

        def on_progress(event: ProgressEvent) -> None:
            nonlocal last_time, last_stage
            now = time.monotonic()
            if (event.stage == last_stage and event.stage_progress < 1.0
                    and now - last_time < _PROGRESS_INTERVAL_S):
                return
            last_time, last_stage = now, event.stage
            self.progress.emit(meeting_id, event.label, event.stage_progress, event.overall)

        report = self.use_cases.meetings.process(meeting_id, on_progress=on_progress,
                                                 cancel=cancel, compute=self._compute)
        message = report.message
        if report.fix and report.fix not in message:
            message = f"{message} {report.fix}".strip()
        return Outcome(meeting_id, report.status, message)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Cancel what runs (it resumes next start) and stop the worker."""
        with self._lock:
            events = list(self._cancels.values())
            worker = self._worker
        for event in events:
            event.set()
        self._queue.put(None)
        if worker is not None:
            worker.join(timeout_s)
        self._compute.shutdown(wait=False)
