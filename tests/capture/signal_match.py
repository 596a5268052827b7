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


def find_windows(track: npt.NDArray[np.float64], known: npt.NDArray[np.float64],
                 window_s: float = 1.0, search_s: float = 0.5) -> list[Match]:
    """Each ``window_s`` piece of ``known`` matched near where the whole of it sits in
    ``track``. Streams may skip or repeat a few milliseconds (PipeWire under load), which
    lowers a whole-file correlation but not each piece's."""
    whole = find(track, known)
    size, reach = int(window_s * RATE), int(search_s * RATE)
    base = int(whole.offset_s * RATE)
    out = []
    for start in range(0, len(known) - size + 1, size):
        piece = known[start:start + size]
        if np.sqrt(np.mean(piece**2)) < 0.01:  # a pause: nothing to match
            continue
        lo = max(0, base + start - reach)
        region = track[lo:base + start + size + reach]
        if len(region) < size:
            break
        local = find(region, piece)
        out.append(Match(lo / RATE + local.offset_s - start / RATE, local.correlation))
    return out
