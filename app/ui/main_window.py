"""The main window: owns its widgets and wires them to the use cases. Layout and wiring only:
every view lives in its own module, and the helpers (commands, polishing, recording,
processing feedback) are handed the widgets and signals they act on, never the window.

All core work goes through ``ops`` (the use cases, off the GUI thread); what a use case
changed comes back as one ``ops.changed`` signal, and each view decides whether to refresh.
"""

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

from app.actions import Changes
from app.errors import one_line
from app.pipeline.events import Resume
from app.ui.detail.detail_view import DetailView
from app.ui.empty_state import EmptyState
from app.ui.file_drop import FileDrops
from app.ui.icons import app_icon
from app.ui.import_queue import ImportQueue
from app.ui.meeting_commands import MeetingCommands
from app.ui.meeting_list import MeetingList
from app.ui.ops import Ops, on_change
from app.ui.polishing import EmailPolish
from app.ui.processing import MEDIA_SUFFIXES, ProcessingQueue
from app.ui.processing_feedback import show_processing
from app.ui.recording import RecordingController, SourceFactory
from app.ui.settings_dialog import SettingsDialog
from app.ui.status_bar import StatusBar
from app.ui.sync_controller import SyncController, worker_active
from app.ui.tasks import TaskRunner
from app.ui.tray import Tray
from app.ui.warm_up import warm_up_in_background
from app.ui.window_actions import Slots, install_actions
from app.ui.window_state import WindowState

