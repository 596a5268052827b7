"""Errors of speaker labelling, each one human line plus what the user can do about it."""

from __future__ import annotations


class SpeakerError(Exception):
    """Speaker labelling cannot run; `str(e)` says what happened, `e.fix` what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix

    def one_line(self) -> str:
        return f"{self} {self.fix}".strip()


class WeightsError(SpeakerError):
    """The speaker-embedding weight file is missing, damaged or not what we expect."""


class DiarizationCancelled(SpeakerError):
    def __init__(self) -> None:
        super().__init__("Speaker labelling was cancelled.", "Run it again to label speakers.")
