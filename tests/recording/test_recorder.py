"""The recorder with a known signal: exact samples, live level, and errors that keep the audio."""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.audio.capture_errors import (
    DeviceLost,
    DiskFull,
    MicrophonePermissionDenied,
    RecordingTooLong,
    RecordingWriteError,
)
from app.audio.recorder import LevelReading, Recorder
from app.audio.sources import ArraySource, BlockCallback, ErrorCallback, known_signal
from tests.recording.conftest import read_wav

RATE = 16000


def sidecar_of(wav: Path) -> dict[str, object]:
    return json.loads(wav.with_name(wav.stem + ".recording.json").read_text())


def test_recording_holds_exactly_the_samples_fed(tmp_path: Path) -> None:
    signal = known_signal(0, 3 * RATE + 123, channels=2)  # not a whole number of blocks
    source = ArraySource(signal, sample_rate=RATE, channels=2, block_frames=1000, speed=0)
    recorder = Recorder(source, tmp_path / "rec")
    path = recorder.start()
    assert path.parent == tmp_path / "rec" and path.suffix == ".wav"
    deadline = threading.Event()
    while source.fed_frames < len(signal) and not deadline.wait(0.01):
        pass
    result = recorder.stop()

    wav = read_wav(result.path)
    assert (wav.sample_rate, wav.channels) == (RATE, 2)
    assert wav.frames == len(signal) == result.frames
    np.testing.assert_array_equal(wav.samples, signal)
    assert result.error is None
    assert result.duration_s == pytest.approx(len(signal) / RATE)
    meta = sidecar_of(path)
    assert meta["state"] == "stopped" and meta["frames"] == len(signal)
    assert meta["sample_rate"] == RATE and meta["channels"] == 2
    assert meta["device"] == "test signal" and meta["pid"] == os.getpid()


def test_level_meter_reports_dbfs_and_elapsed_time(tmp_path: Path) -> None:
    # A half-scale sine: peak -6.0 dBFS, RMS -9.0 dBFS.
    t = np.arange(2 * RATE) / RATE
    sine = (0.5 * 32767 * np.sin(2 * math.pi * 440 * t)).astype(np.int16).reshape(-1, 1)
    readings: list[LevelReading] = []
    source = ArraySource(sine, sample_rate=RATE, block_frames=800, speed=4)
    recorder = Recorder(source, tmp_path, on_level=readings.append, level_interval_s=0.05)
    recorder.start()
    while source.fed_frames < len(sine):
        threading.Event().wait(0.02)
    result = recorder.stop()

    assert len(readings) >= 5
    loud = [r for r in readings if r.rms_dbfs > -100]
    assert loud, "the meter never moved"
    for r in loud:
        assert r.peak_dbfs == pytest.approx(-6.02, abs=0.1)
        assert r.rms_dbfs == pytest.approx(-9.03, abs=0.3)
    assert not any(r.no_signal for r in readings)
    elapsed = [r.elapsed_s for r in readings]
    assert elapsed == sorted(elapsed)
    assert 0 < elapsed[-1] <= result.duration_s == pytest.approx(2.0)


def test_digital_silence_reads_as_floor_and_warns_of_no_signal(tmp_path: Path) -> None:
    readings: list[LevelReading] = []
    silence = np.zeros((3 * RATE, 1), dtype=np.int16)
    source = ArraySource(silence, sample_rate=RATE, block_frames=400, speed=6)
    recorder = Recorder(source, tmp_path, on_level=readings.append)
    recorder.start()
    while source.fed_frames < len(silence):
        threading.Event().wait(0.02)
    recorder.stop()
    assert readings and all(r.rms_dbfs == r.peak_dbfs == -120.0 for r in readings)
    assert not any(r.no_signal for r in readings if r.elapsed_s < 2.0)
    assert readings[-1].no_signal and readings[-1].elapsed_s >= 2.0


