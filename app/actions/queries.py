"""What the views and the CLI read: the meeting list, search, one meeting in full, the facts of
its processing. Plain, detached dataclasses (safe to hand to the GUI thread or to print)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from app.store import meeting_facts, queries
from app.store.db import Database
from app.store.meeting_facts import LedgerSummary, MeetingFacts, StageTiming
from app.store.queries import (
    ActionItemView,
    EmailView,
    JobView,
    MeetingDetail,
    MeetingRow,
    SearchHit,
    SegmentView,
)

# What the faces are handed (plain, detached dataclasses): they name these types from here.
__all__ = ["ActionItemView", "DatabaseHealth", "EmailView", "JobView", "LedgerSummary",
           "Listing", "MeetingDetail", "MeetingFacts", "MeetingRow", "Queries", "SearchHit",
           "SegmentView", "StageTiming"]


@dataclass(frozen=True)
class Listing:
    rows: list[MeetingRow]
    any_meeting: bool  # False only on a first run: nothing at all yet, no filter hiding it


@dataclass(frozen=True)
class DatabaseHealth:
    path: Path
    meetings: int
    problem: str  # "" when SQLite's quick check finds nothing wrong


class Queries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def meetings(self, *, status: str | None = None) -> list[MeetingRow]:
        return queries.list_meetings(self.db, status=status)

    def listing(self, *, text: str = "", status: str | None = None) -> Listing:
        """The list as the window shows it: filtered by state, then by a full-text search."""
        rows = queries.list_meetings(self.db, status=status)
        if text:
            wanted = set(queries.search_meeting_ids(self.db, text))
            rows = [r for r in rows if r.id in wanted]
        any_meeting = bool(rows) or bool(text) or status is not None or bool(
            queries.list_meetings(self.db, limit=1))
        return Listing(rows, any_meeting)

    def search(self, text: str) -> list[SearchHit]:
        return queries.search(self.db, text)

    def detail(self, meeting_id: str) -> MeetingDetail:
        """The meeting in full (``meeting_id`` may be its first characters)."""
        return queries.meeting_detail(self.db, meeting_id)

    def facts(self, meeting_id: str) -> MeetingFacts:
        """How long each stage took, what its AI calls cost."""
        return meeting_facts.meeting_facts(self.db, meeting_id)

    def health(self) -> DatabaseHealth:
        """SQLite's own quick check of the file, and how many meetings it holds."""
        with self.db.session() as s:
            result = s.execute(text("PRAGMA quick_check")).scalar()
            count = s.execute(text("SELECT count(*) FROM meetings WHERE deleted_at IS NULL"))
            meetings = int(count.scalar() or 0)
        return DatabaseHealth(self.db.path, meetings, "" if result == "ok" else str(result))

    def resolve(self, meeting_id: str) -> str:
        """The full id of a meeting named by its first characters."""
        return queries.resolve_id(self.db, meeting_id)
