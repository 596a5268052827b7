"""The draft stage: a follow-up email from the notes, written by the local model.

Only grounded action items go into it, and recipients are never invented: a draft keeps the
recipients the user typed into an earlier one. An untouched machine draft is replaced; one the
user edited stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.llm import prompts
from app.llm.backend import BackendUnavailable, CallCancelled
from app.llm.chain import NeedsAttention
from app.llm.email import ItemLine, compose_body, write_email
from app.pipeline.local_engine import local_engine, waiting
from app.pipeline.stage import Outcome, StageCancelled, StageContext, StageResult
from app.store.db import Database
from app.store.models import ActionItem, EmailDraft, Meeting, utcnow

if TYPE_CHECKING:
    from app.llm.services import LLMServices  # the AI layer loads when a stage runs


class DraftStage:
    name = "draft"
    label = "Drafting the follow-up email"
    offloads_compute = False

    def __init__(self, db: Database, llm: Callable[[], LLMServices]) -> None:
        self.db = db
        self.llm = llm  # built on first use: the AI layer is slow to load

    def run(self, ctx: StageContext) -> StageResult:
        services = self.llm()
        with self.db.session() as session:
            meeting = session.get_one(Meeting, ctx.meeting_id)
            title, summary, decisions = meeting.title, meeting.summary, list(meeting.decisions)
            items = [ItemLine(a.text, a.owner, a.due_date, a.due_text) for a in session.scalars(
                select(ActionItem).where(ActionItem.meeting_id == ctx.meeting_id,
                                         ActionItem.deleted_at.is_(None),
                                         ActionItem.grounded.is_(True))
                .order_by(ActionItem.position))]
        if not summary and not items and not decisions:
            return StageResult(Outcome.DONE, "No notes yet, so no email was drafted.")
        local, wait = local_engine(services)
        if wait is not None:
            return wait
        call = services.call_context(ctx.meeting_id, local, ctx.cancel)
        recap_text = summary or "; ".join(decisions) or "; ".join(i.text for i in items)
        try:
            answer = write_email(call, title, recap_text)
        except BackendUnavailable as exc:
            return waiting(exc)
        except CallCancelled:
            raise StageCancelled() from None
        except NeedsAttention as exc:
            return StageResult(Outcome.NEEDS_ATTENTION, f"No email draft: {exc.reason}", exc.fix)
        body = compose_body(answer.value.opening, decisions, items, answer.value.closing,
                            services.llm_settings().sign_off_name)
        _store_draft(self.db, ctx.meeting_id, answer.value.subject.strip(), body,
                     answer.model_label)
        ctx.progress(1.0)
        return StageResult(Outcome.DONE, detail={"model": answer.model_label})


def _store_draft(db: Database, meeting_id: str, subject: str, body: str,
                 model: str) -> None:
    with db.session() as session:
        recipients = ""
        for old in session.scalars(select(EmailDraft).where(
                EmailDraft.meeting_id == meeting_id, EmailDraft.deleted_at.is_(None))):
            recipients = recipients or old.recipients
            if old.version == 1:  # untouched machine draft: replace; an edited one stays
                old.deleted_at = utcnow()
        session.add(EmailDraft(meeting_id=meeting_id, subject=subject, body=body,
                               recipients=recipients, source_model=model,
                               prompt_version=prompts.DRAFT_VERSION))
