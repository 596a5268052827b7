"""What every system-audio source (the speakers' loopback, per OS) promises the recorder.

Beyond a microphone source (see ``sources.AudioSource``) a system source:
- delivers mono int16 blocks at ``sample_rate``, which it tries to make the rate asked for;
- flags the first block after a gap it could not fill (device switched, nothing delivered by the
  OS) with ``True`` in the block callback's second argument, so the recorder places that block by
  its arrival time instead of right after the previous one;
- reports changes it survived (the default output switched, a headset unplugged and the stream
  reopened on the new output) as one-line notices, and only the end of system audio as an error;
- never delivers the microphone in place of the speakers.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.audio.capture_errors import SystemAudioUnavailable
from app.audio.sources import AudioSource

log = logging.getLogger(__name__)

NoticeCallback = Callable[[str], None]


class SystemAudioSource(AudioSource, Protocol):
    def set_notice_callback(self, on_notice: NoticeCallback | None) -> None:
        """Where to send one-line notices about device changes (from any thread)."""


@dataclass(frozen=True)
class OutputDevice:
    """An output whose sound can be recorded (``recap devices``)."""

    id: str  # what the OS calls it (a Pulse sink name, a WASAPI endpoint id)
    name: str  # what a person calls it
    is_default: bool


@dataclass(frozen=True)
class SystemAudioStatus:
    available: bool
    device: str  # what would be recorded, when available
    reason: str  # one line when not: "system audio needs ... on this system"

    def line(self) -> str:
        return (f"System audio: on ({self.device})" if self.available
                else f"System audio: off ({self.reason})")


def _platform_module() -> str:
    if sys.platform.startswith("linux"):
        return "app.audio.pulse_monitor"
    if sys.platform == "win32":
        return "app.audio.wasapi_loopback"
    if sys.platform == "darwin":
        return "app.audio.macos_capture"
    return ""


def open_system_audio(sample_rate: int = 48_000) -> SystemAudioSource:
    """The default output's loopback on this OS, at ``sample_rate`` if the OS can resample.

    Raises ``SystemAudioUnavailable`` (one line saying why) where it cannot be recorded.
    """
    import importlib

    name = _platform_module()
    if not name:
        raise SystemAudioUnavailable(f"Recap cannot record system audio on {sys.platform}")
    module = importlib.import_module(name)
    source: SystemAudioSource = module.open_default(sample_rate)
    return source


def system_audio_status() -> SystemAudioStatus:
    """Whether system audio can be recorded right now, and from what; never raises."""
    import importlib

    name = _platform_module()
    if not name:
        return SystemAudioStatus(False, "", f"Recap cannot record system audio on {sys.platform}")
    try:
        status: SystemAudioStatus = importlib.import_module(name).status()
    except Exception as exc:  # a status line must never take the app down
        log.exception("system audio status failed")
        return SystemAudioStatus(False, "", f"system audio check failed ({type(exc).__name__})")
    return status


def list_output_devices() -> list[OutputDevice]:
    """Outputs whose sound Recap can record; empty where system audio is unavailable."""
    import importlib

    name = _platform_module()
    if not name:
        return []
    try:
        devices: list[OutputDevice] = importlib.import_module(name).list_outputs()
    except SystemAudioUnavailable as exc:
        log.info("no capturable outputs: %s", exc.reason)
        return []
    return devices
