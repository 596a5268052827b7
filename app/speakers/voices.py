"""Remembered voices: suggest a stored name for a new meeting's speaker ("sounds like Dana").

A voice is the unit-length mean CAM++ embedding of everything a named speaker said in one
meeting (a `Diarization` centroid); several meetings' voices for one name are averaged by the
caller or kept apart, either works here. Suggestions are one-to-one: two speakers of the same
meeting never both get "Dana"; each gets the best free name whose cosine similarity clears
`threshold`, or nothing. The default, 0.80, was chosen on the dev meetings of
benchmarks/diarization.py (one fixed synthetic voice heard in several meetings): at 0.70 five
of 49 speakers got a wrong name, at 0.80 one (33 right, 15 none); on the held-out meetings
0.80 gave 23 right, 2 wrong, 15 none of 40. The wrong ones are pairs of espeak voices that
CAM++ finds near-identical (cosine 0.94-0.96 between clean, single-voice clusters), which no
threshold separates. The same voice over a phone line versus clean scored as low as 0.47-0.60:
such a voice is left unnamed rather than misnamed. Real voices differ from synthetic ones; the
user confirms every suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]
DEFAULT_THRESHOLD = 0.80


@dataclass(frozen=True)
class VoiceMatch:
    speaker: int  # index in this meeting's diarization
    name: str  # the stored voice's name
    similarity: float


def _unit(x: Array) -> Array:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(x))
    out: Array = x / norm if norm > 0 else x
    return out


def similarity(a: Array, b: Array) -> float:
    return float(_unit(a) @ _unit(b))


def suggest_names(centroids: Array, stored: Mapping[str, Array],
                  threshold: float = DEFAULT_THRESHOLD) -> list[VoiceMatch]:
    """Best one-to-one matches of this meeting's speakers to stored voices, above threshold."""
    names = list(stored)
    if not names or len(centroids) == 0:
        return []
    mine = np.stack([_unit(c) for c in centroids])
    theirs = np.stack([_unit(stored[n]) for n in names])
    if mine.shape[1] != theirs.shape[1]:
        return []  # voices from another model: nothing comparable
    sims = mine @ theirs.T
    matches: list[VoiceMatch] = []
    taken_speakers: set[int] = set()
    taken_names: set[int] = set()
    for flat in np.argsort(-sims, axis=None):
        s, n = np.unravel_index(int(flat), sims.shape)
        value = float(sims[s, n])
        if value < threshold:
            break
        if int(s) in taken_speakers or int(n) in taken_names:
            continue
        taken_speakers.add(int(s))
        taken_names.add(int(n))
        matches.append(VoiceMatch(int(s), names[int(n)], round(value, 4)))
    return sorted(matches, key=lambda m: m.speaker)
