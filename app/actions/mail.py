"""The follow-up email: read it, address it (recipients only ever come from the user), and
polish it with Claude, shown as a proposal the user accepts or not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.actions.changes import Changes
from app.errors import RecapError
from app.llm import polish
from app.llm.email import mailto_url, parse_recipients
from app.llm.polish import PolishProposal
from app.llm.services import LLMServices
from app.settings import Settings
from app.store import edits
from app.store.db import Database
from app.store.queries import EmailView


class NoDraft(RecapError):
    def __init__(self) -> None:
        super().__init__("This meeting has no email draft yet.", "Run `recap resume` to finish it.")


@dataclass(frozen=True)
class Addressed:
    draft: EmailView
    recipients: list[str]
    mailto: str  # opens a new message in the mail app; nothing is sent from Recap
    changes: Changes


class Mail:
    def __init__(self, db: Database, llm: Callable[[], LLMServices],
                 settings: Callable[[], Settings], api_key: Callable[[], str | None]) -> None:
        self.db = db
        self.llm = llm  # built on first use: the AI layer is slow to load
        self.settings = settings
        self.api_key = api_key

    def draft(self, meeting_id: str) -> EmailView | None:
        draft = polish.latest_draft(self.db, meeting_id)
        if draft is None:
            return None
        return EmailView(draft.id, draft.subject, draft.body, draft.recipients,
                         draft.source_model)

    def address(self, meeting_id: str, recipients: str | None = None) -> Addressed:
        """The draft with its recipients: ``recipients`` (comma separated) replaces those kept
        with the draft; an address that is not one is refused (``BadRecipients``)."""
        draft = self.draft(meeting_id)
        if draft is None:
            raise NoDraft()
        chosen = parse_recipients(recipients if recipients is not None else draft.recipients)
        changes = Changes()
        if recipients is not None:
            edits.set_email_recipients(self.db, draft.id, ", ".join(chosen))
            changes = Changes.meeting(meeting_id)
        return Addressed(draft, chosen, mailto_url(chosen, draft.subject, draft.body), changes)

    # -- polishing with Claude -----------------------------------------------------------
    def polish_unavailable(self) -> str:
        """Why polishing cannot run now ("" when it can). Reads the keychain: may block."""
        settings = self.settings()
        if settings.privacy_mode:
            return "Privacy mode is on: nothing is sent to Claude."
        if not settings.llm.cloud_allowed:
            return "Allow Claude in Settings › Cloud to polish emails."
        if not self.api_key():
            return "Add a Claude API key in Settings › Cloud."
        return ""

    def propose_polish(self, meeting_id: str, *, edited: tuple[str, str, str] | None = None
                       ) -> PolishProposal:
        """Claude's version of the draft, changing nothing yet. ``edited`` (subject, body,
        recipients), what the user has in front of them, is saved first, so it is what gets
        polished."""
        if edited is not None:
            subject, body, recipients = edited
            edits.save_email_draft(self.db, meeting_id, subject=subject, body=body,
                                   recipients=recipients)
        return polish.propose(self.llm().call_context(meeting_id, None), self.db, meeting_id)

    def accept_polish(self, proposal: PolishProposal, meeting_id: str) -> Changes:
        """Replace the draft with the polished one, unless it was edited meanwhile."""
        polish.accept(self.db, proposal)
        return Changes.meeting(meeting_id, draft_replaced=True)
