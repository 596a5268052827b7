"""Windows and macOS system-audio capture with their OS calls faked at the boundary.

Windows: a fake ``soundcard`` (default speaker, loopback recorder). macOS: a fake
``recap-audiotap`` helper process speaking the real helper's protocol, and the choice between
the Core Audio tap and ScreenCaptureKit by OS version.
"""

from __future__ import annotations

import struct
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio import macos_capture, system_source
from app.audio.capture_errors import (
    RecordingError,
    SystemAudioLost,
    SystemAudioPermissionMissing,
    SystemAudioUnavailable,
)
from app.audio.macos_sck import planar_to_mono
from app.audio.macos_tap import CoreAudioTapSource, read_packet
from app.audio.wasapi_loopback import WasapiLoopbackSource, list_outputs, status


class Collect:
    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, bool]] = []
        self.errors: list[RecordingError] = []
        self.notices: list[str] = []

    def block(self, block: np.ndarray, gap: bool) -> None:
        self.blocks.append((block, gap))

    def audio(self) -> np.ndarray:
        return np.concatenate([b[:, 0] for b, _ in self.blocks])

    def wait(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)


# -- Windows ------------------------------------------------------------------------------

class FakeSpeaker:
    def __init__(self, id: str, name: str, level: float) -> None:
        self.id, self.name, self.level = id, name, level
        self.broken = False


class FakeRecorder:
    def __init__(self, speaker: FakeSpeaker, rate: int, blocksize: int) -> None:
        self.speaker, self.rate, self.blocksize = speaker, rate, blocksize

    def __enter__(self) -> FakeRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def record(self, numframes: int | None = None) -> np.ndarray:
        time.sleep(self.blocksize / self.rate)
        if self.speaker.broken:  # what soundcard raises when the endpoint is invalidated
            raise RuntimeError("Error 0x88890004")
        left = np.full(self.blocksize, self.speaker.level, dtype=np.float32)
        return np.stack([left, left * 0.5], axis=1)  # stereo, like a real mix format


class FakeSoundcard:
    def __init__(self) -> None:
        self.speakers = [FakeSpeaker("{a2dp}", "Headphones (AirPods)", 0.5),
                         FakeSpeaker("{hfp}", "Headset (AirPods Hands-Free)", 0.25)]
        self.default = self.speakers[0]

    def default_speaker(self) -> FakeSpeaker:
        if self.default is None:
            raise RuntimeError("no default output")
        return self.default

    def all_speakers(self) -> list[FakeSpeaker]:
        return list(self.speakers)

    def get_microphone(self, id: str, include_loopback: bool = False) -> Any:
        assert include_loopback
        speaker = next(s for s in self.speakers if s.id == id)

        class Loopback:
            def recorder(self, samplerate: int, channels: int | None = None,
                         blocksize: int | None = None) -> FakeRecorder:
                return FakeRecorder(speaker, samplerate, blocksize or 480)

        return Loopback()


def test_wasapi_loopback_records_the_default_output_as_mono_int16() -> None:
    fake = FakeSoundcard()
    got = Collect()
    source = WasapiLoopbackSource(16000, backend=fake)
    source.start(got.block, got.errors.append)
    got.wait(lambda: len(got.blocks) >= 5)
    source.stop()
    audio = got.audio()
    assert audio.dtype == np.int16 and got.blocks[0][1] is True  # first block: place by arrival
    assert abs(int(audio[10]) - round(0.375 * 32767)) <= 1  # the mean of both channels
    assert source.device_name == "Headphones (AirPods)" and not got.errors


def test_bluetooth_call_mode_switch_is_followed_with_a_notice() -> None:
    fake = FakeSoundcard()
    got = Collect()
    source = WasapiLoopbackSource(16000, backend=fake, check_every_s=0.1)
    source.set_notice_callback(got.notices.append)
    source.start(got.block, got.errors.append)
    got.wait(lambda: len(got.blocks) >= 3)
    fake.default = fake.speakers[1]  # a call starts: Windows switches to the hands-free endpoint
    got.wait(lambda: got.notices and any(abs(int(b[0, 0]) - 6143) <= 1 for b, _ in got.blocks))
    source.stop()
    assert got.notices[0] == ("System audio now comes from 'Headset (AirPods Hands-Free)' "
                              "(the default output changed).")
    assert source.device_name == "Headset (AirPods Hands-Free)" and not got.errors
    after = [gap for b, gap in got.blocks if abs(int(b[0, 0]) - 6143) <= 1]
    assert after[0] is True  # the new stream's first block is placed by its arrival


