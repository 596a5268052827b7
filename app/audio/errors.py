"""Why an audio file could not be used, in one human line each, with what to do about it.

Every error the decoder raises is an `AudioError`: callers (pipeline, CLI, GUI) show `str(err)`
and `err.fix`, and never see a raw FFmpeg exception. Details go to the log.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import Cancelled, RecapError


class AudioError(RecapError):
    """Base class: `str(err)` is one line for people, `fix` says what they can do."""

    fix = "Try another file, or convert it to WAV or MP3 with any audio editor."


class AudioFileMissing(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name}: no such file.",
            fix=f"Check the path: {path} does not exist or is not a regular file.",
        )


class AudioUnreadable(AudioError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{path.name}: the file cannot be read ({reason}).",
            fix="Check that you have permission to read it and that the disk is available.",
        )


class EmptyAudioFile(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name} is empty (0 bytes).",
            fix="The recording or download did not finish; record or copy it again.",
        )


class NotAnAudioFile(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name} is not an audio or video file Recap can read.",
            fix="Supported: WAV, MP3, M4A/AAC, OGG/Opus, FLAC, and MP4/MOV/MKV video. "
            "Check that the file really is a recording (its name may be misleading).",
        )


class NoAudioStream(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name} has no sound track.",
            fix="The video was recorded without audio; export it again with sound, "
            "or use the separate audio file of the meeting.",
        )


class CorruptAudio(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name} is damaged: its audio data cannot be decoded.",
            fix="Copy or export the recording again from its source.",
        )


class TruncatedAudio(AudioError):
    """The file ends early; `decoded_s` seconds of the promised `expected_s` were readable."""

    def __init__(self, path: Path, decoded_s: float, expected_s: float) -> None:
        super().__init__(
            f"{path.name} is cut short: only {decoded_s:.1f} s of {expected_s:.1f} s "
            "could be read.",
            fix="The copy or download did not finish; copy it again from its source.",
        )
        self.decoded_s = decoded_s
        self.expected_s = expected_s


class UnsupportedSampleRate(AudioError):
    def __init__(self, path: Path, rate: int) -> None:
        super().__init__(
            f"{path.name} says it was recorded at {rate} Hz, which no real recording is.",
            fix="The file is damaged or was not made by a recorder; export it again from its "
            "source at a usual rate (8 to 48 kHz).",
        )


class AudioTooLong(AudioError):
    def __init__(self, path: Path, limit_s: float) -> None:
        super().__init__(
            f"{path.name} holds more than {limit_s / 3600:.0f} hours of audio, more than "
            "Recap processes at once.",
            fix="Split it into shorter parts with any audio editor and import those.",
        )


class SilentAudio(AudioError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"No speech found: {path.name} is silent.",
            fix="Check that the right microphone was used and was not muted.",
        )


class DecodeCancelled(Cancelled):
    """The caller asked to stop. Not an error for people: nothing to show."""
