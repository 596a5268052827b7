"""Full-text search follows edits and deletes, across titles, transcripts and action items."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import migrate, queries
from app.store.db import Database
from app.store.models import ActionItem, Meeting, Segment


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "s.sqlite3", "dev")
    migrate.upgrade(database.engine, database.path, tmp_path / "b")
    return database


def _add(db: Database, title: str, lines: list[str], items: list[str] = ()) -> str:  # type: ignore[assignment]
    with db.session() as s:
        m = Meeting(title=title, summary=f"Summary of {title}")
        s.add(m)
        s.flush()
        for i, line in enumerate(lines):
            s.add(Segment(meeting_id=m.id, idx=i, start_ms=i * 5000, end_ms=i * 5000 + 4000,
                          text=line))
        for item in items:
            s.add(ActionItem(meeting_id=m.id, text=item, owner="Dana"))
        return m.id


def test_finds_words_in_transcripts_titles_and_action_items(db: Database) -> None:
    a = _add(db, "Budget review", ["the marketing budget is over by ten percent"],
             ["Send the revised forecast"])
    b = _add(db, "Hiring sync", ["we interview two backend engineers next week"])
    hits = queries.search(db, "marketing budget")
    assert hits[0].meeting_id == a and hits[0].kind == "segment" and hits[0].start_ms == 0
    assert "[marketing]" in hits[0].snippet
    assert {h.meeting_id for h in queries.search(db, "hiring")} == {b}
    assert {h.kind for h in queries.search(db, "forecast")} == {"action_item"}
    assert queries.search_meeting_ids(db, "interv") == [b]  # prefix of the last word


def test_edits_and_deletes_update_the_index(db: Database) -> None:
    a = _add(db, "Design crit", ["the logo needs more contrast"])
    seg = queries.meeting_detail(db, a).segments[0]
    queries.update_segment_text(db, seg.id, "the palette needs more contrast")
    assert queries.search(db, "logo") == []
    assert queries.search_meeting_ids(db, "palette") == [a]
    queries.delete_meeting(db, a)
    assert queries.search(db, "palette") == []
    assert queries.list_meetings(db) == []
    queries.restore_meeting(db, a)
    assert queries.search_meeting_ids(db, "palette") == [a]


def test_odd_user_input_is_not_a_syntax_error(db: Database) -> None:
    _add(db, "Ops", ["deploy on friday"])
    for text in ['"unbalanced', "NEAR(", "a AND OR", "*", "deploy)"]:
        queries.search(db, text)  # must not raise
    assert queries.search(db, "   ") == []
