"""Where a known recording appears inside a captured track, and how well it matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 16_000


@dataclass(frozen=True)
class Match:
    offset_s: float  # where the known audio starts in the track
    correlation: float  # normalised, 1.0 = identical up to gain


def resample(x: npt.NDArray[np.float64], rate: int, target: int = RATE) -> npt.NDArray[np.float64]:
    if rate == target:
        return x
    import av

    from app.audio.resample import StreamResampler

    _ = av
    r = StreamResampler(rate, target)
    ints = np.clip(x * 32767, -32768, 32767).astype(np.int16)
    out = np.concatenate([r.convert(ints), r.convert(np.zeros(rate // 10, np.int16))])
    return out.astype(np.float64) / 32767


def find(track: npt.NDArray[np.float64], known: npt.NDArray[np.float64]) -> Match:
    """Best alignment of ``known`` inside ``track`` (both at RATE) by FFT cross-correlation."""
    n = len(track) + len(known)
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(track, size) * np.conj(np.fft.rfft(known, size))
    xcorr = np.fft.irfft(spectrum, size)[: len(track)]
    lag = int(np.argmax(xcorr))
    segment = track[lag:lag + len(known)]
    ref = known[: len(segment)]
    denom = float(np.linalg.norm(segment) * np.linalg.norm(ref))
    corr = float(np.dot(segment, ref) / denom) if denom > 0 else 0.0
    return Match(lag / RATE, corr)
