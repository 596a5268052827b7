"""Polish the email draft with Claude, on request, as a diff the user accepts or rejects.

Nothing changes until the user accepts; accepting refuses if the draft was edited in the
meantime, so a polish never overwrites words the user typed after asking for it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select

from app.errors import RecapError
from app.llm import prompts
from app.llm.chain import CallContext, Prompt, call_structured
from app.llm.routing import Task
from app.llm.schemas import PolishedEmail
from app.store.db import Database
from app.store.models import EmailDraft


class PolishError(RecapError):
    pass


@dataclass(frozen=True)
class PolishProposal:
    draft_id: str
    draft_version: int  # the version polished; accepting checks it is still current
    old_subject: str
    old_body: str
    new_subject: str
    new_body: str
    model: str

    @property
    def diff(self) -> str:
        old = [f"Subject: {self.old_subject}", ""] + self.old_body.splitlines()
        new = [f"Subject: {self.new_subject}", ""] + self.new_body.splitlines()
        return "\n".join(difflib.unified_diff(old, new, "draft", "polished", lineterm=""))

    @property
    def changed(self) -> bool:
        return (self.old_subject, self.old_body) != (self.new_subject, self.new_body)


def latest_draft(db: Database, meeting_id: str) -> EmailDraft | None:
    with db.session() as session:
        return session.scalars(
            select(EmailDraft).where(EmailDraft.meeting_id == meeting_id,
                                     EmailDraft.deleted_at.is_(None))
            .order_by(EmailDraft.created_at.desc())
        ).first()


def propose(ctx: CallContext, db: Database, meeting_id: str) -> PolishProposal:
    draft = latest_draft(db, meeting_id)
    if draft is None:
        raise PolishError("This meeting has no email draft yet.",
                          "Run `recap resume` once the notes are done.")
    prompt = Prompt(prompts.POLISH_SYSTEM, prompts.POLISH_SYSTEM,
                    prompts.polish_user(draft.subject, draft.body), prompts.POLISH_VERSION,
                    2048)
    answer = call_structured(ctx, Task.POLISH, prompt, PolishedEmail)
    return PolishProposal(draft.id, draft.version, draft.subject, draft.body,
                          answer.value.subject.strip(), answer.value.body.strip(),
                          answer.model_label)


def accept(db: Database, proposal: PolishProposal) -> None:
    with db.session() as session:
        draft = session.get(EmailDraft, proposal.draft_id)
        if draft is None or draft.deleted_at is not None:
            raise PolishError("The draft no longer exists.")
        if draft.version != proposal.draft_version:
            raise PolishError("The draft was edited after the polish was asked for.",
                              "Polish it again to include your edits.")
        draft.subject = proposal.new_subject
        draft.body = proposal.new_body
        draft.source_model = proposal.model
        draft.prompt_version = prompts.POLISH_VERSION
