"""An audio header is input like the rest of the file: a lie in it must cost neither memory
nor a clear answer. Real crafted files: a WAV at 1 Hz, a FLAC whose STREAMINFO claims 2^36
samples, a WAV whose header promises 50 s with 1 s present."""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from app.audio import decode as decode_module
from app.audio.decode import SAMPLE_RATE, decode, probe, read_audio
from app.audio.errors import AudioTooLong, TruncatedAudio, UnsupportedSampleRate

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"
T = TypeVar("T")


def peak_bytes(work: Callable[[], T]) -> tuple[T, int]:
    """`work()` and the most memory Python and numpy held at once while it ran."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def wav_bytes(rate: int, pcm: bytes, *, claimed_bytes: int | None = None, width: int = 2) -> bytes:
    size = len(pcm) if claimed_bytes is None else claimed_bytes
    return (b"RIFF" + struct.pack("<I", min(36 + size, 0xFFFFFFFF)) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * width, width, 8 * width)
            + b"data" + struct.pack("<I", size) + pcm)


def speech_pcm(seconds: float) -> bytes:
    audio = decode(SPEECH / "project-update.flac")[: int(seconds * SAMPLE_RATE)]
    return (audio * 32767).astype("<i2").tobytes()


def flac_claiming(samples: int, tmp_path: Path) -> Path:
    """project-update.flac (212 KB, 12.3 s) with STREAMINFO's total-samples field changed."""
    data = bytearray((SPEECH / "project-update.flac").read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    field = int.from_bytes(data[18:26], "big")  # rate, channels, bits, then 36-bit total
    field = (field & ~((1 << 36) - 1)) | samples
    data[18:26] = field.to_bytes(8, "big")
    path = tmp_path / "claims-more.flac"
    path.write_bytes(bytes(data))
    return path


def test_a_1_hz_wav_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    """64 KB at 1 Hz used to be 18 hours of audio: 4.2 GB of samples at 16 kHz."""
    path = tmp_path / "one-hertz.wav"
    path.write_bytes(wav_bytes(1, bytes(range(256)) * 256, width=1))
    with pytest.raises(UnsupportedSampleRate, match="1 Hz") as caught:
        peak_bytes(lambda: decode(path))
    assert caught.value.fix
    with pytest.raises(UnsupportedSampleRate):
        probe(path)


def test_a_flac_claiming_2_36_samples_reads_what_it_holds(tmp_path: Path) -> None:
    """Its header asked for a 259 GiB buffer, which failed as an "unexpected error"."""
    path = flac_claiming((1 << 36) - 1, tmp_path)
    read, peak = peak_bytes(lambda: read_audio(path))
    assert read.readable_s == pytest.approx(12.28, abs=0.05)
    assert read.expected_s is not None and read.expected_s > 4e6  # what the header says
    # Memory in proportion to the audio there is (12 s = 0.8 MB), not to the claim.
    assert peak < 40 * read.audio.nbytes
    with pytest.raises(TruncatedAudio):
        decode(path)


def test_a_header_claiming_less_than_the_file_holds_grows_the_buffer(tmp_path: Path) -> None:
    path = flac_claiming(SAMPLE_RATE, tmp_path)  # "one second"
    audio = decode(path, allow_truncated=True)
    assert len(audio) / SAMPLE_RATE == pytest.approx(12.28, abs=0.05)


def test_a_wav_that_ends_early_says_how_much_was_readable(tmp_path: Path) -> None:
    """Header says 50 s, 1 s is there: FFmpeg trims its length to the file, so this used to
    come out as a complete one-second recording."""
    path = tmp_path / "copy-interrupted.wav"
    path.write_bytes(wav_bytes(SAMPLE_RATE, speech_pcm(1.0), claimed_bytes=50 * SAMPLE_RATE * 2))
    read = read_audio(path)
    assert read.readable_s == pytest.approx(1.0, abs=0.01)
    assert read.expected_s == pytest.approx(50.0)
    with pytest.raises(TruncatedAudio, match=r"only 1\.0 s of 50\.0 s"):
        decode(path)


def test_a_streaming_wav_with_no_stated_length_is_not_called_truncated(tmp_path: Path) -> None:
    path = tmp_path / "streamed.wav"
    path.write_bytes(wav_bytes(SAMPLE_RATE, speech_pcm(2.0), claimed_bytes=0xFFFFFFFF))
    read = read_audio(path)
    assert read.expected_s is None and read.readable_s == pytest.approx(2.0, abs=0.01)


def test_more_audio_than_the_limit_is_refused_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_module, "MAX_DURATION_S", 5.0)
    with pytest.raises(AudioTooLong) as caught:
        decode(SPEECH / "project-update.flac")
    assert caught.value.fix and "hours" in str(caught.value)


def test_ordinary_files_are_unaffected() -> None:
    audio = decode(SPEECH / "hello.wav")
    assert read_audio(SPEECH / "hello.wav").expected_s is None
    assert np.max(np.abs(audio)) > 0.1
