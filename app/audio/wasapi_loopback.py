"""Windows system audio: WASAPI loopback of the default output, through ``soundcard``.

Why ``soundcard`` rather than PyAudioWPatch: its default-speaker lookup asks Windows each time
(PortAudio's device list is fixed when it initialises, so following a switch would need a
restart of PortAudio under an open stream), and its loopback recorder already fills the
stretches WASAPI leaves empty while nothing plays with zeros measured by the clock. We still
flag the first block after an idle stretch (and after a reopen) as following a gap, so the
recorder places it by its arrival time and the timeline stays continuous either way.

Bluetooth headsets switch the default output from their music endpoint to their call endpoint
(lower rate, mono) when a call starts: a watcher compares the default output's endpoint id about
once a second and reopens on the new one, with a notice. An endpoint that fails (unplugged) is
reopened on the new default; with no output left, system audio ends with an error.

Only the ``backend`` object touches Windows; tests pass a fake one.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from app.audio.capture_errors import SystemAudioLost, SystemAudioUnavailable
from app.audio.sources import BlockCallback, ErrorCallback
from app.audio.system_source import NoticeCallback, OutputDevice, SystemAudioStatus

log = logging.getLogger(__name__)

_BLOCK_S = 0.05
_CHECK_EVERY_S = 1.0
_IDLE_GAP_S = 0.3  # no block for this long: WASAPI had nothing (it plays nothing)


def _soundcard() -> Any:
    try:
        import soundcard
    except Exception as exc:  # missing, or no audio service (Windows "Audio" stopped)
        log.info("soundcard unavailable: %s", exc)
        raise SystemAudioUnavailable(
            "the Windows audio service did not answer",
            "Check that Windows Audio is running; recording goes on with the microphone "
            "alone.") from exc
    return soundcard


def status(backend: Any = None) -> SystemAudioStatus:
    try:
        sc = backend or _soundcard()
        speaker = sc.default_speaker()
    except SystemAudioUnavailable as exc:
        return SystemAudioStatus(False, "", f"system audio needs {exc.reason}")
    except Exception as exc:
        log.info("no default output: %s", exc)
        return SystemAudioStatus(False, "", "there is no audio output to record")
    return SystemAudioStatus(True, str(speaker.name), "")


def list_outputs(backend: Any = None) -> list[OutputDevice]:
    sc = backend or _soundcard()
    default = sc.default_speaker().id
    return [OutputDevice(str(s.id), str(s.name), s.id == default) for s in sc.all_speakers()]


def open_default(sample_rate: int, backend: Any = None) -> WasapiLoopbackSource:
    sc = backend or _soundcard()
    try:
        sc.default_speaker()
    except Exception as exc:
        raise SystemAudioUnavailable("there is no audio output to record") from exc
    return WasapiLoopbackSource(sample_rate, backend=sc)


class WasapiLoopbackSource:
    def __init__(self, sample_rate: int = 48_000, *, backend: Any = None,
                 check_every_s: float = _CHECK_EVERY_S) -> None:
        self._rate = int(sample_rate)
        self._backend = backend
        self._check_every_s = check_every_s
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_notice: NoticeCallback | None = None
        self._device = "default output"
        self.switches = 0

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return 1

    @property
    def device_name(self) -> str:
        return self._device

    def set_notice_callback(self, on_notice: NoticeCallback | None) -> None:
        self._on_notice = on_notice

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        sc = self._backend or _soundcard()
        self._backend = sc
        try:
            speaker = sc.default_speaker()
        except Exception as exc:
            raise SystemAudioUnavailable("there is no audio output to record") from exc
        self._device = str(speaker.name)
        self._halt.clear()
        self._thread = threading.Thread(target=self._run, args=(speaker, on_block, on_error),
                                        name="wasapi-loopback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self, speaker: Any, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        failures = 0
        while not self._halt.is_set():
            try:
                speaker = self._record(speaker, on_block)
                failures = 0
            except Exception as exc:  # the endpoint went away (unplugged, call mode)
                if self._halt.is_set():
                    return
                failures += 1
                log.warning("loopback of %s failed: %s", self._device, exc)
                replacement = self._default_or_none()
                if replacement is None or failures > 5:
                    on_error(SystemAudioLost(self._device, "no audio output is left"
                                             if replacement is None else "it kept failing"))
                    return
                old, speaker = self._device, replacement
                self._switched(speaker, f"'{old}' stopped working")
                self._halt.wait(0.2 * failures)

    def _record(self, speaker: Any, on_block: BlockCallback) -> Any:
        """Record ``speaker`` until stopped or the default output changes; the new default."""
        sc = self._backend
        mic = sc.get_microphone(id=speaker.id, include_loopback=True)
        block = max(1, int(self._rate * _BLOCK_S))
        with mic.recorder(samplerate=self._rate, blocksize=block) as recorder:
            gap = True  # a fresh stream: place its first block by its arrival
            last = time.monotonic()
            next_check = last + self._check_every_s
            while not self._halt.is_set():
                data = np.asarray(recorder.record(numframes=None), dtype=np.float32)
                now = time.monotonic()
                if now - last > _IDLE_GAP_S:
                    gap = True
                last = now
                if data.size:
                    on_block(_to_int16_mono(data), gap)
                    gap = False
                if now >= next_check:
                    next_check = now + self._check_every_s
                    current = sc.default_speaker()
                    if current.id != speaker.id:
                        self._switched(current, "the default output changed")
                        return current
        return speaker

    def _default_or_none(self) -> Any:
        try:
            return self._backend.default_speaker()
        except Exception:
            return None

    def _switched(self, speaker: Any, why: str) -> None:
        self._device = str(speaker.name)
        self.switches += 1
        text = f"System audio now comes from '{self._device}' ({why})."
        log.info("%s", text)
        if self._on_notice is not None:
            try:
                self._on_notice(text)
            except Exception:
                log.exception("notice callback failed")


def _to_int16_mono(data: np.ndarray) -> np.ndarray:
    mono = data.mean(axis=1) if data.ndim == 2 else data
    out: np.ndarray = (np.clip(mono, -1.0, 1.0) * 32767.0).astype(np.int16).reshape(-1, 1)
    return out
