"""Where recorded audio comes from: the sound card through ``sounddevice``, or a known signal.

A source delivers int16 blocks shaped (frames, channels) to ``on_block`` from its own thread
and reports trouble (device gone) to ``on_error``. The recorder never knows which kind it has,
so every recording behaviour is testable without hardware.
"""

from __future__ import annotations

import logging
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from app.audio.capture_errors import (
    DeviceLost,
    MicrophonePermissionDenied,
    NoInputDevice,
    RecordingError,
)

log = logging.getLogger(__name__)

Samples = npt.NDArray[np.int16]
BlockCallback = Callable[[Samples, bool], None]  # (block, input overflowed before it)
ErrorCallback = Callable[[RecordingError], None]


class AudioSource(Protocol):
    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def device_name(self) -> str: ...

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        """Begin delivering blocks; raises RecordingError if capture cannot start."""

    def stop(self) -> None:
        """Stop delivering; idempotent, and safe after the source failed by itself."""


# -- the sound card -----------------------------------------------------------------------

@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    host_api: str
    max_channels: int
    default_sample_rate: int
    is_default: bool


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio shared library is missing
        log.error("cannot load sounddevice: %s", exc)
        raise RecordingError(
            "The audio library PortAudio is not installed.",
            "Install it (Debian/Ubuntu: `sudo apt install libportaudio2`) and try again.",
        ) from exc
    return sounddevice


def _portaudio_error(exc: Exception, device: str) -> RecordingError:
    """Turn PortAudio's text into a message a person can act on."""
    text = str(exc).lower()
    log.error("PortAudio error on %s: %s", device, exc)
    denied = ("permission", "access is denied", "not permitted", "accessdenied",
              "0x80070005", "[alsa error -13]")
    if any(marker in text for marker in denied):
        return MicrophonePermissionDenied()
    if "querying device -1" in text or "no default input" in text:
        return NoInputDevice()
    if "invalid device" in text:
        return NoInputDevice(f"'{device}' is not available")
    if "unavailable" in text or "busy" in text:  # held by another program, or half-gone
        return RecordingError(f"The microphone '{device}' is busy or unavailable.",
                              "Close other programs using it, reconnect it, or pick another "
                              "input with `recap devices`.")
    return RecordingError(f"The microphone '{device}' could not be opened.",
                          "Pick another input with `recap devices`, or reconnect it.")


def list_input_devices() -> list[InputDevice]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        host_apis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise _portaudio_error(exc, "audio system") from exc
    default_input = sd.default.device[0]
    found = []
    for index, info in enumerate(devices):
        if int(info["max_input_channels"]) < 1:
            continue
        found.append(InputDevice(
            index=index,
            name=str(info["name"]),
            host_api=str(host_apis[int(info["hostapi"])]["name"]),
            max_channels=int(info["max_input_channels"]),
            default_sample_rate=int(round(float(info["default_samplerate"]))),
            is_default=index == default_input,
        ))
    return found


def resolve_input_device(device: int | None) -> InputDevice:
    """The chosen input (None: the system default), or NoInputDevice."""
    inputs = list_input_devices()
    if not inputs:
        raise NoInputDevice()
    if device is None:
        default = next((d for d in inputs if d.is_default), None)
        if default is None:  # no default set: the first input is what the user would expect
            log.info("no default input device; using %s", inputs[0].name)
            return inputs[0]
        return default
    chosen = next((d for d in inputs if d.index == device), None)
    if chosen is None:
        raise NoInputDevice(f"there is no input device number {device}")
    return chosen


