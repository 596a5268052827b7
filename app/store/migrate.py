"""Apply Alembic migrations at start-up: all or nothing, one process at a time, backed up.

SQLite can change its schema inside a transaction, but Python's sqlite3 module runs DDL outside
one unless told otherwise, so a failing migration used to leave its first half behind (and an
app that would not start). Here every upgrade runs on its own connection that emits BEGIN
itself, so the whole upgrade commits or rolls back as one. Foreign keys are off on that
connection, as SQLite's documented procedure for schema changes says: a batch-mode table rebuild
drops and recreates the parent table, which with foreign keys on cascades into deleting every
child row. ``PRAGMA foreign_key_check`` then runs before the commit, so a migration cannot leave
dangling references either. A file lock keeps a second Recap (the window and the CLI, say)
waiting until the first has finished, after which it finds nothing left to do. If a failure
leaves anything changed that the rollback could not undo, the backup taken just before is
copied back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

from app.paths import migrations_path
from app.private_files import create_private, open_private, private_dir

log = logging.getLogger(__name__)

# How long a second process waits for another's upgrade before giving up with a message.
LOCK_WAIT_S = 600.0
_LOCK_POLL_S = 0.1


class MigrationFailed(Exception):
    """The database could not be upgraded; it is as it was before. ``fix`` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


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


def migration_engine(url: str) -> Engine:
    """An engine whose connections run with foreign keys off and begin transactions themselves.

    ``BEGIN IMMEDIATE`` takes SQLite's write lock at the start, so nothing can write between
    reading the current revision and committing the new one.
    """
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not BEGIN or COMMIT by itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def backup_database(db_path: Path, backups: Path, label: str) -> Path:
    """A consistent copy (SQLite's online backup, so a WAL file is included)."""
    private_dir(backups)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backups / f"{db_path.stem}-{label}-{stamp}.sqlite3"
    create_private(target)  # before SQLite opens it: a backup holds every meeting
    with contextlib.closing(sqlite3.connect(db_path)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    # Keep the last five backups: enough to roll back, not enough to fill a disk.
    old = sorted(backups.glob(f"{db_path.stem}-*.sqlite3"))[:-5]
    for path in old:
        path.unlink(missing_ok=True)
    return target


def restore_database(backup: Path, db_path: Path) -> None:
    """Copy ``backup`` back over the live database, through SQLite, so open readers stay safe."""
    with contextlib.closing(sqlite3.connect(backup)) as src, \
            contextlib.closing(sqlite3.connect(db_path, timeout=30)) as dst:
        src.backup(dst)


def upgrade(engine: Engine, db_path: Path, backups: Path, target: str = "head") -> Path | None:
    """Bring the database to ``target``; returns the backup made, if any.

    ``engine`` (the app's) is only used to see cheaply whether there is anything to do; the
    upgrade itself runs on a connection of its own. Raises ``MigrationFailed`` with the
    database left as it was.
    """
    wanted = head_revision() if target == "head" else target
    if db_path.exists() and current_revision(engine) == wanted:
        return None
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(db_path.with_name(db_path.name + ".migrate.lock")):
        migrator = migration_engine(f"sqlite:///{db_path}")
        try:
            return _upgrade_locked(migrator, db_path, backups, target, wanted)
        finally:
            migrator.dispose()


def _upgrade_locked(migrator: Engine, db_path: Path, backups: Path, target: str,
                    wanted: str) -> Path | None:
    with migrator.connect() as conn:
        transaction = conn.begin()
        current = MigrationContext.configure(conn).get_current_revision()
        if current == wanted:  # another process did it while this one waited
            transaction.rollback()
            return None
        before = _schema(conn)
        backup = None
        if current is not None:
            backup = backup_database(db_path, backups, f"before-{wanted}")
            log.info("database at %s, upgrading to %s (backup %s)", current, wanted, backup)
        config = alembic_config()
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, target)
            dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise RuntimeError(f"the upgrade left {len(dangling)} rows pointing at rows "
                                   f"that do not exist (first: {tuple(dangling[0])})")
            transaction.commit()
        except Exception as exc:
            log.exception("database upgrade from %s to %s failed", current, wanted)
            intact = _roll_back(conn, before)
            if not intact:
                if backup is None:
                    raise MigrationFailed(
                        "Setting up the database failed half-way.",
                        f"Delete {db_path} (it holds nothing yet) and start Recap again; "
                        "details are in the log.") from exc
                log.warning("the rollback left changes behind: restoring %s", backup)
                conn.close()
                restore_database(backup, db_path)
            raise MigrationFailed(
                f"The database could not be upgraded ({exc}); it was left as it was.",
                "Recap cannot start with this database until a fixed version is installed; "
                f"your meetings are safe (a copy is in {backup or backups}). Details are in "
                "the log.") from exc
    return backup


def _schema(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    revision = MigrationContext.configure(conn).get_current_revision()
    return [tuple(r) for r in rows] + [("revision", revision)]


def _roll_back(conn: Connection, before: list[tuple[Any, ...]]) -> bool:
    """Undo the failed upgrade; True when the schema is back exactly as it was."""
    try:
        if conn.in_transaction():
            conn.rollback()
        raw = conn.connection.driver_connection
        if raw is not None and raw.in_transaction:  # something committed and began anew
            raw.rollback()
        return _schema(conn) == before
    except Exception:
        log.exception("rolling back the failed upgrade failed")
        return False


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold a lock file for the upgrade; wait (up to LOCK_WAIT_S) while another process does."""
    fd = open_private(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        waited = False
        while not _try_lock(fd):
            if not waited:
                log.info("another Recap is upgrading the database; waiting for it")
                waited = True
            if time.monotonic() > deadline:
                raise MigrationFailed(
                    "Another Recap has been upgrading the database for too long.",
                    "Close the other Recap windows and commands, then start again.")
            time.sleep(_LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # releases the lock; a crashed holder's lock goes with its process


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
