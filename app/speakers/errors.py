"""Errors of speaker labelling, each one human line plus what the user can do about it."""

from __future__ import annotations

from app.errors import Cancelled, RecapError, one_line


class SpeakerError(RecapError):
    """Speaker labelling cannot run; `str(e)` says what happened, `e.fix` what to do."""

    def one_line(self) -> str:
        return one_line(self)


class WeightsError(SpeakerError):
    """The speaker-embedding weight file is missing, damaged or not what we expect."""


class DiarizationCancelled(SpeakerError, Cancelled):
    def __init__(self) -> None:
        super().__init__("Speaker labelling was cancelled.", "Run it again to label speakers.")
