"""The main window: wires the views to the core. Layout and wiring only — every view lives in
its own module, every slow call goes through the TaskRunner or the ProcessingQueue."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import one_line
from app.ui.detail.detail_view import DetailView
from app.ui.empty_state import EmptyState
from app.ui.file_drop import FileDrops
from app.ui.icons import app_icon
from app.ui.import_queue import ImportQueue
from app.ui.meeting_commands import MeetingCommands
from app.ui.meeting_list import MeetingList
from app.ui.processing import MEDIA_SUFFIXES, ProcessingQueue
from app.ui.processing_feedback import show_processing
from app.ui.resume import resume_interrupted, resume_waiting_for_model
from app.ui.status_bar import StatusBar
from app.ui.sync_controller import SyncController, worker_active
from app.ui.tasks import TaskRunner
from app.ui.tray import Tray
from app.ui.warm_up import warm_up_in_background
from app.ui.window_actions import install_actions, show_sync_available
from app.ui.window_state import WindowState

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from app.container import Container
    from app.store.queries import MeetingRow
    from app.ui.recording import RecordingController, SourceFactory

log = logging.getLogger(__name__)

RECORD_MISSING = "Recording arrives with the recorder (issue 7)."


class MainWindow(QMainWindow):
    # Made by install_actions (app.ui.window_actions), with their shortcuts and menus.
    import_action: QAction
    record_action: QAction
    export_action: QAction
    sync_action: QAction
    settings_action: QAction
    quit_action: QAction
    find_action: QAction
    rename_action: QAction
    delete_action: QAction
    undo_action: QAction
    retry_action: QAction

    def __init__(self, container: Container, *, use_tray: bool = True,
                 probe_local_model: bool = True,
                 audio_source_factory: SourceFactory | None = None) -> None:
        super().__init__()
        self.container = container
        self.setWindowTitle("Recap")
        self.setWindowIcon(app_icon())
        self.tasks = TaskRunner(self)
        self.tasks.on_unhandled_error = lambda exc: self.show_message(one_line(exc))
        self.queue = ProcessingQueue(container, self)
        self.sync = SyncController(container, self)
        self.commands = MeetingCommands(self)
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
        install_actions(self)
        self.drops = FileDrops(self)
        self._connect()
        self._reload_timer = QTimer(self, singleShot=True, interval=80)
        self._reload_timer.timeout.connect(self._reload_now)
        self.window_state = WindowState(container.paths.config, self, self.splitter)
        self.window_state.restore()
        self.recording: RecordingController | None = None
        self._setup_recording(audio_source_factory)
        self.reload()
        if probe_local_model:
            self.status.refresh()
        resume_interrupted(self)
        self._refresh_polish()
        self.sync.restart()
        self.warmed_up = warm_up_in_background()

    def _refresh_polish(self) -> None:
        from app.ui.polishing import refresh_polish_button

        refresh_polish_button(self)

    def _connect(self) -> None:
        self.meetings.selected.connect(self.detail.show_meeting)
        self.meetings.reload_requested.connect(self.reload)
        self.meetings.search_changed.connect(lambda _text: self.reload())
        self.detail.message.connect(self.show_message)
        self.detail.changed.connect(lambda _id: self.reload())
        self.detail.polish_requested.connect(self.polish_email)
        self.empty.import_clicked.connect(self.import_dialog)
        self.empty.record_clicked.connect(self.toggle_recording)
        self.drops.dropped.connect(self.import_paths)
        show_processing(self)
        self.status.local_model_changed.connect(self.empty.set_local_model)
        self.status.local_model_changed.connect(self._local_model_changed)
        self.sync.status_changed.connect(self.status.show_sync)
        self.sync.status_changed.connect(
            lambda status: show_sync_available(self, worker_active(status)))
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

    def select_after_reload(self, meeting_id: str) -> None:
        self._select_after_reload = meeting_id
        self.reload()

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

    def _local_model_changed(self, available: bool, _reason: str) -> None:
        if available:  # meetings whose notes were waiting for it carry on
            resume_waiting_for_model(self)

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

        hotkey = self.recording.global_hotkey if self.recording is not None else None
        dialog = SettingsDialog(self.container, self.tasks, self,
                                hotkey_status=hotkey.status if hotkey is not None else "")
        dialog.saved.connect(self._settings_saved)
        dialog.account_changed.connect(self.sync.restart)
        dialog.open()
        self.settings_dialog = dialog

    def _settings_saved(self) -> None:
        self.status.refresh_settings()
        self.status.show_sync(self.sync.status)
        self.status.refresh()
        self._refresh_polish()
        self.sync.settings_changed()  # privacy mode on stops it; new settings restart it
        if self.recording is not None:
            self.recording.apply_global_hotkey()  # the shortcut may have changed or gone off
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

    def save_geometry(self) -> None:
        self.window_state.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        busy = bool(self.queue.pending()) or (self.recording is not None
                                              and self.recording.recording)
        if busy and self.isVisible() and not self._confirm_quit():
            event.ignore()
            return
        self.detail.email.flush()
        self.sync.shutdown()
        if self.recording is not None:
            self.recording.shutdown()
        self.save_geometry()
        self.drops.stop()
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
