"""Streaming sample-rate conversion of int16 mono blocks (FFmpeg's resampler, through PyAV)."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt


class StreamResampler:
    """Feed blocks at ``source_rate``, get blocks at ``target_rate``; keeps state between them."""

    def __init__(self, source_rate: int, target_rate: int) -> None:
        self.source_rate = source_rate
        self.target_rate = target_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=target_rate)
        self._pts = 0

    def convert(self, block: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        mono = np.ascontiguousarray(block.reshape(1, -1), dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(mono, format="s16", layout="mono")
        frame.sample_rate = self.source_rate
        frame.pts = self._pts
        self._pts += mono.shape[1]
        parts = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        out: npt.NDArray[np.int16] = np.concatenate(parts).astype(np.int16, copy=False)
        return out


def to_mono(block: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """(frames, channels) -> (frames,): the channels' mean (a stereo mic hears one voice)."""
    if block.ndim == 1:
        return block
    if block.shape[1] == 1:
        return block[:, 0]
    mixed: npt.NDArray[np.int16] = block.astype(np.int32).mean(axis=1).astype(np.int16)
    return mixed
