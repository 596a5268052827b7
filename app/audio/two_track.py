"""Records the microphone and system audio as one crash-safe WAV, one channel per track.

On disk: ``recording-<time>.wav``, 16-bit PCM, channel 0 = the first track in ``tracks`` and so on
(``["mic", "system"]`` for a two-track recording; a one-track recording has one channel), at the
microphone's rate (system audio is asked for that rate, or resampled to it). The sidecar
``<name>.recording.json`` says ``"tracks": [...]`` so the file can be read back as You/Others;
players and the single-track pipeline hear both sides mixed. Either track may be off.

The design is the single-microphone recorder's (``recorder.py``): the sources' threads only put
blocks, stamped with their arrival time, on a queue; one writer thread aligns them on one
timeline (``timeline.TrackMixer``), appends aligned frames, patches the header and fsyncs about
every second. A track that is late, silent (WASAPI delivers nothing while nothing plays) or gone
is padded with silence after ``hold_s``, so SIGKILL loses at most ``hold_s`` + what the OS still
buffered of either track, and a power cut at most ``sync_interval_s`` more.

A track's end (system output removed, sound server gone) is a notice while another track still
records; the recording ends by itself only when no track is left. Callbacks run on the writer
thread: ``on_audio`` (aligned frames, for the live transcript) must only queue the data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.audio import sidecar
from app.audio.capture_errors import (
    DeviceLost,
    DiskFull,
    RecordingError,
    RecordingTooLong,
    RecordingWriteError,
)
from app.audio.recorder import (
    NO_SIGNAL_AFTER_S,
    SILENCE_DBFS,
    LevelReading,
    RecordingResult,
    _LevelAccumulator,
    process_started_at,
)
from app.audio.resample import StreamResampler, to_mono
from app.audio.sources import AudioSource, Samples
from app.audio.timeline import TrackMixer
from app.audio.wavfile import DISK_FULL_ERRNOS, WavAppender, WavFormat, max_frames
from app.private_files import private_dir

log = logging.getLogger(__name__)

MIC = "mic"
SYSTEM = "system"
DEFAULT_LABELS = {MIC: "You", SYSTEM: "Others"}


@dataclass(frozen=True)
class AlignedAudio:
    """Frames the writer just wrote: ``frames[:, i]`` is track ``tracks[i]``."""

    start_frame: int
    frames: npt.NDArray[np.int16]
    sample_rate: int
    tracks: tuple[str, ...]


@dataclass(frozen=True)
class TrackLevels:
    """Both meters at once: one reading per recording track (absent tracks are missing)."""

    elapsed_s: float
    tracks: dict[str, LevelReading]
    live: dict[str, bool]  # False once a track has ended


@dataclass(frozen=True)
class TwoTrackResult(RecordingResult):
    tracks: tuple[str, ...] = ()
    devices: dict[str, str] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    first_data_s: dict[str, float] = field(default_factory=dict)  # after start(), per track
    padded_s: dict[str, float] = field(default_factory=dict)
    trimmed_s: dict[str, float] = field(default_factory=dict)
    # How often each track's placement moved: drift corrections, re-placements after gaps.
    corrections: dict[str, int] = field(default_factory=dict)
    reanchors: dict[str, int] = field(default_factory=dict)


class _Stop:
    pass


_STOP = _Stop()


class TwoTrackRecorder:
    def __init__(self, folder: Path, *, mic: AudioSource | None = None,
                 system: AudioSource | None = None,
                 on_level: Callable[[TrackLevels], None] | None = None,
                 on_notice: Callable[[str], None] | None = None,
                 on_error: Callable[[RecordingError], None] | None = None,
                 on_audio: Callable[[AlignedAudio], None] | None = None,
                 sample_rate: int | None = None, sync_interval_s: float = 1.0,
                 level_interval_s: float = 0.05, hold_s: float = 0.5,
                 stall_timeout_s: float = 3.0, name_prefix: str = "recording") -> None:
        if mic is None and system is None:
            raise ValueError("nothing to record: both tracks are off")
        self.folder = folder
        self._sources: dict[str, AudioSource] = {}
        if mic is not None:
            self._sources[MIC] = mic
        if system is not None:
            self._sources[SYSTEM] = system
        self.on_level = on_level
        self.on_notice = on_notice
        self.on_error = on_error
        self.on_audio = on_audio
        self._requested_rate = sample_rate
        self.sync_interval_s = sync_interval_s
        self.level_interval_s = level_interval_s
        self.hold_s = hold_s
        self.stall_timeout_s = stall_timeout_s  # the microphone only: system audio may pause
        self.name_prefix = name_prefix
        self.tracks: tuple[str, ...] = ()
        self.sample_rate = 0
        self.notices: list[str] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wav: WavAppender | None = None
        self._sidecar: Path | None = None
        self._writer: threading.Thread | None = None
        self._done = threading.Event()
        self._stop_lock = threading.Lock()
        self._stopped_sources: set[str] = set()
        self._result: TwoTrackResult | None = None
        self._started_at = datetime.now().astimezone()
        self._start_mono = 0.0
        self.first_data: dict[str, float] = {}  # monotonic arrival of each track's first block
        self._first_data_event = {name: threading.Event() for name in ("mic", "system")}
        self.overflows = 0

    # -- public -----------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._wav.path if self._wav else None

    @property
    def is_recording(self) -> bool:
        return self._writer is not None and not self._done.is_set()

    @property
    def elapsed_s(self) -> float:
        wav = self._wav
        return wav.frames / self.sample_rate if wav and self.sample_rate else 0.0

    def devices(self) -> dict[str, str]:
        return {name: source.device_name for name, source in self._sources.items()}

    def wait_for_data(self, track: str, timeout: float) -> bool:
        """True once ``track`` has delivered its first block (tests wait before playing)."""
        return self._first_data_event[track].wait(timeout)

    def start(self) -> Path:
        """Start both sources and create the files.

        Raises RecordingError if no track can start. A system track that cannot start is left
        out, with its one-line reason in ``notices`` (and ``on_notice``).
        """
        if self._writer is not None:
            raise RuntimeError("a recorder records once; make a new one")
        self._started_at = datetime.now().astimezone()
        self._start_mono = time.monotonic()
        started: dict[str, AudioSource] = {}
        for name, source in list(self._sources.items()):
            notice = getattr(source, "set_notice_callback", None)
            if notice is not None:
                notice(self._enqueue_notice)
            try:
                source.start(self._block_callback(name), self._error_callback(name))
            except RecordingError as exc:
                if name == MIC or (not started and len(self._sources) == 1):
                    self._stop_sources(started)
                    raise
                self._note(str(exc))
                continue
            started[name] = source
        if not started:
            raise RecordingError("Nothing could be recorded.", "Check the audio devices.")
        self._sources = started
        self.tracks = tuple(name for name in (MIC, SYSTEM) if name in started)
        first = started[self.tracks[0]]
        self.sample_rate = int(self._requested_rate or first.sample_rate)
        self._resamplers = {
            name: StreamResampler(source.sample_rate, self.sample_rate)
            for name, source in started.items() if source.sample_rate != self.sample_rate
        }
        fmt = WavFormat(self.sample_rate, len(self.tracks))
        self._max_frames = max_frames(fmt)
        self._mixer = TrackMixer(len(self.tracks), self.sample_rate, hold_s=self.hold_s)
        self._levels = {name: _LevelAccumulator() for name in self.tracks}
        self._heard = dict.fromkeys(self.tracks, False)
        self._live = dict.fromkeys(self.tracks, True)
        wav_path = self._new_path()
        self._sidecar = sidecar.sidecar_path(wav_path)
        try:
            private_dir(self.folder)
            sidecar.write_sidecar(self._sidecar, self._sidecar_data(wav_path, fmt))
            self._wav = WavAppender(wav_path, fmt)
        except OSError as exc:
            self._stop_sources(started)
            for path in (wav_path, self._sidecar):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            raise self._write_error(exc) from exc
        self._writer = threading.Thread(target=self._write_loop, name="two-track-writer",
                                        daemon=True)
        self._writer.start()
        log.info("recording %s to %s at %d Hz", "+".join(self.tracks), wav_path,
                 self.sample_rate)
        return wav_path

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> TwoTrackResult:
        """Stop, finalise the file and return it; everything captured until now is kept."""
        if self._writer is None:
            raise RuntimeError("the recorder was not started")
        self._stop_sources(self._sources)
        self._queue.put(_STOP)
        if threading.current_thread() is not self._writer:
            self._writer.join()
        assert self._result is not None
        return self._result

    # -- source side (any thread; never blocks) ----------------------------------------------
    def _block_callback(self, name: str) -> Callable[[Samples, bool], None]:
        def on_block(block: Samples, gap: bool) -> None:
            self._queue.put((name, block, gap, time.monotonic()))
        return on_block

    def _error_callback(self, name: str) -> Callable[[RecordingError], None]:
        def on_error(error: RecordingError) -> None:
            self._queue.put((name, error))
        return on_error

    def _enqueue_notice(self, text: str) -> None:
        self._queue.put(text)

    # -- writer thread ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        error: RecordingError | None = None
        now = time.monotonic()
        next_sync = now + self.sync_interval_s
        next_level = now + self.level_interval_s
        last_block = dict.fromkeys(self.tracks, now)
        try:
            while True:
                wait = max(0.0, min(next_sync, next_level) - time.monotonic())
                try:
                    item = self._queue.get(timeout=min(wait, 0.05))
                except queue.Empty:
                    item = None
                previous, now = now, time.monotonic()
                if now - previous > 0.05 + self.stall_timeout_s:  # we were frozen, not the mic
                    last_block = dict.fromkeys(self.tracks, now)
                if isinstance(item, _Stop):
                    break
                if isinstance(item, str):
                    self._note(item)
                elif isinstance(item, tuple) and len(item) == 2:
                    error = self._track_ended(*item)
                    if error is not None:
                        break
                elif isinstance(item, tuple):
                    self._intake(*item)
                    last_block[item[0]] = now
                self._write(self._mixer.ready())
                if now >= next_level:
                    self._report_levels()
                    next_level = now + self.level_interval_s
                if now >= next_sync:
                    self._sync()
                    next_sync = now + self.sync_interval_s
                if (MIC in self._live and self._live[MIC] and MIC not in self._stopped_sources
                        and now - last_block[MIC] > self.stall_timeout_s):
                    log.error("no audio for %.1f s from the microphone", now - last_block[MIC])
                    error = self._track_ended(MIC, DeviceLost(self._sources[MIC].device_name))
                    if error is not None:
                        break
        except RecordingError as exc:
            error = exc
        except Exception:  # a bug must not cost the user the recording: finalise anyway
            log.exception("two-track writer failed")
            error = RecordingError("Recording stopped because of an internal error.",
                                   "The audio so far was saved; see the log for details.")
        self._finish(error)

    def _intake(self, name: str, block: Samples, gap: bool, arrival: float) -> None:
        if name not in self.first_data:
            self.first_data[name] = arrival
            self._first_data_event[name].set()
            log.info("%s: first audio %.2f s after start", name, arrival - self._start_mono)
        if not self._live.get(name, False):
            return
        if gap and name == MIC:
            self.overflows += 1
        mono = to_mono(block)
        resampler = self._resamplers.get(name)
        if resampler is not None:
            mono = resampler.convert(mono)
        self._levels[name].add(mono.reshape(-1, 1))
        self._mixer.add(self.tracks.index(name), mono, arrival, gap)

    def _track_ended(self, name: str, error: RecordingError) -> RecordingError | None:
        """One track is gone; returns the error if it was the last one."""
        if not self._live.get(name, False):
            return None
        self._live[name] = False
        self._mixer.end_track(self.tracks.index(name))
        self._stop_sources({name: self._sources[name]})
        if any(self._live.values()):
            self._note(error.message)
            return None
        return error

    def _write(self, frames: npt.NDArray[np.int16] | None) -> None:
        if frames is None or not len(frames):
            return
        wav = self._wav
        assert wav is not None
        start = wav.frames
        room = self._max_frames - start
        if len(frames) > room:
            with contextlib.suppress(OSError):
                wav.append(np.ascontiguousarray(frames[:room], dtype="<i2").tobytes())
            raise RecordingTooLong(self._max_frames / self.sample_rate / 3600)
        try:
            wav.append(np.ascontiguousarray(frames, dtype="<i2").tobytes())
        except OSError as exc:
            raise self._write_error(exc) from exc
        if self.on_audio is not None:
            try:
                self.on_audio(AlignedAudio(start, frames, self.sample_rate, self.tracks))
            except Exception:  # a broken consumer must not end the recording
                log.exception("audio tap failed")

    def _sync(self) -> None:
        assert self._wav is not None
        try:
            self._wav.sync()
        except OSError as exc:
            raise self._write_error(exc) from exc

    def _report_levels(self) -> None:
        readings = {}
        elapsed = self.elapsed_s
        for name in self.tracks:
            rms, peak = self._levels[name].take()
            self._heard[name] = self._heard[name] or peak > SILENCE_DBFS
            readings[name] = LevelReading(
                elapsed, rms, peak, self.overflows if name == MIC else 0,
                no_signal=(name == MIC and not self._heard[name]
                           and elapsed >= NO_SIGNAL_AFTER_S))
        if self.on_level is None:
            return
        try:
            self.on_level(TrackLevels(elapsed, readings, dict(self._live)))
        except Exception:
            log.exception("level callback failed")

    def _note(self, text: str) -> None:
        self.notices.append(text)
        log.warning("recording: %s", text)
        if self.on_notice is not None:
            try:
                self.on_notice(text)
            except Exception:
                log.exception("notice callback failed")

    def _finish(self, error: RecordingError | None) -> None:
        self._stop_sources(self._sources)
        wav = self._wav
        assert wav is not None and self._sidecar is not None
        while True:  # blocks captured before the stop are part of the recording
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple) and len(item) == 4:
                self._intake(*item)
            elif isinstance(item, str):
                self._note(item)
        if not isinstance(error, DiskFull | RecordingWriteError | RecordingTooLong):
            try:
                self._write(self._mixer.flush())
            except RecordingError as exc:
                error = exc
        try:
            wav.close()
        except OSError as exc:
            log.error("final sync of %s failed: %s", wav.path, exc)
            error = error or self._write_error(exc)
        rate = self.sample_rate
        stats = self._mixer.tracks
        result = TwoTrackResult(
            path=wav.path, frames=wav.frames, sample_rate=rate, channels=len(self.tracks),
            overflows=self.overflows, started_at=self._started_at, error=error,
            tracks=self.tracks, devices=self.devices(), notices=tuple(self.notices),
            first_data_s={n: t - self._start_mono for n, t in self.first_data.items()},
            padded_s={n: stats[i].padded / rate for i, n in enumerate(self.tracks)},
            trimmed_s={n: stats[i].trimmed / rate for i, n in enumerate(self.tracks)},
            corrections={n: stats[i].clock.corrections for i, n in enumerate(self.tracks)},
            reanchors={n: stats[i].clock.reanchors for i, n in enumerate(self.tracks)},
        )
        try:
            sidecar.update_sidecar(
                self._sidecar, state=sidecar.STATE_STOPPED, frames=wav.frames,
                overflows=self.overflows, ended_at=datetime.now().astimezone().isoformat(),
                error=error.message if error else "", notices=list(self.notices),
                first_data_s=result.first_data_s,
            )
        except OSError:
            log.exception("could not mark %s finished", self._sidecar)
        self._result = result
        log.info("recording %s: %.1f s of %s; padded %s, trimmed %s", wav.path,
                 result.duration_s, "+".join(self.tracks), result.padded_s, result.trimmed_s)
        self._done.set()
        if error is not None and self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                log.exception("error callback failed")

    # -- helpers ----------------------------------------------------------------------------
    def _stop_sources(self, sources: dict[str, AudioSource]) -> None:
        for name, source in list(sources.items()):
            with self._stop_lock:
                if name in self._stopped_sources:
                    continue
                self._stopped_sources.add(name)
            try:
                source.stop()
            except Exception:
                log.exception("stopping the %s source failed", name)

    def _write_error(self, exc: OSError) -> RecordingError:
        log.error("writing the recording in %s failed: %s", self.folder, exc)
        if exc.errno in DISK_FULL_ERRNOS:
            return DiskFull(str(self.folder))
        return RecordingWriteError(str(self.folder), exc.strerror or type(exc).__name__)

    def _new_path(self) -> Path:
        stem = f"{self.name_prefix}-{self._started_at:%Y-%m-%d_%H-%M-%S}"
        path, n = self.folder / f"{stem}.wav", 1
        while path.exists() or sidecar.sidecar_path(path).exists():
            n += 1
            path = self.folder / f"{stem}-{n}.wav"
        return path

    def _sidecar_data(self, wav_path: Path, fmt: WavFormat) -> dict[str, Any]:
        pid = os.getpid()
        devices = self.devices()
        return {
            "version": 1, "state": sidecar.STATE_RECORDING, "wav": wav_path.name,
            "pid": pid, "pid_started_at": process_started_at(pid),
            "started_at": self._started_at.isoformat(), "sample_rate": fmt.sample_rate,
            "channels": fmt.channels, "sample_width": fmt.sample_width,
            "device": devices.get(MIC, devices.get(SYSTEM, "")),
            "tracks": list(self.tracks), "track_devices": devices,
            "notices": list(self.notices),
        }