def test_broken_callbacks_do_not_cost_the_recording(tmp_path: Path) -> None:
    """A GUI may stop from its error handler, and a meter may raise: audio is kept either way."""
    results = []

    def stop_from_callback(error: Exception) -> None:
        results.append(recorder.stop())  # on the writer thread: must not deadlock

    def bad_meter(reading: LevelReading) -> None:
        raise ValueError("meter widget gone")

    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, speed=4,
                         fail_after_frames=RATE)
    recorder = Recorder(source, tmp_path, on_level=bad_meter, on_error=stop_from_callback)
    recorder.start()
    assert recorder.wait(5)
    result = recorder.stop()
    assert results == [result] and isinstance(result.error, DeviceLost)
    assert read_wav(result.path).frames == RATE


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "recordings"
    blocker.write_text("a file where the folder should be")
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, speed=1)
    with pytest.raises(RecordingWriteError) as info:
        Recorder(source, blocker).start()
    assert "Could not write the recording" in info.value.message and info.value.fix
    threading.Event().wait(0.1)
    fed = source.fed_frames
    threading.Event().wait(0.2)
    assert source.fed_frames == fed  # the microphone was released


def test_unplugged_device_keeps_audio_so_far(tmp_path: Path) -> None:
    errors: list[Exception] = []
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, block_frames=500,
                         speed=0, fail_after_frames=RATE + 250, device_name="USB Mic")
    recorder = Recorder(source, tmp_path, on_error=errors.append)
    recorder.start()
    assert recorder.wait(10), "the recording should end by itself when the device goes"
    assert not recorder.is_recording
    result = recorder.stop()

    assert isinstance(result.error, DeviceLost)
    assert "USB Mic" in result.error.message and "saved" in result.error.message
    assert result.error.fix
    assert errors == [result.error]
    wav = read_wav(result.path)
    assert wav.frames == RATE + 250
    np.testing.assert_array_equal(wav.samples, known_signal(0, RATE + 250))
    meta = sidecar_of(result.path)
    assert meta["state"] == "stopped" and "stopped delivering" in str(meta["error"])


def test_device_that_goes_silent_is_detected_as_lost(tmp_path: Path) -> None:
    # Some drivers never report an unplug: the stream just stops calling back.
    signal = known_signal(0, RATE // 2)
    source = ArraySource(signal, sample_rate=RATE, block_frames=400, speed=0)
    recorder = Recorder(source, tmp_path, stall_timeout_s=0.3)
    recorder.start()
    assert recorder.wait(5)
    result = recorder.stop()
    assert isinstance(result.error, DeviceLost)
    np.testing.assert_array_equal(read_wav(result.path).samples, signal)


class _OverflowingSource(ArraySource):
    """Reports an input overflow on every third block, like a busy machine."""

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        count = iter(range(10**9))
        super().start(lambda b, _o: on_block(b, next(count) % 3 == 2), on_error)


def test_input_overflows_are_counted_and_logged_not_fatal(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    signal = known_signal(0, 9 * 400)
    source = _OverflowingSource(signal, sample_rate=RATE, block_frames=400, speed=0)
    readings: list[LevelReading] = []
    recorder = Recorder(source, tmp_path, on_level=readings.append, level_interval_s=0.01)
    with caplog.at_level(logging.WARNING, logger="app.audio.recorder"):
        recorder.start()
        while source.fed_frames < len(signal):
            threading.Event().wait(0.01)
        threading.Event().wait(0.05)
        result = recorder.stop()
    assert result.error is None and result.overflows == 3
    assert sum("input overflow" in r.getMessage() for r in caplog.records) == 3
    assert readings[-1].overflows == 3
    np.testing.assert_array_equal(read_wav(result.path).samples, signal)


class _DeniedSource(ArraySource):
    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        raise MicrophonePermissionDenied()


def test_failed_start_raises_clear_error_and_leaves_no_files(tmp_path: Path) -> None:
    recorder = Recorder(_DeniedSource(known_signal(0, 10), sample_rate=RATE), tmp_path)
    with pytest.raises(MicrophonePermissionDenied) as info:
        recorder.start()
    assert "not allowed to use the microphone" in info.value.message and info.value.fix
    assert list(tmp_path.iterdir()) == []


# -- disk full -------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (about 7 s of 16 kHz mono audio); needs root, as in CI."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                           str(mount_point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); "
                    "test_disk_full_by_injected_enospc covers the same path")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _assert_kept_after_disk_full(result_path: Path, result_frames: int, error: object) -> None:
    assert isinstance(error, DiskFull)
    assert "full" in error.message and "saved" in error.message and error.fix
    wav = read_wav(result_path)  # a valid WAV whose header matches its data
    assert wav.frames == result_frames > RATE
    np.testing.assert_array_equal(wav.samples, known_signal(0, wav.frames))
    assert result_path.stat().st_size == 44 + 2 * wav.frames


def test_disk_full_keeps_audio_recorded_so_far(small_disk: Path) -> None:
    errors: list[Exception] = []
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, block_frames=1600,
                         speed=0)
    recorder = Recorder(source, small_disk, on_error=errors.append, sync_interval_s=0.2)
    recorder.start()
    assert recorder.wait(30), "a full disk must end the recording"
    result = recorder.stop()
    _assert_kept_after_disk_full(result.path, result.frames, result.error)
    assert errors == [result.error]
    meta = sidecar_of(result.path)  # updated in place: there was no room for a new file
    assert meta["state"] == "stopped" and meta["frames"] == result.frames


