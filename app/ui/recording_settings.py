"""Settings → Recording: which microphone, "record now, transcribe later", and the global
shortcut that starts and stops recording from any program.

The device list comes from PortAudio, which can take a moment (and fail when the library is
missing), so it is read off the GUI thread; until it arrives, or if it fails, the saved choice
stays as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from app.errors import one_line
from app.ui.hotkey_chord import ChordError, parse_chord
from app.ui.ops import Ops
from app.ui.plain_text import plain_label

if TYPE_CHECKING:
    from app.audio.sources import InputDevice
    from app.settings import RecordingSettings

SYSTEM_DEFAULT = "System default"
NOTE = (
    "Recordings are written to disk as they go: a crash or power cut loses at most about a "
    "second, and Recap offers the recording back at the next start. Leave the shortcut empty "
    "to turn it off; Ctrl+R always works while the window has focus."
)


class RecordingPage(QWidget):
    message = Signal(str)  # one line for the dialog

    def __init__(self, ops: Ops, draft: RecordingSettings, hotkey_status: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.draft = draft
        self.device = QComboBox()
        self.device.addItem(SYSTEM_DEFAULT, None)
        if draft.input_device is not None:  # shown as saved until the real list arrives
            self.device.addItem(f"Input {draft.input_device}", draft.input_device)
            self.device.setCurrentIndex(1)
        self.record_only = QCheckBox("Record now, transcribe later (uses little CPU while "
                                     "recording; process the meeting when you choose)")
        self.record_only.setChecked(draft.record_only)
        self.hotkey = QLineEdit(draft.global_hotkey)
        self.hotkey.setPlaceholderText("off (e.g. Ctrl+Alt+R)")
        self.hotkey_state = plain_label(hotkey_status)
        self.hotkey_state.setWordWrap(True)
        self.hotkey.textChanged.connect(self._check_hotkey)
        form = QFormLayout(self)
        form.addRow("Microphone", self.device)
        form.addRow(self.record_only)
        form.addRow("Global shortcut", self.hotkey)
        form.addRow("", self.hotkey_state)
        note = QLabel(NOTE)
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        ops.read(lambda uc: uc.recordings.devices(), self._show_devices, self._devices_failed)

    def _show_devices(self, devices: list[InputDevice]) -> None:
        chosen = self.draft.input_device
        self.device.clear()
        self.device.addItem(SYSTEM_DEFAULT, None)
        for d in devices:
            label = f"{d.name} ({d.host_api})" + (" — default" if d.is_default else "")
            self.device.addItem(label, d.index)
        index = self.device.findData(chosen) if chosen is not None else 0
        if index < 0:  # the saved microphone is not connected now: keep the choice, say so
            self.device.addItem(f"Input {chosen} (not connected)", chosen)
            index = self.device.count() - 1
        self.device.setCurrentIndex(index)

    def _devices_failed(self, exc: BaseException) -> None:
        self.message.emit(one_line(exc))

    def _check_hotkey(self, text: str) -> None:
        if not text.strip():
            self.hotkey_state.setText("Off.")
            return
        try:
            chord = parse_chord(text)
        except ChordError as exc:
            self.hotkey_state.setText(str(exc))
        else:
            self.hotkey_state.setText(f"{chord.text} will start and stop recording.")

    def collect(self, into: RecordingSettings) -> None:
        """Copy the page into ``into``; ChordError (one line) if the shortcut is unusable."""
        text = self.hotkey.text().strip()
        if text:  # saved in the canonical spelling, which parse_chord reads back the same
            text = parse_chord(text).text
        into.global_hotkey = text
        into.record_only = self.record_only.isChecked()
        data = self.device.currentData()
        into.input_device = int(data) if data is not None else None


