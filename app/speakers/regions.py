"""Where someone speaks: an energy detector, and windows over the speech for embeddings.

Whisper's segment times say roughly where speech is, but they stretch over pauses; a frame
energy detector (10 ms frames against the recording's own noise floor) trims them to the
voiced parts. Pauses are where speakers usually change, so windows never cross a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
HOP = 160  # 10 ms frames, the same grid as the fbank features
FRAMES_PER_SECOND = SAMPLE_RATE // HOP

Array = np.ndarray[Any, Any]
Region = tuple[float, float]


@dataclass(frozen=True)
class Window:
    """Frames [start, end) on the 10 ms grid, and the speech region they belong to."""

    start: int
    end: int
    region: int

    @property
    def frames(self) -> int:
        return self.end - self.start


def frame_energy_db(audio: Array) -> Array:
    frames = len(audio) // HOP
    power = (audio[: frames * HOP].astype(np.float64).reshape(frames, HOP) ** 2).mean(axis=1)
    return np.asarray(10.0 * np.log10(power + 1e-10))


def _fill_gaps(mask: Array, max_gap: int) -> Array:
    on = np.flatnonzero(mask)
    out = mask.copy()
    if on.size:
        gaps = np.flatnonzero(np.diff(on) > 1)
        for g in gaps:
            a, b = on[g], on[g + 1]
            if b - a - 1 <= max_gap:
                out[a:b] = True
    return out


def runs(mask: Array) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a boolean array."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def speech_mask(audio: Array, *, min_gap_s: float = 0.25, min_speech_s: float = 0.15,
                margin_db: float = 6.0) -> Array:
    """A per-10-ms-frame speech mask from energy alone, relative to the noise floor."""
    db = frame_energy_db(audio)
    if db.size == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(db, 10))
    peak = float(np.percentile(db, 99))
    # Between the floor and the loud speech, never below -60 dBFS (digital near-silence).
    threshold = max(floor + margin_db, peak - 40.0, -60.0)
    if peak - floor < margin_db:  # no contrast: all noise or all speech
        threshold = floor - 1.0 if peak > -45.0 else np.inf
    mask = db > threshold
    mask = _fill_gaps(mask, int(min_gap_s * FRAMES_PER_SECOND))
    for a, b in runs(mask):
        if b - a < int(min_speech_s * FRAMES_PER_SECOND):
            mask[a:b] = False
    return mask


def regions_to_mask(regions: Sequence[Region], total_frames: int) -> Array:
    mask = np.zeros(total_frames, dtype=bool)
    for start, end in regions:
        a = max(0, int(round(start * FRAMES_PER_SECOND)))
        b = min(total_frames, int(round(end * FRAMES_PER_SECOND)))
        if b > a:
            mask[a:b] = True
    return mask


def make_windows(mask: Array, *, length: int = 150, shift: int = 75,
                 min_frames: int = 20) -> list[Window]:
    """Windows of `length` frames every `shift` inside each speech run; a run shorter than
    `length` gets one window of its own size (runs under `min_frames` get none)."""
    windows: list[Window] = []
    for index, (a, b) in enumerate(runs(mask)):
        if b - a < min_frames:
            continue
        if b - a <= length:
            windows.append(Window(a, b, index))
            continue
        start = a
        while start + length < b:
            windows.append(Window(start, start + length, index))
            start += shift
        windows.append(Window(b - length, b, index))
    return windows