if TYPE_CHECKING:
    from app.actions.queries import Listing, MeetingRow
    from app.container import Container

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, container: Container, *, use_tray: bool = True,
                 probe_local_model: bool = True,
                 audio_source_factory: SourceFactory | None = None) -> None:
        super().__init__()
        self.container = container
        self.setWindowTitle("Recap")
        self.setWindowIcon(app_icon())
        self.tasks = TaskRunner(self)
        self.tasks.on_unhandled_error = lambda exc: self.show_message(one_line(exc))
        self.ops = Ops(self.tasks, container, self)
        settings = lambda: container.settings  # noqa: E731 (the live settings, read each time)
        self.queue = ProcessingQueue(container, self)
        self.sync = SyncController(container, settings, self)
        self.rows: list[MeetingRow] = []
        self.loaded = False  # the first list load arrived
        self._generation = 0  # of list reads: only the newest one is shown
        self.quit_without_asking = False  # True: close without the "still working" prompt
        self._select_after_reload = ""  # a meeting to select once the list has it
        self.settings_dialog: SettingsDialog | None = None

        self.meetings = MeetingList()
        self.detail = DetailView(self.ops)
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
        self.recording = RecordingController(self.ops, settings, self, audio_source_factory)
        layout.addWidget(self.recording.bar)
        layout.addWidget(self.import_queue)
        self.setCentralWidget(central)
        self.status = StatusBar(self.ops, settings, self)
        self.setStatusBar(self.status)
        self.tray = Tray(app_icon(), self) if use_tray else None
        self.commands = MeetingCommands(self.meetings, self.ops, self)
        self.polish = EmailPolish(self.detail.email, self.ops, self)
        self.window_actions = install_actions(self, self.meetings.table, Slots(
            import_files=self.import_dialog, record=self.toggle_recording,
            sync_now=self.sync.sync_now, settings=self.open_settings, quit=self.close,
            find=self.focus_search, rename=self.commands.rename_selected,
            delete=self.commands.delete_selected, undo=self.commands.undo_delete,
            process_again=self.commands.retry_selected, export=self.commands.export_selected))
        self.drops = FileDrops(self)
        self._connect()
        self._reload_timer = QTimer(self, singleShot=True, interval=80)
        self._reload_timer.timeout.connect(self._reload_now)
        self.window_state = WindowState(container.paths.config, self, self.splitter)
        self.window_state.restore()
        self._set_recording_state(False)
        self.recording.offer_recovery()
        self.reload()
        if probe_local_model:
            self.status.refresh()
        # Meetings a quit or a crash interrupted carry on by themselves.
        self.ops.read(lambda uc: uc.meetings.to_resume(Resume.AT_START), self.queue.enqueue_all)
        self.polish.refresh()
        self.sync.restart()
        self.warmed_up = warm_up_in_background()

    def _connect(self) -> None:
        on_change(self.ops, self, self._changed)
        self.meetings.selected.connect(self.detail.show_meeting)
        self.meetings.reload_requested.connect(self.reload)
        self.meetings.search_changed.connect(lambda _text: self.reload())
        self.detail.message.connect(self.show_message)
        self.detail.polish_requested.connect(lambda meeting_id, _body: (
            self.polish.polish(meeting_id)))
        self.polish.message.connect(self.show_message)
        self.commands.message.connect(self.show_message)
        self.commands.undo_available.connect(lambda on: self.window_actions.undo.setEnabled(on))
        self.commands.process_requested.connect(self.process_again)
        self.commands.cancel_requested.connect(self.queue.cancel)
        self.commands.restored.connect(self.select_after_reload)
        self.empty.import_clicked.connect(self.import_dialog)
        self.empty.record_clicked.connect(self.toggle_recording)
        self.drops.dropped.connect(self.import_paths)
        show_processing(self.queue, self.import_queue, self.meetings, self.ops, self.notify,
                        self.show_message)
        self.status.local_model_changed.connect(self.empty.set_local_model)
        self.status.local_model_changed.connect(self._local_model_changed)
        self.sync.status_changed.connect(self.status.show_sync)
        self.sync.status_changed.connect(
            lambda status: self.window_actions.show_sync_available(worker_active(status)))
        self.recording.state_changed.connect(self._set_recording_state)
        self.recording.message.connect(self.show_message)
        self.recording.notify.connect(self.notify)
        self.recording.handed_over.connect(self._recording_handed_over)
        if self.tray is not None:
            self.tray.open_requested.connect(self.bring_to_front)
            self.tray.meeting_requested.connect(self.open_meeting)
            self.tray.quit_requested.connect(self.close)
            self.tray.record_toggled.connect(self.toggle_recording)
            self.recording.hotkey_changed.connect(self.tray.set_global_hotkey)

    # -- the list ------------------------------------------------------------------------
    def _changed(self, changes: Changes) -> None:
        if changes.listing:
            self.reload()

    def reload(self) -> None:
        """Refresh the list soon (calls arriving together make one read)."""
        self._reload_timer.start()

    def _reload_now(self) -> None:
        text = self.meetings.search_text()
        status = self.meetings.status_filter()
        self._generation += 1
        generation = self._generation
        self.ops.read(lambda uc: uc.queries.listing(text=text, status=status),
                      lambda listing: self._show_rows(generation, listing))

    def _show_rows(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return  # a newer read (the user typed on, a meeting finished) is on its way
        rows = listing.rows
        text = self.meetings.search_text()
        self.rows = rows
        self.loaded = True
        self.meetings.set_rows(rows)
        self.stack.setCurrentWidget(self.splitter if listing.any_meeting else self.empty)
        if self.tray is not None and not text:
            self.tray.set_recent(rows)
        wanted, self._select_after_reload = self._select_after_reload, ""
        if wanted and self.meetings.model.row_for(wanted) >= 0:
            self.meetings.select(wanted)
        elif rows and not self.meetings.current_id():
            self.meetings.select(rows[0].id)
        elif self.detail.meeting_id and self.detail.meeting_id in self.queue.pending():
            self.detail.reload()  # its transcript grows while it is processed

    def select_after_reload(self, meeting_id: str) -> None:
        self._select_after_reload = meeting_id
        self.reload()

    def open_meeting(self, meeting_id: str) -> None:
        self.bring_to_front()
        self.meetings.select(meeting_id)

    def focus_search(self) -> None:
        if self.stack.currentWidget() is not self.splitter:
            self.stack.setCurrentWidget(self.splitter)
        self.meetings.search_box.setFocus()
        self.meetings.search_box.selectAll()

    # -- importing and processing ----------------------------------------------------------
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

    def process_again(self, meeting_id: str) -> None:
        self.import_queue.add_meeting("", meeting_id)
        self.queue.enqueue(meeting_id)

    def _local_model_changed(self, available: bool, _reason: str) -> None:
        if available:  # meetings whose notes were waiting for it carry on
            self.ops.read(lambda uc: uc.meetings.to_resume(Resume.ENGINE_BACK),
                          self._process_all_again)

    def _process_all_again(self, meeting_ids: list[str]) -> None:
        for meeting_id in meeting_ids:
            self.process_again(meeting_id)

    # -- recording (app.ui.recording) ----------------------------------------------------
    def _recording_handed_over(self, path: str, meeting_id: str, process_now: bool) -> None:
        self.import_queue.add_meeting(path, meeting_id)
        if process_now:
            self.queue.enqueue(meeting_id)
        else:
            self.import_queue.set_outcome_text(meeting_id, "Recorded (not processed)")

    def _set_recording_state(self, recording: bool) -> None:
        record = self.window_actions.record
        record.setText("Stop &recording" if recording else "&Record")
        record.setToolTip("Start or stop recording (Ctrl+R)")
        if self.tray is not None:
            self.tray.set_record_state(True, recording)

    def toggle_recording(self) -> None:
        self.recording.toggle()

    # -- settings, messages, window ------------------------------------------------------
    def open_settings(self) -> None:
        hotkey = self.recording.global_hotkey
        dialog = SettingsDialog(self.container, self.tasks, self,
                                hotkey_status=hotkey.status if hotkey is not None else "")
        dialog.saved.connect(self._settings_saved)
        dialog.problem.connect(self.show_message)
        dialog.account_changed.connect(self.sync.restart)
        dialog.open()
        self.settings_dialog = dialog

    def _settings_saved(self) -> None:
        self.status.refresh_settings()
        self.status.show_sync(self.sync.status)
        self.status.refresh()
        self.ops.announce(Changes(settings=True))  # e.g. the polish button
        self.sync.settings_changed()  # privacy mode on stops it; new settings restart it
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
        busy = bool(self.queue.pending()) or self.recording.recording
        if busy and self.isVisible() and not self._confirm_quit():
            event.ignore()
            return
        self.detail.email.flush()
        self.sync.shutdown()
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
