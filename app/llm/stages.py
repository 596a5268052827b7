"""The AI stages of the pipeline: notes (action items, summary, decisions) and the email draft.

Both wait (``Outcome.WAITING``) when no local engine is reachable: nothing is lost and the
runner retries them on ``recap resume`` or when the GUI sees Ollama come back. They read in one
short session, call the model with no transaction open, and write in another short session.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.llm import prompts
from app.llm.backend import BackendUnavailable, CallCancelled, LLMBackend
from app.llm.chain import NeedsAttention
from app.llm.chunking import Line
from app.llm.email import ItemLine, compose_body, write_email
from app.llm.notes import (
    ChunkNotes,
    NoteItem,
    chunk_key,
    extract_all,
    merge_items,
    merge_texts,
    part_to_json,
    parts_from_json,
    split,
    summarise,
)
from app.llm.services import LLMServices, services_for
from app.pipeline.stage import Outcome, Stage, StageCancelled, StageContext, StageResult
from app.store.models import ActionItem, EmailDraft, Meeting, Segment, utcnow

if TYPE_CHECKING:
    from app.container import Container

log = logging.getLogger(__name__)

NOTES_PROMPT_VERSION = f"{prompts.EXTRACT_VERSION}+{prompts.SUMMARY_VERSION}"
_SAVED_PARTS = "parts_done"


def _waiting(services: LLMServices) -> tuple[LLMBackend | None, StageResult | None]:
    local, reasons = services.pick_local()
    if local is not None:
        return local, None
    if not reasons:
        return None, StageResult(Outcome.WAITING, "No local model is available.",
                                 "Start Ollama with `ollama serve`.")
    # Every engine tried says why, and each fix is offered: any one of them unblocks it.
    message = "; ".join(r.reason.rstrip(".") for r in reasons) + "."
    fix = " Or: ".join(r.fix for r in reasons if r.fix)
    return None, StageResult(Outcome.WAITING, message, fix)


def _wait_result(exc: BackendUnavailable) -> StageResult:
    return StageResult(Outcome.WAITING, str(exc), exc.fix)


class NotesStage:
    name = "notes"
    label = "Writing notes"

    def run(self, ctx: StageContext) -> StageResult:
        services = services_for(ctx.container)
        local, wait = _waiting(services)
        if wait is not None:
            return wait
        return self._run(ctx, services, local)

    def _run(self, ctx: StageContext, services: LLMServices,
             local: LLMBackend | None) -> StageResult:
        with ctx.container.db.session() as session:
            meeting = session.get_one(Meeting, ctx.meeting_id)
            title, meeting_day = meeting.title, meeting.occurred_at.date()
            lines = [Line(s.idx, s.start_ms, s.end_ms, s.text, s.speaker) for s in session.scalars(
                select(Segment).where(Segment.meeting_id == ctx.meeting_id,
                                      Segment.deleted_at.is_(None)).order_by(Segment.idx))]
        if not any(line.text.strip() for line in lines):
            return StageResult(Outcome.DONE, "No speech in this meeting: no notes to write.")
        num_ctx = services.llm_settings().num_ctx
        chunks = split(lines, num_ctx)
        call = services.call_context(ctx.meeting_id, local, ctx.cancel)
        # Parts read before Ollama went away are kept in the job's detail, not asked again.
        saved: dict[str, Any] = dict(ctx.detail.get(_SAVED_PARTS) or {})

        def keep(part: ChunkNotes) -> None:
            saved[chunk_key(part.chunk)] = part_to_json(part)

        try:
            parts = extract_all(call, chunks, meeting_day, lambda f: ctx.progress(0.9 * f),
                                ctx.check_cancel, parts_from_json(saved, chunks), keep)
            readable = [p for p in parts if not p.failure]
            summary_text, problems = "", [f"part {p.chunk.index + 1}: {p.failure}"
                                          for p in parts if p.failure]
            summary_model = ""
            tasks = merge_items([i for p in parts for i in p.items])
            if readable:
                try:
                    answer = summarise(call, title, readable, tasks, num_ctx)
                    summary_text, summary_model = answer.value.summary.strip(), answer.model_label
                except NeedsAttention as exc:
                    problems.append(f"summary: {exc.reason}")
        except BackendUnavailable as exc:
            waiting = _wait_result(exc)
            waiting.detail[_SAVED_PARTS] = saved
            return waiting
        except CallCancelled:
            raise StageCancelled() from None
        if not readable:
            return StageResult(Outcome.NEEDS_ATTENTION,
                               "No notes could be written: " + parts[0].failure,
                               "Try a larger local model, or allow the cloud fallback.",
                               {"problems": problems})
        detail = _store_notes(ctx.container, ctx.meeting_id, parts, tasks, summary_text,
                              summary_model)
        detail[_SAVED_PARTS] = {}  # stored for good: a rerun reads the meeting afresh
        ctx.progress(1.0)
        if problems:
            return StageResult(Outcome.NEEDS_ATTENTION,
                               "Some notes are missing: " + "; ".join(problems)[:400],
                               "Run `recap resume` to try again; the rest is saved.",
                               {**detail, "problems": problems})
        return StageResult(Outcome.DONE, detail=detail)


def _store_notes(container: Container, meeting_id: str, parts: list[ChunkNotes],
                 items: list[NoteItem], summary: str, summary_model: str) -> dict[str, Any]:
    decisions = merge_texts([p.decisions for p in parts])
    models = sorted({p.model for p in parts if p.model} | ({summary_model} - {""}))
    with container.db.session() as session:
        meeting = session.get_one(Meeting, meeting_id)
        # Replace earlier machine notes, but never an item the user has edited (version > 1).
        for old in session.scalars(select(ActionItem).where(
                ActionItem.meeting_id == meeting_id, ActionItem.deleted_at.is_(None))):
            if old.version == 1 and old.source_model:
                old.deleted_at = utcnow()
        for position, item in enumerate(items):
            session.add(ActionItem(
                meeting_id=meeting_id, position=position, text=item.text, owner=item.owner,
                due_date=item.due_date, due_text=item.due_text, quote=item.quote,
                quote_start_ms=item.quote_start_ms, grounded=item.grounded,
                source_model=item.source_model, prompt_version=prompts.EXTRACT_VERSION))
        if summary:
            meeting.summary = summary
        meeting.decisions = decisions
        meeting.notes_model = ", ".join(models)[:120]
        meeting.notes_prompt_version = NOTES_PROMPT_VERSION
    return {"chunks": len(parts), "items": len(items),
            "unverified": sum(1 for i in items if not i.grounded), "models": models}


class DraftStage:
    name = "draft"
    label = "Drafting the follow-up email"

    def run(self, ctx: StageContext) -> StageResult:
        services = services_for(ctx.container)
        with ctx.container.db.session() as session:
            meeting = session.get_one(Meeting, ctx.meeting_id)
            title, summary, decisions = meeting.title, meeting.summary, list(meeting.decisions)
            items = [ItemLine(a.text, a.owner, a.due_date, a.due_text) for a in session.scalars(
                select(ActionItem).where(ActionItem.meeting_id == ctx.meeting_id,
                                         ActionItem.deleted_at.is_(None),
                                         ActionItem.grounded.is_(True))
                .order_by(ActionItem.position))]
        if not summary and not items and not decisions:
            return StageResult(Outcome.DONE, "No notes yet, so no email was drafted.")
        local, wait = _waiting(services)
        if wait is not None:
            return wait
        call = services.call_context(ctx.meeting_id, local, ctx.cancel)
        recap_text = summary or "; ".join(decisions) or "; ".join(i.text for i in items)
        try:
            answer = write_email(call, title, recap_text)
        except BackendUnavailable as exc:
            return _wait_result(exc)
        except CallCancelled:
            raise StageCancelled() from None
        except NeedsAttention as exc:
            return StageResult(Outcome.NEEDS_ATTENTION, f"No email draft: {exc.reason}", exc.fix)
        body = compose_body(answer.value.opening, decisions, items, answer.value.closing,
                            services.llm_settings().sign_off_name)
        _store_draft(ctx.container, ctx.meeting_id, answer.value.subject.strip(), body,
                     answer.model_label)
        ctx.progress(1.0)
        return StageResult(Outcome.DONE, detail={"model": answer.model_label})


def _store_draft(container: Container, meeting_id: str, subject: str, body: str,
                 model: str) -> None:
    with container.db.session() as session:
        recipients = ""
        for old in session.scalars(select(EmailDraft).where(
                EmailDraft.meeting_id == meeting_id, EmailDraft.deleted_at.is_(None))):
            recipients = recipients or old.recipients
            if old.version == 1:  # untouched machine draft: replace; an edited one stays
                old.deleted_at = utcnow()
        session.add(EmailDraft(meeting_id=meeting_id, subject=subject, body=body,
                               recipients=recipients, source_model=model,
                               prompt_version=prompts.DRAFT_VERSION))


def build_stages(container: Container) -> list[Stage]:
    """What the pipeline runner appends after transcription."""
    return [NotesStage(), DraftStage()]
