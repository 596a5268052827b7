"""Edits a person makes to a meeting's notes (the GUI's checklist and email draft).

Kept beside ``queries`` and written the same way: short sessions, plain arguments, the version
bump left to ``app.store.tracking``. Only fields that actually change are assigned, so saving an
unchanged form never bumps a version (and never makes sync push a row for nothing).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.errors import InvalidInput
from app.store.db import Database
from app.store.models import ActionItem, EmailDraft, Meeting

UNSET = object()  # "leave it as it is" (None is a value: no due date)


def update_action_item(db: Database, item_id: str, *, text: str | None = None,
                       owner: str | None = None, due_date: date | None | object = UNSET,
                       done: bool | None = None) -> str:
    """Change what the user edited; ``due_date=None`` clears the date. Returns the meeting id."""
    with db.session() as s:
        item = s.get_one(ActionItem, item_id)
        if text is not None and text.strip() != item.text:
            if not text.strip():
                raise InvalidInput("An action item needs some text.")
            item.text = text.strip()
        if owner is not None and owner.strip() != item.owner:
            item.owner = owner.strip()[:120]
        if due_date is not UNSET and due_date != item.due_date:
            item.due_date = due_date  # type: ignore[assignment]
        if done is not None and done != item.done:
            item.done = done
        return item.meeting_id


def add_action_item(db: Database, meeting_id: str, text: str, owner: str = "") -> str:
    """An action item the model missed, typed by the user (so it has no quote)."""
    if not text.strip():
        raise InvalidInput("An action item needs some text.")
    with db.session() as s:
        last = s.scalar(select(func.max(ActionItem.position))
                        .where(ActionItem.meeting_id == meeting_id)) or 0
        item = ActionItem(meeting_id=meeting_id, position=last + 1, text=text.strip(),
                          owner=owner.strip()[:120], grounded=False, source_model="you")
        s.add(item)
        s.flush()
        return item.id


def save_email_draft(db: Database, meeting_id: str, *, subject: str, body: str,
                     recipients: str) -> str:
    """Save the user's version of the follow-up email (creating the draft if there is none)."""
    with db.session() as s:
        draft = s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == meeting_id,
                                                   EmailDraft.deleted_at.is_(None))
                          .order_by(EmailDraft.updated_at.desc())).first()
        if draft is None:
            draft = EmailDraft(meeting_id=meeting_id, source_model="you")
            s.add(draft)
        for name, value in (("subject", subject), ("body", body), ("recipients", recipients)):
            if getattr(draft, name) != value:
                setattr(draft, name, value)
        s.flush()
        return draft.id


def set_email_recipients(db: Database, draft_id: str, recipients: str) -> None:
    """Who the draft is for (only ever typed by the user)."""
    with db.session() as s:
        draft = s.get_one(EmailDraft, draft_id)
        if draft.recipients != recipients:
            draft.recipients = recipients


def set_local_only(db: Database, meeting_id: str, local_only: bool) -> None:
    """"Keep on this device only": sync never sends this meeting."""
    with db.session() as s:
        meeting = s.get_one(Meeting, meeting_id)
        if meeting.local_only != local_only:
            meeting.local_only = local_only
