"""Records an audio source to a crash-safe WAV file in the recordings folder.

The source's thread only puts blocks on a queue; one writer thread appends them to the file,
computes the level for the meter, and every ``sync_interval_s`` patches the WAV header and
fsyncs, so a crash, a power cut or SIGKILL loses at most about that much audio. Whatever ends
the recording (stop, unplugged device, full disk) the audio written so far is kept and
finalised, and ``stop()`` returns it.

Callbacks (``on_level``, ``on_error``) run on the writer thread: a GUI turns them into
signals for its own thread. Whoever hands the finished file to the pipeline then calls
``recovery.mark_handled(path)``; until then a crash leaves it to be offered again.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.audio import sidecar
from app.audio.capture_errors import (
    DeviceLost,
    DiskFull,
    RecordingError,
    RecordingTooLong,
    RecordingWriteError,
)
from app.audio.sources import AudioSource, Samples
from app.audio.wavfile import DISK_FULL_ERRNOS, WavAppender, WavFormat, max_frames
from app.private_files import private_dir

log = logging.getLogger(__name__)

SILENCE_DBFS = -120.0
NO_SIGNAL_AFTER_S = 2.0


@dataclass(frozen=True)
class LevelReading:
    """What the meter shows: loudness of the last moment and how long we have recorded."""

    elapsed_s: float
    rms_dbfs: float
    peak_dbfs: float
    overflows: int
    # Only exact zeros so far: typically a muted input or an OS that withholds microphone
    # access (macOS delivers silence instead of an error).
    no_signal: bool = False


@dataclass(frozen=True)
class RecordingResult:
    path: Path
    frames: int
    sample_rate: int
    channels: int
    overflows: int
    started_at: datetime
    error: RecordingError | None = None  # why it stopped early, if it did

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def title(self) -> str:
        return recording_title(self.started_at)


def recording_title(started_at: datetime) -> str:
    return f"Recording {started_at:%Y-%m-%d %H:%M}"


def _dbfs(value: float) -> float:
    return max(SILENCE_DBFS, 20.0 * math.log10(value)) if value > 0 else SILENCE_DBFS


def process_started_at(pid: int) -> float | None:
    """When a process started (to tell a live owner from a reused pid), or None if gone."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class _Stop:
    pass


_STOP = _Stop()
_QueueItem = tuple[Samples, bool] | RecordingError | _Stop


