"""The two-track recorder with sources faked at the OS boundary: layout, alignment, padding,
a track ending mid-way, one track off, and recovery after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.audio import recovery
from app.audio.capture_errors import SystemAudioLost, SystemAudioUnavailable
from app.audio.sidecar import sidecar_path
from app.audio.sources import ArraySource, known_signal
from app.audio.tracks import decode_tracks
from app.audio.two_track import TwoTrackRecorder, TwoTrackResult
from tests.capture.conftest import ScriptedSource
from tests.recording.conftest import read_wav

RATE = 16000
REPO = Path(__file__).resolve().parents[2]


def mic_source() -> ArraySource:
    return ArraySource(lambda s, n: known_signal(s, n, 1), sample_rate=RATE, block_frames=320)


def record(tmp_path: Path, seconds: float, **kwargs: object) -> TwoTrackResult:
    recorder = TwoTrackRecorder(tmp_path, **kwargs)  # type: ignore[arg-type]
    recorder.start()
    time.sleep(seconds)
    return recorder.stop()


def offset_of(track: np.ndarray, signal: np.ndarray) -> int:
    """Where the first 100 samples of ``signal`` sit in ``track`` (exact match)."""
    probe = signal[:100]
    for i in np.flatnonzero(track == probe[0]):
        if np.array_equal(track[i:i + 100], probe):
            return int(i)
    raise AssertionError("signal not found")


def test_both_tracks_land_in_one_file_sample_exact(tmp_path: Path) -> None:
    system = ScriptedSource()
    result = record(tmp_path, 2.0, mic=mic_source(), system=system)

    assert result.error is None and result.tracks == ("mic", "system")
    wav = read_wav(result.path)
    assert (wav.channels, wav.sample_rate) == (2, RATE)
    assert abs(wav.frames / RATE - 2.0) < 0.3
    mic = wav.samples[:, 0]
    start = offset_of(mic, known_signal(0, 100, 1)[:, 0])
    n = len(mic) - start - 800  # at stop the shorter track's last blocks are padding
    np.testing.assert_array_equal(mic[start:start + n], known_signal(0, n, 1)[:, 0])
    sys_track = wav.samples[:, 1]
    first = system.signal(0, 100)[:, 0]
    sys_start = offset_of(sys_track, first)
    n = len(sys_track) - sys_start - 800
    np.testing.assert_array_equal(sys_track[sys_start:sys_start + n], system.signal(0, n)[:, 0])
    assert abs(sys_start - start) < 0.05 * RATE  # both started together
    meta = json.loads(sidecar_path(result.path).read_text())
    assert meta["tracks"] == ["mic", "system"] and meta["channels"] == 2
    assert meta["track_devices"] == {"mic": "test signal", "system": "fake output"}
    tracks = decode_tracks(result.path)
    assert set(tracks) == {"mic", "system"} and len(tracks["mic"]) == pytest.approx(
        wav.frames, abs=200)


def test_a_late_system_stream_is_placed_where_it_started(tmp_path: Path) -> None:
    # A PulseAudio null sink starts delivering 1.4-2 s after it is opened.
    system = ScriptedSource(start_delay_s=1.5)
    result = record(tmp_path, 3.0, mic=mic_source(), system=system)
    wav = read_wav(result.path)
    sys_track = wav.samples[:, 1]
    first_audio = int(np.flatnonzero(sys_track)[0])
    mic_start = offset_of(wav.samples[:, 0], known_signal(0, 100, 1)[:, 0])
    assert abs((first_audio - mic_start) / RATE - 1.5) < 0.1
    assert result.first_data_s["system"] > 1.4


def test_silence_the_os_does_not_deliver_is_padded(tmp_path: Path) -> None:
    # WASAPI loopback delivers nothing while nothing plays: the timeline must stay continuous.
    system = ScriptedSource(silent_between=(1.0, 2.2))
    result = record(tmp_path, 3.2, mic=mic_source(), system=system)
    wav = read_wav(result.path)
    sys_track = wav.samples[:, 1]
    resumed = next(frame for t, frame in system.delivered if frame >= 2.2 * RATE)
    where = offset_of(sys_track, system.signal(resumed, 100)[:, 0])
    before = offset_of(sys_track, system.signal(0, 100)[:, 0])
    # Audio after the silence sits where it played, relative to the first block.
    assert abs((where - before) - resumed) < 0.06 * RATE
    assert not sys_track[before + int(1.05 * RATE):before + int(2.15 * RATE)].any()
    assert result.padded_s["system"] == pytest.approx(1.2, abs=0.15)


def test_system_audio_ending_keeps_the_recording_going_and_says_so(tmp_path: Path) -> None:
    notices: list[str] = []
    system = ScriptedSource(fail_after_s=1.0, error=SystemAudioLost("Headset", "unplugged"))
    result = record(tmp_path, 2.5, mic=mic_source(), system=system, on_notice=notices.append)
    assert result.error is None  # the microphone went on
    assert any("System audio from 'Headset' stopped" in n for n in notices)
    assert result.notices == tuple(notices)
    wav = read_wav(result.path)
    assert wav.frames / RATE > 2.0
    sys_track = wav.samples[:, 1]
    assert sys_track[: int(0.9 * RATE)].any() and not sys_track[int(1.6 * RATE):].any()


def test_notices_from_the_source_are_passed_on(tmp_path: Path) -> None:
    notices: list[str] = []
    system = ScriptedSource(notices_at={0.5: "System audio now comes from 'HDMI'."})
    result = record(tmp_path, 1.2, mic=mic_source(), system=system, on_notice=notices.append)
    assert notices == ["System audio now comes from 'HDMI'."]
    assert json.loads(sidecar_path(result.path).read_text())["notices"] == notices


def test_unavailable_system_audio_records_the_microphone_alone(tmp_path: Path) -> None:
    class Unavailable(ScriptedSource):
        def start(self, on_block, on_error):  # type: ignore[no-untyped-def]
            raise SystemAudioUnavailable("there is no audio output to record")

    notices: list[str] = []
    result = record(tmp_path, 0.8, mic=mic_source(), system=Unavailable(),
                    on_notice=notices.append)
    assert result.tracks == ("mic",) and read_wav(result.path).channels == 1
    assert notices == ["System audio is not recorded: there is no audio output to record. "
                       "Recording goes on with the microphone alone."]


@pytest.mark.parametrize("track", ["mic", "system"])
def test_either_track_can_be_off(tmp_path: Path, track: str) -> None:
    sources = {"mic": mic_source()} if track == "mic" else {"system": ScriptedSource()}
    result = record(tmp_path, 0.8, **sources)
    assert result.tracks == (track,)
    wav = read_wav(result.path)
    assert wav.channels == 1 and wav.samples.any()
    assert json.loads(sidecar_path(result.path).read_text())["tracks"] == [track]


def test_system_audio_at_another_rate_is_resampled(tmp_path: Path) -> None:
    t = np.arange(48000 * 10) / 48000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    system = ScriptedSource(lambda s, n: tone[s:s + n].reshape(-1, 1), sample_rate=48000)
    result = record(tmp_path, 1.5, mic=mic_source(), system=system)
    wav = read_wav(result.path)
    assert wav.sample_rate == RATE
    played = wav.samples[int(0.3 * RATE):int(1.0 * RATE), 1].astype(float)
    spectrum = np.abs(np.fft.rfft(played))
    assert abs(np.argmax(spectrum) * RATE / len(played) - 440) < 5


def test_sigkill_loses_at_most_a_second_of_either_track(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_child.py")),
                              str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    path = Path(child.stdout.readline().split()[1])
    time.sleep(3.0)
    child.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    child.wait(10)
    [candidate] = recovery.find_unfinished(tmp_path)
    assert candidate.tracks == ("mic", "system") and candidate.channels == 2
    wav = read_wav(path)
    assert wav.frames == candidate.frames
    for ch, signal_of in ((0, lambda n: known_signal(0, n, 1)[:, 0]),
                          (1, lambda n: known_signal(10**7, n, 1)[:, 0])):
        track = wav.samples[:, ch]
        start = offset_of(track, signal_of(100))
        kept = len(track) - start - 800  # the other track may be a block ahead
        np.testing.assert_array_equal(track[start:start + kept], signal_of(kept))
    # The child ran about 3 s of audio; at most a second of it may be missing.
    assert wav.frames / RATE >= 3.0 - 1.0 - (time.monotonic() - killed_at)