def test_an_endpoint_that_fails_is_reopened_on_the_new_default() -> None:
    fake = FakeSoundcard()
    got = Collect()
    source = WasapiLoopbackSource(16000, backend=fake, check_every_s=10)
    source.set_notice_callback(got.notices.append)
    source.start(got.block, got.errors.append)
    got.wait(lambda: len(got.blocks) >= 2)
    fake.speakers[0].broken = True  # unplugged
    fake.default = fake.speakers[1]
    got.wait(lambda: bool(got.notices))
    source.stop()
    assert "'Headphones (AirPods)' stopped working" in got.notices[0]
    assert not got.errors


def test_no_output_left_ends_system_audio_with_one_line() -> None:
    fake = FakeSoundcard()
    got = Collect()
    source = WasapiLoopbackSource(16000, backend=fake)
    source.start(got.block, got.errors.append)
    got.wait(lambda: len(got.blocks) >= 2)
    fake.speakers[0].broken = True
    fake.default = None  # type: ignore[assignment]
    got.wait(lambda: bool(got.errors))
    source.stop()
    assert isinstance(got.errors[0], SystemAudioLost)
    assert "no audio output is left" in got.errors[0].message


def test_windows_status_and_outputs() -> None:
    fake = FakeSoundcard()
    assert status(fake).line() == "System audio: on (Headphones (AirPods))"
    assert [(o.name, o.is_default) for o in list_outputs(fake)] == [
        ("Headphones (AirPods)", True), ("Headset (AirPods Hands-Free)", False)]
    fake.default = None  # type: ignore[assignment]
    assert status(fake).line() == "System audio: off (there is no audio output to record)"


# -- macOS: the Core Audio tap helper ------------------------------------------------------

def fake_helper(tmp_path: Path, body: str) -> Path:
    """An executable speaking recap-audiotap's protocol; ``body`` runs with ``packet``."""
    script = tmp_path / "recap-audiotap"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent("""
        import json, struct, sys, time
        import numpy as np
        def packet(rate, frames):
            data = np.ascontiguousarray(frames, dtype="<f4").tobytes()
            sys.stdout.buffer.write(struct.pack("<4sIII", b"RTAP", rate, frames.shape[1],
                                                len(data)) + data)
            sys.stdout.buffer.flush()
        def event(**fields):
            print(json.dumps(fields), file=sys.stderr, flush=True)
        """) + textwrap.dedent(body))
    script.chmod(0o755)
    return script


