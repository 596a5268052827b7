"""The SQLite engine and sessions: WAL, foreign keys on, short transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.private_files import create_private, private_dir
from app.store import tracking


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the GUI, search) run while one writer commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(path: Path) -> Engine:
    private_dir(path.parent)
    # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database
    # file's mode, so they are private too.
    create_private(path)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,  # error messages (and so the log) never quote meeting text
    )
    event.listen(engine, "connect", _on_connect)
    return engine


class Database:
    """One per app (built in the container); sessions are short and per unit of work."""

    def __init__(self, path: Path, device_id: str) -> None:
        self.path = path
        self.device_id = device_id
        self.engine = make_engine(path)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        tracking.install(self._factory)

    def new_session(self) -> Session:
        session = self._factory()
        session.info[tracking.DEVICE_KEY] = self.device_id
        return session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any error."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