class SoundDeviceSource:
    """A PortAudio input stream at the device's native rate.

    The PortAudio callback only copies the block and hands it on: no disk I/O, no logging,
    no locks that the writer could hold for long.
    """

    def __init__(self, device: int | None = None, *, channels: int = 1,
                 latency: str = "high") -> None:
        self._device = resolve_input_device(device)
        self._channels = max(1, min(channels, self._device.max_channels))
        self._latency = latency  # 'high' buffers more, so fewer overflows on a busy machine
        self._stream: Any = None
        self._stopping = False
        self._on_block: BlockCallback | None = None
        self._on_error: ErrorCallback | None = None

    @property
    def sample_rate(self) -> int:
        return self._device.default_sample_rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def device_name(self) -> str:
        return self._device.name

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        sd = _sounddevice()
        self._on_block, self._on_error = on_block, on_error
        self._stopping = False
        try:
            self._stream = self._open(sd, self._channels)
        except sd.PortAudioError as exc:
            # Some hardware devices cannot deliver mono: retry with their own channel count.
            if "channels" not in str(exc).lower() or self._device.max_channels == self._channels:
                raise _portaudio_error(exc, self.device_name) from exc
            self._channels = min(2, self._device.max_channels)
            log.info("%s refused mono; recording %d channels", self.device_name, self._channels)
            try:
                self._stream = self._open(sd, self._channels)
            except sd.PortAudioError as exc2:
                raise _portaudio_error(exc2, self.device_name) from exc2
        try:
            self._stream.start()
        except sd.PortAudioError as exc:
            self._close_quietly()
            raise _portaudio_error(exc, self.device_name) from exc
        log.info("recording from %s (%s) at %d Hz, %d channel(s)", self.device_name,
                 self._device.host_api, self.sample_rate, self._channels)

    def _open(self, sd: Any, channels: int) -> Any:
        return sd.InputStream(
            device=self._device.index, channels=channels, samplerate=self.sample_rate,
            dtype="int16", latency=self._latency, callback=self._audio_callback,
            finished_callback=self._finished_callback,
        )

    def _audio_callback(self, indata: Samples, frames: int, time_info: Any, status: Any) -> None:
        on_block = self._on_block
        if on_block is not None:
            on_block(indata.copy(), bool(status.input_overflow))

    def _finished_callback(self) -> None:
        # PortAudio ends the stream by itself only when the device fails or disappears.
        if not self._stopping and self._on_error is not None:
            self._on_error(DeviceLost(self.device_name))

    def stop(self) -> None:
        self._stopping = True
        self._close_quietly()

    def _close_quietly(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception:  # the device may already be gone; the audio so far is what matters
            log.warning("closing the input stream of %s failed", self.device_name,
                        exc_info=True)


# -- known signals, for tests and demos -----------------------------------------------------

def known_signal(start_frame: int, frames: int, channels: int = 1) -> Samples:
    """A deterministic, non-repeating int16 signal: frame i is the same in every call.

    Pseudo-random values derived from the frame index, so a test can compare
    recorded audio with what was fed at any offset, sample for sample.
    """
    index = np.arange(start_frame, start_frame + frames, dtype=np.uint64)
    columns = []
    for channel in range(channels):  # each channel its own sequence, still index-derived
        shifted = index + np.uint64(channel * 104729)
        mixed = (shifted * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(65521)
        columns.append((mixed.astype(np.int64) - 32760).astype(np.int16))
    return np.stack(columns, axis=1)


class ArraySource:
    """Feeds a signal block by block from its own thread, in real time or faster.

    ``signal`` is an array (frames, channels) or a function ``(start, frames) -> block``
    for an endless one. ``fail_after_frames`` simulates a microphone being unplugged;
    ``on_fed(total)`` is told after each block (the crash test uses it to know what was fed).
    """

    def __init__(self, signal: Samples | Callable[[int, int], Samples], *, sample_rate: int,
                 channels: int = 1, block_frames: int = 1024, speed: float = 1.0,
                 fail_after_frames: int | None = None, device_name: str = "test signal",
                 on_fed: Callable[[int], None] | None = None) -> None:
        self._signal = signal
        self._rate = sample_rate
        self._channels = channels
        self._block = block_frames
        self._speed = speed  # 1.0 real time; 0 as fast as possible
        self._fail_after = fail_after_frames
        self._name = device_name
        self._on_fed = on_fed
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.fed_frames = 0

    @classmethod
    def from_wav(cls, path: Path, **kwargs: Any) -> ArraySource:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError(f"{path}: only 16-bit PCM WAV files can be replayed")
            channels, rate = w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
        data = np.frombuffer(raw, dtype="<i2").astype(np.int16).reshape(-1, channels)
        return cls(data, sample_rate=rate, channels=channels, device_name=path.name, **kwargs)

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def device_name(self) -> str:
        return self._name

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        self._halt.clear()
        self._thread = threading.Thread(target=self._feed, args=(on_block, on_error),
                                        name="array-source", daemon=True)
        self._thread.start()

    def _next_block(self, start: int, frames: int) -> Samples:
        if callable(self._signal):
            return self._signal(start, frames)
        return self._signal[start:start + frames]

    def _feed(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        began = time.monotonic()
        while not self._halt.is_set():
            frames = self._block
            if self._fail_after is not None:
                frames = min(frames, self._fail_after - self.fed_frames)
                if frames <= 0:
                    on_error(DeviceLost(self._name))
                    return
            block = self._next_block(self.fed_frames, frames)
            if len(block) == 0:
                return  # a finite signal ran out: like a silent, idle microphone
            if self._speed > 0:  # pace like a sound card: a block is due when its audio is
                due = began + (self.fed_frames + len(block)) / (self._rate * self._speed)
                if self._halt.wait(max(0.0, due - time.monotonic())):
                    return
            on_block(np.ascontiguousarray(block, dtype=np.int16), False)
            self.fed_frames += len(block)
            if self._on_fed is not None:
                self._on_fed(self.fed_frames)

    def stop(self) -> None:
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
