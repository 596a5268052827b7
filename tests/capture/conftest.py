"""Fakes at the OS boundary for the capture tests, and the throwaway sound server fixture."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from app.audio.capture_errors import RecordingError
from app.audio.sources import BlockCallback, ErrorCallback, Samples, known_signal
from tests.capture import audio_server


class ScriptedSource:
    """A system-audio-like source on its own thread, paced in real time.

    ``signal(start, n)`` gives the audio; ``start_delay_s`` is the server's start-up delay;
    ``silent_between`` (seconds on the wall clock) delivers nothing, like WASAPI while nothing
    plays, and flags the next block as following a gap; ``fail_after_s`` reports ``error``.
    """

    def __init__(self, signal: Callable[[int, int], Samples] | None = None, *,
                 sample_rate: int = 16000, block_s: float = 0.02, start_delay_s: float = 0.0,
                 silent_between: tuple[float, float] | None = None,
                 fail_after_s: float | None = None, error: RecordingError | None = None,
                 notices_at: dict[float, str] | None = None, name: str = "fake output") -> None:
        self.signal = signal or (lambda s, n: known_signal(s + 10**7, n, 1))
        self._rate = sample_rate
        self.block = max(1, int(block_s * sample_rate))
        self.start_delay_s = start_delay_s
        self.silent_between = silent_between
        self.fail_after_s = fail_after_s
        self.error = error or RecordingError("System audio from 'fake output' stopped.")
        self.notices_at = dict(notices_at or {})
        self.name = name
        self.on_notice: Callable[[str], None] | None = None
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered: list[tuple[float, int]] = []  # (monotonic, first frame) per block

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return 1

    @property
    def device_name(self) -> str:
        return self.name

    def set_notice_callback(self, on_notice: Callable[[str], None] | None) -> None:
        self.on_notice = on_notice

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        self._thread = threading.Thread(target=self._run, args=(on_block, on_error),
                                        daemon=True)
        self._began = time.monotonic()
        self._thread.start()

    def _run(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        began = self._began
        if self._halt.wait(self.start_delay_s):
            return
        frame = int(self.start_delay_s * self._rate)  # frames play on the wall clock
        gap = False
        while not self._halt.is_set():
            now_s = frame / self._rate
            for at, text in list(self.notices_at.items()):
                if now_s >= at and self.on_notice is not None:
                    self.on_notice(text)
                    del self.notices_at[at]
            if self.fail_after_s is not None and now_s >= self.fail_after_s:
                on_error(self.error)
                return
            due = began + (frame + self.block) / self._rate
            if self._halt.wait(max(0.0, due - time.monotonic())):
                return
            if self.silent_between and self.silent_between[0] <= now_s < self.silent_between[1]:
                gap = True
            else:
                self.delivered.append((time.monotonic(), frame))
                on_block(np.ascontiguousarray(self.signal(frame, self.block)), gap)
                gap = False
            frame += self.block

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)


@pytest.fixture(params=audio_server.KINDS)
def sound_server(request: pytest.FixtureRequest,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[audio_server.AudioServer]:
    """A throwaway PulseAudio, then PipeWire + pipewire-pulse: fails (never skips) without."""
    try:
        server = audio_server.start(request.param)
    except audio_server.ServerUnavailable as exc:
        pytest.fail(f"could not start {request.param}: {exc}", pytrace=False)
    for key in ("XDG_RUNTIME_DIR", "PIPEWIRE_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"):
        if key in server.env:
            monkeypatch.setenv(key, server.env[key])
    try:
        yield server
    finally:
        server.stop()