def test_tap_helper_audio_is_mixed_and_resampled(tmp_path: Path) -> None:
    helper = fake_helper(tmp_path, """
        t = np.arange(4800) / 48000
        tone = 0.5 * np.sin(2 * np.pi * 440 * t)
        for i in range(20):
            packet(48000, np.stack([tone, tone], axis=1))
            time.sleep(0.05)
        sys.stdin.read()
        """)
    got = Collect()
    source = CoreAudioTapSource(16000, helper=helper)
    source.start(got.block, got.errors.append)
    got.wait(lambda: sum(len(b) for b, _ in got.blocks) >= 16000 * 1.5)
    source.stop()
    audio = got.audio().astype(float)
    spectrum = np.abs(np.fft.rfft(audio[:16000]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # 1 Hz bins over one second
    assert got.blocks[0][1] is True and not got.errors


def test_tap_zeros_while_output_plays_means_permission_missing(tmp_path: Path) -> None:
    helper = fake_helper(tmp_path, """
        for i in range(100):
            event(event="output_running", value=True)
            packet(48000, np.zeros((4800, 2)))
            time.sleep(0.05)
        """)
    got = Collect()
    source = CoreAudioTapSource(16000, helper=helper, silent_permission_s=1.0)
    source.start(got.block, got.errors.append)
    got.wait(lambda: bool(got.errors))
    source.stop()
    error = got.errors[0]
    assert isinstance(error, SystemAudioPermissionMissing)
    assert "Screen & System Audio Recording" in error.fix


def test_tap_zeros_while_nothing_plays_are_just_silence(tmp_path: Path) -> None:
    helper = fake_helper(tmp_path, """
        for i in range(40):
            event(event="output_running", value=False)
            packet(48000, np.zeros((4800, 2)))
            time.sleep(0.05)
        sys.stdin.read()
        """)
    got = Collect()
    source = CoreAudioTapSource(16000, helper=helper, silent_permission_s=0.5)
    source.start(got.block, got.errors.append)
    got.wait(lambda: sum(len(b) for b, _ in got.blocks) >= 16000 * 1.5)
    source.stop()
    assert not got.errors


def test_tap_format_change_and_rebuild_are_followed(tmp_path: Path) -> None:
    # AirPods entering call mode: the output drops to 24 kHz and the helper rebuilds its tap.
    helper = fake_helper(tmp_path, """
        for i in range(10):
            packet(48000, np.full((4800, 2), 0.25))
            time.sleep(0.02)
        event(event="rebuilt", why="output rate changed to 24000 Hz")
        for i in range(10):
            packet(24000, np.full((2400, 1), 0.5))
            time.sleep(0.02)
        sys.stdin.read()
        """)
    got = Collect()
    source = CoreAudioTapSource(16000, helper=helper)
    source.set_notice_callback(got.notices.append)
    source.start(got.block, got.errors.append)
    got.wait(lambda: sum(len(b) for b, _ in got.blocks) >= 16000 * 1.8)
    source.stop()
    gaps = [i for i, (_, gap) in enumerate(got.blocks) if gap]
    assert len(gaps) == 2  # the first block, and the first after the format change
    assert abs(int(got.blocks[-1][0][-1, 0]) - 16383) <= 200
    assert got.notices == ["System audio follows the new output (output rate changed to "
                           "24000 Hz)."]


def test_tap_helper_error_ends_system_audio(tmp_path: Path) -> None:
    helper = fake_helper(tmp_path, """
        event(event="error", message="could not create the process tap", status=-1)
        """)
    got = Collect()
    source = CoreAudioTapSource(16000, helper=helper)
    source.start(got.block, got.errors.append)
    got.wait(lambda: bool(got.errors))
    source.stop()
    assert isinstance(got.errors[0], SystemAudioLost)
    assert len(got.errors) == 1


def test_tap_packets_must_carry_the_magic() -> None:
    import io

    good = struct.pack("<4sIII", b"RTAP", 48000, 2, 16) + np.zeros(4, "<f4").tobytes()
    rate, channels, frames = read_packet(io.BytesIO(good))  # type: ignore[misc]
    assert (rate, channels, frames.shape) == (48000, 2, (2, 2))
    with pytest.raises(ValueError):
        read_packet(io.BytesIO(b"JUNK" + good[4:]))
    assert read_packet(io.BytesIO(good[:10])) is None  # cut off: the end


def test_missing_helper_is_one_line() -> None:
    with pytest.raises(SystemAudioUnavailable) as err:
        CoreAudioTapSource(16000, helper=None).start(lambda b, g: None, lambda e: None)
    assert "helper is missing" in err.value.message or "helper" in str(err.value)


# -- macOS: which way -----------------------------------------------------------------------

@pytest.mark.parametrize(("version", "helper", "sck", "way"), [
    ((15, 1), True, True, "tap"),
    ((14, 4), True, False, "tap"),
    ((14, 3), True, True, "sck"),  # process taps arrived in 14.4
    ((15, 0), False, True, "sck"),  # a build without the helper
    ((13, 0), False, True, "sck"),
    ((12, 7), True, True, ""),
])
def test_macos_picks_the_tap_then_screencapturekit(version: tuple[int, ...], helper: bool,
                                                   sck: bool, way: str) -> None:
    chosen, reason = macos_capture.choose(version, has_helper=helper, has_sck=sck)
    assert chosen == way
    if not way:
        assert reason == "system audio needs macOS 13 or later (this is macOS 12.7)"


def test_screencapturekit_planar_buffers_become_mono() -> None:
    left, right = np.full(4, 0.5, "<f4"), np.full(4, -0.25, "<f4")
    planar = np.concatenate([left, right]).tobytes()
    np.testing.assert_array_equal(planar_to_mono(planar, 2, True), np.full(4, 4095, np.int16))
    interleaved = np.stack([left, right], axis=1).tobytes()
    np.testing.assert_array_equal(planar_to_mono(interleaved, 2, False),
                                  np.full(4, 4095, np.int16))


def test_unsupported_platform_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_source.sys, "platform", "sunos5")
    assert system_source.system_audio_status().line() == (
        "System audio: off (Recap cannot record system audio on sunos5)")
    with pytest.raises(SystemAudioUnavailable):
        system_source.open_system_audio(16000)
    assert system_source.list_output_devices() == []


