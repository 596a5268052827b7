"""Settings → Recording: the microphone, "record now, transcribe later" and the global
shortcut are chosen in the window, checked before saving, and take effect at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.actions import recordings
from app.audio.sources import ArraySource, InputDevice
from app.store.models import MeetingStatus
from app.store.queries import meeting_detail
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import SPEECH, WindowFactory

pytestmark = pytest.mark.gui

USB = InputDevice(index=3, name="USB Mic", host_api="ALSA", max_channels=1,
                  default_sample_rate=48_000, is_default=False)
BUILT_IN = InputDevice(index=0, name="Built-in", host_api="ALSA", max_channels=2,
                       default_sample_rate=44_100, is_default=True)


def open_settings(window: MainWindow) -> SettingsDialog:
    """As the user does it (Settings… in the menu), so saving reaches the window."""
    window.open_settings()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    return dialog


def saved_recording(home: Path) -> dict[str, object]:
    settings = json.loads((home / "config" / "settings.json").read_text())
    return dict(settings["recording"])


def test_choices_are_saved_and_a_bad_shortcut_keeps_the_dialog_open(
        qtbot: QtBot, make_window: WindowFactory, recap_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # PortAudio sees no microphone on this machine: give the page two, as a laptop would have.
    monkeypatch.setattr(recordings, "list_input_devices", lambda: [BUILT_IN, USB])
    window = make_window()
    dialog = open_settings(window)
    page = dialog.recording
    qtbot.waitUntil(lambda: page.device.count() == 3, timeout=10_000)
    assert page.device.itemText(1).startswith("Built-in") and "default" in page.device.itemText(1)
    page.device.setCurrentIndex(page.device.findData(3))
    page.record_only.setChecked(True)

    page.hotkey.setText("R")  # a bare letter would be taken from every other program
    assert "add Ctrl, Alt or Super" in page.hotkey_state.text()
    dialog.accept()
    assert dialog.isVisible() and dialog.tabs.currentWidget() is page
    assert "add Ctrl, Alt or Super" in dialog.message.text()
    assert saved_recording(recap_home)["global_hotkey"] == "Ctrl+Alt+R"  # nothing saved yet

    page.hotkey.setText("ctrl + shift + f9")
    assert "Ctrl+Shift+F9 will start and stop recording" in page.hotkey_state.text()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert not dialog.isVisible()
    saved = saved_recording(recap_home)
    assert saved == {"input_device": 3, "record_only": True, "global_hotkey": "Ctrl+Shift+F9"}
    # The window re-applied the shortcut (here: no display, so it says why not).
    assert window.recording is not None and window.recording.global_hotkey is not None
    assert window.recording.global_hotkey.status


def test_a_saved_microphone_that_is_unplugged_stays_chosen(
        qtbot: QtBot, make_window: WindowFactory, recap_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recordings, "list_input_devices", lambda: [BUILT_IN])
    window = make_window()
    window.container.settings.recording.input_device = 3
    dialog = open_settings(window)
    page = dialog.recording
    qtbot.waitUntil(lambda: "not connected" in page.device.currentText(), timeout=10_000)
    page.hotkey.setText("")  # empty turns the global shortcut off
    assert page.hotkey_state.text() == "Off."
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert saved_recording(recap_home)["input_device"] == 3
    assert saved_recording(recap_home)["global_hotkey"] == ""
    assert window.recording is not None and window.recording.global_hotkey is not None
    assert "off" in window.recording.global_hotkey.status


def test_no_audio_system_is_one_line_and_the_rest_still_saves(
        qtbot: QtBot, make_window: WindowFactory, recap_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.audio.capture_errors import RecordingError

    def missing() -> list[InputDevice]:
        raise RecordingError("The audio library PortAudio is not installed.", "Install it.")

    monkeypatch.setattr(recordings, "list_input_devices", missing)
    window = make_window()
    dialog = open_settings(window)
    qtbot.waitUntil(lambda: "PortAudio" in dialog.message.text(), timeout=10_000)
    assert "Traceback" not in dialog.message.text()
    dialog.recording.record_only.setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert saved_recording(recap_home)["record_only"] is True


@pytest.mark.slow
def test_record_only_keeps_the_recording_unprocessed(
        qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(audio_source_factory=lambda: ArraySource.from_wav(
        SPEECH / "hello.wav", speed=4.0))
    dialog = open_settings(window)
    dialog.recording.record_only.setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    controller = window.recording
    assert controller is not None
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: controller.recording, timeout=10_000)
    qtbot.wait(1500)
    with qtbot.waitSignal(controller.handed_over, timeout=15_000) as handed:
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    path, meeting_id, process_now = handed.args
    assert not process_now and path.endswith(".wav")
    assert "transcribed later" in window.status.currentMessage()
    qtbot.wait(2000)  # long enough for a queued job to have started transcribing
    detail = meeting_detail(window.container.db, meeting_id)
    assert detail.row.status == MeetingStatus.QUEUED
    assert detail.segments == []
