"""Decoding every supported format to 16 kHz mono float32, and a clear error for each bad input.

Fixtures are committed (made once by scripts/make_fixtures.sh); durations.tsv holds each clip's
true length, measured on the WAV espeak-ng wrote before any encoding.
"""

from __future__ import annotations

import shutil
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from app.audio.decode import SAMPLE_RATE, decode, probe
from app.audio.errors import (
    AudioError,
    AudioFileMissing,
    CorruptAudio,
    DecodeCancelled,
    EmptyAudioFile,
    NoAudioStream,
    NotAnAudioFile,
    SilentAudio,
    TruncatedAudio,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPEECH = FIXTURES / "speech"
BAD = FIXTURES / "bad"
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "team-sync.opus"

TRUE_SECONDS = {
    name: float(seconds)
    for name, seconds in (
        line.split("\t") for line in (SPEECH / "durations.tsv").read_text().splitlines()
    )
}
CLIPS = sorted(p for p in SPEECH.iterdir() if p.suffix not in (".txt", ".tsv"))


def test_every_promised_format_has_a_fixture() -> None:
    assert {p.suffix for p in CLIPS} >= {".wav", ".mp3", ".m4a", ".ogg", ".flac", ".mp4", ".mkv"}


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
def test_decodes_to_16k_mono_float32_of_the_right_length(clip: Path) -> None:
    audio = decode(clip)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert abs(len(audio) / SAMPLE_RATE - TRUE_SECONDS[clip.stem]) <= 0.05
    assert float(np.max(np.abs(audio))) <= 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.02  # speech, not near-silence


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
def test_probe_knows_the_duration_before_decoding(clip: Path) -> None:
    info = probe(clip)
    # The container's own length can include a video track's last frame or encoder padding.
    assert info.duration_s == pytest.approx(TRUE_SECONDS[clip.stem], abs=0.15)
    assert info.sample_rate > 0 and info.channels >= 1
    assert info.has_video == (clip.suffix in (".mp4", ".mkv"))


def test_probe_reports_source_properties() -> None:
    mp3 = probe(SPEECH / "library.mp3")
    assert (mp3.sample_rate, mp3.channels, mp3.container) == (44100, 2, "mp3")
    assert probe(SPEECH / "groceries.ogg").codec == "opus"
    assert probe(SPEECH / "garden.m4a").codec == "aac"


def test_stereo_is_mixed_down_not_interleaved() -> None:
    # An interleaved stereo buffer would be twice as long and play at half speed.
    assert len(decode(SPEECH / "library.mp3")) / SAMPLE_RATE == pytest.approx(9.75, abs=0.05)


def test_progress_is_monotonic_and_ends_at_one() -> None:
    seen: list[float] = []
    decode(SAMPLE, progress=seen.append)
    assert len(seen) > 10
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert 0.0 <= seen[0] < 0.1


def test_cancel_stops_decoding() -> None:
    cancel = threading.Event()

    def cancel_midway(fraction: float) -> None:
        if fraction > 0.3:
            cancel.set()

    seen: list[float] = []
    with pytest.raises(DecodeCancelled):
        decode(SAMPLE, progress=lambda f: (seen.append(f), cancel_midway(f)), cancel=cancel)
    assert max(seen) < 0.5


def test_holds_one_copy_of_the_audio() -> None:
    # 92 s of audio is 5.9 MB of float32; chunk lists plus a concatenated copy would need twice.
    tracemalloc.start()
    try:
        audio = decode(SAMPLE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < audio.nbytes * 1.25 + 1_000_000


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("empty.wav", EmptyAudioFile, "empty"),
        ("not-audio.mp3", NotAnAudioFile, "not an audio"),
        ("truncated.flac", TruncatedAudio, "cut short"),
        ("no-audio.mp4", NoAudioStream, "no sound track"),
        ("silence.flac", SilentAudio, "No speech found"),
    ],
)
def test_bad_input_gets_its_own_one_line_error(
    name: str, error: type[AudioError], words: str
) -> None:
    with pytest.raises(error) as caught:
        decode(BAD / name)
    message = str(caught.value)
    assert name in message and words in message
    assert "\n" not in message
    assert caught.value.fix  # and says what to do


def test_probe_rejects_bad_input_too() -> None:
    with pytest.raises(NotAnAudioFile):
        probe(BAD / "not-audio.mp3")
    with pytest.raises(NoAudioStream):
        probe(BAD / "no-audio.mp4")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioFileMissing, match="no such file"):
        decode(tmp_path / "gone.m4a")
    with pytest.raises(NotAnAudioFile):
        decode(tmp_path)


def test_truncated_file_can_be_read_partially_on_request() -> None:
    with pytest.raises(TruncatedAudio) as caught:
        decode(BAD / "truncated.flac")
    assert caught.value.expected_s == pytest.approx(12.28, abs=0.01)
    audio = decode(BAD / "truncated.flac", allow_truncated=True)
    assert len(audio) / SAMPLE_RATE == pytest.approx(caught.value.decoded_s, abs=0.01)
    assert 3.0 < caught.value.decoded_s < 7.0  # 40% of the file's bytes


def test_garbage_after_a_valid_header_is_reported_as_damaged(tmp_path: Path) -> None:
    # A FLAC header promising 12 s, followed by noise instead of audio frames.
    source = (SPEECH / "project-update.flac").read_bytes()
    damaged = tmp_path / "damaged.flac"
    rng = np.random.default_rng(7)
    damaged.write_bytes(source[:8192] + rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises((CorruptAudio, TruncatedAudio)) as caught:
        decode(damaged)
    assert "damaged.flac" in str(caught.value)


def test_misleading_extension_is_fine_when_the_content_is_audio(tmp_path: Path) -> None:
    renamed = tmp_path / "meeting.wav"
    shutil.copy(SPEECH / "groceries.ogg", renamed)
    assert len(decode(renamed)) / SAMPLE_RATE == pytest.approx(TRUE_SECONDS["groceries"], abs=0.05)


def test_quiet_speech_is_not_mistaken_for_silence(tmp_path: Path) -> None:
    audio = decode(SPEECH / "hello.wav")
    quiet = audio * 10 ** (-30 / 20)  # 30 dB quieter: a far-away laptop microphone
    import av

    path = tmp_path / "quiet.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=SAMPLE_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            (quiet * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert len(decode(path)) == len(audio)
