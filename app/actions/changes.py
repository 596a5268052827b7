"""What a use case changed, so that each view can tell whether it must show something new.

Modelled on Anki's ``OpChanges``: a use case returns one of these, the window announces it once
(one "changed" signal), and every view looks at it and decides for itself: the list reloads
when ``listing`` is set, the open meeting when it is among ``meetings`` and ``detail`` is set.
Light: imports nothing of Recap's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    meetings: frozenset[str] = frozenset()  # the meetings touched
    listing: bool = False  # the meeting list: a row added, gone, renamed, a new state or sync
    detail: bool = False  # what a meeting's page shows: transcript, notes, email, its facts
    draft_replaced: bool = False  # the email draft's text was replaced by someone else
    settings: bool = False  # the user's settings (and what depends on them)

    @classmethod
    def meeting(cls, meeting_id: str, *, listing: bool = True, detail: bool = True,
                draft_replaced: bool = False) -> Changes:
        return cls(frozenset({meeting_id}), listing, detail, draft_replaced)

    @property
    def meeting_id(self) -> str:
        """The one meeting touched ("" when none or several)."""
        return next(iter(self.meetings)) if len(self.meetings) == 1 else ""

    def touches(self, meeting_id: str) -> bool:
        return meeting_id in self.meetings

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.meetings | other.meetings, self.listing or other.listing,
                       self.detail or other.detail, self.draft_replaced or other.draft_replaced,
                       self.settings or other.settings)


NOTHING = Changes()
SETTINGS = Changes(settings=True)
