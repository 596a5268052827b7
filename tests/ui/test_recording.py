"""Recording from the window: Ctrl+R starts, the meter moves, stopping hands the recording to
the pipeline; recordings a crash cut off are offered back at the next start."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audio import sidecar
from app.audio.recorder import Recorder
from app.audio.sources import ArraySource
from app.store.queries import list_meetings, meeting_detail
from tests.ui.conftest import SPEECH, WindowFactory

pytestmark = pytest.mark.gui


def speech_source() -> ArraySource:
    """hello.wav fed in real time, then silence: a microphone with someone talking."""
    return ArraySource.from_wav(SPEECH / "hello.wav", speed=1.0)


@pytest.mark.slow
def test_record_button_meter_and_hand_over(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(audio_source_factory=speech_source)
    assert window.window_actions.record.isEnabled()
    controller = window.recording
    assert controller is not None
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: controller.recording, timeout=10_000)
    assert controller.bar.isVisible()
    assert window.window_actions.record.text() == "Stop &recording"
    # The meter follows the voice and the clock runs.
    qtbot.waitUntil(lambda: controller.bar.meter.value() > -40, timeout=10_000)
    qtbot.waitUntil(lambda: controller.bar.elapsed.text() == "0:00:02", timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not controller.recording and not controller.busy, timeout=10_000)
    assert not controller.bar.isVisible()

    db = window.container.db
    qtbot.waitUntil(lambda: len(list_meetings(db)) == 1, timeout=10_000)
    meeting = list_meetings(db)[0]
    assert meeting.title.startswith("Recording ")
    qtbot.waitUntil(lambda: window.queue.is_idle(), timeout=240_000)
    detail = meeting_detail(db, meeting.id)
    assert detail.row.status == "ready", detail.row.error
    assert "hello" in detail.transcript.lower()
    side = sidecar.sidecar_path(Path(detail.source_path))
    assert sidecar.read_sidecar(side)["state"] == sidecar.STATE_HANDLED  # not offered again


def test_cut_off_recording_is_offered_at_start(qtbot: QtBot, make_window: WindowFactory,
                                               recap_home: Path) -> None:
    # A recording whose process died before handing it over (the pid no longer exists).
    folder = recap_home / "data" / "recordings"
    recorder = Recorder(ArraySource.from_wav(SPEECH / "hello.wav", speed=0), folder)
    wav = recorder.start()
    recorder.wait(10)
    recorder.stop()
    sidecar.update_sidecar(sidecar.sidecar_path(wav), pid=2**22 + 12345)

    window = make_window()
    qtbot.waitUntil(lambda: window.recording.recovery_box is not None, timeout=20_000)
    box = window.recording.recovery_box
    assert "cut off" in box.text()
    process = next(b for b in box.buttons() if b.text() == "Process now")
    process.click()
    db = window.container.db
    qtbot.waitUntil(lambda: len(list_meetings(db)) == 1, timeout=10_000)
    assert Path(meeting_detail(db, list_meetings(db)[0].id).source_path) == wav.resolve()
