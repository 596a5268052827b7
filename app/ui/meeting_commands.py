"""What the user does to the selected meeting from the menus and the keyboard: rename, delete
(and undo it), export, process again. Each runs a use case through ``ops``; the views refresh
from what it changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from app.actions import Changes
from app.errors import one_line
from app.ui.meeting_list import MeetingList
from app.ui.ops import Ops

EXPORT_FORMATS = "Markdown (*.md);;Text (*.txt);;Subtitles (*.srt);;WebVTT (*.vtt);;JSON (*.json)"


class MeetingCommands(QObject):
    message = Signal(str)  # one line for the status bar
    undo_available = Signal(bool)
    process_requested = Signal(str)  # meeting id: "Process again"
    cancel_requested = Signal(str)  # meeting id: it is being deleted
    restored = Signal(str)  # meeting id: select it once the list shows it

    def __init__(self, meetings: MeetingList, ops: Ops, parent: QWidget) -> None:
        super().__init__(parent)
        self.meetings = meetings
        self.ops = ops
        self.parent_widget = parent  # dialogs are shown over it
        self.undo_stack: list[tuple[str, str]] = []  # (meeting id, title) deleted, newest last

    def _selected(self) -> tuple[str, str] | None:
        meeting_id = self.meetings.current_id()
        row = next((r for r in self.meetings.model.rows if r.id == meeting_id), None)
        return (row.id, row.title) if row is not None else None

    def _failed(self, exc: BaseException) -> None:
        self.message.emit(one_line(exc))

    def retry_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        if meeting_id:
            self.process_requested.emit(meeting_id)

    def rename_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        meeting_id, old = selected
        title, ok = QInputDialog.getText(self.parent_widget, "Rename meeting", "Title:",
                                         text=old)
        if ok and title.strip() and title.strip() != old:
            self.ops.change(lambda uc: uc.meetings.rename(meeting_id, title), failed=self._failed)

    def delete_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        meeting_id, title = selected
        self.cancel_requested.emit(meeting_id)

        def deleted(_changes: Changes) -> None:
            self.undo_stack.append((meeting_id, title))
            self.undo_available.emit(True)
            self.message.emit(f"Deleted “{title}”. Press Ctrl+Z to undo.")

        self.ops.change(lambda uc: uc.meetings.delete(meeting_id), deleted, self._failed)

    def undo_delete(self) -> None:
        if not self.undo_stack:
            return
        meeting_id, title = self.undo_stack.pop()
        self.undo_available.emit(bool(self.undo_stack))

        def done(_changes: Changes) -> None:
            self.message.emit(f"Restored “{title}”.")
            self.restored.emit(meeting_id)

        self.ops.change(lambda uc: uc.meetings.restore(meeting_id), done, self._failed)

    def export_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        if not meeting_id:
            return
        name, _chosen = QFileDialog.getSaveFileName(
            self.parent_widget, "Export meeting", str(Path.home() / "meeting.md"), EXPORT_FORMATS
        )
        if not name:
            return
        target = Path(name)
        self.ops.read(lambda uc: uc.meetings.export_to(meeting_id, target),
                      lambda path: self.message.emit(f"Exported to {path}."), self._failed)
