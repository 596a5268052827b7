"""Kaldi-style log mel filterbank features (80 bins), the input CAM++ was trained on.

Kaldi's defaults as 3D-Speaker uses them: 25 ms frames every 10 ms with edges snipped, DC
offset removed per frame, pre-emphasis 0.97, a "povey" window, a 512-point FFT, the power
spectrum through 80 triangular mel filters (20 Hz to Nyquist, mel = 1127 ln(1 + f/700), the
Nyquist bin left out) and the natural log floored at float32 epsilon. Samples are scaled to the
16-bit range first, as Kaldi reads them. No dither: the same audio gives the same features.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
N_FFT = 512
N_MELS = 80
LOW_HZ = 20.0
_EPS = float(np.finfo(np.float32).eps)
_BLOCK_FRAMES = 6000  # one minute of frames at a time keeps the FFT buffers small

Array = np.ndarray[Any, Any]


def _mel(hz: Array | float) -> Array:
    return np.asarray(1127.0 * np.log1p(np.asarray(hz) / 700.0))


@lru_cache(maxsize=1)
def mel_banks() -> Array:
    """(N_FFT // 2, N_MELS) float32: Kaldi's triangles, evaluated on the FFT bins."""
    n_bins = N_FFT // 2
    low, high = _mel(LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (high - low) / (N_MELS + 1)
    left = low + delta * np.arange(N_MELS)
    centre, right = left + delta, left + 2 * delta
    bin_mel = _mel(np.arange(n_bins) * SAMPLE_RATE / N_FFT)[:, None]
    up = (bin_mel - left) / (centre - left)
    down = (right - bin_mel) / (right - centre)
    return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> Array:
    n = np.arange(FRAME_LENGTH)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME_LENGTH - 1))
    return np.asarray(hann**0.85, dtype=np.float32)


def num_frames(num_samples: int) -> int:
    return 0 if num_samples < FRAME_LENGTH else 1 + (num_samples - FRAME_LENGTH) // FRAME_SHIFT


def _block(samples: Array, first: int, count: int) -> Array:
    start = first * FRAME_SHIFT
    span = samples[start:start + (count - 1) * FRAME_SHIFT + FRAME_LENGTH]
    frames = np.lib.stride_tricks.sliding_window_view(span, FRAME_LENGTH)[::FRAME_SHIFT]
    frames = frames.astype(np.float32) * 32768.0
    frames -= frames.mean(axis=1, keepdims=True)
    emphasised = np.empty_like(frames)
    emphasised[:, 1:] = frames[:, 1:] - 0.97 * frames[:, :-1]
    emphasised[:, 0] = frames[:, 0] * (1.0 - 0.97)
    emphasised *= _window()
    spectrum = np.fft.rfft(emphasised, n=N_FFT, axis=1)[:, : N_FFT // 2]
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    energies: Array = power @ mel_banks()
    return np.log(np.maximum(energies, _EPS))


def fbank(samples: Array) -> Array:
    """(frames, 80) float32 log mel energies of 16 kHz mono float samples in [-1, 1]."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    total = num_frames(samples.size)
    out = np.empty((total, N_MELS), dtype=np.float32)
    for first in range(0, total, _BLOCK_FRAMES):
        count = min(_BLOCK_FRAMES, total - first)
        out[first:first + count] = _block(samples, first, count)
    return out
