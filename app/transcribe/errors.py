"""Errors of the model store, each one human line plus what the user can do about it."""

from __future__ import annotations

from app.errors import RecapError


class ModelError(RecapError):
    """Something is wrong with a Whisper model; `str(e)` says what, `e.fix` what to do."""
