"""Who spoke when, on generated meetings decoded from the committed Opus files.

The `slow` ones run CAM++ over 12-50 s of audio: 1-3 s of CPU each on an idle machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.speakers import DiarizationCancelled, SpeakerError, assign_segments
from app.speakers.diarize import Diarization, Diarizer, SpeakerTurn
from tests.speakers.conftest import Meeting, agreement


@pytest.fixture(scope="module")
def results(diarizer: Diarizer, meetings: dict[str, Meeting]) -> dict[str, Diarization]:
    """Each meeting diarized once (about 2.5 s of CPU each on an idle machine)."""
    return {
        "three-voices": diarizer.diarize(meetings["three-voices"].audio),
        "two-voices": diarizer.diarize(meetings["two-voices"].audio,
                                       meetings["two-voices"].spans),
        "one-voice": diarizer.diarize(meetings["one-voice"].audio),
    }


@pytest.mark.slow
def test_three_voices_are_three_speakers_and_turns_get_their_speaker(
        results: dict[str, Diarization], meetings: dict[str, Meeting]) -> None:
    meeting = meetings["three-voices"]
    result = results["three-voices"]
    assert result.num_speakers == 3
    found = assign_segments(meeting.spans, result)
    # One 0.4 s "Yes." sits between two other voices with 0.15 s pauses: it may go either way.
    assert agreement(meeting.speakers, found) >= 8 / 9
    assert result.centroids.shape == (3, 192)
    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    assert [Diarization.label(i) for i in range(3)] == ["S1", "S2", "S3"]
    assert result.turns[0].speaker == 0  # numbered in order of first words


@pytest.mark.slow
def test_two_voices_with_a_short_reply(results: dict[str, Diarization],
                                       meetings: dict[str, Meeting]) -> None:
    meeting = meetings["two-voices"]
    result = results["two-voices"]  # with the true turns as the speech regions
    assert result.num_speakers == 2
    found = assign_segments(meeting.spans, result)
    assert agreement(meeting.speakers, found) == 1.0  # including the 0.7 s "No problem."


@pytest.mark.slow
def test_one_voice_is_one_speaker(results: dict[str, Diarization],
                                  meetings: dict[str, Meeting]) -> None:
    result = results["one-voice"]
    assert result.num_speakers == 1
    assert set(assign_segments(meetings["one-voice"].spans, result)) == {0}


@pytest.mark.slow
def test_the_speaker_count_can_be_forced(diarizer: Diarizer,
                                         meetings: dict[str, Meeting]) -> None:
    first_30s = meetings["three-voices"].audio[: 16000 * 30]  # all three voices speak
    assert diarizer.diarize(first_30s, num_speakers=2).num_speakers == 2
    assert diarizer.diarize(first_30s[: 16000 * 6], num_speakers=1).num_speakers == 1
    with pytest.raises(SpeakerError, match="not a number of speakers"):
        diarizer.diarize(first_30s, num_speakers=0)


def test_a_few_seconds_of_speech_is_one_speaker(diarizer: Diarizer,
                                                meetings: dict[str, Meeting]) -> None:
    clip = meetings["two-voices"].audio[: 16000 * 4]  # one voice, 3.5 s of speech
    result = diarizer.diarize(clip)
    assert result.num_speakers == 1
    assert result.turns and result.turns[0].start < 1.0


def test_silence_and_empty_audio_give_no_speakers(diarizer: Diarizer) -> None:
    for audio in (np.zeros(16000 * 5, dtype=np.float32), np.zeros(0, dtype=np.float32)):
        result = diarizer.diarize(audio)
        assert result.num_speakers == 0 and result.turns == ()
    assert assign_segments([(0.0, 1.0)], diarizer.diarize(np.zeros(100, np.float32))) == [None]


@pytest.mark.slow
def test_progress_rises_to_one_and_cancel_stops(diarizer: Diarizer,
                                                meetings: dict[str, Meeting]) -> None:
    seen: list[float] = []
    diarizer.diarize(meetings["one-voice"].audio[: 16000 * 12], progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 1
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(DiarizationCancelled):
        diarizer.diarize(meetings["one-voice"].audio, cancel=cancel)
    assert len(calls) == 2  # stopped at the second batch, not at the end


def test_segments_take_the_speaker_who_talks_most_inside_them() -> None:
    result = Diarization((SpeakerTurn(0.0, 4.0, 0), SpeakerTurn(4.0, 5.0, 1),
                          SpeakerTurn(9.0, 10.0, 1)), np.eye(2, 192, dtype=np.float32),
                         (4.0, 2.0))
    segments = [(0.0, 4.5), (3.5, 5.0), (5.2, 5.6), (8.2, 8.6), (6.5, 7.5), (20.0, 21.0)]
    # Segments that touch no turn take the nearest one within a second (0.2 s and 0.4 s
    # away); (6.5, 7.5) is 1.5 s from any turn, (20, 21) even further: no speaker.
    assert assign_segments(segments, result) == [0, 1, 1, 1, None, None]
