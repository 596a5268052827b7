"""Pick the Whisper model for this machine: the most accurate one that keeps a one-hour meeting
within the user's time budget.

Each installed candidate transcribes the same short built-in clip (the first 30 s of the bundled
sample meeting: one encoder window, the unit whisper.cpp's cost grows by); its time per second
of audio, times 3,600, is what an hour of dense speech would take. Real meetings have pauses
that are skipped, so the estimate errs on the slow side. Models that could be downloaded are
offered with an estimate scaled from a measured model of known size, and are measured for real
once installed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

CLIP_SECONDS = 30
DEFAULT_BUDGET_MINUTES = 15.0
# Larger is more accurate (English speech). Within a size, the English-only model is better
# for English; quantised files lose little (q8_0 nothing measurable, q5 a little).
_FAMILY_RANK = {"tiny": 10, "base": 20, "small": 30, "medium": 40, "large-v3-turbo": 45,
                "large-v2": 50, "large-v3": 50}
# Compute per second of audio relative to `base` (encoder-dominated on CPU: width x depth).
_COST_VS_BASE = {"tiny": 0.45, "base": 1.0, "small": 3.4, "medium": 10.0,
                 "large-v3-turbo": 9.0, "large-v2": 20.0, "large-v3": 20.0}
# What a user who is online is offered to download, if it would fit the budget.
OFFERED_DOWNLOADS = ("small.en-q8_0", "large-v3-turbo-q8_0", "large-v3-turbo-q5_0")


def family(name: str) -> str:
    for fam in sorted(_FAMILY_RANK, key=len, reverse=True):
        if name.startswith(fam):
            return fam
    return "custom"


def accuracy_rank(name: str, english: bool = True) -> float:
    """An ordering of models by expected accuracy (not a measure)."""
    rank = float(_FAMILY_RANK.get(family(name), 0))
    if english and ".en" in name:
        rank += 2
    if "q5" in name or "q4" in name:
        rank -= 1
    return rank


@dataclass(frozen=True)
class Measured:
    name: str
    seconds_per_audio_second: float
    estimated: bool = False  # scaled from another model, not timed here

    @property
    def minutes_per_hour(self) -> float:
        return self.seconds_per_audio_second * 60


@dataclass(frozen=True)
class Recommendation:
    chosen: str
    budget_minutes: float
    measured: list[Measured]  # every installed candidate timed here, fastest first
    offers: list[Measured] = field(default_factory=list)  # downloads that would fit
    reason: str = ""


Timer = Callable[[str], float]  # model name -> seconds of work per second of audio


def recommend(
    candidates: Iterable[str], timer: Timer, *, budget_minutes: float = DEFAULT_BUDGET_MINUTES,
    fallback: str = "tiny.en-q8_0", english: bool = True,
    downloadable: Sequence[str] = (),
) -> Recommendation:
    """Time each candidate with `timer` and choose the most accurate within the budget.

    A candidate whose timing fails is left out (and logged). When none fits, the fastest one
    measured is chosen (or `fallback` if nothing could be measured). `downloadable` models get
    an estimated time from the measured ones and are offered if they would fit."""
    measured: list[Measured] = []
    for name in dict.fromkeys(candidates):
        try:
            measured.append(Measured(name, float(timer(name))))
        except Exception as exc:  # a broken model must not stop the choice
            log.warning("could not time %s: %s", name, exc)
    measured.sort(key=lambda m: m.seconds_per_audio_second)
    fits = [m for m in measured if m.minutes_per_hour <= budget_minutes]
    if fits:
        best = max(fits, key=lambda m: (accuracy_rank(m.name, english),
                                        -m.seconds_per_audio_second))
        reason = (f"{best.name} is the most accurate model that transcribes an hour in "
                  f"{best.minutes_per_hour:.1f} min, within {budget_minutes:g} min")
        chosen = best.name
    elif measured:
        chosen = measured[0].name
        reason = (f"no model keeps an hour within {budget_minutes:g} min here; {chosen} is "
                  f"the fastest ({measured[0].minutes_per_hour:.1f} min)")
    else:
        chosen, reason = fallback, "no model could be timed; using the fallback"
    offers = [m for m in estimate(downloadable, measured)
              if m.minutes_per_hour <= budget_minutes
              and accuracy_rank(m.name, english) > accuracy_rank(chosen, english)]
    return Recommendation(chosen, budget_minutes, measured, offers, reason)


def estimate(names: Iterable[str], measured: Sequence[Measured]) -> list[Measured]:
    """Times for models not installed, scaled from the measured model of the closest size."""
    known = [m for m in measured if family(m.name) in _COST_VS_BASE]
    if not known:
        return []
    out = []
    for name in names:
        fam = family(name)
        if fam not in _COST_VS_BASE:
            continue
        ref = max(known, key=lambda m: _COST_VS_BASE[family(m.name)])
        scale = _COST_VS_BASE[fam] / _COST_VS_BASE[family(ref.name)]
        out.append(Measured(name, ref.seconds_per_audio_second * scale, estimated=True))
    return out


def engine_timer(
    path_for: Callable[[str], Path], *, threads: int, clip: npt.NDArray[np.float32],
) -> Timer:
    """A timer that loads each model with our engine and transcribes `clip` once (the load is
    not counted: it happens once per session, not per meeting). The clip is the caller's
    (``app.audio.sample.sample_clip(CLIP_SECONDS)``): this engine does not decode audio."""
    from app.transcribe.engine import SAMPLE_RATE, WhisperEngine

    audio = clip
    seconds = len(audio) / SAMPLE_RATE

    def timer(name: str) -> float:
        engine = WhisperEngine(path_for(name), threads=threads, language="en",
                               skip_silence=False)  # all of the clip is speech: time it all
        try:
            engine.transcribe(audio[: SAMPLE_RATE])  # load and warm up
            started = time.perf_counter()
            engine.transcribe(audio)
            elapsed = time.perf_counter() - started
        finally:
            engine.close()
        log.info("%s: %.2f s for %.0f s of audio", name, elapsed, seconds)
        return elapsed / seconds

    return timer
