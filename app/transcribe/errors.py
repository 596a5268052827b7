"""Errors of the model store, each one human line plus what the user can do about it."""

from __future__ import annotations


class ModelError(Exception):
    """Something is wrong with a Whisper model; `str(e)` says what, `e.fix` what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix
