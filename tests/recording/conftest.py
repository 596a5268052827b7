"""Shared pieces for the recording tests: reading WAVs back, and a fake PortAudio layer.

The fake replaces only what ``sounddevice`` talks to the sound card through
(``query_devices``, ``query_hostapis``, ``default.device``, ``InputStream``), so the adapter's
own code runs unchanged.
"""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sounddevice as sd

from app.audio.sources import known_signal


@dataclass
class WavData:
    sample_rate: int
    channels: int
    samples: np.ndarray  # (frames, channels) int16

    @property
    def frames(self) -> int:
        return len(self.samples)


def read_wav(path: Path) -> WavData:
    with wave.open(str(path), "rb") as w:
        raw = w.readframes(w.getnframes())
        channels, rate = w.getnchannels(), w.getframerate()
        assert w.getsampwidth() == 2
    return WavData(rate, channels, np.frombuffer(raw, dtype="<i2").reshape(-1, channels))


class FakeInputStream:
    """Behaves like a PortAudio input stream: a thread calls ``callback`` with int16 blocks."""

    def __init__(self, hub: FakePortAudio, **kwargs: Any) -> None:
        if hub.open_error is not None:
            raise hub.open_error
        self.hub = hub
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished_callback = kwargs.get("finished_callback")
        self.channels = int(kwargs["channels"])
        self.active = False
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False
        hub.streams.append(self)

    def start(self) -> None:
        if self.hub.start_error is not None:
            raise self.hub.start_error
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fed, block_index = 0, 0
        block = self.hub.block_frames
        rate = float(self.kwargs["samplerate"])
        began = time.monotonic()
        while not self._halt.is_set():
            if self.hub.unplug_after_blocks is not None and \
                    block_index >= self.hub.unplug_after_blocks:
                self.active = False
                if self.finished_callback:  # what PortAudio does when the device vanishes
                    self.finished_callback()
                return
            data = known_signal(fed, block, self.channels)
            flags = sd.CallbackFlags(2 if block_index in self.hub.overflow_blocks else 0)
            self.callback(data, block, None, flags)
            fed += block
            block_index += 1
            self.hub.fed_frames = fed
            # Paced like a sound card: the next block is due when its audio would be.
            self._halt.wait(max(0.0, began + fed / rate - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.active and self.finished_callback:
            self.finished_callback()
        self.active = False

    def close(self) -> None:
        self.closed = True


@dataclass
class FakePortAudio:
    devices: list[dict[str, Any]] = field(default_factory=list)
    block_frames: int = 480
    overflow_blocks: set[int] = field(default_factory=set)
    unplug_after_blocks: int | None = None
    open_error: Exception | None = None
    start_error: Exception | None = None
    streams: list[FakeInputStream] = field(default_factory=list)
    fed_frames: int = 0

    def add_device(self, name: str, inputs: int, rate: float = 48000.0,
                   outputs: int = 0) -> int:
        self.devices.append({"name": name, "hostapi": 0, "max_input_channels": inputs,
                             "max_output_channels": outputs, "default_samplerate": rate})
        return len(self.devices) - 1


@pytest.fixture
def fake_portaudio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePortAudio]:
    hub = FakePortAudio()
    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: list(hub.devices))
    monkeypatch.setattr(sd, "query_hostapis", lambda *a, **k: [{"name": "FakeALSA"}])
    monkeypatch.setattr(sd, "InputStream", lambda **kwargs: FakeInputStream(hub, **kwargs))
    previous = sd.default.device
    sd.default.device = (-1, -1)  # what PortAudio reports on a machine without a default input
    yield hub
    sd.default.device = previous


@pytest.fixture
def default_mic(fake_portaudio: FakePortAudio) -> FakePortAudio:
    """A machine with a speaker (output only), a USB mic (default, 48 kHz) and a webcam mic."""
    fake_portaudio.add_device("Speakers", inputs=0, outputs=2)
    mic = fake_portaudio.add_device("USB Mic", inputs=1, rate=48000.0)
    fake_portaudio.add_device("Webcam Mic", inputs=2, rate=16000.0)
    sd.default.device = (mic, -1)
    return fake_portaudio
