"""Recording in the window: the record button (Ctrl+R), the tray's quick record, the global
shortcut (Ctrl+Alt+R from any program, where the desktop allows it), a live level meter with the
elapsed time, and the hand-over to the pipeline when it stops. On start it offers recordings a
crash cut off (nothing is deleted without the user saying so).

The recorder's callbacks run on its writer thread; the relay brings them to the GUI thread.
Starting and stopping (opening the device, finalising the file) run on worker threads, through
the same use cases as `recap record` (app/actions/recordings.py). The controller acts on its own
bar and says what happened through its signals; the window shows messages and queues meetings.
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

from app.actions import Changes, UseCases
from app.errors import one_line
from app.formatting import duration, running_clock
from app.settings import Settings
from app.ui.global_hotkey import GlobalHotkey
from app.ui.ops import Ops
from app.ui.plain_text import plain_label
from app.ui.relay import Relay

if TYPE_CHECKING:
    from app.audio.recorder import LevelReading, Recorder, RecordingResult
    from app.audio.recovery import RecoveryCandidate
    from app.audio.sources import AudioSource

log = logging.getLogger(__name__)

METER_FLOOR_DBFS = -60.0
SourceFactory = Callable[[], "AudioSource"]


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
        self.elapsed.setText(running_clock(reading.elapsed_s))
        self.meter.setValue(int(max(METER_FLOOR_DBFS, min(0.0, reading.rms_dbfs))))
        if reading.no_signal:
            self.warning.setText("No signal: is the microphone muted or blocked?")
        elif reading.overflows:
            self.warning.setText(f"{reading.overflows} short gap(s)")
        else:
            self.warning.setText("")


class RecordingController(QObject):
    state_changed = Signal(bool)  # recording?
    message = Signal(str)  # one line for the status bar
    notify = Signal(str, str)  # title, text: said on the desktop (started from elsewhere)
    # A recording became a meeting: file, meeting id, whether to process it now (else it waits,
    # "record now, transcribe later").
    handed_over = Signal(str, str, bool)
    hotkey_changed = Signal(str, str)  # the global shortcut's text ("" when none), its status

    def __init__(self, ops: Ops, settings: Callable[[], Settings], parent: QWidget,
                 source_factory: SourceFactory | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.parent_widget = parent  # dialogs are shown over it
        self.source_factory = source_factory  # None: the microphone chosen in settings
        self.recorder: Recorder | None = None
        self.busy = False  # starting or stopping
        self.global_hotkey: GlobalHotkey | None = None
        self.recovery_box: QMessageBox | None = None  # the offer, while it is open
        self._by_hotkey = False  # the pending start/stop came from the global shortcut
        self.bar = RecordingBar()
        self._relay = Relay(self)
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
        factory = self.source_factory
        on_level = self._relay.wrap(self.bar.show_level)
        on_error = self._relay.wrap(self._recorder_error)

        def work(uc: UseCases) -> Recorder:
            source = factory() if factory is not None else None
            return uc.recordings.start(source, on_level=on_level, on_error=on_error)

        self.ops.read(work, self._started, self._failed)

    def _started(self, recorder: Recorder) -> None:
        self.busy = False
        self.recorder = recorder
        self.bar.elapsed.setText("0:00:00")
        self.bar.warning.setText("")
        self.bar.setVisible(True)
        self.state_changed.emit(True)
        self.message.emit(f"Recording from {recorder.source.device_name}.")
        if self._by_hotkey and self.global_hotkey is not None:
            # Started from another program: the window may be hidden, so say it on the
            # desktop (the status bar when there is no tray).
            self._by_hotkey = False
            self.notify.emit("Recap", f"Recording from {recorder.source.device_name}. "
                                      f"{self.global_hotkey.text} stops it.")

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self._by_hotkey = False
        self.bar.setVisible(False)
        self.recorder = None
        self.state_changed.emit(False)
        self.message.emit(one_line(exc))

    def _recorder_error(self, error: Any) -> None:
        """The recording ended by itself (device unplugged, disk full): keep what we have."""
        self.message.emit(one_line(error))
        if self.recorder is not None and not self.busy:
            self.stop()

    def stop(self) -> None:
        recorder = self.recorder
        if recorder is None or self.busy:
            return
        self.busy = True
        self.bar.stop_button.setEnabled(False)
        record_only = self.settings().recording.record_only

        def work(uc: UseCases) -> tuple[RecordingResult, Changes]:
            result = recorder.stop()
            if result.frames == 0:
                return result, Changes()
            return result, uc.recordings.hand_over(result.path, result.title)

        def done(outcome: tuple[RecordingResult, Changes]) -> None:
            result, changes = outcome
            by_hotkey, self._by_hotkey = self._by_hotkey, False
            self._reset()
            if not changes.meeting_id:
                self.message.emit("Nothing was recorded. Check the microphone.")
                return
            if record_only:
                self.message.emit(
                    f"Saved {duration(result.duration_s)} of audio; it will be transcribed "
                    "later (record-only mode). Use Edit › Process again when you are ready.")
                next_step = "it will be transcribed later"
            else:
                next_step = "transcribing it now"
            self.ops.announce(changes)
            self.handed_over.emit(str(result.path), changes.meeting_id, not record_only)
            if by_hotkey:
                self.notify.emit("Recap", f"Recording saved ({duration(result.duration_s)}); "
                                          f"{next_step}.")

        def failed(exc: BaseException) -> None:
            self._by_hotkey = False
            self._reset()
            self.message.emit(one_line(exc))

        self.ops.read(work, done, failed)

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
        if self.global_hotkey is None:
            self.global_hotkey = GlobalHotkey(self)
            self.global_hotkey.activated.connect(self._hotkey_pressed)
            self.global_hotkey.status_changed.connect(self.hotkey_changed)
        self.global_hotkey.bind(self.settings().recording.global_hotkey)
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
        self.ops.read(lambda uc: uc.recordings.unfinished(), self._ask_recovery)

    def _ask_recovery(self, candidates: list[RecoveryCandidate]) -> None:
        if not candidates:
            return
        lines = "\n".join(f"• {c.title} ({duration(c.duration_s)})" for c in candidates[:10])
        box = QMessageBox(QMessageBox.Icon.Question, "Recover recordings",
                          f"Recap found {len(candidates)} recording(s) that were cut off "
                          f"(a crash or power cut). Nothing was lost:\n\n{lines}\n\n"
                          "Process them now?", parent=self.parent_widget)
        process = box.addButton("Process now", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setTextFormat(Qt.TextFormat.PlainText)
        self.recovery_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is process:
                self.recover(candidates)

        box.finished.connect(answered)
        box.open()

    def recover(self, candidates: list[RecoveryCandidate]) -> None:
        def work(uc: UseCases) -> list[tuple[str, Changes]]:
            return [(str(c.path), uc.recordings.hand_over(c.path, c.title)) for c in candidates]

        def done(added: list[tuple[str, Changes]]) -> None:
            for path, changes in added:
                self.ops.announce(changes)
                self.handed_over.emit(path, changes.meeting_id, True)

        self.ops.read(work, done, lambda exc: self.message.emit(one_line(exc)))
