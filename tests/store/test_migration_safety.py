"""Upgrades are all or nothing, keep child rows through table rebuilds, and run one at a time.

Each test builds a real database at the current head with a meeting that has children
(segments, an action item), then adds a test-only revision on top and upgrades, as a newer
Recap would at start-up.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.store import migrate
from app.store.db import Database
from tests.store.migration_scripts import scripts_with

REPO = Path(__file__).resolve().parents[2]


def seeded_database(folder: Path) -> Path:
    """A database at the real head holding one meeting with two segments and an action item."""
    path = folder / "recap.sqlite3"
    db = Database(path, "dev")
    migrate.upgrade(db.engine, path, folder / "backups")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO meetings (id, title, occurred_at, source_path, source_sha256, language,"
            " status, error, summary, decisions, transcript_model, notes_model,"
            " notes_prompt_version, local_only, created_at, updated_at, version, device_id)"
            " VALUES ('m1', 'Quarterly planning', '2026-01-05 10:00:00', '', '', 'en', 'ready',"
            " '', 'We agreed on the hiring plan', '[]', '', '', '', 0, '2026-01-05 10:00:00',"
            " '2026-01-05 10:00:00', 1, 'dev')")
        for i, text in enumerate(["the lease renews in March", "Dana sends the budget"]):
            conn.exec_driver_sql(
                "INSERT INTO segments (id, meeting_id, idx, start_ms, end_ms, text, speaker,"
                " created_at, updated_at, version, device_id) VALUES"
                f" ('s{i}', 'm1', {i}, {i * 1000}, {i * 1000 + 900}, '{text}', '',"
                " '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1, 'dev')")
        conn.exec_driver_sql(
            "INSERT INTO action_items (id, meeting_id, position, text, owner, due_text, quote,"
            " grounded, done, source_model, prompt_version, created_at, updated_at, version,"
            " device_id) VALUES ('a1', 'm1', 0, 'Send the budget', 'Dana', '', '', 1, 0, '',"
            " '', '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1, 'dev')")
    db.dispose()
    return path


def snapshot(path: Path) -> tuple[list[tuple[str, ...]], list[tuple[object, ...]]]:
    """The schema (every table, index, trigger) and the rows the user cares about."""
    with sqlite3.connect(path) as conn:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        rows = conn.execute(
            "SELECT 'segment', id, text FROM segments UNION ALL "
            "SELECT 'item', id, text FROM action_items UNION ALL "
            "SELECT 'meeting', id, title FROM meetings ORDER BY 1, 2").fetchall()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    conn.close()
    return schema + revision, rows


def upgrade_with(scripts: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path | None:
    monkeypatch.setattr(migrate, "migrations_path", lambda: scripts)
    db = Database(path, "dev")
    try:
        return migrate.upgrade(db.engine, path, path.parent / "backups")
    finally:
        db.dispose()


def test_a_failing_migration_leaves_no_trace_and_the_next_start_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = seeded_database(tmp_path)
    before = snapshot(path)
    broken = scripts_with(tmp_path / "broken", """
        op.create_table("reminders", sa.Column("id", sa.String(36), primary_key=True))
        with op.batch_alter_table("meetings") as batch:
            batch.add_column(sa.Column("mood", sa.String(20), nullable=True))
        op.execute("UPDATE meetings SET title = 'half-migrated'")
        raise RuntimeError("simulated bug in a migration")
    """)

    with pytest.raises(Exception) as failed:  # noqa: B017 (the state after is the point)
        upgrade_with(broken, path, monkeypatch)

    assert snapshot(path) == before  # no new table, no new column, no changed title
    assert isinstance(failed.value, migrate.MigrationFailed)  # one line for people, a fix
    assert "left as it was" in str(failed.value) and failed.value.fix
    # The fixed release upgrades the same database normally.
    fixed = scripts_with(tmp_path / "fixed", """
        op.create_table("reminders", sa.Column("id", sa.String(36), primary_key=True))
        with op.batch_alter_table("meetings") as batch:
            batch.add_column(sa.Column("mood", sa.String(20), nullable=True))
    """)
    assert upgrade_with(fixed, path, monkeypatch) is not None
    assert snapshot(path)[1] == before[1]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("9999",)
        assert conn.execute("SELECT mood FROM meetings").fetchall() == [(None,)]
    conn.close()


def test_rebuilding_a_parent_table_keeps_its_children(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch mode copies `meetings` into a new table and drops the old one: with foreign keys
    on, that drop cascaded into deleting every segment and action item."""
    path = seeded_database(tmp_path)
    rows_before = snapshot(path)[1]
    # As a careful rebuild does: set the search-index triggers aside (batch mode would drop
    # those on `meetings` with the table) and put them back afterwards.
    rebuild = scripts_with(tmp_path / "rebuild", """
        triggers = op.get_bind().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            op.execute(f"DROP TRIGGER {name}")
        with op.batch_alter_table("meetings", recreate="always") as batch:
            batch.add_column(sa.Column("mood", sa.String(20), nullable=False,
                                       server_default=""))
        for _, sql in triggers:
            op.execute(sql)
    """)

    upgrade_with(rebuild, path, monkeypatch)

    assert snapshot(path)[1] == rows_before
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_a_migration_that_orphans_rows_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = seeded_database(tmp_path)
    before = snapshot(path)
    orphaning = scripts_with(tmp_path / "orphans", """
        op.execute("DELETE FROM meetings WHERE id = 'm1'")
    """)

    try:
        upgrade_with(orphaning, path, monkeypatch)
    except Exception as exc:
        assert "pointing at rows" in str(exc)
    else:
        pytest.fail("an upgrade that leaves segments without their meeting was committed")
    assert snapshot(path) == before


