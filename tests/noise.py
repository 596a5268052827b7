"""Sounds that are not speech, for tests and benchmarks: room tone, hold music, typing.

Whisper must write nothing for any of them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
F32 = npt.NDArray[np.float32]


def room_tone(n: int, rng: np.random.Generator, dbfs: float) -> F32:
    """Pink noise (a 1/f spectrum, like a fan or air conditioning) at `dbfs` RMS."""
    block = 1 << 20
    out = np.empty(n, dtype=np.float32)
    freqs = np.fft.rfftfreq(block, 1 / SAMPLE_RATE)
    shape = 1 / np.sqrt(np.maximum(freqs, 20.0))
    for start in range(0, n, block):
        spectrum = rng.standard_normal(len(freqs)) + 1j * rng.standard_normal(len(freqs))
        noise = np.fft.irfft(spectrum * shape, block)[: n - start]
        out[start:start + len(noise)] = noise
    out *= np.float32(10 ** (dbfs / 20) / (np.sqrt(np.mean(out.astype(np.float64) ** 2)) + 1e-12))
    return out


def hold_music(n: int, rng: np.random.Generator) -> F32:
    """Chords of harmonic tones changing every second or so, at about -30 dBFS."""
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    step = SAMPLE_RATE
    for start in range(0, n, step):
        root = 220 * 2 ** (rng.integers(0, 12) / 12)
        seg = slice(start, min(n, start + step))
        for ratio in (1.0, 1.26, 1.5):
            for harmonic, gain in ((1, 1.0), (2, 0.4), (3, 0.2)):
                out[seg] += gain * np.sin(2 * np.pi * root * ratio * harmonic * t[seg])
    envelope = 0.5 + 0.5 * np.abs(np.sin(np.pi * t))  # a soft pulse, like a beat
    out *= envelope * 10 ** (-30 / 20) / (np.sqrt(np.mean(out**2)) + 1e-12)
    return out.astype(np.float32)


def typing(n: int, rng: np.random.Generator) -> F32:
    """Keyboard clicks: short decaying noise bursts, 4-8 a second."""
    out = np.zeros(n, dtype=np.float32)
    pos = 0
    click = int(0.015 * SAMPLE_RATE)
    decay = np.exp(-np.arange(click) / (click / 5)).astype(np.float32)
    while pos + click < n:
        out[pos:pos + click] += (rng.standard_normal(click).astype(np.float32) * decay * 0.1)
        pos += int(SAMPLE_RATE / rng.uniform(4, 8))
    return out
