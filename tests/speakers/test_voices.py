"""Remembered voices: the right stored name is suggested, nothing below the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from app.speakers.diarize import Diarization, Diarizer
from app.speakers.voices import DEFAULT_THRESHOLD, similarity, suggest_names
from tests.speakers.conftest import Meeting, unit


def _voice(rng: np.random.Generator, base: np.ndarray, noise: float) -> np.ndarray:
    return unit(base + noise * rng.standard_normal(base.shape))


def test_suggestions_are_one_to_one_and_above_the_threshold() -> None:
    rng = np.random.default_rng(1)
    dana, lee, sam = (unit(rng.standard_normal(192)) for _ in range(3))
    stored = {"Dana": dana, "Lee": lee}
    # Speaker 0 sounds like Dana, speaker 1 a little like Dana too, speaker 2 like nobody.
    meeting = np.stack([_voice(rng, dana, 0.03), _voice(rng, dana, 0.06), sam])
    matches = suggest_names(meeting, stored)
    assert [(m.speaker, m.name) for m in matches] == [(0, "Dana")]
    assert matches[0].similarity >= DEFAULT_THRESHOLD
    assert similarity(meeting[2], dana) < DEFAULT_THRESHOLD
    assert suggest_names(meeting, {}) == []
    assert suggest_names(meeting, {"Old": np.ones(512)}) == []  # another model's voice
    assert suggest_names(meeting, stored, threshold=1.01) == []


@pytest.mark.slow
def test_a_voice_from_one_meeting_is_recognised_in_another(
        diarizer: Diarizer, meetings: dict[str, Meeting]) -> None:
    """three-voices and two-voices share one voice (en-gb+f1): naming it in the first meeting
    suggests that name in the second, and the other voice of the second gets no name."""
    first, second = meetings["three-voices"], meetings["two-voices"]
    one = diarizer.diarize(first.audio, first.spans)
    two = diarizer.diarize(second.audio, second.spans)
    names = {"en-gb+f1": "Dana", "en-us+m1": "Lee", "en-gb-scotland+m2": "Sam"}
    stored = {names[first.voices[_truth_of(first, one, s)]]: one.centroids[s]
              for s in range(one.num_speakers)}
    matches = suggest_names(two.centroids, stored)
    assert len(matches) == 1
    shared = second.voices.index("en-gb+f1")
    assert matches[0].name == "Dana"
    assert _truth_of(second, two, matches[0].speaker) == shared


def _truth_of(meeting: Meeting, result: Diarization, speaker: int) -> int:
    """The true voice index that speaks most in a found speaker's turns."""
    totals = np.zeros(len(meeting.voices))
    for turn in result.turns:
        if turn.speaker != speaker:
            continue
        for start, end, who, _ in meeting.turns:
            totals[who] += max(0.0, min(end, turn.end) - max(start, turn.start))
    return int(np.argmax(totals))
