"""Recording in the window: the record button (Ctrl+R), the tray's quick record, the global
shortcut (Ctrl+Alt+R from any program, where the desktop allows it), a live level meter with the
elapsed time, and the hand-over to the pipeline when it stops. On start it offers recordings a
crash cut off (nothing is deleted without the user saying so).

The recorder's callbacks run on its writer thread; they become Qt signals here. Starting and
stopping (opening the device, finalising the file) run on worker threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.ui.plain_text import plain_label
from app.ui.tasks import human_error

if TYPE_CHECKING:
    from app.audio.recorder import LevelReading, Recorder, RecordingResult
    from app.audio.sources import AudioSource
    from app.ui.global_hotkey import GlobalHotkey
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

METER_FLOOR_DBFS = -60.0
SourceFactory = Callable[[], "AudioSource"]


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class RecordingBar(QWidget):
    """A red dot, the elapsed time, the level meter and a stop button."""

    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dot = QLabel("<span style='color:#d33;font-size:16px'>●</span> Recording")
        self.elapsed = QLabel("0:00:00")
        self.meter = QProgressBar()
        self.meter.setRange(int(METER_FLOOR_DBFS), 0)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Input level")
        self.warning = plain_label()
        self.warning.setStyleSheet("color: #c0392b;")
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.dot)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.meter, 1)
        layout.addWidget(self.warning)
        layout.addWidget(self.stop_button)
        self.setVisible(False)

    def show_level(self, reading: LevelReading) -> None:
        self.elapsed.setText(clock(reading.elapsed_s))
        self.meter.setValue(int(max(METER_FLOOR_DBFS, min(0.0, reading.rms_dbfs))))
        if reading.no_signal:
            self.warning.setText("No signal: is the microphone muted or blocked?")
        elif reading.overflows:
            self.warning.setText(f"{reading.overflows} short gap(s)")
        else:
            self.warning.setText("")


class _Relay(QObject):
    level = Signal(object)  # LevelReading
    error = Signal(object)  # RecordingError


def default_source_factory(window: MainWindow) -> SourceFactory:
    def make() -> AudioSource:
        from app.audio.sources import SoundDeviceSource

        return SoundDeviceSource(window.container.settings.recording.input_device)

    return make


class RecordingController(QObject):
    state_changed = Signal(bool)  # recording?
    handed_over = Signal(str)  # meeting id of a finished recording

    def __init__(self, window: MainWindow, source_factory: SourceFactory | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.source_factory = source_factory or default_source_factory(window)
        self.recorder: Recorder | None = None
        self.busy = False  # starting or stopping
        self.global_hotkey: GlobalHotkey | None = None
        self._by_hotkey = False  # the pending start/stop came from the global shortcut
        self.bar = RecordingBar()
        self._relay = _Relay(self)
        self._relay.level.connect(self.bar.show_level)
        self._relay.error.connect(self._recorder_error)
        self.bar.stop_clicked.connect(self.stop)

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def toggle(self) -> None:
        if self.busy:
            return
        if self.recorder is None:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        self.busy = True
        folder = self.window.container.paths.recordings
        relay, factory = self._relay, self.source_factory

        def work() -> Recorder:
            from app.audio.recorder import Recorder

            recorder = Recorder(factory(), folder, on_level=relay.level.emit,
                                on_error=relay.error.emit)
            recorder.start()
            return recorder

        self.window.tasks.submit(work, self._started, self._failed)

    def _started(self, recorder: Recorder) -> None:
        self.busy = False
        self.recorder = recorder
        self.bar.elapsed.setText("0:00:00")
        self.bar.warning.setText("")
        self.bar.setVisible(True)
        self.state_changed.emit(True)
        self.window.show_message(f"Recording from {recorder.source.device_name}.")
        if self._by_hotkey and self.global_hotkey is not None:
            # Started from another program: the window may be hidden, so say it on the
            # desktop (the status bar when there is no tray).
            self._by_hotkey = False
            self.window.notify("Recap", f"Recording from {recorder.source.device_name}. "
                                        f"{self.global_hotkey.text} stops it.")

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self._by_hotkey = False
        self.bar.setVisible(False)
        self.recorder = None
        self.state_changed.emit(False)
        self.window.show_message(human_error(exc))

    def _recorder_error(self, error: Any) -> None:
        """The recording ended by itself (device unplugged, disk full): keep what we have."""
        self.window.show_message(human_error(error))
        if self.recorder is not None and not self.busy:
            self.stop()

    def stop(self) -> None:
        recorder = self.recorder
        if recorder is None or self.busy:
            return
        self.busy = True
        self.bar.stop_button.setEnabled(False)
        container = self.window.container
        record_only = container.settings.recording.record_only

        def work() -> tuple[RecordingResult, str]:
            from app.audio.recovery import queue_recording

            result = recorder.stop()
            if result.frames == 0:
                return result, ""
            return result, queue_recording(container.pipeline, result.path, result.title)

        def done(outcome: tuple[RecordingResult, str]) -> None:
            result, meeting_id = outcome
            by_hotkey, self._by_hotkey = self._by_hotkey, False
            self._reset()
            if not meeting_id:
                self.window.show_message("Nothing was recorded. Check the microphone.")
                return
            self.window.import_queue.add_meeting(str(result.path), meeting_id)
            if record_only:
                self.window.show_message(
                    f"Saved {clock(result.duration_s)} of audio; it will be transcribed later "
                    "(record-only mode). Use Edit › Process again when you are ready.")
                self.window.import_queue.set_outcome_text(meeting_id, "Recorded (not processed)")
                next_step = "it will be transcribed later"
            else:
                self.window.queue.enqueue(meeting_id)
                next_step = "transcribing it now"
            self.window.reload()
            if by_hotkey:
                self.window.notify("Recap", f"Recording saved ({clock(result.duration_s)}); "
                                            f"{next_step}.")
            self.handed_over.emit(meeting_id)

        def failed(exc: BaseException) -> None:
            self._by_hotkey = False
            self._reset()
            self.window.show_message(human_error(exc))

        self.window.tasks.submit(work, done, failed)

    def _reset(self) -> None:
        self.busy = False
        self.recorder = None
        self.bar.setVisible(False)
        self.bar.stop_button.setEnabled(True)
        self.state_changed.emit(False)

    # -- global shortcut -----------------------------------------------------------------
    def apply_global_hotkey(self) -> GlobalHotkey:
        """Register the global shortcut from settings (call again after they change); its
        ``status`` says in one line whether it works here, and why not."""
        from app.ui.global_hotkey import GlobalHotkey

        if self.global_hotkey is None:
            self.global_hotkey = GlobalHotkey(self)
            self.global_hotkey.activated.connect(self._hotkey_pressed)
            tray = self.window.tray
            if tray is not None:
                self.global_hotkey.status_changed.connect(tray.set_global_hotkey)
        self.global_hotkey.bind(self.window.container.settings.recording.global_hotkey)
        return self.global_hotkey

    def _hotkey_pressed(self) -> None:
        if self.busy:
            return
        self._by_hotkey = True
        self.toggle()

    def shutdown(self) -> None:
        """Closing the window mid-recording: finish the file (recovery offers it next time
        if it could not be handed over)."""
        if self.global_hotkey is not None:
            self.global_hotkey.stop()
        recorder = self.recorder
        if recorder is not None:
            try:
                recorder.stop()
            except Exception:  # the file is kept either way; recovery finds it
                log.exception("stopping the recorder on quit failed")
            self.recorder = None

    # -- recovery ------------------------------------------------------------------------
    def offer_recovery(self) -> None:
        folder = self.window.container.paths.recordings

        def find() -> list[Any]:
            from app.audio.recovery import find_unfinished

            return find_unfinished(folder)

        self.window.tasks.submit(find, self._ask_recovery)

    def _ask_recovery(self, candidates: list[Any]) -> None:
        if not candidates:
            return
        lines = "\n".join(f"• {c.title} ({clock(c.duration_s)})" for c in candidates[:10])
        box = QMessageBox(QMessageBox.Icon.Question, "Recover recordings",
                          f"Recap found {len(candidates)} recording(s) that were cut off "
                          f"(a crash or power cut). Nothing was lost:\n\n{lines}\n\n"
                          "Process them now?", parent=self.window)
        process = box.addButton("Process now", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setTextFormat(Qt.TextFormat.PlainText)
        self.window.recovery_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is process:
                self.recover(candidates)

        box.finished.connect(answered)
        box.open()

    def recover(self, candidates: list[Any]) -> None:
        pipeline = self.window.container.pipeline

        def work() -> list[tuple[str, str]]:
            from app.audio.recovery import queue_recording

            return [(str(c.path), queue_recording(pipeline, c.path, c.title))
                    for c in candidates]

        def done(added: list[tuple[str, str]]) -> None:
            for path, meeting_id in added:
                self.window.import_queue.add_meeting(path, meeting_id)
                self.window.queue.enqueue(meeting_id)
            self.window.reload()

        self.window.tasks.submit(work, done,
                                 lambda exc: self.window.show_message(human_error(exc)))


def recorder_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("app.audio.recorder") is not None