class Recorder:
    def __init__(self, source: AudioSource, folder: Path, *,
                 on_level: Callable[[LevelReading], None] | None = None,
                 on_error: Callable[[RecordingError], None] | None = None,
                 sync_interval_s: float = 1.0, level_interval_s: float = 0.05,
                 stall_timeout_s: float = 3.0, name_prefix: str = "recording") -> None:
        self.source = source
        self.folder = folder
        self.on_level = on_level
        self.on_error = on_error
        self.sync_interval_s = sync_interval_s
        self.level_interval_s = level_interval_s
        self.stall_timeout_s = stall_timeout_s  # silence from the device this long = it is gone
        self.name_prefix = name_prefix
        self._queue: queue.SimpleQueue[_QueueItem] = queue.SimpleQueue()
        self._wav: WavAppender | None = None
        self._sidecar: Path | None = None
        self._writer: threading.Thread | None = None
        self._done = threading.Event()
        self._source_lock = threading.Lock()
        self._source_stopped = False
        self._result: RecordingResult | None = None
        self._started_at = datetime.now().astimezone()
        self.overflows = 0
        self._heard_signal = False
        self.max_frames = 2**62  # lowered to what one WAV file can hold when recording starts

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
        return wav.frames / self.source.sample_rate if wav else 0.0

    def start(self) -> Path:
        """Start capturing and create the files; raises RecordingError if that is impossible."""
        if self._writer is not None or self._wav is not None:
            raise RuntimeError("a Recorder records once; make a new one")
        self._started_at = datetime.now().astimezone()
        # The source starts first: only then are its rate and channel count final (a device
        # may refuse mono). Its first blocks wait in the queue until the writer runs.
        self.source.start(self._enqueue_block, self._enqueue_error)
        fmt = WavFormat(self.source.sample_rate, self.source.channels)
        self.max_frames = min(self.max_frames, max_frames(fmt))
        wav_path = self._new_path()
        self._sidecar = sidecar.sidecar_path(wav_path)
        try:
            private_dir(self.folder)
            sidecar.write_sidecar(self._sidecar, self._sidecar_data(wav_path, fmt))
            self._wav = WavAppender(wav_path, fmt)
        except OSError as exc:
            self._stop_source()
            self._remove_files(wav_path)  # nothing was recorded: leave nothing behind
            raise self._write_error(exc) from exc
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer",
                                        daemon=True)
        self._writer.start()
        log.info("recording to %s", wav_path)
        return wav_path

    def wait(self, timeout: float | None = None) -> bool:
        """True once the recording has ended (by stop() or by itself, e.g. device lost)."""
        return self._done.wait(timeout)

    def stop(self) -> RecordingResult:
        """Stop, finalise the file and return it; everything captured until now is kept."""
        if self._writer is None:
            raise RuntimeError("the recorder was not started")
        self._stop_source()
        self._queue.put(_STOP)
        if threading.current_thread() is not self._writer:  # e.g. stop() from on_error
            self._writer.join()
        assert self._result is not None
        return self._result

    # -- source side (any thread; never blocks) ----------------------------------------------
    def _enqueue_block(self, block: Samples, overflowed: bool) -> None:
        self._queue.put((block, overflowed))

    def _enqueue_error(self, error: RecordingError) -> None:
        self._queue.put(error)

    # -- writer thread ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        error: RecordingError | None = None
        now = time.monotonic()
        next_sync = now + self.sync_interval_s
        last_block = now
        meter = _LevelAccumulator()
        next_level = now + self.level_interval_s
        try:
            while True:
                wait = max(0.0, min(next_sync, next_level) - time.monotonic())
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    item = None
                previous, now = now, time.monotonic()
                if now - previous > wait + self.stall_timeout_s:
                    last_block = now  # we were frozen (suspend, debugger), not the device
                if isinstance(item, _Stop):
                    break
                if isinstance(item, RecordingError):
                    error = item
                    break
                if item is not None:
                    self._append(*item)
                    meter.add(item[0])
                    last_block = now
                if now >= next_level:
                    self._report_level(meter)
                    next_level = now + self.level_interval_s
                if now >= next_sync:
                    self._sync()
                    next_sync = now + self.sync_interval_s
                if now - last_block > self.stall_timeout_s and not self._source_stopped:
                    log.error("no audio for %.1f s from %s", now - last_block,
                              self.source.device_name)
                    error = DeviceLost(self.source.device_name)
                    break
        except RecordingError as exc:
            error = exc
        except Exception:  # a bug must not cost the user the recording: finalise anyway
            log.exception("recorder writer failed")
            error = RecordingError("Recording stopped because of an internal error.",
                                   "The audio so far was saved; see the log for details.")
        self._finish(error)

    def _append(self, block: Samples, overflowed: bool) -> None:
        assert self._wav is not None
        if overflowed:
            self.overflows += 1
            log.warning("input overflow #%d on %s: a few milliseconds of audio were lost",
                        self.overflows, self.source.device_name)
        room = self.max_frames - self._wav.frames
        if len(block) > room:
            self._wav.append(np.ascontiguousarray(block[:room], dtype="<i2").tobytes())
            raise RecordingTooLong(self.max_frames / self.source.sample_rate / 3600)
        try:
            self._wav.append(np.ascontiguousarray(block, dtype="<i2").tobytes())
        except OSError as exc:
            raise self._write_error(exc) from exc

    def _sync(self) -> None:
        assert self._wav is not None
        try:
            self._wav.sync()
        except OSError as exc:
            raise self._write_error(exc) from exc

    def _report_level(self, meter: _LevelAccumulator) -> None:
        rms, peak = meter.take()
        self._heard_signal = self._heard_signal or peak > SILENCE_DBFS
        elapsed = self.elapsed_s
        if self.on_level is None:
            return
        reading = LevelReading(elapsed, rms, peak, self.overflows,
                               no_signal=not self._heard_signal and elapsed >= NO_SIGNAL_AFTER_S)
        try:
            self.on_level(reading)
        except Exception:  # a broken meter must not end the recording
            log.exception("level callback failed")

    def _finish(self, error: RecordingError | None) -> None:
        self._stop_source()
        wav = self._wav
        assert wav is not None and self._sidecar is not None
        dropped = 0
        while True:  # blocks captured before the stop are part of the recording
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                if not isinstance(error, DiskFull | RecordingWriteError | RecordingTooLong):
                    try:
                        self._append(*item)
                        continue
                    except RecordingError as exc:
                        error = exc
                dropped += len(item[0])
        if dropped:
            log.warning("%d frames could not be written after the error", dropped)
        try:
            wav.close()
        except OSError as exc:
            log.error("final sync of %s failed: %s", wav.path, exc)
            if error is None:
                error = self._write_error(exc)
        if error is not None:
            log.error("recording %s ended early: %s", wav.path, error.message)
        try:
            sidecar.update_sidecar(
                self._sidecar, state=sidecar.STATE_STOPPED, frames=wav.frames,
                overflows=self.overflows, ended_at=datetime.now().astimezone().isoformat(),
                error=error.message if error else "",
            )
        except OSError:  # recovery will still find and repair the file
            log.exception("could not mark %s finished", self._sidecar)
        self._result = RecordingResult(
            path=wav.path, frames=wav.frames, sample_rate=wav.format.sample_rate,
            channels=wav.format.channels, overflows=self.overflows,
            started_at=self._started_at, error=error,
        )
        log.info("recording %s: %.1f s, %d overflow(s)", wav.path, self._result.duration_s,
                 self.overflows)
        self._done.set()
        if error is not None and self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                log.exception("error callback failed")

    # -- helpers ----------------------------------------------------------------------------
    def _stop_source(self) -> None:
        with self._source_lock:
            if self._source_stopped:
                return
            self._source_stopped = True
        try:
            self.source.stop()
        except Exception:
            log.exception("stopping the audio source failed")

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
        return {
            "version": 1, "state": sidecar.STATE_RECORDING, "wav": wav_path.name,
            "pid": pid, "pid_started_at": process_started_at(pid),
            "started_at": self._started_at.isoformat(), "sample_rate": fmt.sample_rate,
            "channels": fmt.channels, "sample_width": fmt.sample_width,
            "device": self.source.device_name,
        }

    def _remove_files(self, wav_path: Path) -> None:
        if self._wav is not None:
            with contextlib.suppress(OSError):
                self._wav.close()
        for path in (wav_path, sidecar.sidecar_path(wav_path)):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


class _LevelAccumulator:
    """Peak and RMS since the last reading, in dBFS (0 dBFS = full scale)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._sum_squares = 0.0
        self._count = 0
        self._peak = 0

    def add(self, block: Samples) -> None:
        if block.size == 0:
            return
        as_float = block.astype(np.float64)
        self._sum_squares += float(np.dot(as_float.ravel(), as_float.ravel()))
        self._count += block.size
        self._peak = max(self._peak, int(np.abs(block.astype(np.int32)).max()))

    def take(self) -> tuple[float, float]:
        rms = math.sqrt(self._sum_squares / self._count) / 32768.0 if self._count else 0.0
        peak = self._peak / 32768.0
        self._reset()
        return _dbfs(rms), _dbfs(peak)