def test_disk_full_by_injected_enospc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same promise where no tmpfs can be mounted: writes past a limit fail with ENOSPC."""
    limit = 44 + 2 * 2 * RATE + 1  # room for 2 s of audio and half a frame
    real_write = os.write
    wav_fds: dict[int, int] = {}

    def write(fd: int, data: bytes | memoryview) -> int:
        if fd not in wav_fds:
            return real_write(fd, data)
        position = os.lseek(fd, 0, os.SEEK_CUR)
        if position + len(data) > limit:
            room = limit - position
            if room <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, bytes(data)[:room])
        return real_write(fd, data)

    real_open = os.open

    def open_(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        if str(path).endswith(".wav"):
            wav_fds[fd] = 1
        return fd

    monkeypatch.setattr("app.audio.wavfile.os.write", write)
    monkeypatch.setattr("app.audio.wavfile.os.open", open_)
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, block_frames=1600,
                         speed=0)
    recorder = Recorder(source, tmp_path)
    recorder.start()
    assert recorder.wait(30)
    result = recorder.stop()
    monkeypatch.undo()
    _assert_kept_after_disk_full(result.path, result.frames, result.error)
    assert result.frames == 2 * RATE  # the half frame that fitted was dropped


def test_longest_file_ends_recording_with_everything_kept(tmp_path: Path) -> None:
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, block_frames=1000,
                         speed=0)
    recorder = Recorder(source, tmp_path)
    recorder.max_frames = RATE + 500  # a 4 GiB WAV in miniature
    recorder.start()
    assert recorder.wait(5)
    result = recorder.stop()
    assert isinstance(result.error, RecordingTooLong) and "Start a new recording" in \
        result.error.fix
    np.testing.assert_array_equal(read_wav(result.path).samples, known_signal(0, RATE + 500))


def test_file_is_valid_while_recording_and_at_most_a_sync_behind(tmp_path: Path) -> None:
    """Any copy taken mid-recording (backup, crash, power cut) is a readable WAV."""
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, block_frames=800,
                         speed=1)
    recorder = Recorder(source, tmp_path, sync_interval_s=0.5)
    path = recorder.start()
    try:
        for _ in range(4):
            threading.Event().wait(0.6)
            fed = source.fed_frames
            live = read_wav(path)  # the header as it is on disk right now
            assert 0 < live.frames <= fed
            assert (fed - live.frames) / RATE <= 0.5 + 0.25
            np.testing.assert_array_equal(live.samples, known_signal(0, live.frames))
    finally:
        recorder.stop()


def test_replaying_a_wav_file_records_it_unchanged(tmp_path: Path) -> None:
    import wave

    original = known_signal(5000, RATE, channels=2)
    source_file = tmp_path / "meeting.wav"
    with wave.open(str(source_file), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(original.astype("<i2").tobytes())
    source = ArraySource.from_wav(source_file, block_frames=700, speed=0)
    assert (source.sample_rate, source.channels, source.device_name) == (22050, 2, "meeting.wav")
    recorder = Recorder(source, tmp_path / "out")
    recorder.start()
    while source.fed_frames < len(original):
        threading.Event().wait(0.01)
    result = recorder.stop()
    wav = read_wav(result.path)
    assert wav.sample_rate == 22050
    np.testing.assert_array_equal(wav.samples, original)
