"""Remembered voices: suggest a stored name for a new meeting's speaker ("sounds like Dana").

A voice is the unit-length mean CAM++ embedding of everything a named speaker said in one
meeting (a `Diarization` centroid); several meetings' voices for one name are averaged by the
caller or kept apart, either works here. Suggestions are one-to-one: two speakers of the same
meeting never both get "Dana"; each gets the best free name whose cosine similarity clears
`threshold`, or nothing. The default threshold is measured by
benchmarks/diarization.py (same voice across meetings against different voices); real voices
over real microphones vary more than synthetic ones, so the user confirms every suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]
DEFAULT_THRESHOLD = 0.70


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
