"""Cuts a live 16 kHz track into speech chunks at pauses, for the live transcript.

Energy-based on purpose: it needs no model, costs microseconds per 30 ms frame, and on the
system track (digital silence between phrases) and on a microphone it separated speech from
pauses as well as the NOTES recipe needs (600 ms pause, 20 s cap: mean chunk 4.6 s). The
threshold adapts: some dB above the track's own noise floor (its 10th percentile over the last
30 s), never below ``floor_dbfs``, so an idle system track, or a quiet room, yields no chunk
at all and Whisper never gets the chance to invent text for silence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 16_000
FRAME = RATE * 30 // 1000  # 30 ms

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SpeechChunk:
    track: str
    start: int  # first sample on the 16 kHz timeline
    audio: Audio
    speech_s: float  # how much of it was above the threshold

    @property
    def end(self) -> int:
        return self.start + len(self.audio)

    @property
    def start_ms(self) -> int:
        return self.start * 1000 // RATE

    @property
    def end_ms(self) -> int:
        return self.end * 1000 // RATE


class PauseChunker:
    def __init__(self, track: str, *, pause_s: float = 0.6, max_s: float = 20.0,
                 min_speech_s: float = 0.3, pad_s: float = 0.2, floor_dbfs: float = -50.0,
                 above_noise_db: float = 12.0, noise_window_s: float = 30.0) -> None:
        self.track = track
        self.pause_frames = max(1, round(pause_s * RATE / FRAME))
        self.max_frames = max(1, round(max_s * RATE / FRAME))
        self.min_speech_frames = max(1, round(min_speech_s * RATE / FRAME))
        self.pad_frames = round(pad_s * RATE / FRAME)
        self.floor_dbfs = floor_dbfs
        self.above_noise_db = above_noise_db
        self._levels: deque[float] = deque(maxlen=max(1, round(noise_window_s * RATE / FRAME)))
        self._threshold = floor_dbfs
        self._since_threshold = 0
        self._carry = np.zeros(0, dtype=np.float32)
        self._next = 0  # timeline sample the next fed audio starts at (for the carry)
        self._frame_start = 0  # timeline sample of the next whole frame
        self._frames: list[Audio] = []  # the open chunk (with pre-roll), frame by frame
        self._chunk_start = 0
        self._speech = 0  # speech frames in the open chunk
        self._quiet_run = 0  # quiet frames at the open chunk's end
        self._in_speech = False

    @property
    def position(self) -> int:
        """Timeline sample just after the audio fed so far."""
        return self._next

    @property
    def settled_until(self) -> int:
        """Every chunk ending before this timeline sample has been handed out."""
        return self._chunk_start if self._in_speech else self._next - len(self._carry)

    def feed(self, start: int, audio: Audio) -> list[SpeechChunk]:
        """Audio that starts at timeline sample ``start``; returns the chunks it completed."""
        if len(self._carry) and start != self._next:
            self._carry = np.zeros(0, dtype=np.float32)  # a jump: the partial frame is stale
        if not len(self._carry):
            self._frame_start = start
        data = np.concatenate([self._carry, audio]) if len(self._carry) else audio
        whole = len(data) // FRAME * FRAME
        self._carry = np.array(data[whole:], dtype=np.float32)
        self._next = start + len(audio)
        out: list[SpeechChunk] = []
        if whole:
            frames = data[:whole].reshape(-1, FRAME)
            levels = 10.0 * np.log10(np.einsum("ij,ij->i", frames, frames) / FRAME + 1e-12)
            for frame, level in zip(frames, levels, strict=True):
                chunk = self._step(np.array(frame, dtype=np.float32), float(level))
                if chunk is not None:
                    out.append(chunk)
                self._frame_start += FRAME
        return out

    def flush(self) -> list[SpeechChunk]:
        """The open chunk, if it holds enough speech (at stop)."""
        chunk = self._close(len(self._frames)) if self._in_speech else None
        self._frames, self._in_speech = [], False
        return [chunk] if chunk is not None else []

    def _step(self, frame: Audio, level: float) -> SpeechChunk | None:
        self._levels.append(level)
        self._since_threshold += 1
        if self._since_threshold >= 33:  # about once a second is plenty
            self._since_threshold = 0
            noise = float(np.percentile(np.fromiter(self._levels, float), 10))
            self._threshold = max(self.floor_dbfs, noise + self.above_noise_db)
        loud = level >= self._threshold
        if not self._in_speech:
            self._frames.append(frame)
            if len(self._frames) > self.pad_frames + 1:
                self._frames.pop(0)
            if loud:
                self._in_speech = True
                self._chunk_start = self._frame_start - (len(self._frames) - 1) * FRAME
                self._speech, self._quiet_run = 1, 0
            return None
        self._frames.append(frame)
        if loud:
            self._speech += 1
            self._quiet_run = 0
        else:
            self._quiet_run += 1
        if self._quiet_run >= self.pause_frames:
            keep = len(self._frames) - self._quiet_run + self.pad_frames
            return self._restart(self._close(keep), keep)
        if len(self._frames) >= self.max_frames:
            return self._restart(self._close(len(self._frames)), len(self._frames))
        return None

    def _close(self, keep: int) -> SpeechChunk | None:
        if self._speech < self.min_speech_frames:
            return None
        audio = np.concatenate(self._frames[:keep]).astype(np.float32, copy=False)
        return SpeechChunk(self.track, self._chunk_start, audio, self._speech * FRAME / RATE)

    def _restart(self, chunk: SpeechChunk | None, used: int) -> SpeechChunk | None:
        """After a cut: frames past ``used`` become the pre-roll of what comes next."""
        rest = self._frames[used:][-(self.pad_frames + 1):] if used < len(self._frames) else []
        self._frames = list(rest)
        self._in_speech = False
        self._speech = self._quiet_run = 0
        return chunk
