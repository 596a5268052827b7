"""The main window: wires the views to the core. Layout and wiring only — every view lives in
its own module, every slow call goes through the TaskRunner or the ProcessingQueue."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.detail.detail_view import DetailView
from app.ui.empty_state import EmptyState
from app.ui.icons import app_icon
from app.ui.import_queue import ImportQueue
from app.ui.meeting_list import MeetingList
from app.ui.processing import MEDIA_SUFFIXES, Outcome, ProcessingQueue
from app.ui.status_bar import StatusBar
from app.ui.tasks import TaskRunner, human_error
from app.ui.tray import Tray

if TYPE_CHECKING:
    from app.container import Container
    from app.store.queries import MeetingRow
    from app.ui.recording import RecordingController, SourceFactory

log = logging.getLogger(__name__)

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
RECORD_MISSING = "Recording arrives with the recorder (issue 7)."


# What processing a first file imports. Importing holds the GIL and per-module import locks
# for long stretches (the Anthropic SDK alone takes seconds on a busy machine), so doing it on
# a worker while the window opens keeps it from stalling the GUI when the first file arrives.
WARM_UP_MODULES = ("app.store.queries", "app.store.edits", "app.store.meeting_facts",
                   "app.pipeline.runner", "app.pipeline.transcribe_stages", "app.audio.decode",
                   "app.transcribe.engine", "app.transcribe.model_store", "app.llm.services",
                   "app.llm.stages", "app.llm.polish", "app.export")


def warm_up_in_background() -> threading.Event:
    done = threading.Event()

    def work() -> None:
        import importlib

        for name in WARM_UP_MODULES:
            try:
                importlib.import_module(name)
            except ImportError as exc:  # an optional part missing: its feature says so later
                log.info("warm-up: %s not importable: %s", name, exc)
        done.set()

    threading.Thread(target=work, name="recap-warm-up", daemon=True).start()
    return done


def dropped_files(event: Any) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class MainWindow(QMainWindow):
    def __init__(self, container: Container, *, use_tray: bool = True,
                 probe_local_model: bool = True,
                 audio_source_factory: SourceFactory | None = None) -> None:
        super().__init__()
        self.container = container
        self.setWindowTitle("Recap")
        self.setWindowIcon(app_icon())
        self.tasks = TaskRunner(self)
        self.tasks.on_unhandled_error = lambda exc: self.show_message(human_error(exc))
        self.queue = ProcessingQueue(container, self)
        self.undo_stack: list[tuple[str, str]] = []  # (meeting id, title) deleted, newest last
        self.rows: list[MeetingRow] = []
        self.loaded = False  # the first list load arrived
        self._generation = 0  # of list reads: only the newest one is shown
        self.quit_without_asking = False  # True: close without the "still working" prompt
        self._select_after_reload = ""  # a meeting to select once the list has it

        self.meetings = MeetingList()
        self.detail = DetailView(container, self.tasks)
        self.empty = EmptyState(app_icon())
        self.import_queue = ImportQueue()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.meetings)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([470, 700])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.stack, 1)
        self._bottom = layout
        layout.addWidget(self.import_queue)
        self.setCentralWidget(central)
        self.status = StatusBar(container, self.tasks, self)
        self.setStatusBar(self.status)
        self.tray = Tray(app_icon(), self) if use_tray else None
        self._build_actions()
        self._connect()

        self.setAcceptDrops(True)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._reload_timer = QTimer(self, singleShot=True, interval=80)
        self._reload_timer.timeout.connect(self._reload_now)
        self.window_settings = QSettings(str(container.paths.config / "window.ini"),
                                         QSettings.Format.IniFormat)
        self._restore_geometry()
        self.recording: RecordingController | None = None
        self._setup_recording(audio_source_factory)
        self.reload()
        if probe_local_model:
            self.status.refresh()
        self._resume_interrupted()
        self._refresh_polish()
        self.warmed_up = warm_up_in_background()

    def _refresh_polish(self) -> None:
        from app.ui.polishing import refresh_polish_button

        refresh_polish_button(self)

    # -- construction --------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        self.import_action = self._action("&Import recordings…", self.import_dialog,
                                          QKeySequence.StandardKey.Open)
        self.record_action = self._action("&Record", self.toggle_recording, "Ctrl+R")
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.find_action = self._action("&Find", self.focus_search, QKeySequence.StandardKey.Find)
        self.rename_action = self._action("Re&name…", self.rename_selected, "F2")
        self.delete_action = self._action("&Delete", self.delete_selected,
                                          QKeySequence.StandardKey.Delete)
        self.undo_action = self._action("&Undo delete", self.undo_delete,
                                        QKeySequence.StandardKey.Undo)
        self.retry_action = self._action("&Process again", self.retry_selected)
        self.export_action = self._action("&Export…", self.export_selected, "Ctrl+E")
        self.undo_action.setEnabled(False)
        # Delete and F2 belong to the list; in a text field they edit text.
        for action in (self.delete_action, self.rename_action):
            self.removeAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.meetings.table.addAction(action)
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.import_action, self.record_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        for action in (self.find_action, self.rename_action, self.delete_action,
                       self.undo_action, self.retry_action):
            edit_menu.addAction(action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.import_action)
        toolbar.addAction(self.record_action)
        toolbar.addAction(self.settings_action)

    def _connect(self) -> None:
        self.meetings.selected.connect(self.detail.show_meeting)
        self.meetings.reload_requested.connect(self.reload)
        self.meetings.search_changed.connect(lambda _text: self.reload())
        self.detail.message.connect(self.show_message)
        self.detail.changed.connect(lambda _id: self.reload())
        self.detail.polish_requested.connect(self.polish_email)
        self.empty.import_clicked.connect(self.import_dialog)
        self.empty.record_clicked.connect(self.toggle_recording)
        self.import_queue.cancel_requested.connect(self.queue.cancel)
        self.queue.added.connect(self._file_added)
        self.queue.rejected.connect(self.import_queue.add_rejected)
        self.queue.rejected.connect(lambda _p, reason: self.show_message(reason))
        self.queue.started.connect(lambda _id: self.reload())
        self.queue.progress.connect(self._progress)
        self.queue.finished.connect(self._finished)
        self.status.local_model_changed.connect(self.empty.set_local_model)
        self.status.local_model_changed.connect(self._local_model_changed)
        if self.tray is not None:
            self.tray.open_requested.connect(self.bring_to_front)
            self.tray.meeting_requested.connect(self.open_meeting)
            self.tray.quit_requested.connect(self.close)
            self.tray.record_toggled.connect(self.toggle_recording)

    # -- the list ------------------------------------------------------------------------
    def reload(self) -> None:
        """Refresh the list soon (calls arriving together make one read)."""
        self._reload_timer.start()

    def _reload_now(self) -> None:
        container = self.container
        text = self.meetings.search_text()
        status = self.meetings.status_filter()
        self._generation += 1
        generation = self._generation

        def load() -> tuple[int, list[MeetingRow], bool]:
            from app.store.queries import list_meetings, search_meeting_ids

            db = container.db
            rows = list_meetings(db, status=status)
            if text:
                wanted = set(search_meeting_ids(db, text))
                rows = [r for r in rows if r.id in wanted]
            any_meeting = bool(rows) or bool(text) or status is not None or bool(
                list_meetings(db, limit=1))
            return generation, rows, any_meeting

        self.tasks.submit(load, self._show_rows)

    def _show_rows(self, result: tuple[int, list[MeetingRow], bool]) -> None:
        generation, rows, any_meeting = result
        if generation != self._generation:
            return  # a newer read (the user typed on, a meeting finished) is on its way
        text = self.meetings.search_text()
        self.rows = rows
        self.loaded = True
        self.meetings.set_rows(rows)
        self.stack.setCurrentWidget(self.splitter if any_meeting else self.empty)
        if self.tray is not None and not text:
            self.tray.set_recent(rows)
        wanted, self._select_after_reload = self._select_after_reload, ""
        if wanted and self.meetings.model.row_for(wanted) >= 0:
            self.meetings.select(wanted)
        elif rows and not self.meetings.current_id():
            self.meetings.select(rows[0].id)
        elif self.detail.meeting_id and self.detail.meeting_id in self.queue.pending():
            self.detail.reload()

    def open_meeting(self, meeting_id: str) -> None:
        self.bring_to_front()
        self.meetings.select(meeting_id)

    # -- importing -----------------------------------------------------------------------
    def import_paths(self, paths: list[Path]) -> None:
        if paths:
            self.queue.add_files(paths)
            self.show_message(f"Adding {len(paths)} file(s)…")

    def import_dialog(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(MEDIA_SUFFIXES))
        names, _filter = QFileDialog.getOpenFileNames(
            self, "Import recordings", str(Path.home()),
            f"Audio and video ({patterns});;All files (*)")
        self.import_paths([Path(n) for n in names])

    def _file_added(self, path: str, meeting_id: str) -> None:
        self.import_queue.add_meeting(path, meeting_id)
        self.reload()

    def _progress(self, meeting_id: str, label: str, stage: float, overall: float) -> None:
        self.import_queue.set_progress(meeting_id, label, stage, overall)
        self.meetings.model.set_progress(meeting_id, f"{label} {stage:.0%}")

    def _finished(self, outcome: Outcome) -> None:
        self.import_queue.set_outcome(outcome)
        self.meetings.model.set_progress(outcome.meeting_id, None)
        self.reload()
        if outcome.meeting_id == self.detail.meeting_id:
            self.detail.reload()
        title = next((r.title for r in self.rows if r.id == outcome.meeting_id), "A meeting")
        if outcome.status == "ready":
            self.notify("Meeting ready", f"{title}: notes are ready.")
        elif outcome.status != "queued":
            self.notify("Needs attention", f"{title}: {outcome.message}")

    def _resume_interrupted(self) -> None:
        """Meetings a quit or crash interrupted carry on; those waiting for a model do when
        the model is back (see _local_model_changed)."""
        container = self.container

        def find() -> list[str]:
            from app.store.models import MeetingStatus
            from app.store.queries import list_meetings

            return [r.id for r in list_meetings(container.db) if r.status in
                    (MeetingStatus.QUEUED.value, MeetingStatus.PROCESSING.value)]

        self.tasks.submit(find, lambda ids: [self.queue.enqueue(i) for i in ids])

    def _local_model_changed(self, available: bool, _reason: str) -> None:
        """The local model is back: meetings whose notes were waiting for it carry on."""
        if not available:
            return
        container = self.container

        def find() -> list[str]:
            from app.store.meeting_facts import waiting_meeting_ids

            return waiting_meeting_ids(container.db)

        def resume(ids: list[str]) -> None:
            for meeting_id in ids:
                self.import_queue.add_meeting("", meeting_id)
                self.queue.enqueue(meeting_id)

        self.tasks.submit(find, resume)

    def retry_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        if meeting_id:
            self.import_queue.add_meeting("", meeting_id)
            self.queue.enqueue(meeting_id)

    # -- editing the list ----------------------------------------------------------------
    def focus_search(self) -> None:
        if self.stack.currentWidget() is not self.splitter:
            self.stack.setCurrentWidget(self.splitter)
        self.meetings.search_box.setFocus()
        self.meetings.search_box.selectAll()

    def rename_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        row = next((r for r in self.rows if r.id == meeting_id), None)
        if row is None:
            return
        title, ok = QInputDialog.getText(self, "Rename meeting", "Title:", text=row.title)
        if ok and title.strip() and title.strip() != row.title:
            from app.store.queries import rename_meeting

            c = self.container
            self.tasks.submit(lambda: rename_meeting(c.db, meeting_id, title),
                              lambda _r: (self.reload(), self.detail.reload()),
                              lambda exc: self.show_message(human_error(exc)))

    def delete_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        row = next((r for r in self.rows if r.id == meeting_id), None)
        if row is None:
            return
        from app.store.queries import delete_meeting

        self.queue.cancel(meeting_id)
        c = self.container

        def deleted(_r: object) -> None:
            self.undo_stack.append((meeting_id, row.title))
            self.undo_action.setEnabled(True)
            self.show_message(f"Deleted “{row.title}”. Press Ctrl+Z to undo.")
            self.detail.show_meeting("")
            self.reload()

        self.tasks.submit(lambda: delete_meeting(c.db, meeting_id), deleted,
                          lambda exc: self.show_message(human_error(exc)))

    def undo_delete(self) -> None:
        if not self.undo_stack:
            return
        meeting_id, title = self.undo_stack.pop()
        self.undo_action.setEnabled(bool(self.undo_stack))
        from app.store.queries import restore_meeting

        c = self.container

        def restored(_r: object) -> None:
            self.show_message(f"Restored “{title}”.")
            self._select_after_reload = meeting_id
            self.reload()

        self.tasks.submit(lambda: restore_meeting(c.db, meeting_id), restored,
                          lambda exc: self.show_message(human_error(exc)))

    def export_selected(self) -> None:
        meeting_id = self.meetings.current_id()
        if not meeting_id:
            return
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export meeting", str(Path.home() / "meeting.md"),
            "Markdown (*.md);;Text (*.txt);;Subtitles (*.srt);;WebVTT (*.vtt);;JSON (*.json)")
        if not name:
            return
        c, target = self.container, Path(name)
        fmt = target.suffix.lstrip(".").lower() or "md"

        def write() -> Path:
            from app.export import export
            from app.store.queries import meeting_detail

            target.write_text(export(meeting_detail(c.db, meeting_id), fmt), encoding="utf-8")
            return target

        self.tasks.submit(write,
                          lambda path: self.show_message(f"Exported to {path}."),
                          lambda exc: self.show_message(human_error(exc)))

    # -- email polish --------------------------------------------------------------------
    def polish_email(self, meeting_id: str, _body: str) -> None:
        from app.ui.polishing import run_polish

        run_polish(self, meeting_id)

    # -- recording (app.ui.recording, when the recorder is installed) ----------------------
    def _setup_recording(self, factory: SourceFactory | None) -> None:
        from app.ui.recording import RecordingController, recorder_installed

        if not recorder_installed():
            self.set_recording_available(False, RECORD_MISSING)
            return
        self.recording = RecordingController(self, factory)
        self._bottom.insertWidget(1, self.recording.bar)
        self.recording.state_changed.connect(self._recording_changed)
        self.set_recording_available(True)
        self.recording.offer_recovery()

    def _recording_changed(self, recording: bool) -> None:
        self.record_action.setText("Stop &recording" if recording else "&Record")
        if self.tray is not None:
            self.tray.set_record_state(True, recording)

    def set_recording_available(self, available: bool, why_not: str = "") -> None:
        self.record_action.setEnabled(available)
        self.record_action.setToolTip("Start or stop recording (Ctrl+R)" if available
                                      else why_not)
        self.empty.set_record_available(available, why_not)
        if self.tray is not None:
            self.tray.set_record_state(available, False, why_not)

    def toggle_recording(self) -> None:
        if self.recording is not None:
            self.recording.toggle()

    # -- settings, messages, window ------------------------------------------------------
    def open_settings(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.container, self.tasks, self)
        dialog.saved.connect(self._settings_saved)
        dialog.open()
        self.settings_dialog = dialog

    def _settings_saved(self) -> None:
        self.status.refresh_settings()
        self.status.refresh()
        self._refresh_polish()
        self.show_message("Settings saved.")

    def show_message(self, text: str) -> None:
        self.status.showMessage(text, 8000)

    def notify(self, title: str, text: str) -> None:
        if self.tray is None or not self.tray.notify(title, text):
            self.show_message(f"{title}: {text}")

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Files dropped anywhere on the window (text fields included) become meetings."""
        if event.type() in _DRAG_EVENTS and isinstance(watched, QWidget) \
                and watched.window() is self:
            files = dropped_files(event)
            if files:
                if event.type() == QEvent.Type.Drop:
                    assert isinstance(event, QDropEvent)
                    self.import_paths(files)
                event.acceptProposedAction()  # type: ignore[attr-defined]
                return True
        return super().eventFilter(watched, event)

    def _restore_geometry(self) -> None:
        geometry = self.window_settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        splitter = self.window_settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_geometry(self) -> None:
        self.window_settings.setValue("geometry", self.saveGeometry())
        self.window_settings.setValue("splitter", self.splitter.saveState())
        self.window_settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        busy = bool(self.queue.pending()) or (self.recording is not None
                                              and self.recording.recording)
        if busy and self.isVisible() and not self._confirm_quit():
            event.ignore()
            return
        self.detail.email.flush()
        if self.recording is not None:
            self.recording.shutdown()
        self.save_geometry()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.status.stop()
        self.queue.shutdown()
        self.tasks.shutdown()
        self.detail.player.stop()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)

    def _confirm_quit(self) -> bool:
        if self.quit_without_asking:
            return True
        answer = QMessageBox.question(
            self, "Quit Recap?",
            "Recap is still recording or processing. Quit anyway? A recording is saved as it "
            "is, and processing continues where it stopped next time you open Recap.")
        return answer == QMessageBox.StandardButton.Yes
