"""The live transcript core: cutting at pauses, echo checks, and real Whisper on both tracks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from app.audio.decode import decode
from app.audio.echo import audio_echo_score, text_echo_share
from app.audio.pause_chunker import RATE, PauseChunker
from app.audio.two_track import AlignedAudio
from app.pipeline.live import LiveStats, LiveTranscriber
from app.transcribe.live_log import LiveSegment, live_log_path, read_live_log

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def voice(name: str) -> np.ndarray:
    return decode(next(SPEECH.glob(f"{name}.*[!t]")))


def chunks_of(chunker: PauseChunker, audio: np.ndarray, block: int = 1600) -> list:
    out = []
    for start in range(0, len(audio), block):
        out += chunker.feed(start, audio[start:start + block].astype(np.float32))
    return out + chunker.flush()


def test_silence_and_room_noise_give_no_chunk() -> None:
    rng = np.random.default_rng(0)
    quiet = np.concatenate([np.zeros(10 * RATE),
                            rng.standard_normal(20 * RATE) * 10 ** (-70 / 20)])
    assert chunks_of(PauseChunker("system"), quiet) == []


def test_speech_is_cut_at_pauses() -> None:
    hello, garden = voice("hello"), voice("garden")
    audio = np.concatenate([np.zeros(2 * RATE), hello, np.zeros(2 * RATE), garden,
                            np.zeros(RATE)])
    chunks = chunks_of(PauseChunker("mic"), audio)
    assert len(chunks) >= 2
    first_sound = 2 * RATE + int(np.flatnonzero(np.abs(hello) > 0.01)[0])
    assert abs(chunks[0].start - first_sound) < 0.35 * RATE
    assert chunks[0].end <= 2 * RATE + len(hello) + RATE  # closed in the pause after "hello"
    assert chunks[-1].end >= 4 * RATE + len(hello) + len(garden) - RATE
    assert all(c.track == "mic" for c in chunks)


def test_long_speech_is_capped() -> None:
    long = np.concatenate([voice("project-update")] * 3)
    chunks = chunks_of(PauseChunker("mic", max_s=5.0, pause_s=3.0), long)
    assert max(len(c.audio) for c in chunks) <= 5 * RATE + 480


def test_echo_measures() -> None:
    system = voice("library")
    rng = np.random.default_rng(3)
    tail = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 800) * 0.3
    tail[0] = 1.0
    echo = np.convolve(np.concatenate([np.zeros(640), system]), tail)[: len(system)] * 0.3
    other = voice("groceries")[: len(system)]
    other = np.pad(other, (0, len(system) - len(other)))
    assert audio_echo_score(system.copy(), system, 0) > 0.95
    assert audio_echo_score(echo.astype(np.float32), system, 0) > 0.7
    assert audio_echo_score(other, system, 0) < 0.6
    said = "The library will close early on Thursday because of the holiday."
    assert text_echo_share("the library will close early on thursday", [said]) == 1.0
    assert text_echo_share("please buy fresh bread and eggs", [said]) < 0.2


def two_tracks(mic: np.ndarray, system: np.ndarray) -> np.ndarray:
    n = max(len(mic), len(system))
    frames = np.zeros((n, 2), dtype=np.int16)
    frames[: len(mic), 0] = np.clip(mic, -1, 1) * 32767
    frames[: len(system), 1] = np.clip(system, -1, 1) * 32767
    return frames


def run_live(model: Path, folder: Path, frames: np.ndarray, speed: float = 4.0,
             ) -> tuple[list[LiveSegment], Path, list[list[LiveSegment]], LiveStats]:
    """Feed aligned two-track audio like the recorder would; what was emitted, and the
    live log as it stood each time a segment came out."""
    logs: list[list[LiveSegment]] = []
    path = folder / "recording.wav"
    live = LiveTranscriber(model, on_segment=lambda s: logs.append(read_live_log(log_path)))
    log_path = live.start(path)
    block = RATE // 10
    for start in range(0, len(frames), block):
        live.feed(AlignedAudio(start, frames[start:start + block], RATE, ("mic", "system")))
        time.sleep(block / RATE / speed)
    segments = live.close(timeout=None)  # a busy machine may be minutes behind
    assert live.error is None
    return segments, log_path, logs, live.stats


def words(segments: list[LiveSegment], speaker: str) -> str:
    return " ".join(s.text.lower() for s in segments if s.speaker == speaker)


@pytest.mark.slow
def test_live_segments_are_labelled_and_saved_as_they_come(whisper_tiny_q8: Path,
                                                           tmp_path: Path) -> None:
    groceries, library = voice("groceries"), voice("library")
    mic = np.concatenate([np.zeros(RATE), groceries, np.zeros(14 * RATE)])
    system = np.concatenate([np.zeros(12 * RATE), library, np.zeros(3 * RATE)])
    segments, log_path, logs, _ = run_live(whisper_tiny_q8, tmp_path, two_tracks(mic, system))

    you, others = words(segments, "You"), words(segments, "Others")
    assert all(w in you for w in ("remember", "apples", "corner")), you
    assert all(w in others for w in ("library", "thursday", "monday")), others
    assert "library" not in you and "apples" not in others
    # Silence on either track gave no text: every line lies where its track had speech.
    for s in segments:
        lo, hi = (1000, 1000 + len(groceries) * 1000 // RATE) if s.track == "mic" else \
            (12000, 12000 + len(library) * 1000 // RATE)
        assert lo - 500 <= s.start_ms and s.end_ms <= hi + 1000, s
    # Each segment was on disk before anyone heard of it, and the file is the transcript.
    assert [len(log) for log in logs] == list(range(1, len(segments) + 1))
    assert read_live_log(log_path) == sorted(segments, key=lambda s: (s.start_ms, s.track))
    assert log_path == live_log_path(tmp_path / "recording.wav")


@pytest.mark.slow
def test_echo_of_the_speakers_is_not_transcribed_twice(whisper_tiny_q8: Path,
                                                       tmp_path: Path) -> None:
    library = voice("library")
    rng = np.random.default_rng(7)
    # A small room (RT60 about 0.2 s), 50 ms away, a laptop's bass-less speakers.
    tail = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 450) * 0.3
    tail[0] = 1.0
    system = np.concatenate([np.zeros(RATE), library, np.zeros(2 * RATE)])
    echo = np.convolve(np.concatenate([np.zeros(800), system]), tail)[: len(system)]
    spectrum = np.fft.rfft(echo)
    spectrum[: int(300 * len(echo) / RATE)] = 0
    echo = np.fft.irfft(spectrum, len(echo))
    echo = echo * 0.35 / np.abs(echo).max() + rng.standard_normal(len(system)) * 1e-3
    segments, _, _, stats = run_live(whisper_tiny_q8, tmp_path, two_tracks(echo, system))
    assert "library" in words(segments, "Others")
    assert words(segments, "You") == ""
    assert stats.echo_dropped_audio + stats.echo_dropped_text >= 1


@pytest.mark.slow
def test_talking_over_the_far_end_is_kept(whisper_tiny_q8: Path, tmp_path: Path) -> None:
    library, groceries = voice("library"), voice("groceries")
    system = np.concatenate([np.zeros(RATE), library, np.zeros(2 * RATE)])
    user = np.zeros(len(system))
    user[RATE:RATE + len(groceries)] = groceries * 0.8
    echo = np.concatenate([np.zeros(600), system])[: len(system)] * 0.15
    segments, _, _, _ = run_live(whisper_tiny_q8, tmp_path, two_tracks(user + echo, system))
    you = words(segments, "You")
    assert sum(w in you for w in ("remember", "apples", "shop", "corner", "tonight")) >= 3, you


