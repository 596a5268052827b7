"""The sounddevice adapter against a fake PortAudio stream: what it asks for, what it delivers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import sounddevice as sd

from app.audio.capture_errors import (
    DeviceLost,
    MicrophonePermissionDenied,
    NoInputDevice,
    RecordingError,
)
from app.audio.recorder import Recorder
from app.audio.sources import SoundDeviceSource, known_signal, list_input_devices
from tests.recording.conftest import FakePortAudio, read_wav


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_lists_inputs_only_and_marks_the_default(default_mic: FakePortAudio) -> None:
    devices = list_input_devices()
    assert [(d.index, d.name, d.is_default) for d in devices] == [
        (1, "USB Mic", True), (2, "Webcam Mic", False)]
    assert devices[1].max_channels == 2 and devices[1].default_sample_rate == 16000
    assert devices[0].host_api == "FakeALSA"


def test_opens_the_default_input_at_its_native_rate(default_mic: FakePortAudio,
                                                    tmp_path: Path) -> None:
    source = SoundDeviceSource()
    assert (source.device_name, source.sample_rate, source.channels) == ("USB Mic", 48000, 1)
    recorder = Recorder(source, tmp_path)
    recorder.start()
    [stream] = default_mic.streams
    assert stream.kwargs["device"] == 1
    assert stream.kwargs["samplerate"] == 48000 and stream.kwargs["dtype"] == "int16"
    assert stream.kwargs["channels"] == 1
    wait_for(lambda: default_mic.fed_frames >= 48000 // 2)
    result = recorder.stop()
    assert stream.closed and not stream.active
    wav = read_wav(result.path)
    assert wav.sample_rate == 48000 and wav.frames == default_mic.fed_frames
    np.testing.assert_array_equal(wav.samples, known_signal(0, wav.frames))


def test_chosen_device_by_number(default_mic: FakePortAudio) -> None:
    source = SoundDeviceSource(2, channels=2)
    assert (source.device_name, source.sample_rate, source.channels) == ("Webcam Mic", 16000, 2)
    with pytest.raises(NoInputDevice, match="no input device number 0"):
        SoundDeviceSource(0)  # the speakers


def test_overflow_flags_are_counted(default_mic: FakePortAudio, tmp_path: Path) -> None:
    default_mic.overflow_blocks = {3, 7}
    recorder = Recorder(SoundDeviceSource(), tmp_path)
    recorder.start()
    wait_for(lambda: default_mic.fed_frames >= 20 * default_mic.block_frames)
    result = recorder.stop()
    assert result.overflows == 2 and result.error is None


def test_unplugged_device_ends_recording_and_keeps_audio(default_mic: FakePortAudio,
                                                         tmp_path: Path) -> None:
    default_mic.unplug_after_blocks = 30
    errors: list[RecordingError] = []
    recorder = Recorder(SoundDeviceSource(), tmp_path, on_error=errors.append)
    recorder.start()
    assert recorder.wait(5)
    result = recorder.stop()
    assert isinstance(result.error, DeviceLost) and errors == [result.error]
    assert "USB Mic" in result.error.message
    assert result.frames == 30 * default_mic.block_frames
    np.testing.assert_array_equal(read_wav(result.path).samples,
                                  known_signal(0, result.frames))


def test_no_input_device(fake_portaudio: FakePortAudio) -> None:
    fake_portaudio.add_device("Speakers", inputs=0, outputs=2)
    with pytest.raises(NoInputDevice) as info:
        SoundDeviceSource()
    assert info.value.message == "No microphone found." and "recap devices" in info.value.fix


def test_no_default_falls_back_to_first_input(fake_portaudio: FakePortAudio) -> None:
    fake_portaudio.add_device("Line In", inputs=2, rate=44100.0)
    assert SoundDeviceSource().device_name == "Line In"


@pytest.mark.parametrize("portaudio_text", [
    "Error opening InputStream: Unanticipated host error [PaErrorCode -9999]: "
    "'Permission denied' [ALSA error -13]",
    "Error starting stream: Unanticipated host error [PaErrorCode -9999]: "
    "'Access is denied.' [Windows WASAPI error -2147024891]",
])
def test_permission_denied_is_explained(default_mic: FakePortAudio, tmp_path: Path,
                                        portaudio_text: str) -> None:
    default_mic.open_error = sd.PortAudioError(portaudio_text)
    recorder = Recorder(SoundDeviceSource(), tmp_path)
    with pytest.raises(MicrophonePermissionDenied) as info:
        recorder.start()
    assert "Privacy" in info.value.fix
    assert list(tmp_path.iterdir()) == []


def test_start_failure_closes_the_stream(default_mic: FakePortAudio, tmp_path: Path) -> None:
    default_mic.start_error = sd.PortAudioError(
        "Error starting stream: Device unavailable [PaErrorCode -9985]")
    with pytest.raises(RecordingError, match="'USB Mic' is busy or unavailable") as info:
        Recorder(SoundDeviceSource(), tmp_path).start()
    assert "Close other programs" in info.value.fix
    assert default_mic.streams[0].closed
    assert list(tmp_path.iterdir()) == []


def test_mono_refused_retries_with_device_channels(default_mic: FakePortAudio,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.recording.conftest import FakeInputStream

    def stereo_only(**kwargs: object) -> FakeInputStream:
        if kwargs["channels"] != 2:
            raise sd.PortAudioError("Error opening InputStream: Invalid number of channels "
                                    "[PaErrorCode -9998]")
        return FakeInputStream(default_mic, **kwargs)

    monkeypatch.setattr(sd, "InputStream", stereo_only)
    source = SoundDeviceSource(2)
    recorder = Recorder(source, tmp_path)
    recorder.start()
    wait_for(lambda: default_mic.fed_frames >= 4 * default_mic.block_frames)
    result = recorder.stop()
    assert source.channels == 2 and result.channels == 2
    assert read_wav(result.path).channels == 2
