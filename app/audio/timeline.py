"""One timeline for several capture streams: where each block goes, and what can be written now.

Each stream (microphone, system audio) has its own clock and its own start-up delay: a
PulseAudio null sink starts delivering 1.4-2 s after it is opened, WASAPI loopback delivers
nothing at all while nothing plays, PipeWire occasionally skips a 1024-sample block under load,
and two sound cards drift apart by up to about 0.1 ms per second. So:

- A stream's first block is placed by its arrival time (``arrival - length``), on a timeline
  whose origin is the first block of any stream.
- After that, blocks follow each other sample by sample, while ``TrackClock`` watches the gap
  between arrival time and sample count. Its minimum over a window is the stream's fastest
  delivery; when that minimum moves by more than ``correct_above_s`` the stream has drifted
  (or lost samples) and the next block is moved by that much: silence is inserted or overlapping
  samples are dropped. A block flagged as following a gap is placed by its arrival time again;
  so is an unflagged jump over ``jump_s`` once it has lasted ``confirm_s`` (a stream that was
  only delivered late, because this process was starved of CPU, catches up in a burst within
  that time and keeps its place).
- ``TrackMixer`` writes a frame only when every stream has it, except that a stream more than
  ``hold_s`` behind another (not started yet, nothing delivered, gone) is padded with silence,
  so the other stream's audio reaches the disk with at most that delay. Behind another stream,
  not behind the clock: when this whole process is starved of CPU every stream arrives late
  together, and padding them all would throw their late audio away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Mono = npt.NDArray[np.int16]


class TrackClock:
    """Places one stream's blocks on the timeline, in frames at the recording rate."""

    def __init__(self, rate: int, *, window_s: float = 8.0, correct_above_s: float = 0.03,
                 jump_s: float = 0.5, confirm_s: float = 1.0) -> None:
        self.rate = rate
        self.window = window_s * rate
        self.correct_above = correct_above_s * rate
        self.jump = jump_s * rate
        self.confirm = confirm_s * rate
        self.next_pos: int | None = None
        self._window_start = 0.0
        self._window_min = math.inf
        self._late_since: float | None = None  # arrival of the first block of a long delay
        self._late_min = math.inf
        self.corrections = 0  # drift corrections made
        self.reanchors = 0  # blocks placed by arrival time after a gap

    def place(self, frames: int, arrival_frame: float, gap: bool = False) -> int:
        """Timeline position of a block of ``frames`` that arrived at ``arrival_frame``."""
        estimate = arrival_frame - frames  # when its first sample was captured, at the latest
        if self.next_pos is None or gap:
            return self._anchor(frames, estimate, arrival_frame, counted=self.next_pos is not None)
        offset = estimate - self.next_pos  # delivery delay now, relative to the anchor
        if offset <= self.jump:
            self._late_since = None
        elif self._late_since is None:
            self._late_since, self._late_min = arrival_frame, offset
        else:
            self._late_min = min(self._late_min, offset)
            if arrival_frame - self._late_since >= self.confirm:  # samples are missing
                self.next_pos += round(self._late_min)
                self.reanchors += 1
                self._late_since = None
                self._window_start, self._window_min = arrival_frame, math.inf
                offset -= round(self._late_min)
        self._window_min = min(self._window_min, offset)
        if arrival_frame - self._window_start >= self.window:
            if abs(self._window_min) > self.correct_above:
                self.next_pos += round(self._window_min)
                self.corrections += 1
            self._window_start, self._window_min = arrival_frame, math.inf
        pos = self.next_pos
        self.next_pos = pos + frames
        return pos

    def _anchor(self, frames: int, estimate: float, arrival_frame: float, *,
                counted: bool) -> int:
        pos = max(0, round(estimate))
        self.reanchors += int(counted)
        self.next_pos = pos + frames
        self._window_start, self._window_min = arrival_frame, math.inf
        return pos


@dataclass
class _Track:
    clock: TrackClock
    pending: list[Mono] = field(default_factory=list)
    end: int = 0  # timeline position just after the last pending frame
    live: bool = True
    started: bool = False
    padded: int = 0  # frames of silence put in for it
    trimmed: int = 0  # frames of its audio dropped (late, or overlapping after a correction)


class TrackMixer:
    """Collects blocks of several mono streams and hands out aligned frames to write."""

    def __init__(self, tracks: int, rate: int, *, hold_s: float = 0.5) -> None:
        self.rate = rate
        self.hold = hold_s * rate
        self.tracks = [_Track(TrackClock(rate)) for _ in range(tracks)]
        self.origin: float | None = None  # monotonic time of timeline frame 0
        self.written = 0  # frames handed out so far

    def add(self, index: int, block: Mono, arrival: float, gap: bool = False) -> None:
        """A block of track ``index`` that arrived at monotonic time ``arrival``."""
        n = len(block)
        if n == 0:
            return
        if self.origin is None:
            self.origin = arrival - n / self.rate
        track = self.tracks[index]
        pos = track.clock.place(n, (arrival - self.origin) * self.rate, gap)
        track.started = True
        if pos + n <= self.written:
            track.trimmed += n
            return
        if pos < self.written:
            track.trimmed += self.written - pos
            block, pos = block[self.written - pos:], self.written
        if pos < track.end:
            self._truncate(track, pos)
        elif pos > track.end:
            track.pending.append(np.zeros(pos - track.end, dtype=np.int16))
            track.padded += pos - track.end
        track.pending.append(block)
        track.end = pos + len(block)

    def end_track(self, index: int) -> None:
        """No more audio from this track: it is silence from here on."""
        self.tracks[index].live = False

    def ready(self) -> npt.NDArray[np.int16] | None:
        """Frames (n, tracks) that can be written now, or None."""
        if self.origin is None:
            return None
        live = [t.end for t in self.tracks if t.live]
        if not live:
            return self.flush()
        lead = max(live) - math.floor(self.hold)
        return self._take(min(max(end, lead) for end in live))

    def flush(self) -> npt.NDArray[np.int16] | None:
        """Everything still pending (at stop), the shorter tracks padded with silence."""
        return self._take(max(t.end for t in self.tracks))

    def _take(self, until: int) -> npt.NDArray[np.int16] | None:
        n = until - self.written
        if n <= 0:
            return None
        out = np.zeros((n, len(self.tracks)), dtype=np.int16)
        for i, track in enumerate(self.tracks):
            have = min(track.end, until) - self.written
            if have > 0:
                data = np.concatenate(track.pending) if len(track.pending) > 1 else \
                    track.pending[0]
                out[:have, i] = data[:have]
                rest = data[have:]
                track.pending = [rest] if len(rest) else []
            if track.end < until:
                if track.started and track.live:
                    track.padded += until - max(track.end, self.written)
                track.end = until
        self.written = until
        return out

    def _truncate(self, track: _Track, pos: int) -> None:
        keep = pos - self.written
        data = np.concatenate(track.pending) if track.pending else np.zeros(0, np.int16)
        track.trimmed += len(data) - keep
        track.pending = [data[:keep]] if keep > 0 else []
        track.end = pos
