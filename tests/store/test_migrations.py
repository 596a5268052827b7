"""Alembic: one linear chain, models match the migrations, upgrades keep data and back up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from app.store import migrate
from app.store.db import Database
from app.store.models import Base


def test_revision_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    revisions = list(script.walk_revisions())
    bases = [r for r in revisions if r.down_revision is None]
    assert len(bases) == 1
    for rev in revisions:
        assert not isinstance(rev.down_revision, tuple | list), f"merge point at {rev.revision}"
    assert len({r.revision for r in revisions}) == len(revisions)


def test_models_match_migrations(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite3", "dev")
    migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # FTS shadow tables are ours, created by raw SQL; anything else is drift.
    drift = [d for d in diff if not (d[0] == "remove_table" and "_fts" in d[1].name)]
    assert drift == [], f"models and migrations disagree: {drift}"


def test_upgrade_from_first_revision_keeps_data_and_indexes_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, path, tmp_path / "backups", target="0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO meetings (id, title, occurred_at, source_path, source_sha256, language,"
            " status, error, summary, decisions, transcript_model, notes_model,"
            " notes_prompt_version, local_only, created_at, updated_at, version, device_id)"
            " VALUES ('m1', 'Quarterly planning', '2026-01-05 10:00:00', '', '', 'en', 'ready',"
            " '', 'We agreed on the hiring plan', '[]', '', '', '', 0, '2026-01-05 10:00:00',"
            " '2026-01-05 10:00:00', 3, 'old-device')")
        conn.exec_driver_sql(
            "INSERT INTO segments (id, meeting_id, idx, start_ms, end_ms, text, speaker,"
            " created_at, updated_at, version, device_id) VALUES ('s1', 'm1', 0, 0, 1500,"
            " 'the warehouse lease renews in March', '', '2026-01-05 10:00:00',"
            " '2026-01-05 10:00:00', 1, 'old-device')")
    engine.dispose()

    db = Database(path, "new-device")
    backup = migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    assert backup is not None and backup.exists()
    with sqlite3.connect(backup) as conn:  # the backup is the database as it was
        assert conn.execute("SELECT title FROM meetings").fetchone() == ("Quarterly planning",)

    from app.store.queries import meeting_detail, search

    detail = meeting_detail(db, "m1")
    assert detail.row.title == "Quarterly planning"
    assert detail.segments[0].text == "the warehouse lease renews in March"
    assert [h.meeting_id for h in search(db, "warehouse lease")] == ["m1"]
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    # Already at head: nothing to do, no new backup.
    assert migrate.upgrade(db.engine, db.path, tmp_path / "backups") is None
