"""Silence, room tone, hold music and typing give no words; speech around them is kept, at
its true time. Non-speech is skipped by Silero VAD before Whisper (the default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.audio.decode import SAMPLE_RATE, decode
from app.transcribe.engine import WhisperEngine
from app.transcribe.vad import regions_from_probabilities, speech_regions
from tests.noise import hold_music, room_tone, typing
from tests.wer import word_error_rate

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"
S = SAMPLE_RATE


def _noises() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "digital silence": np.zeros(20 * S, dtype=np.float32),
        "room tone": room_tone(20 * S, rng, -50.0),
        "loud room tone": room_tone(20 * S, rng, -35.0),
        "hold music": hold_music(20 * S, rng),
        "typing": typing(15 * S, rng) + room_tone(15 * S, rng, -55.0),
    }


def test_regions_follow_speech_probabilities() -> None:
    win = 512
    probs = np.array([0.0] * 50 + [0.9] * 40 + [0.1] * 5 + [0.9] * 30 + [0.0] * 100
                     + [0.95] * 3 + [0.0] * 50, dtype=np.float32)  # then a 96 ms click
    regions = regions_from_probabilities(probs, len(probs) * win)
    assert len(regions) == 1  # the short dip is inside speech; the click is not speech
    start, end = regions[0]
    assert start < 50 * win < start + 0.5 * S and 125 * win < end < 125 * win + 0.5 * S


@pytest.mark.parametrize("name", list(_noises()))
def test_silero_finds_no_speech_in_noise(name: str) -> None:
    assert speech_regions(_noises()[name]) == []


def test_silero_finds_the_speech_between_noises() -> None:
    garden = decode(SPEECH / "garden.m4a")
    rng = np.random.default_rng(5)
    audio = np.concatenate([hold_music(10 * S, rng), garden, room_tone(10 * S, rng, -45.0)])
    regions = speech_regions(audio)
    assert len(regions) >= 1
    assert abs(regions[0][0] - 10 * S) < 0.6 * S
    assert abs(regions[-1][1] - (10 * S + len(garden))) < 0.8 * S


@pytest.fixture(scope="module")
def engines(whisper_tiny_q8: Path) -> Iterator[dict[bool, WhisperEngine]]:
    made = {skip: WhisperEngine(whisper_tiny_q8, skip_silence=skip) for skip in (True, False)}
    yield made
    for engine in made.values():
        engine.close()


@pytest.mark.slow
@pytest.mark.parametrize("skip", [True, False], ids=["vad", "no-vad"])
def test_noise_and_silence_give_no_segments(engines: dict[bool, WhisperEngine],
                                            skip: bool) -> None:
    for name, audio in _noises().items():
        assert engines[skip].transcribe(audio) == [], name


@pytest.mark.slow
def test_speech_between_music_and_silence_keeps_its_words_and_times(
        engines: dict[bool, WhisperEngine]) -> None:
    rng = np.random.default_rng(9)
    garden, library = decode(SPEECH / "garden.m4a"), decode(SPEECH / "library.mp3")
    parts = [room_tone(30 * S, rng, -55.0), garden, hold_music(20 * S, rng),
             np.zeros(25 * S, dtype=np.float32), library, typing(10 * S, rng)]
    audio = np.concatenate(parts).astype(np.float32)
    library_at = sum(len(p) for p in parts[:4]) * 1000 // S
    segments = engines[True].transcribe(audio)
    reference = " ".join((SPEECH / f).read_text() for f in ("garden.txt", "library.txt"))
    assert word_error_rate(reference, " ".join(s.text for s in segments)) < 0.25
    first_library = next(s for s in segments if "library" in s.text.lower())
    assert abs(first_library.start_ms - library_at) < 1_000
    assert all(0 < w.p <= 1 for s in segments for w in s.words)
    assert all("".join(w.text for w in s.words).strip() == s.text for s in segments)
