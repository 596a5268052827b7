"""macOS 14.4+ system audio: the ``recap-audiotap`` helper's Core Audio process tap.

The helper (Swift, ``packaging/macos/audiotap/main.swift``) writes packets to its stdout: a
16-byte header ``"RTAP", rate, channels, byte count`` (little-endian u32) and that many bytes of
interleaved float32, and JSON events to its stderr (``output_running`` twice a second,
``rebuilt`` after following a new output or format, ``error``). Native code because Core Audio
IO procs from Python (pyobjc) have had permission and threading trouble in public projects.

Permission: without "System Audio Recording" permission every call succeeds and the tap
delivers zeros. So if the helper reports that output is playing while everything it delivered
for ``silent_permission_s`` is exactly zero, we stop with a message saying what to allow.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.audio.capture_errors import (
    SystemAudioLost,
    SystemAudioPermissionMissing,
    SystemAudioUnavailable,
)
from app.audio.resample import StreamResampler
from app.audio.sources import BlockCallback, ErrorCallback
from app.audio.system_source import NoticeCallback

log = logging.getLogger(__name__)

HELPER_NAME = "recap-audiotap"
HEADER = struct.Struct("<4sIII")
MAGIC = b"RTAP"
PRIVACY_PANE = ("System Settings > Privacy & Security > Screen & System Audio Recording "
                "(System Audio Recording Only: turn Recap on)")


def helper_path() -> Path | None:
    """The helper inside the app bundle (or beside the frozen executable), if present."""
    candidates = [Path(sys.executable).with_name(HELPER_NAME)]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / HELPER_NAME)
    override = os.environ.get("RECAP_AUDIOTAP")
    if override:
        candidates.insert(0, Path(override))
    return next((p for p in candidates if p.is_file() and os.access(p, os.X_OK)), None)


def read_packet(stream: IO[bytes]) -> tuple[int, int, np.ndarray] | None:
    """(rate, channels, float32 frames x channels) or None at the end of the stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    magic, rate, channels, size = HEADER.unpack(header)
    if magic != MAGIC or channels == 0 or size % (4 * channels):
        raise ValueError(f"unexpected data from {HELPER_NAME}: {header!r}")
    payload = _read_exactly(stream, size)
    if payload is None:
        return None
    frames = np.frombuffer(payload, dtype="<f4").reshape(-1, channels)
    return rate, channels, frames


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    parts, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class CoreAudioTapSource:
    def __init__(self, sample_rate: int = 48_000, *, helper: Path | None = None,
                 silent_permission_s: float = 2.0) -> None:
        self._rate = int(sample_rate)
        self._helper = helper or helper_path()
        self.silent_permission_s = silent_permission_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._on_notice: NoticeCallback | None = None
        self._output_running = False
        self._silent_since: float | None = None  # first all-zero packet while output played
        self._failed = False

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return 1

    @property
    def device_name(self) -> str:
        return "system audio (Core Audio tap)"

    def set_notice_callback(self, on_notice: NoticeCallback | None) -> None:
        self._on_notice = on_notice

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        if self._helper is None:
            raise SystemAudioUnavailable(f"the {HELPER_NAME} helper is missing from this build")
        self._stopping.clear()
        try:
            self._proc = subprocess.Popen(
                [str(self._helper), "--exclude-pid", str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise SystemAudioUnavailable(f"the {HELPER_NAME} helper would not start") from exc
        self._threads = [
            threading.Thread(target=self._read_audio, args=(on_block, on_error),
                             name="audiotap-audio", daemon=True),
            threading.Thread(target=self._read_events, args=(on_error,),
                             name="audiotap-events", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()  # the helper exits when its stdin closes
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    # -- helper output ----------------------------------------------------------------------
    def _read_audio(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        resampler: StreamResampler | None = None
        source_rate = 0
        gap = True
        try:
            while not self._stopping.is_set():
                packet = read_packet(proc.stdout)
                if packet is None:
                    break
                rate, _channels, frames = packet
                if rate != source_rate:  # first packet, or the output's format changed
                    source_rate = rate
                    resampler = StreamResampler(rate, self._rate) if rate != self._rate else None
                    gap = True
                mono = np.clip(frames.mean(axis=1), -1.0, 1.0)
                ints = (mono * 32767.0).astype(np.int16)
                if self._permission_missing(ints):
                    self._fail(on_error, SystemAudioPermissionMissing(PRIVACY_PANE))
                    return
                if resampler is not None:
                    ints = resampler.convert(ints)
                if len(ints):
                    on_block(ints.reshape(-1, 1), gap)
                    gap = False
        except ValueError as exc:
            log.error("%s", exc)
        if not self._stopping.is_set():
            self._fail(on_error, SystemAudioLost(self.device_name, f"{HELPER_NAME} stopped"))

    def _permission_missing(self, ints: np.ndarray) -> bool:
        if ints.any() or not self._output_running:
            self._silent_since = None
            return False
        now = time.monotonic()
        if self._silent_since is None:
            self._silent_since = now
        return now - self._silent_since >= self.silent_permission_s

    def _read_events(self, on_error: ErrorCallback) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for raw in proc.stderr:
            try:
                message: dict[str, Any] = json.loads(raw)
            except ValueError:
                log.debug("%s: %s", HELPER_NAME, raw.decode("utf-8", "replace").rstrip())
                continue
            kind = message.get("event")
            if kind == "output_running":
                self._output_running = bool(message.get("value"))
            elif kind == "rebuilt":
                self._notice(f"System audio follows the new output ({message.get('why')}).")
            elif kind == "error":
                log.error("%s: %s (%s)", HELPER_NAME, message.get("message"),
                          message.get("status"))
                self._fail(on_error, SystemAudioLost(self.device_name,
                                                     str(message.get("message", ""))))

    def _notice(self, text: str) -> None:
        if self._on_notice is not None:
            try:
                self._on_notice(text)
            except Exception:
                log.exception("notice callback failed")

    def _fail(self, on_error: ErrorCallback, error: Exception) -> None:
        if self._failed or self._stopping.is_set():
            return
        self._failed = True
        assert isinstance(error, SystemAudioLost | SystemAudioPermissionMissing)
        on_error(error)
