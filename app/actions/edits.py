"""Corrections a person makes to a meeting's notes: a transcript line, an action item (tick,
text, owner, due date, or a new one), the email draft, "keep on this device only".

Each returns what changed; an edit also changes the meeting's sync state, so the list shows it.
"""

from __future__ import annotations

from datetime import date

from app.actions.changes import Changes
from app.store import edits, queries
from app.store.db import Database

UNSET = edits.UNSET  # "leave the due date as it is" (None clears it)


class Edits:
    def __init__(self, db: Database) -> None:
        self.db = db

    def segment_text(self, segment_id: str, text: str) -> Changes:
        return Changes.meeting(queries.update_segment_text(self.db, segment_id, text))

    def action_item(self, item_id: str, *, text: str | None = None, owner: str | None = None,
                    due_date: date | None | object = UNSET,
                    done: bool | None = None) -> Changes:
        meeting_id = edits.update_action_item(self.db, item_id, text=text, owner=owner,
                                              due_date=due_date, done=done)
        return Changes.meeting(meeting_id)

    def add_action_item(self, meeting_id: str, text: str, owner: str = "") -> Changes:
        """An action item the notes missed, typed by the user (so it has no quote)."""
        edits.add_action_item(self.db, meeting_id, text, owner)
        return Changes.meeting(meeting_id)

    def email_draft(self, meeting_id: str, *, subject: str, body: str,
                    recipients: str) -> Changes:
        """Keep the user's version of the follow-up email (a draft is made if there is none)."""
        edits.save_email_draft(self.db, meeting_id, subject=subject, body=body,
                               recipients=recipients)
        return Changes.meeting(meeting_id)

    def keep_on_device(self, meeting_id: str, local_only: bool) -> Changes:
        """"Keep on this device only": sync never sends this meeting."""
        edits.set_local_only(self.db, meeting_id, local_only)
        return Changes.meeting(meeting_id)
