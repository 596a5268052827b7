"""From transcript lines to notes: per-chunk extraction, grounding, merge, summary.

The model reads one chunk at a time; everything after that is code: quotes are checked
against the transcript, due dates resolved against the meeting date, duplicates from the
chunk overlaps merged, and the summary written from the per-chunk notes (never the whole
transcript at once, which would not fit a small model's context).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from app.llm import prompts
from app.llm.chain import Answer, CallContext, NeedsAttention, Prompt, call_structured
from app.llm.chunking import Chunk, Line, chunk_lines, format_clock
from app.llm.dates import resolve_due
from app.llm.due_phrases import date_phrase, find_due
from app.llm.grounding import ChunkIndex, normalise
from app.llm.owners import addressed, answer_to, infer_owner, names_nobody, quoted_sentences
from app.llm.routing import Task
from app.llm.schemas import ChunkExtraction, MeetingSummary

_ANSWER_TOKENS = 1024
_PROMPT_OVERHEAD_TOKENS = 600
_MAX_CHUNK_TOKENS = 3000  # small models extract better from shorter excerpts
_OVERLAP_TOKENS = 200
_DUPLICATE_SCORE = 85.0
log = logging.getLogger(__name__)

_EMPTY_WORDS = {"none", "null", "n/a", "na", "unknown", "nobody", "tbd", "-", "unassigned"}


@dataclass(frozen=True)
class NoteItem:
    text: str
    owner: str
    due_text: str
    due_date: date | None
    quote: str
    quote_start_ms: int | None
    grounded: bool
    source_model: str
    chunk_index: int
    why_unverified: str = ""


@dataclass
class ChunkNotes:
    chunk: Chunk
    items: list[NoteItem] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    model: str = ""
    failure: str = ""  # set when this part could not be read


def chunk_budget(num_ctx: int) -> int:
    return max(256, min(_MAX_CHUNK_TOKENS, num_ctx - _ANSWER_TOKENS - _PROMPT_OVERHEAD_TOKENS))


def split(lines: Sequence[Line], num_ctx: int) -> list[Chunk]:
    return chunk_lines(lines, chunk_budget(num_ctx), _OVERLAP_TOKENS)


def clean(value: str) -> str:
    """Small models write "None" or "null" for nothing; treat those as nothing."""
    text = " ".join(value.split())
    return "" if text.lower().strip(".") in _EMPTY_WORDS else text


def extract_prompt(chunk: Chunk, parts: int) -> Prompt:
    return Prompt(prompts.EXTRACT_SYSTEM, prompts.EXTRACT_SYSTEM_STRICT,
                  prompts.extract_user(chunk.render(), chunk.index + 1, parts),
                  prompts.EXTRACT_VERSION, _ANSWER_TOKENS)


def _line_at(chunk: Chunk, start_ms: int | None) -> int | None:
    """Position in the chunk of the line a grounded quote starts on."""
    return next((n for n, line in enumerate(chunk.lines) if line.start_ms == start_ms), None)


def _said_in(phrase: str, sentences: Sequence[str]) -> bool:
    return fuzz.partial_ratio(normalise(phrase), normalise(" ".join(sentences))) >= 85


def fill_from_line(item: NoteItem, chunk: Chunk, meeting_day: date) -> NoteItem:
    """Owner and due date the model left out, read from the line the item was grounded on.

    Only for grounded items (an unverified quote says nothing about who said it). What the
    model gave is kept unless it names nobody ("we"), or is a deadline the quoted words do not
    say while they say another one.
    """
    at = _line_at(chunk, item.quote_start_ms) if item.grounded else None
    if at is None:
        return item
    owner, rule = item.owner, ""
    guess = infer_owner(chunk.lines, at, item.quote, item.text) if names_nobody(owner) else None
    if guess is not None:
        owner, rule = guess.name, guess.rule
    due_text, due_date = item.due_text, item.due_date
    said = quoted_sentences(chunk.lines[at].text, item.quote)
    on_line = find_due(" ".join(said), meeting_day)
    if due_text and on_line and not _said_in(due_text, said):
        # "Exactly as said" was not: a model wrote "3rd March" for a line saying "by
        # Wednesday". The words on the line win.
        due_text, due_date = on_line
    elif due_text and due_date is None:
        due_date = date_phrase(due_text, meeting_day)
        if due_date is None and (inside := find_due(due_text, meeting_day)):
            due_date = inside[1]
    elif not due_text:
        # The quoted words first; a request's date may come in the answer to it.
        asked = owner if owner and any(addressed(s) == owner for s in said) else ""
        reply = answer_to(chunk.lines, at, asked) if asked else None
        found = on_line or (find_due(reply.text, meeting_day) if reply else None)
        if found:
            due_text, due_date = found
    if (owner, due_text, due_date) == (item.owner, item.due_text, item.due_date):
        return item
    log.debug("filled from the transcript: %r owner %r (%s) due %r", item.text, owner,
              rule or "model", due_text)
    return replace(item, owner=owner, due_text=due_text, due_date=due_date)


def notes_from(chunk: Chunk, answer: ChunkExtraction, model: str, meeting_day: date) -> ChunkNotes:
    index = ChunkIndex(chunk)
    notes = ChunkNotes(chunk=chunk, model=model)
    for raw in answer.action_items:
        text = clean(raw.text)
        if not text:
            continue
        grounding = index.ground(raw.quote, raw.time, text)
        due_text = clean(raw.due)
        item = NoteItem(
            text=text, owner=clean(raw.owner), due_text=due_text,
            due_date=resolve_due(due_text, meeting_day) if due_text else None,
            quote=grounding.quote, quote_start_ms=grounding.start_ms,
            grounded=grounding.grounded, source_model=model, chunk_index=chunk.index,
            why_unverified=grounding.reason,
        )
        notes.items.append(fill_from_line(item, chunk, meeting_day))
    notes.decisions = [d for d in (clean(x) for x in answer.decisions) if d]
    notes.key_points = [p for p in (clean(x) for x in answer.key_points) if p]
    return notes


def extract_all(ctx: CallContext, chunks: Sequence[Chunk], meeting_day: date,
                progress: Callable[[float], None], check_cancel: Callable[[], None],
                done: dict[int, ChunkNotes] | None = None,
                on_chunk: Callable[[ChunkNotes], None] | None = None) -> list[ChunkNotes]:
    """Extract chunk by chunk; a part that cannot be read is noted and the rest go on.

    ``done`` holds parts read by an earlier, interrupted run (they are not asked again);
    ``on_chunk`` sees each part read now. ``BackendUnavailable`` is not caught: the engine went
    away, so the stage waits, keeping what ``on_chunk`` saw.
    """
    results: list[ChunkNotes] = []
    for chunk in chunks:
        check_cancel()
        if done and chunk.index in done:
            results.append(done[chunk.index])
            continue
        try:
            answer: Answer[ChunkExtraction] = call_structured(
                ctx, Task.EXTRACT, extract_prompt(chunk, len(chunks)), ChunkExtraction)
            part = notes_from(chunk, answer.value, answer.model_label, meeting_day)
            if on_chunk is not None:
                on_chunk(part)
        except NeedsAttention as exc:
            part = ChunkNotes(chunk=chunk, failure=exc.reason)
        results.append(part)
        progress(len(results) / len(chunks))
    return results


def chunk_key(chunk: Chunk) -> str:
    """Identifies a chunk across runs: same prompt, same segments, same place."""
    return (f"{prompts.EXTRACT_VERSION}:{chunk.index}:{chunk.lines[0].idx}-"
            f"{chunk.lines[-1].idx}")


def part_to_json(part: ChunkNotes) -> dict[str, Any]:
    return {"model": part.model, "decisions": part.decisions, "key_points": part.key_points,
            "items": [{**asdict(i), "due_date": i.due_date.isoformat() if i.due_date else None}
                      for i in part.items]}


def parts_from_json(saved: dict[str, Any], chunks: Sequence[Chunk]) -> dict[int, ChunkNotes]:
    """Parts an earlier run finished, for the chunks that are still the same."""
    found: dict[int, ChunkNotes] = {}
    for chunk in chunks:
        data = saved.get(chunk_key(chunk))
        if not isinstance(data, dict):
            continue
        items = [NoteItem(**{**i, "due_date": date.fromisoformat(i["due_date"])
                             if i.get("due_date") else None}) for i in data.get("items", [])]
        found[chunk.index] = ChunkNotes(chunk, items, list(data.get("decisions", [])),
                                        list(data.get("key_points", [])), data.get("model", ""))
    return found


def _same_task(a: NoteItem, b: NoteItem) -> bool:
    if a.owner and b.owner and normalise(a.owner) != normalise(b.owner):
        return False
    if a.grounded and b.grounded and a.quote_start_ms == b.quote_start_ms:
        return fuzz.token_set_ratio(normalise(a.text), normalise(b.text)) >= 60
    return fuzz.token_set_ratio(normalise(a.text), normalise(b.text)) >= _DUPLICATE_SCORE


def merge_items(items: Sequence[NoteItem]) -> list[NoteItem]:
    """One item per task: overlapping chunks see the same words twice.

    The grounded copy wins; details missing from it are filled from the duplicate.
    """
    merged: list[NoteItem] = []
    for item in items:
        for position, kept in enumerate(merged):
            if not _same_task(kept, item):
                continue
            best, other = (item, kept) if item.grounded and not kept.grounded else (kept, item)
            merged[position] = replace(
                best, owner=best.owner or other.owner, due_text=best.due_text or other.due_text,
                due_date=best.due_date or other.due_date)
            break
        else:
            merged.append(item)
    return sorted(merged, key=lambda i: (i.quote_start_ms is None, i.quote_start_ms or 0))


def merge_texts(lists: Sequence[Sequence[str]]) -> list[str]:
    merged: list[str] = []
    for text in (t for group in lists for t in group):
        if not any(fuzz.token_set_ratio(normalise(text), normalise(k)) >= _DUPLICATE_SCORE
                   for k in merged):
            merged.append(text)
    return merged


def summary_notes(parts: Sequence[ChunkNotes], tasks: Sequence[NoteItem],
                  max_chars: int) -> str:
    """Per-part key points and decisions, then the merged tasks, trimmed to fit the context."""
    blocks: list[str] = []
    for part in parts:
        if part.failure:
            continue
        lines = [f"Part {part.chunk.index + 1} ({format_clock(part.chunk.start_ms)}-"
                 f"{format_clock(part.chunk.end_ms)}):"]
        lines += [f"- {p}" for p in part.key_points]
        lines += [f"- Decided: {d}" for d in part.decisions]
        blocks.append("\n".join(lines))
    task_lines = "\n".join(f"- Task: {i.text}" + (f" ({i.owner})" if i.owner else "")
                           for i in tasks if i.grounded)
    room = max(0, max_chars - len(task_lines))
    per_block = max(2, room // max(1, len(blocks)))
    return "\n".join([block[:per_block] for block in blocks] + [task_lines]).strip()


def summarise(ctx: CallContext, title: str, parts: Sequence[ChunkNotes],
              tasks: Sequence[NoteItem], num_ctx: int) -> Answer[MeetingSummary]:
    budget_chars = (num_ctx - _ANSWER_TOKENS - _PROMPT_OVERHEAD_TOKENS) * 4
    prompt = Prompt(prompts.SUMMARY_SYSTEM, prompts.SUMMARY_SYSTEM_STRICT,
                    prompts.summary_user(summary_notes(parts, tasks, budget_chars), title),
                    prompts.SUMMARY_VERSION, 600)
    return call_structured(ctx, Task.SUMMARISE, prompt, MeetingSummary)
