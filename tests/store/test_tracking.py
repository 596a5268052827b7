"""Every local edit bumps the version and marks the row unsynced; bookkeeping does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.store import migrate
from app.store.db import Database
from app.store.models import ActionItem, Meeting, utcnow
from app.store.tracking import remote_apply


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "t.sqlite3", "device-A")
    migrate.upgrade(database.engine, database.path, tmp_path / "b")
    return database


def _meeting(db: Database) -> str:
    with db.session() as s:
        m = Meeting(title="Standup")
        s.add(m)
        s.flush()
        return m.id


def test_new_rows_carry_uuid_utc_times_and_device(db: Database) -> None:
    mid = _meeting(db)
    with db.session() as s:
        m = s.get_one(Meeting, mid)
        assert len(m.id) == 36 and m.version == 1 and m.synced_at is None
        assert m.device_id == "device-A"
        assert m.created_at.tzinfo is not None and m.updated_at.utcoffset().total_seconds() == 0


def test_edit_bumps_version_and_clears_synced_at(db: Database) -> None:
    mid = _meeting(db)
    with db.session() as s:
        s.get_one(Meeting, mid).synced_at = utcnow()  # the server acknowledged version 1
    with db.session() as s:
        m = s.get_one(Meeting, mid)
        assert m.version == 1 and m.synced_at is not None
        m.title = "Standup (Tuesday)"
    with db.session() as s:
        m = s.get_one(Meeting, mid)
        assert m.version == 2 and m.synced_at is None


def test_remote_apply_keeps_the_servers_version(db: Database) -> None:
    mid = _meeting(db)
    with db.session() as s, remote_apply(s):
        m = s.get_one(Meeting, mid)
        m.title = "From the other laptop"
        m.version = 7
        m.device_id = "device-B"
    with db.session() as s:
        m = s.get_one(Meeting, mid)
        assert (m.version, m.device_id, m.title) == (7, "device-B", "From the other laptop")


def test_foreign_keys_are_enforced(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session() as s:
        s.add(ActionItem(meeting_id="no-such-meeting", text="x"))
    with db.session() as s:
        assert s.scalars(select(ActionItem)).all() == []