def test_a_migration_that_commits_half_way_is_undone_from_the_backup(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a migration that ends the transaction itself cannot leave half a schema behind."""
    path = seeded_database(tmp_path)
    before = snapshot(path)
    sneaky = scripts_with(tmp_path / "sneaky", """
        op.create_table("reminders", sa.Column("id", sa.String(36), primary_key=True))
        op.get_bind().exec_driver_sql("COMMIT")
        op.drop_table("action_items")
        raise RuntimeError("simulated bug after an early commit")
    """)

    with pytest.raises(Exception):  # noqa: B017 (the state after is the point)
        upgrade_with(sneaky, path, monkeypatch)

    assert snapshot(path) == before


def _child(scripts: Path, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.store.migration_scripts",
                             str(scripts), str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _wait_for(marker: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert time.monotonic() < deadline, f"{marker.name} never appeared"
        time.sleep(0.02)


SLOW = """
    op.create_table("reminders", sa.Column("id", sa.String(36), primary_key=True))
    op.add_column("meetings", sa.Column("mood", sa.String(20), nullable=True))
    open(os.environ["MIGRATION_MARKER"], "a").write("half-way\\n")
    time.sleep(float(os.environ.get("MIGRATION_SLEEP", "3")))
"""


def test_killed_mid_migration_the_database_is_as_before(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    before = snapshot(path)
    scripts = scripts_with(tmp_path / "slow", SLOW)
    marker = tmp_path / "marker"
    os.environ["MIGRATION_MARKER"], os.environ["MIGRATION_SLEEP"] = str(marker), "60"
    try:
        child = _child(scripts, path)
        _wait_for(marker)
        child.send_signal(signal.SIGKILL)  # a power cut in the middle of the upgrade
        child.communicate(timeout=30)
    finally:
        del os.environ["MIGRATION_MARKER"], os.environ["MIGRATION_SLEEP"]

    assert snapshot(path) == before
    # And the app opens it, at the old revision, with everything in it.
    engine = create_engine(f"sqlite:///{path}")
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_two_processes_starting_at_once_migrate_once(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    rows_before = snapshot(path)[1]
    scripts = scripts_with(tmp_path / "slow", SLOW)
    marker = tmp_path / "marker"
    os.environ["MIGRATION_MARKER"], os.environ["MIGRATION_SLEEP"] = str(marker), "2"
    try:
        first = _child(scripts, path)
        _wait_for(marker)  # the first is inside its migration: now the second starts
        second = _child(scripts, path)
        results = [p.communicate(timeout=120) for p in (first, second)]
    finally:
        del os.environ["MIGRATION_MARKER"], os.environ["MIGRATION_SLEEP"]

    for proc, (out, err) in zip((first, second), results, strict=True):
        assert proc.returncode == 0, out + err[-3000:]
        assert "upgraded" in out
    assert marker.read_text().count("half-way") == 1  # the migration ran exactly once
    schema, rows = snapshot(path)
    assert rows == rows_before and ("9999",) in schema
