"""What the user does to the selected meeting from the menus and the keyboard: search, rename,
delete (and undo it), export, process again. Store calls run through the window's TaskRunner."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.errors import one_line

if TYPE_CHECKING:
    from app.store.queries import MeetingRow
    from app.ui.main_window import MainWindow

EXPORT_FORMATS = "Markdown (*.md);;Text (*.txt);;Subtitles (*.srt);;WebVTT (*.vtt);;JSON (*.json)"


class MeetingCommands:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.undo_stack: list[tuple[str, str]] = []  # (meeting id, title) deleted, newest last

    def _selected(self) -> MeetingRow | None:
        meeting_id = self.window.meetings.current_id()
        return next((r for r in self.window.rows if r.id == meeting_id), None)

    def _failed(self, exc: BaseException) -> None:
        self.window.show_message(one_line(exc))

    def focus_search(self) -> None:
        w = self.window
        if w.stack.currentWidget() is not w.splitter:
            w.stack.setCurrentWidget(w.splitter)
        w.meetings.search_box.setFocus()
        w.meetings.search_box.selectAll()

    def retry_selected(self) -> None:
        meeting_id = self.window.meetings.current_id()
        if meeting_id:
            self.window.import_queue.add_meeting("", meeting_id)
            self.window.queue.enqueue(meeting_id)

    def rename_selected(self) -> None:
        w, row = self.window, self._selected()
        if row is None:
            return
        title, ok = QInputDialog.getText(w, "Rename meeting", "Title:", text=row.title)
        if ok and title.strip() and title.strip() != row.title:
            from app.store.queries import rename_meeting

            c, meeting_id = w.container, row.id

            def renamed(_r: object) -> None:
                w.reload()
                w.detail.reload()

            w.tasks.submit(lambda: rename_meeting(c.db, meeting_id, title), renamed, self._failed)

    def delete_selected(self) -> None:
        w, row = self.window, self._selected()
        if row is None:
            return
        from app.store.queries import delete_meeting

        w.queue.cancel(row.id)
        c = w.container

        def deleted(_r: object) -> None:
            self.undo_stack.append((row.id, row.title))
            w.undo_action.setEnabled(True)
            w.show_message(f"Deleted “{row.title}”. Press Ctrl+Z to undo.")
            w.detail.show_meeting("")
            w.reload()

        w.tasks.submit(lambda: delete_meeting(c.db, row.id), deleted, self._failed)

    def undo_delete(self) -> None:
        w = self.window
        if not self.undo_stack:
            return
        meeting_id, title = self.undo_stack.pop()
        w.undo_action.setEnabled(bool(self.undo_stack))
        from app.store.queries import restore_meeting

        c = w.container

        def restored(_r: object) -> None:
            w.show_message(f"Restored “{title}”.")
            w.select_after_reload(meeting_id)

        w.tasks.submit(lambda: restore_meeting(c.db, meeting_id), restored, self._failed)

    def export_selected(self) -> None:
        w = self.window
        meeting_id = w.meetings.current_id()
        if not meeting_id:
            return
        name, _chosen = QFileDialog.getSaveFileName(
            w, "Export meeting", str(Path.home() / "meeting.md"), EXPORT_FORMATS
        )
        if not name:
            return
        c, target = w.container, Path(name)
        fmt = target.suffix.lstrip(".").lower() or "md"

        def write() -> Path:
            from app.export import export
            from app.store.queries import meeting_detail

            target.write_text(export(meeting_detail(c.db, meeting_id), fmt), encoding="utf-8")
            return target

        w.tasks.submit(write, lambda path: w.show_message(f"Exported to {path}."), self._failed)
