"""Errors a person can see while recording: one line saying what happened, one saying what to do.

Each carries ``fix``; details (PortAudio text, errno) go to the log, not to the message.
"""

from __future__ import annotations

from app.errors import RecapError


class RecordingError(RecapError):
    """Recording could not start or had to stop early."""

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


class NoInputDevice(RecordingError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            f"No microphone found{': ' + detail if detail else ''}.",
            "Plug in a microphone or pick another one with `recap devices` / Settings.",
        )


class MicrophonePermissionDenied(RecordingError):
    def __init__(self) -> None:
        super().__init__(
            "Recap is not allowed to use the microphone.",
            "Allow microphone access for Recap (macOS/Windows: Privacy settings; "
            "Linux: add your user to the 'audio' group), then try again.",
        )


class DeviceLost(RecordingError):
    def __init__(self, device: str) -> None:
        super().__init__(
            f"The microphone '{device}' stopped delivering audio (unplugged?). "
            "Everything recorded until then was saved.",
            "Reconnect it and start a new recording.",
        )


class DiskFull(RecordingError):
    def __init__(self, folder: str) -> None:
        super().__init__(
            f"The disk holding {folder} is full. Everything recorded until then was saved.",
            "Free some space (or move the recordings folder), then start a new recording.",
        )


class RecordingTooLong(RecordingError):
    def __init__(self, hours: float) -> None:
        super().__init__(
            f"The recording reached the longest a file can hold ({hours:.1f} h) and was saved.",
            "Start a new recording to go on.",
        )


class RecordingWriteError(RecordingError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"Could not write the recording {path} ({reason}). "
            "Everything written until then was saved.",
            "Check the disk and the folder's permissions.",
        )


class SystemAudioUnavailable(RecordingError):
    """System audio cannot be recorded here; the message is the one line the user sees."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(f"System audio is not recorded: {reason}.",
                         fix or "Recording goes on with the microphone alone.")
        self.reason = reason


class SystemAudioLost(RecordingError):
    def __init__(self, device: str, detail: str = "") -> None:
        super().__init__(
            f"System audio from '{device}' stopped{' (' + detail + ')' if detail else ''}. "
            "Everything recorded until then was saved.",
            "The microphone goes on recording; start a new recording to capture the speakers "
            "again.",
        )


class SystemAudioPermissionMissing(RecordingError):
    def __init__(self, what_to_allow: str) -> None:
        super().__init__(
            "System audio is silent although something is playing: Recap is not allowed to "
            "record it.",
            f"Allow it in {what_to_allow}, then start a new recording.",
        )
