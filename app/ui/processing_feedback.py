"""What the user sees while meetings are processed: a row per file in the import queue, the
stage and percent beside the meeting in the list, and a notification when one is ready or
needs attention. It acts on the views it is given; what a finished meeting changed is
announced through ``ops`` like any other change."""

from __future__ import annotations

from collections.abc import Callable

from app.actions import Changes
from app.ui.import_queue import ImportQueue
from app.ui.meeting_list import MeetingList
from app.ui.ops import Ops
from app.ui.processing import Outcome, ProcessingQueue


def show_processing(queue: ProcessingQueue, import_queue: ImportQueue, meetings: MeetingList,
                    ops: Ops, notify: Callable[[str, str], None],
                    message: Callable[[str], None]) -> None:
    """Connect the processing queue's signals to the views that show them."""

    def added(path: str, meeting_id: str) -> None:
        import_queue.add_meeting(path, meeting_id)
        ops.announce(Changes.meeting(meeting_id, detail=False))

    def started(meeting_id: str) -> None:
        # One row changes state: updated in place rather than re-read and reset (which costs
        # the GUI thread a DB round trip, a model reset and a re-selection as work begins).
        # A filter or search may now include or exclude it: then the list is read again.
        listed = meetings.model.set_status(meeting_id, "processing")
        relisted = not listed or meetings.status_filter() is not None or bool(
            meetings.search_text())
        ops.announce(Changes.meeting(meeting_id, listing=relisted))  # its page says Processing

    def progress(meeting_id: str, label: str, stage: float, overall: float) -> None:
        import_queue.set_progress(meeting_id, label, stage, overall)
        meetings.model.set_progress(meeting_id, f"{label} {stage:.0%}")

    def finished(outcome: Outcome) -> None:
        import_queue.set_outcome(outcome)
        meetings.model.set_progress(outcome.meeting_id, None)
        title = next((r.title for r in meetings.model.rows if r.id == outcome.meeting_id),
                     "A meeting")
        ops.announce(Changes.meeting(outcome.meeting_id))
        if outcome.status == "ready":
            notify("Meeting ready", f"{title}: notes are ready.")
        elif outcome.status != "queued":
            notify("Needs attention", f"{title}: {outcome.message}")

    import_queue.cancel_requested.connect(queue.cancel)
    queue.added.connect(added)
    queue.rejected.connect(import_queue.add_rejected)
    queue.rejected.connect(lambda _path, reason: message(reason))
    queue.started.connect(started)
    queue.progress.connect(progress)
    queue.finished.connect(finished)
