"""Cut long pauses out of a recording before Whisper hears it, and map times back.

Meetings have many pauses; whisper.cpp spends a full encoder pass per 30 s window whether or not
anyone speaks, and long silences invite invented text ("Thank you."). Pauses longer than
`min_pause_s` are shortened to `keep_s` (half kept at each edge, so words never touch), and a
`TimeMap` turns times in the shortened audio back into times in the original.

Energy-based on purpose: it needs no model and costs about 1 ms per minute of audio. The
threshold adapts to the recording: some dB above its own noise floor, never below -55 dBFS.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
_FRAME = SAMPLE_RATE * 30 // 1000  # 30 ms analysis frames
_FLOOR_DBFS = -55.0
_ABOVE_NOISE_DB = 12.0
_SNAP_MS = 1_000


@dataclass(frozen=True)
class TimeMap:
    """Kept stretches as (start in shortened audio, start in original), in samples, sorted."""

    starts: tuple[tuple[int, int], ...]

    def to_original_ms(self, shortened_ms: int, *, end: bool = False) -> int:
        """Where `shortened_ms` lies in the original. A segment's `end` exactly at a cut belongs
        to the stretch before the cut, not after the removed pause."""
        sample = shortened_ms * SAMPLE_RATE // 1000
        keys = [s for s, _ in self.starts]
        find = bisect.bisect_left if end else bisect.bisect_right
        i = max(0, find(keys, sample) - 1)
        short_start, orig_start = self.starts[i]
        return (orig_start + sample - short_start) * 1000 // SAMPLE_RATE

    def segment_to_original(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """A segment's times in the original. Whisper's segment edges can be half a second
        off; next to a cut that would move them by the whole removed pause. So an edge within
        `_SNAP_MS` of a cut the segment spans moves to the cut: a segment starting just before
        a cut really starts after the pause, one ending just after it ended before."""
        cuts = [s * 1000 // SAMPLE_RATE for s, _ in self.starts[1:]]
        inside = [c for c in cuts if start_ms < c < end_ms]
        if inside and inside[0] - start_ms < _SNAP_MS:
            start_ms = inside[0]
        if inside and end_ms - inside[-1] < _SNAP_MS and inside[-1] > start_ms:
            end_ms = inside[-1]
        start = self.to_original_ms(start_ms)
        return start, max(start, self.to_original_ms(end_ms, end=True))

    @property
    def is_identity(self) -> bool:
        return self.starts == ((0, 0),)


def frame_levels_db(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """RMS level of each 30 ms frame in dBFS (computed without a full-size temporary)."""
    frames = audio[: len(audio) // _FRAME * _FRAME].reshape(-1, _FRAME)
    mean_square = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / _FRAME
    levels: npt.NDArray[np.float64] = 10.0 * np.log10(mean_square + 1e-12)
    return levels


def speech_regions(
    audio: npt.NDArray[np.float32], *, min_pause_s: float = 1.0, keep_s: float = 0.4
) -> list[tuple[int, int]]:
    """(start, end) sample ranges to keep: everything except the inner part of long pauses."""
    levels = frame_levels_db(audio)
    if len(levels) == 0:
        return [(0, len(audio))]
    threshold = max(_FLOOR_DBFS, float(np.percentile(levels, 10)) + _ABOVE_NOISE_DB)
    quiet = levels < threshold
    min_frames = int(min_pause_s * SAMPLE_RATE / _FRAME)
    edge = int(keep_s / 2 * SAMPLE_RATE)
    regions: list[tuple[int, int]] = []
    start = 0
    i = 0
    while i < len(quiet):
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < len(quiet) and quiet[j]:
            j += 1
        if j - i >= min_frames:
            cut_from, cut_to = i * _FRAME + edge, j * _FRAME - edge
            if j == len(quiet):  # a pause running to the end: drop its tail too
                cut_to = len(audio)
            if cut_from > start:
                regions.append((start, cut_from))
            start = cut_to
        i = j
    if start < len(audio):
        regions.append((start, len(audio)))
    return regions or [(0, min(len(audio), edge))]


def shorten_pauses(
    audio: npt.NDArray[np.float32], *, min_pause_s: float = 1.0, keep_s: float = 0.4
) -> tuple[npt.NDArray[np.float32], TimeMap]:
    """The audio with long pauses shortened (the input itself when nothing is cut)."""
    return keep_only(audio, speech_regions(audio, min_pause_s=min_pause_s, keep_s=keep_s))


def keep_only(
    audio: npt.NDArray[np.float32], regions: list[tuple[int, int]]
) -> tuple[npt.NDArray[np.float32], TimeMap]:
    """The `regions` of `audio` (sorted sample ranges) back to back, and the way back.

    No regions give empty audio; all of it gives the input itself, uncopied."""
    if regions == [(0, len(audio))]:
        return audio, TimeMap(((0, 0),))
    out = np.empty(sum(end - start for start, end in regions), dtype=np.float32)
    starts: list[tuple[int, int]] = []
    filled = 0
    for start, end in regions:
        starts.append((filled, start))
        out[filled:filled + end - start] = audio[start:end]
        filled += end - start
    return out, TimeMap(tuple(starts) or ((0, 0),))
