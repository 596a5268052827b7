"""The notes stage: action items (owner, due date, the quote each came from), the summary and
the decisions, written by the local model (Claude only as an allowed fallback).

It reads the transcript in one short session, calls the model with no transaction open, and
writes in another short session. Parts read before the engine went away are kept in the job's
detail, so a resumed run does not ask for them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.llm import prompts
from app.llm.backend import BackendUnavailable, CallCancelled, LLMBackend
from app.llm.chain import NeedsAttention
from app.llm.chunking import Line
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
from app.pipeline.local_engine import local_engine, waiting
from app.pipeline.stage import Outcome, StageCancelled, StageContext, StageResult
from app.store.db import Database
from app.store.models import ActionItem, Meeting, Segment, utcnow

if TYPE_CHECKING:
    from app.llm.services import LLMServices  # the AI layer loads when a stage runs

log = logging.getLogger(__name__)

NOTES_PROMPT_VERSION = f"{prompts.EXTRACT_VERSION}+{prompts.SUMMARY_VERSION}"
_SAVED_PARTS = "parts_done"


class NotesStage:
    name = "notes"
    label = "Writing notes"
    offloads_compute = False

    def __init__(self, db: Database, llm: Callable[[], LLMServices]) -> None:
        self.db = db
        self.llm = llm  # built on first use: the AI layer is slow to load

    def run(self, ctx: StageContext) -> StageResult:
        services = self.llm()
        local, wait = local_engine(services)
        if wait is not None:
            return wait
        return self._run(ctx, services, local)

    def _run(self, ctx: StageContext, services: LLMServices,
             local: LLMBackend | None) -> StageResult:
        with self.db.session() as session:
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
            result = waiting(exc)
            result.detail[_SAVED_PARTS] = saved
            return result
        except CallCancelled:
            raise StageCancelled() from None
        if not readable:
            return StageResult(Outcome.NEEDS_ATTENTION,
                               "No notes could be written: " + parts[0].failure,
                               "Try a larger local model, or allow the cloud fallback.",
                               {"problems": problems})
        detail = _store_notes(self.db, ctx.meeting_id, parts, tasks, summary_text,
                              summary_model)
        detail[_SAVED_PARTS] = {}  # stored for good: a rerun reads the meeting afresh
        ctx.progress(1.0)
        if problems:
            return StageResult(Outcome.NEEDS_ATTENTION,
                               "Some notes are missing: " + "; ".join(problems)[:400],
                               "Run `recap resume` to try again; the rest is saved.",
                               {**detail, "problems": problems})
        return StageResult(Outcome.DONE, detail=detail)


def _store_notes(db: Database, meeting_id: str, parts: list[ChunkNotes],
                 items: list[NoteItem], summary: str, summary_model: str) -> dict[str, Any]:
    decisions = merge_texts([p.decisions for p in parts])
    models = sorted({p.model for p in parts if p.model} | ({summary_model} - {""}))
    with db.session() as session:
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
