"""The live transcript while recording: each track cut at pauses, each chunk transcribed once.

Plain threads and callbacks (no Qt): the GUI turns ``on_segment`` into a signal. It lives on the
pipeline floor because it joins two engines that never import each other: the recorder's audio
(``app.audio``: chunker, echo checks, resampling) and Whisper (``app.transcribe``).

- ``feed`` is the two-track recorder's audio tap: it only queues (it runs on the writer thread).
- An intake thread resamples each track to 16 kHz, keeps the last minute of system audio (for
  echo checks) and cuts each track at pauses (``PauseChunker``).
- One worker thread, at low priority, with its own Whisper model (1 thread: the meeting app and
  the final transcript get the rest of the machine), transcribes each finished chunk once, the
  earliest first, labels it (You/Others) and saves it (``live_log``) before telling anyone.
- Echo (the microphone hears the speakers): a microphone chunk whose band envelopes follow the
  system audio's (``audio_echo_score`` >= ``echo_audio_above``) is dropped without transcribing;
  otherwise, once the system track's overlapping chunks are transcribed, a microphone chunk whose
  words the system track said at the same time (``is_text_echo``) is dropped.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.audio.echo import audio_echo_score, is_text_echo
from app.audio.pause_chunker import RATE, PauseChunker, SpeechChunk
from app.audio.resample import StreamResampler
from app.audio.two_track import DEFAULT_LABELS, MIC, SYSTEM, AlignedAudio
from app.transcribe.engine import TranscribedSegment, WhisperEngine
from app.transcribe.live_log import LiveLog, LiveSegment, live_log_path

log = logging.getLogger(__name__)

# Every parameter, on every call: pywhispercpp keeps what an earlier call set.
LIVE_PARAMS: dict[str, Any] = {
    "audio_ctx": 0, "single_segment": False, "no_context": True, "initial_prompt": "",
    "greedy": {"best_of": 1}, "temperature_inc": 0.2, "suppress_blank": True,
    "token_timestamps": False, "max_len": 0, "split_on_word": False, "offset_ms": 0,
    "duration_ms": 0, "max_tokens": 0,
}
_SYSTEM_MEMORY_S = 60
_ECHO_LEAD_S = 0.6


@dataclass
class _Job:
    chunk: SpeechChunk
    closed_at: float  # monotonic time the chunker closed it
    segments: list[TranscribedSegment] = field(default_factory=list)
    held_since: float = 0.0


@dataclass
class LiveStats:
    chunks: dict[str, int] = field(default_factory=lambda: {MIC: 0, SYSTEM: 0})
    echo_dropped_audio: int = 0
    echo_dropped_text: int = 0
    busy_s: float = 0.0  # worker time spent in whisper
    latencies_s: list[float] = field(default_factory=list)  # chunk closed -> segment out


class LiveTranscriber:
    def __init__(self, model_path: Path, *,
                 on_segment: Callable[[LiveSegment], None] | None = None,
                 labels: Mapping[str, str] | None = None, threads: int = 1,
                 engine: WhisperEngine | None = None, echo_audio_above: float = 0.9,
                 max_hold_s: float = 8.0,
                 chunker_options: Mapping[str, Any] | None = None) -> None:
        self.on_segment = on_segment
        self.labels = {**DEFAULT_LABELS, **(labels or {})}
        # Chunks arrive already cut at pauses: no voice-activity pass over them again.
        self.engine = engine or WhisperEngine(model_path, threads=threads, skip_silence=False,
                                              extra_params=LIVE_PARAMS)
        self.echo_audio_above = echo_audio_above
        self.max_hold_s = max_hold_s
        self._chunker_options = dict(chunker_options or {})
        self._chunkers: dict[str, PauseChunker] = {}
        self._resamplers: dict[str, StreamResampler] = {}
        self._inbox: queue.SimpleQueue[AlignedAudio | None] = queue.SimpleQueue()
        self._jobs: list[_Job] = []
        self._held: list[_Job] = []
        self._done_system: list[tuple[int, int, str]] = []  # (start, end, text) on 16 kHz
        self._cv = threading.Condition()
        self._intake_done = False
        self._closing = False
        self._system = np.zeros(0, dtype=np.float32)
        self._system_start = 0
        self._log: LiveLog | None = None
        self._threads: list[threading.Thread] = []
        self.segments: list[LiveSegment] = []
        self.stats = LiveStats()
        self.error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, recording: Path) -> Path:
        """Open the live transcript beside ``recording`` and start the threads; its path."""
        path = live_log_path(recording)
        self._log = LiveLog(path)
        self._threads = [threading.Thread(target=self._intake, name="live-intake", daemon=True),
                         threading.Thread(target=self._work, name="live-whisper", daemon=True)]
        for thread in self._threads:
            thread.start()
        return path

    def feed(self, audio: AlignedAudio) -> None:
        """The recorder's audio tap (writer thread): queue and return."""
        self._inbox.put(audio)

    def close(self, timeout: float | None = 60.0) -> list[LiveSegment]:
        """Finish the chunks already cut (what was said up to the stop), then stop."""
        self._inbox.put(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        for thread in self._threads:
            thread.join(5)
        if self._log is not None:
            self._log.close()
        self.engine.close()
        return list(self.segments)

    # -- intake thread -----------------------------------------------------------------------
    def _intake(self) -> None:
        try:
            while True:
                item = self._inbox.get()
                if item is None:
                    break
                self._take(item)
            finished = [c for chunker in self._chunkers.values() for c in chunker.flush()]
            self._submit(finished)
        except BaseException as exc:
            log.exception("live transcript intake failed")
            self.error = exc
        finally:
            with self._cv:
                self._intake_done = True
                self._cv.notify_all()

    def _take(self, audio: AlignedAudio) -> None:
        finished: list[SpeechChunk] = []
        for i, track in enumerate(audio.tracks):
            if track not in self._chunkers:
                self._chunkers[track] = PauseChunker(track, **self._chunker_options)
                if audio.sample_rate != RATE:
                    self._resamplers[track] = StreamResampler(audio.sample_rate, RATE)
                self._chunkers[track].feed(audio.start_frame * RATE // audio.sample_rate,
                                           np.zeros(0, dtype=np.float32))
            ints = audio.frames[:, i]
            resampler = self._resamplers.get(track)
            if resampler is not None:
                ints = resampler.convert(ints)
            samples = ints.astype(np.float32) / 32768.0
            chunker = self._chunkers[track]
            start = chunker.position
            if track == SYSTEM:
                self._remember_system(start, samples)
            finished += chunker.feed(start, samples)
        self._submit(finished)

    def _remember_system(self, start: int, samples: npt.NDArray[np.float32]) -> None:
        with self._cv:
            if not len(self._system):
                self._system_start = start
            self._system = np.concatenate([self._system, samples])
            excess = len(self._system) - _SYSTEM_MEMORY_S * RATE
            if excess > 0:
                self._system = self._system[excess:]
                self._system_start += excess

    def _submit(self, chunks: list[SpeechChunk]) -> None:
        if not chunks:
            return
        now = time.monotonic()
        with self._cv:
            for chunk in chunks:
                self.stats.chunks[chunk.track] = self.stats.chunks.get(chunk.track, 0) + 1
                self._jobs.append(_Job(chunk, now))
            self._cv.notify_all()

    # -- worker thread ------------------------------------------------------------------------
    def _work(self) -> None:
        lower_thread_priority()
        try:
            while True:
                with self._cv:
                    while not self._jobs and not self._releasable() and not (
                            self._intake_done and not self._held) and not self._closing:
                        self._cv.wait(0.25)
                    if self._closing or (self._intake_done and not self._jobs
                                         and not self._held):
                        return
                    job = self._next_job()
                if job is None:
                    self._release_held()
                    continue
                self._process(job)
                self._release_held()
        except BaseException as exc:
            log.exception("live transcript worker failed")
            self.error = exc

    def _next_job(self) -> _Job | None:
        if not self._jobs:
            return None
        # Earliest end first; on a tie the system track first (the microphone waits for it).
        self._jobs.sort(key=lambda j: (j.chunk.end, j.chunk.track != SYSTEM))
        return self._jobs.pop(0)

    def _process(self, job: _Job) -> None:
        chunk = job.chunk
        if chunk.track == MIC and SYSTEM in self._chunkers and self._is_audio_echo(chunk):
            self.stats.echo_dropped_audio += 1
            log.info("live: dropped a microphone chunk at %.1f s (echo of the speakers)",
                     chunk.start / RATE)
            return
        began = time.perf_counter()
        job.segments = self.engine.transcribe(chunk.audio, offset_ms=chunk.start_ms)
        self.stats.busy_s += time.perf_counter() - began
        if chunk.track == SYSTEM:
            with self._cv:
                for seg in job.segments:
                    self._done_system.append((seg.start_ms * RATE // 1000,
                                              seg.end_ms * RATE // 1000, seg.text))
            self._emit(job)
        elif SYSTEM in self._chunkers:
            job.held_since = time.monotonic()
            with self._cv:
                self._held.append(job)
        else:
            self._emit(job)

    def _is_audio_echo(self, chunk: SpeechChunk) -> bool:
        lead = int(_ECHO_LEAD_S * RATE)
        with self._cv:
            first = chunk.start - lead - self._system_start
            if first + lead < 0:
                return False  # that system audio is forgotten already
            begin = max(0, first)
            system = self._system[begin:chunk.end - self._system_start + RATE // 2].copy()
        if len(system) < len(chunk.audio) // 2 or not np.any(system):
            return False
        score = audio_echo_score(chunk.audio, system, chunk.start - (self._system_start + begin))
        return score >= self.echo_audio_above

    def _releasable(self) -> bool:
        return any(self._may_release(job) for job in self._held)

    def _may_release(self, job: _Job) -> bool:
        """A held microphone chunk may go once the system track's overlapping speech is done."""
        if self._closing or time.monotonic() - job.held_since > self.max_hold_s:
            return True
        system = self._chunkers.get(SYSTEM)
        if system is not None and system.settled_until < job.chunk.end and not self._intake_done:
            return False
        return not any(j.chunk.track == SYSTEM and j.chunk.start < job.chunk.end
                       for j in self._jobs)

    def _release_held(self) -> None:
        with self._cv:
            ready = [job for job in self._held if self._may_release(job)]
            self._held = [job for job in self._held if job not in ready]
            system = list(self._done_system)
        for job in ready:
            start, end = job.chunk.start, job.chunk.end
            said = [text for s, e, text in system if s < end and e > start]
            text = " ".join(seg.text for seg in job.segments)
            if said and is_text_echo(text, said):
                self.stats.echo_dropped_text += 1
                log.info("live: dropped '%s' (the speakers said it too)", text[:60])
                continue
            self._emit(job)

    def _emit(self, job: _Job) -> None:
        label = self.labels.get(job.chunk.track, job.chunk.track)
        for seg in job.segments:
            segment = LiveSegment(job.chunk.track, label, seg.start_ms, seg.end_ms, seg.text)
            if self._log is not None:
                self._log.append(segment)  # saved before anyone is told
            self.segments.append(segment)
            self.stats.latencies_s.append(time.monotonic() - job.closed_at)
            if self.on_segment is not None:
                try:
                    self.on_segment(segment)
                except Exception:
                    log.exception("live segment callback failed")


def lower_thread_priority() -> None:
    """Make the calling thread yield to the recorder and the rest of the machine."""
    try:
        if sys.platform.startswith("linux"):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # per thread
        elif sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), -1)  # BELOW_NORMAL
        elif sys.platform == "darwin":
            import ctypes

            libc = ctypes.CDLL("/usr/lib/libSystem.dylib")
            libc.pthread_set_qos_class_self_np(0x11, 0)  # QOS_CLASS_UTILITY
    except (OSError, AttributeError) as exc:
        log.info("could not lower the live transcript's priority: %s", exc)
