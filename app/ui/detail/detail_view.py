"""One meeting: a title line and the tabs. Loads off the GUI thread; saves edits off it too.

The view keeps the id of the meeting it shows; every edit carries that id with it, so a save
that lands after the user moved on still goes to the right meeting.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.ui.detail.action_items_tab import ActionItemsTab
from app.ui.detail.details_tab import DetailsTab
from app.ui.detail.email_tab import EmailTab
from app.ui.detail.summary_tab import SummaryTab
from app.ui.detail.transcript_tab import TranscriptTab
from app.ui.meeting_list import STATE_LABELS, format_duration, format_when
from app.ui.plain_text import plain_label
from app.ui.player import SegmentPlayer
from app.ui.tasks import TaskRunner, human_error

if TYPE_CHECKING:
    from app.container import Container
    from app.store.meeting_facts import MeetingFacts
    from app.store.queries import MeetingDetail


class DetailView(QWidget):
    message = Signal(str)  # one line for the status bar
    changed = Signal(str)  # meeting id whose list row may need a refresh
    polish_requested = Signal(str, str)  # meeting id, body

    def __init__(self, container: Container, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.container = container
        self.tasks = tasks
        self.player = SegmentPlayer(self)
        self.meeting_id = ""
        self.detail: MeetingDetail | None = None
        self.title = plain_label()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = plain_label()
        self.subtitle.setWordWrap(True)
        self.tabs = QTabWidget()
        self.transcript = TranscriptTab()
        self.actions = ActionItemsTab()
        self.summary = SummaryTab()
        self.email = EmailTab()
        self.details = DetailsTab()
        self.tabs.addTab(self.transcript, "Transcript")
        self.tabs.addTab(self.actions, "Action items")
        self.tabs.addTab(self.summary, "Summary && decisions")
        self.tabs.addTab(self.email, "Email")
        self.tabs.addTab(self.details, "Details")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.tabs, 1)

        self.transcript.play_requested.connect(self._play)
        self.transcript.text_edited.connect(self._save_segment)
        self.actions.edited.connect(self._save_item)
        self.actions.add_requested.connect(self._add_item)
        self.actions.quote_requested.connect(self._show_quote)
        self.actions.invalid_input.connect(self.message)
        self.email.save_requested.connect(self._save_email)
        self.email.polish_requested.connect(
            lambda body: self.polish_requested.emit(self.meeting_id, body))
        self.details.local_only_changed.connect(self._save_local_only)

    # -- loading -------------------------------------------------------------------------
    def show_meeting(self, meeting_id: str) -> None:
        if meeting_id != self.meeting_id:
            self.email.flush()
            self.player.stop()
        self.meeting_id = meeting_id
        if not meeting_id:
            self.detail = None
            return
        container = self.container

        def load() -> tuple[MeetingDetail, MeetingFacts]:
            from app.store.meeting_facts import meeting_facts
            from app.store.queries import meeting_detail

            return (meeting_detail(container.db, meeting_id),
                    meeting_facts(container.db, meeting_id))

        self.tasks.submit(load, self._loaded, lambda exc: self.message.emit(human_error(exc)))

    def reload(self) -> None:
        if self.meeting_id:
            self.show_meeting(self.meeting_id)

    def _loaded(self, result: tuple[MeetingDetail, MeetingFacts]) -> None:
        detail, facts = result
        if detail.row.id != self.meeting_id:
            return  # the user moved on while it loaded
        first_show = self.detail is None or self.detail.row.id != detail.row.id
        self.detail = detail
        row = detail.row
        self.title.setText(row.title)
        state = STATE_LABELS.get(row.status, row.status)
        line = f"{format_when(row.occurred_at)} · {format_duration(row.duration_s)} · {state}"
        if row.error:
            line += f" — {row.error}"
        for note in detail.notes:  # e.g. the audio file ends early
            line += f"\n{note}"
        self.subtitle.setText(line)
        self.transcript.show_segments(detail.segments)
        self.actions.show_items(detail.action_items)
        waiting = next((j.error for j in detail.jobs if j.state != "done" and j.error), "")
        self.summary.show_notes(detail.summary, detail.decisions, detail.notes_model, waiting)
        if first_show or not self.email.body.hasFocus():
            self.email.show_email(detail.email, row.title)
        self.details.show_detail(detail, facts)

    # -- actions -------------------------------------------------------------------------
    def _play(self, start_ms: int) -> None:
        if self.detail is not None and self.detail.source_path:
            self.player.play_from(self.detail.source_path, start_ms)

    def _show_quote(self, start_ms: int) -> None:
        self.tabs.setCurrentWidget(self.transcript)
        self.transcript.reveal(start_ms)
        self._play(start_ms)

    def _save(self, work: Any, done_message: str = "") -> None:
        meeting_id = self.meeting_id

        def finished(_result: object) -> None:
            if done_message:
                self.message.emit(done_message)
            self.changed.emit(meeting_id)

        self.tasks.submit(work, finished, lambda exc: self.message.emit(human_error(exc)))

    def _save_segment(self, segment_id: str, text: str) -> None:
        from app.store.queries import update_segment_text

        c = self.container
        self._save(lambda: update_segment_text(c.db, segment_id, text), "Transcript saved.")

    def _save_item(self, item_id: str, changes: dict[str, Any]) -> None:
        from app.store.edits import update_action_item

        c = self.container
        due: Any = changes.get("due_date", ...)
        kwargs: dict[str, Any] = {k: v for k, v in changes.items() if k != "due_date"}
        if due is not ...:
            kwargs["due_date"] = due if isinstance(due, date) or due is None else None
        self._save(lambda: update_action_item(c.db, item_id, **kwargs), "Action item saved.")

    def _add_item(self, text: str) -> None:
        from app.store.edits import add_action_item

        c, meeting_id = self.container, self.meeting_id
        if meeting_id:
            self.tasks.submit(lambda: add_action_item(c.db, meeting_id, text),
                              lambda _id: self.reload(),
                              lambda exc: self.message.emit(human_error(exc)))

    def _save_email(self, subject: str, body: str, recipients: str) -> None:
        from app.store.edits import save_email_draft

        c, meeting_id = self.container, self.meeting_id
        if meeting_id:
            self.tasks.submit(lambda: save_email_draft(c.db, meeting_id, subject=subject,
                                                       body=body, recipients=recipients),
                              None, lambda exc: self.message.emit(human_error(exc)))

    def _save_local_only(self, local_only: bool) -> None:
        from app.store.edits import set_local_only

        c, meeting_id = self.container, self.meeting_id
        self._save(lambda: set_local_only(c.db, meeting_id, local_only),
                   "Kept on this device only." if local_only else "Will sync with your account.")
