"""Apply Alembic migrations at start-up, after a backup copy of the database file."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.paths import migrations_path

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_database(db_path: Path, backups: Path, label: str) -> Path:
    """A consistent copy (SQLite's online backup, so a WAL file is included)."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backups / f"{db_path.stem}-{label}-{stamp}.sqlite3"
    with sqlite3.connect(db_path) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    # Keep the last five backups: enough to roll back, not enough to fill a disk.
    old = sorted(backups.glob(f"{db_path.stem}-*.sqlite3"))[:-5]
    for path in old:
        path.unlink(missing_ok=True)
    return target


def upgrade(engine: Engine, db_path: Path, backups: Path, target: str = "head") -> Path | None:
    """Bring the database to ``target``; returns the backup made, if any."""
    current = current_revision(engine)
    wanted = head_revision() if target == "head" else target
    if current == wanted:
        return None
    backup = None
    if current is not None and db_path.exists():
        backup = backup_database(db_path, backups, f"before-{wanted}")
        log.info("database at %s, upgrading to %s (backup %s)", current, wanted, backup)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return backup
