"""One meeting: a title line and the tabs. Loads off the GUI thread; saves edits off it too.

The view keeps the id of the meeting it shows; every edit carries that id with it, so a save
that lands after the user moved on still goes to the right meeting. It reads and edits through
the use cases (``ops``), and shows a meeting afresh when a change made elsewhere touches it (a
meeting finished, the email was polished).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.actions import Changes, UseCases
from app.errors import one_line
from app.formatting import duration, local_date_time
from app.ui.detail.action_items_tab import ActionItemsTab
from app.ui.detail.details_tab import DetailsTab
from app.ui.detail.email_tab import EmailTab
from app.ui.detail.summary_tab import SummaryTab
from app.ui.detail.transcript_tab import TranscriptTab
from app.ui.meeting_list import STATE_LABELS
from app.ui.ops import Ops, on_change
from app.ui.plain_text import plain_label
from app.ui.player import SegmentPlayer

if TYPE_CHECKING:
    from app.actions.queries import MeetingDetail, MeetingFacts


class DetailView(QWidget):
    message = Signal(str)  # one line for the status bar
    polish_requested = Signal(str, str)  # meeting id, body

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
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
        self.action_items = ActionItemsTab()
        self.summary = SummaryTab()
        self.email = EmailTab()
        self.details = DetailsTab()
        self.tabs.addTab(self.transcript, "Transcript")
        self.tabs.addTab(self.action_items, "Action items")
        self.tabs.addTab(self.summary, "Summary && decisions")
        self.tabs.addTab(self.email, "Email")
        self.tabs.addTab(self.details, "Details")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.tabs, 1)

        self.transcript.play_requested.connect(self._play)
        self.transcript.text_edited.connect(self._save_segment)
        self.action_items.edited.connect(self._save_item)
        self.action_items.add_requested.connect(self._add_item)
        self.action_items.quote_requested.connect(self._show_quote)
        self.action_items.invalid_input.connect(self.message)
        self.email.save_requested.connect(self._save_email)
        self.email.polish_requested.connect(
            lambda body: self.polish_requested.emit(self.meeting_id, body))
        self.details.local_only_changed.connect(self._save_local_only)
        on_change(ops, self, self._changed_elsewhere)

    # -- loading -------------------------------------------------------------------------
    def show_meeting(self, meeting_id: str, *, replace_email: bool = False) -> None:
        if meeting_id != self.meeting_id:
            self.email.flush()
            self.player.stop()
        self.meeting_id = meeting_id
        if not meeting_id:
            self.detail = None
            return

        def load(uc: UseCases) -> tuple[MeetingDetail, MeetingFacts]:
            return uc.queries.detail(meeting_id), uc.queries.facts(meeting_id)

        self.ops.read(load, lambda result: self._loaded(result, replace_email),
                      lambda exc: self.message.emit(one_line(exc)))

    def reload(self) -> None:
        if self.meeting_id:
            self.show_meeting(self.meeting_id)

    def _changed_elsewhere(self, changes: Changes) -> None:
        if changes.detail and changes.touches(self.meeting_id):
            self.show_meeting(self.meeting_id, replace_email=changes.draft_replaced)

    def _loaded(self, result: tuple[MeetingDetail, MeetingFacts],
                replace_email: bool = False) -> None:
        detail, facts = result
        if detail.row.id != self.meeting_id:
            return  # the user moved on while it loaded
        first_show = replace_email or self.detail is None or self.detail.row.id != detail.row.id
        self.detail = detail
        row = detail.row
        self.title.setText(row.title)
        state = STATE_LABELS.get(row.status, row.status)
        line = f"{local_date_time(row.occurred_at)} · {duration(row.duration_s)} · {state}"
        if row.error:
            line += f" — {row.error}"
        for note in detail.notes:  # e.g. the audio file ends early
            line += f"\n{note}"
        self.subtitle.setText(line)
        self.transcript.show_segments(detail.segments)
        self.action_items.show_items(detail.action_items)
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

    def _save(self, work: Callable[[UseCases], Changes], done_message: str = "") -> None:
        """An edit made here: it is shown already, so only the other views may refresh."""
        self.ops.change(work, lambda _changes: self.message.emit(done_message)
                        if done_message else None,
                        lambda exc: self.message.emit(one_line(exc)), initiator=self)

    def _save_segment(self, segment_id: str, text: str) -> None:
        self._save(lambda uc: uc.edits.segment_text(segment_id, text), "Transcript saved.")

    def _save_item(self, item_id: str, changes: dict[str, Any]) -> None:
        due: Any = changes.get("due_date", ...)
        kwargs: dict[str, Any] = {k: v for k, v in changes.items() if k != "due_date"}
        if due is not ...:
            kwargs["due_date"] = due if isinstance(due, date) or due is None else None
        self._save(lambda uc: uc.edits.action_item(item_id, **kwargs), "Action item saved.")

    def _add_item(self, text: str) -> None:
        meeting_id = self.meeting_id
        if meeting_id:  # a new row to show: this view refreshes too, like any other
            self.ops.change(lambda uc: uc.edits.add_action_item(meeting_id, text),
                            failed=lambda exc: self.message.emit(one_line(exc)))

    def _save_email(self, subject: str, body: str, recipients: str) -> None:
        meeting_id = self.meeting_id
        if meeting_id:
            self._save(lambda uc: uc.edits.email_draft(meeting_id, subject=subject, body=body,
                                                      recipients=recipients))

    def _save_local_only(self, local_only: bool) -> None:
        meeting_id = self.meeting_id
        self._save(lambda uc: uc.edits.keep_on_device(meeting_id, local_only),
                   "Kept on this device only." if local_only else "Will sync with your account.")
