"""What the user sees while meetings are processed: a row per file in the import queue, the
stage and percent beside the meeting in the list, and a notification when one is ready or
needs attention."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow
    from app.ui.processing import Outcome


def show_processing(window: MainWindow) -> None:
    """Connect the window's ProcessingQueue to its views."""
    w, queue = window, window.queue

    def added(path: str, meeting_id: str) -> None:
        w.import_queue.add_meeting(path, meeting_id)
        w.reload()

    def started(meeting_id: str) -> None:
        # One row changes state: updated in place rather than re-read and reset (which costs
        # the GUI thread a DB round trip, a model reset and a re-selection as work begins).
        # A filter or search may now include or exclude it: then the list is read again.
        listed = w.meetings.model.set_status(meeting_id, "processing")
        if not listed or w.meetings.status_filter() is not None or w.meetings.search_text():
            w.reload()
        elif meeting_id == w.detail.meeting_id:
            w.detail.reload()  # its state line says Processing

    def progress(meeting_id: str, label: str, stage: float, overall: float) -> None:
        w.import_queue.set_progress(meeting_id, label, stage, overall)
        w.meetings.model.set_progress(meeting_id, f"{label} {stage:.0%}")

    def finished(outcome: Outcome) -> None:
        w.import_queue.set_outcome(outcome)
        w.meetings.model.set_progress(outcome.meeting_id, None)
        w.reload()
        if outcome.meeting_id == w.detail.meeting_id:
            w.detail.reload()
        title = next((r.title for r in w.rows if r.id == outcome.meeting_id), "A meeting")
        if outcome.status == "ready":
            w.notify("Meeting ready", f"{title}: notes are ready.")
        elif outcome.status != "queued":
            w.notify("Needs attention", f"{title}: {outcome.message}")

    w.import_queue.cancel_requested.connect(queue.cancel)
    queue.added.connect(added)
    queue.rejected.connect(w.import_queue.add_rejected)
    queue.rejected.connect(lambda _path, reason: w.show_message(reason))
    queue.started.connect(started)
    queue.progress.connect(progress)
    queue.finished.connect(finished)
