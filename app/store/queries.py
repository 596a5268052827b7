"""Read and edit meetings: the few operations both faces (CLI and GUI) need.

Returned objects are plain dataclasses, detached from any session, safe to hand to another
thread (the GUI) or to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.store.db import Database
from app.store.models import (
    ActionItem,
    EmailDraft,
    Job,
    LLMCall,
    Meeting,
    Segment,
    SyncedMixin,
    utcnow,
)
from app.store.tracking import soft_delete


class MeetingNotFound(NotFound):
    fix = "List meetings with `recap list`."

    def __init__(self, meeting_id: str) -> None:
        super().__init__(f"No meeting with id {meeting_id}.")


@dataclass(frozen=True)
class MeetingRow:
    id: str
    title: str
    occurred_at: datetime
    duration_s: float | None
    status: str
    error: str
    synced: bool
    local_only: bool


@dataclass(frozen=True)
class SegmentView:
    id: str
    idx: int
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class ActionItemView:
    id: str
    text: str
    owner: str
    due_date: date | None
    due_text: str
    quote: str
    quote_start_ms: int | None
    grounded: bool
    done: bool
    source_model: str


@dataclass(frozen=True)
class EmailView:
    id: str
    subject: str
    body: str
    recipients: str
    source_model: str


@dataclass(frozen=True)
class JobView:
    stage: str
    state: str
    progress: float
    error: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class MeetingDetail:
    row: MeetingRow
    source_path: str
    language: str
    transcript_model: str
    notes_model: str
    summary: str
    decisions: list[str]
    segments: list[SegmentView] = field(default_factory=list)
    action_items: list[ActionItemView] = field(default_factory=list)
    email: EmailView | None = None
    jobs: list[JobView] = field(default_factory=list)
    llm_calls: int = 0

    @property
    def transcript(self) -> str:
        return "\n".join(s.text for s in self.segments)

    @property
    def notes(self) -> list[str]:
        """What the stages left for the user to know about this meeting's processing on this
        device (e.g. that the audio file ends early), in stage order."""
        return [str(j.detail["note"]) for j in self.jobs if j.detail.get("note")]


def _row(m: Meeting) -> MeetingRow:
    return MeetingRow(m.id, m.title, m.occurred_at, m.duration_s, m.status, m.error,
                      m.synced_at is not None, m.local_only)


def _live_meeting(s: Session, meeting_id: str) -> Meeting:
    meeting = s.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None:
        # Let people use the first characters of an id, as with git.
        matches = list(s.scalars(select(Meeting).where(Meeting.id.startswith(meeting_id),
                                                       Meeting.deleted_at.is_(None))).all())
        if len(meeting_id) >= 4 and len(matches) == 1:
            return matches[0]
        raise MeetingNotFound(meeting_id)
    return meeting


def _children(s: Session, meeting_id: str) -> list[SyncedMixin]:
    rows: list[SyncedMixin] = []
    rows += s.scalars(select(Segment).where(Segment.meeting_id == meeting_id))
    rows += s.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting_id))
    rows += s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == meeting_id))
    return rows


def resolve_id(db: Database, meeting_id: str) -> str:
    with db.session() as s:
        return _live_meeting(s, meeting_id).id


def list_meetings(db: Database, *, status: str | None = None, limit: int = 500) -> list[MeetingRow]:
    with db.session() as s:
        q = select(Meeting).where(Meeting.deleted_at.is_(None))
        if status:
            q = q.where(Meeting.status == status)
        q = q.order_by(Meeting.occurred_at.desc(), Meeting.created_at.desc()).limit(limit)
        return [_row(m) for m in s.scalars(q)]


def meeting_detail(db: Database, meeting_id: str) -> MeetingDetail:
    with db.session() as s:
        m = _live_meeting(s, meeting_id)
        segments = [SegmentView(x.id, x.idx, x.start_ms, x.end_ms, x.text)
                    for x in s.scalars(select(Segment).where(Segment.meeting_id == m.id,
                                                             Segment.deleted_at.is_(None))
                                       .order_by(Segment.idx))]
        items = [ActionItemView(a.id, a.text, a.owner, a.due_date, a.due_text, a.quote,
                                a.quote_start_ms, a.grounded, a.done, a.source_model)
                 for a in s.scalars(select(ActionItem).where(ActionItem.meeting_id == m.id,
                                                             ActionItem.deleted_at.is_(None))
                                    .order_by(ActionItem.position))]
        draft = s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == m.id,
                                                   EmailDraft.deleted_at.is_(None))
                          .order_by(EmailDraft.updated_at.desc())).first()
        email = (EmailView(draft.id, draft.subject, draft.body, draft.recipients,
                           draft.source_model) if draft else None)
        jobs = [JobView(j.stage, j.state, j.progress, j.error, dict(j.detail))
                for j in s.scalars(select(Job).where(Job.meeting_id == m.id)
                                   .order_by(Job.position))]
        calls = s.scalar(select(func.count()).select_from(LLMCall)
                         .where(LLMCall.meeting_id == m.id)) or 0
        return MeetingDetail(_row(m), m.source_path, m.language, m.transcript_model,
                             m.notes_model, m.summary, [str(d) for d in m.decisions or []],
                             segments, items, email, jobs, calls)


def rename_meeting(db: Database, meeting_id: str, title: str) -> str:
    """Rename a meeting (``meeting_id`` may be the first characters); returns its full id."""
    title = title.strip()
    if not title:
        raise InvalidInput("A meeting needs a title.")
    with db.session() as s:
        meeting = _live_meeting(s, meeting_id)
        meeting.title = title[:300]
        return meeting.id


def delete_meeting(db: Database, meeting_id: str) -> str:
    """Tombstone a meeting and everything in it (so other devices learn of the delete)."""
    with db.session() as s:
        m = _live_meeting(s, meeting_id)
        when = utcnow()  # one stamp for all, so undo brings back exactly these rows
        for row in _children(s, m.id):
            if row.deleted_at is None:
                soft_delete(row, when)
        soft_delete(m, when)
        return m.id


def restore_meeting(db: Database, meeting_id: str) -> None:
    """Undo a delete: bring back the meeting and the rows deleted with it."""
    with db.session() as s:
        m = s.get(Meeting, meeting_id)
        if m is None or m.deleted_at is None:
            return
        for row in _children(s, m.id):
            if row.deleted_at == m.deleted_at:
                row.deleted_at = None
        m.deleted_at = None


def update_segment_text(db: Database, segment_id: str, new_text: str) -> str:
    """Correct a transcript line; returns the id of its meeting."""
    with db.session() as s:
        seg = s.get_one(Segment, segment_id)
        seg.text = new_text
        return seg.meeting_id


@dataclass(frozen=True)
class SearchHit:
    meeting_id: str
    meeting_title: str
    kind: str  # meeting | segment | action_item
    ref_id: str
    snippet: str
    start_ms: int | None


_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(user_text: str) -> str:
    """Turn what a person typed into a safe FTS5 query: all words, the last one as a prefix."""
    words = _TOKEN.findall(user_text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " AND ".join(quoted)


def search(db: Database, user_text: str, *, limit: int = 50) -> list[SearchHit]:
    query = fts_query(user_text)
    if not query:
        return []
    sql = text("""
        SELECT m.id, m.title, 'meeting' AS kind, m.id AS ref,
               snippet(meetings_fts, -1, '[', ']', '…', 12) AS snip, NULL AS start_ms,
               bm25(meetings_fts) AS rank
        FROM meetings_fts JOIN meetings m ON m.rowid = meetings_fts.rowid
        WHERE meetings_fts MATCH :q AND m.deleted_at IS NULL
        UNION ALL
        SELECT m.id, m.title, 'segment', s.id, snippet(segments_fts, 0, '[', ']', '…', 12),
               s.start_ms, bm25(segments_fts)
        FROM segments_fts JOIN segments s ON s.rowid = segments_fts.rowid
        JOIN meetings m ON m.id = s.meeting_id
        WHERE segments_fts MATCH :q AND m.deleted_at IS NULL
        UNION ALL
        SELECT m.id, m.title, 'action_item', a.id,
               snippet(action_items_fts, -1, '[', ']', '…', 12), a.quote_start_ms,
               bm25(action_items_fts)
        FROM action_items_fts JOIN action_items a ON a.rowid = action_items_fts.rowid
        JOIN meetings m ON m.id = a.meeting_id
        WHERE action_items_fts MATCH :q AND m.deleted_at IS NULL
        ORDER BY rank LIMIT :limit
    """)
    with db.session() as s:
        rows = s.execute(sql, {"q": query, "limit": limit}).all()
    return [SearchHit(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def search_meeting_ids(db: Database, user_text: str) -> list[str]:
    """Meetings matching a search, best first, each once (for filtering a list)."""
    seen: dict[str, None] = {}
    for hit in search(db, user_text, limit=1000):
        seen.setdefault(hit.meeting_id, None)
    return list(seen)
