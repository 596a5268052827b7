"""macOS system audio: which way this Mac can do it.

macOS 14.4+ with the bundled helper: a Core Audio process tap (``macos_tap``), the way the
best meeting apps do it (System Audio Recording permission, no screen-recording prompt).
macOS 13+ otherwise: ScreenCaptureKit (``macos_sck``; Screen Recording permission).
Older: none, with the one line saying so.
"""

from __future__ import annotations

import platform

from app.audio.capture_errors import SystemAudioUnavailable
from app.audio.macos_tap import CoreAudioTapSource, helper_path
from app.audio.system_source import OutputDevice, SystemAudioSource, SystemAudioStatus

TAP_SINCE = (14, 4)
SCK_SINCE = (13, 0)


def macos_version() -> tuple[int, ...]:
    text = platform.mac_ver()[0] or "0"
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _screencapturekit_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("ScreenCaptureKit") is not None


def choose(version: tuple[int, ...] | None = None, *, has_helper: bool | None = None,
           has_sck: bool | None = None) -> tuple[str, str]:
    """("tap" | "sck" | "", reason when ""); the OS facts can be passed in (tests)."""
    version = version if version is not None else macos_version()
    has_helper = helper_path() is not None if has_helper is None else has_helper
    if version >= TAP_SINCE and has_helper:
        return "tap", ""
    has_sck = _screencapturekit_importable() if has_sck is None else has_sck
    if version >= SCK_SINCE and has_sck:
        return "sck", ""
    if version < SCK_SINCE:
        shown = ".".join(str(v) for v in version) or "this version"
        return "", f"system audio needs macOS 13 or later (this is macOS {shown})"
    return "", "system audio needs the recap-audiotap helper or ScreenCaptureKit in this build"


def open_default(sample_rate: int) -> SystemAudioSource:
    way, reason = choose()
    if way == "tap":
        return CoreAudioTapSource(sample_rate)
    if way == "sck":
        from app.audio.macos_sck import ScreenCaptureKitSource

        return ScreenCaptureKitSource(sample_rate)
    raise SystemAudioUnavailable(reason)


def status() -> SystemAudioStatus:
    way, reason = choose()
    if way == "tap":
        return SystemAudioStatus(True, "everything this Mac plays (Core Audio tap)", "")
    if way == "sck":
        return SystemAudioStatus(True, "everything this Mac plays (ScreenCaptureKit)", "")
    return SystemAudioStatus(False, "", reason)


def list_outputs() -> list[OutputDevice]:
    # Both ways record whatever the Mac plays, following the default output by themselves.
    way, _ = choose()
    return [OutputDevice("default", "Default output (all apps but Recap)", True)] if way else []
