"""The one family of errors Recap shows to people: one line saying what happened, one saying
what to do about it.

Every error a person may see derives from ``RecapError`` (each package keeps its own kinds
beside the code that raises them: ``app.audio.errors``, ``app.sync.errors``, ...), so the faces
need a single ``except RecapError`` and ``one_line()`` to say it, never a traceback. A stop the
user asked for is a ``Cancelled``: not a failure, nothing to show. This module imports nothing
of Recap's, so any module may use it.
"""

from __future__ import annotations


class RecapError(Exception):
    """``message`` is one line for people; ``fix`` what they can do ("" when nothing helps).

    A subclass may set a class-wide default ``fix``; one given to the constructor wins.
    """

    fix: str = ""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if fix is not None:
            self.fix = fix


class Cancelled(RecapError):
    """The user (or quitting) stopped the work; what was done is kept."""

    def __init__(self, message: str = "Cancelled.", fix: str | None = None) -> None:
        super().__init__(message, fix)


class NotFound(RecapError):
    """Something a person named (a meeting id, a history entry) does not exist."""


class InvalidInput(RecapError):
    """What a person typed cannot be used as it is (an empty title, an unknown format)."""


def one_line(exc: BaseException) -> str:
    """The error as one line for a person: its message and, when it has one, the fix."""
    text = str(exc) or f"Something went wrong ({type(exc).__name__}); the log has the details."
    fix = exc.fix if isinstance(exc, RecapError) else ""
    if fix and fix in text:  # some messages already end with their fix
        return text
    return f"{text} {fix}".strip()
