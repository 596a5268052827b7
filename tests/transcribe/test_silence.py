"""Skipping long pauses before Whisper: less audio to process, timestamps still true."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.audio.decode import SAMPLE_RATE, decode
from app.transcribe.engine import WhisperEngine
from app.transcribe.silence import shorten_pauses

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def _room_tone(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 10 ** (-62 / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def meeting_with_pauses() -> tuple[np.ndarray, float, float]:
    """garden (8.5 s), 12 s of room tone, library (9.8 s), 8 s of room tone."""
    garden, library = decode(SPEECH / "garden.m4a"), decode(SPEECH / "library.mp3")
    gap = _room_tone(12.0, 1)
    audio = np.concatenate([garden, gap, library, _room_tone(8.0, 2)])
    second_starts = (len(garden) + len(gap)) / SAMPLE_RATE
    return audio, second_starts, len(audio) / SAMPLE_RATE


def test_long_pauses_are_shortened_and_times_map_back(
    meeting_with_pauses: tuple[np.ndarray, float, float],
) -> None:
    audio, second_starts, total = meeting_with_pauses
    short, time_map = shorten_pauses(audio)
    assert len(short) / SAMPLE_RATE < total - 15  # most of 20 s of pauses gone
    # A time inside the second utterance of the short audio lands inside it in the original.
    offset_in_second = 1_000
    first_kept = [s for s, o in time_map.starts if o / SAMPLE_RATE > second_starts - 1]
    shortened_ms = first_kept[0] * 1000 // SAMPLE_RATE + offset_in_second
    original_ms = time_map.to_original_ms(shortened_ms)
    assert second_starts * 1000 - 500 < original_ms < second_starts * 1000 + 1500


def test_speech_without_long_pauses_is_left_alone() -> None:
    audio = decode(SPEECH / "project-update.flac")
    short, time_map = shorten_pauses(audio)
    assert short is audio and time_map.is_identity


def test_quiet_recording_keeps_its_speech() -> None:
    # Speech 35 dB down (a distant microphone) still counts as speech, not as a pause.
    audio = decode(SPEECH / "library.mp3") * np.float32(10 ** (-35 / 20))
    short, _ = shorten_pauses(audio)
    assert len(short) > 0.8 * len(audio)


@pytest.mark.slow
def test_engine_skipping_silence_keeps_true_timestamps(
    whisper_tiny_q8: Path, meeting_with_pauses: tuple[np.ndarray, float, float],
) -> None:
    audio, second_starts, total = meeting_with_pauses
    engine = WhisperEngine(whisper_tiny_q8, skip_silence=True)
    try:
        progress: list[float] = []
        segments = engine.transcribe(audio, offset_ms=5_000, on_progress=progress.append)
    finally:
        engine.close()
    library = [s for s in segments if "library" in s.text.lower()]
    garden = [s for s in segments if "tomatoes" in s.text.lower()]
    assert garden and library
    assert garden[0].start_ms < 5_000 + 1_000
    assert garden[0].end_ms < 5_000 + 10_000
    # Without the time map this would start 11+ s early, right after the first clip.
    assert abs(library[0].start_ms - (5_000 + second_starts * 1000)) < 1_000
    assert segments[-1].end_ms <= 5_000 + total * 1000
    assert progress == sorted(progress) and progress[-1] == 1.0
