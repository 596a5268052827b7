"""The use cases: what a person can do with Recap, written once, called by both faces.

The CLI (app/cli) and the window (app/ui) do nothing to the core themselves: they call these.
Each group is built by the container with exactly what it needs; a use case that changes
something returns a ``Changes`` (app/actions/changes.py), which the window announces once so
every view can decide whether to refresh. A new use case is a method here (or a new group,
plus its line in the container and in ``UseCases``); both faces then call it.

This module is light: the groups' modules load when the container first builds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from app.actions.changes import NOTHING, SETTINGS, Changes

if TYPE_CHECKING:
    from app.actions.edits import Edits
    from app.actions.local_ai import LocalAI
    from app.actions.mail import Mail
    from app.actions.meetings import Meetings
    from app.actions.queries import Queries
    from app.actions.recordings import Recordings
    from app.actions.sync import Sync

__all__ = ["NOTHING", "SETTINGS", "Changes", "UseCases"]


class UseCases(Protocol):
    """Every group of use cases (the container provides them, each built on first use)."""

    @property
    def meetings(self) -> Meetings: ...

    @property
    def edits(self) -> Edits: ...

    @property
    def mail(self) -> Mail: ...

    @property
    def queries(self) -> Queries: ...

    @property
    def sync(self) -> Sync: ...

    @property
    def local_ai(self) -> LocalAI: ...

    @property
    def recordings(self) -> Recordings: ...
