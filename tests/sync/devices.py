"""A simulated device for sync tests: its own SQLite file, device id, clock and engine."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import migrate, tracking
from app.store.db import Database
from app.store.models import ActionItem, EmailDraft, Meeting, Segment
from app.store.sync_models import RowHistory
from app.sync.client import SupabaseRpc
from app.sync.engine import SyncEngine
from app.sync.payload import KINDS, serialize

_TEMPLATE: list[Path] = []


def _migrated_template() -> Path:
    """An empty, fully migrated database, made once per test process and copied per device."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="recap-sync-template-"))
        path = folder / "template.sqlite3"
        db = Database(path, "template")
        migrate.upgrade(db.engine, path, folder / "backups")
        db.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


class SkewedDatabase(Database):
    """A Database whose sessions stamp edits with a clock that may be off."""

    def __init__(self, path: Path, device_id: str, clock: Callable[[], datetime]) -> None:
        super().__init__(path, device_id)
        self.clock = clock

    def new_session(self) -> Session:
        session = super().new_session()
        session.info[tracking.CLOCK_KEY] = self.clock
        return session


class Device:
    def __init__(self, root: Path, name: str, server: Any, user: dict[str, Any],
                 skew: timedelta = timedelta(0), timeout_s: float = 5.0,
                 batch_size: int = 200, page_size: int = 500) -> None:
        self.name = name
        self.device_id = f"device-{name}"
        self.skew = skew
        path = root / f"{name}.sqlite3"
        if not path.exists():
            shutil.copyfile(_migrated_template(), path)
        self.db = SkewedDatabase(path, self.device_id, self.now)
        self.rpc = SupabaseRpc(server.url, server.anon_key, user["email"], timeout_s=timeout_s)
        self.rpc.sign_in(user["email"], user["password"])
        self.engine = SyncEngine(self.db, self.rpc, self.device_id, batch_size=batch_size,
                                 page_size=page_size, clock=self.now)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.skew

    def sync(self) -> Any:
        return self.engine.run_round()

    # --- local edits --------------------------------------------------------------------

    def add_meeting(self, title: str, items: int = 2, segments: int = 3) -> str:
        with self.db.session() as s:
            m = Meeting(title=title, summary=f"summary of {title}", decisions=["ship it"])
            s.add(m)
            s.flush()
            for i in range(segments):
                s.add(Segment(meeting_id=m.id, idx=i, start_ms=i * 1000, end_ms=i * 1000 + 900,
                              text=f"{title} segment {i}"))
            for i in range(items):
                s.add(ActionItem(meeting_id=m.id, position=i, text=f"{title} task {i}",
                                 owner="Ana"))
            s.add(EmailDraft(meeting_id=m.id, subject=f"Re: {title}", body="Hello"))
            return m.id

    def edit(self, kind: str, row_id: str, **changes: Any) -> None:
        with self.db.session() as s:
            obj = s.get(KINDS[kind], row_id)
            assert obj is not None
            for key, value in changes.items():
                setattr(obj, key, value)

    def delete(self, kind: str, row_id: str) -> None:
        with self.db.session() as s:
            obj = s.get(KINDS[kind], row_id)
            assert obj is not None
            tracking.soft_delete(obj, self.now())

    # --- what the user sees -------------------------------------------------------------

    def snapshot(self) -> dict[tuple[str, str], tuple[bool, dict[str, Any]]]:
        """Every shared row the user sees: (kind, id) -> (deleted, payload). Deleted rows are
        left out: the server keeps no content for them, only the tombstone."""
        out = {}
        with self.db.session() as s:
            local_only = set(s.scalars(select(Meeting.id).where(Meeting.local_only)))
            for kind, model in KINDS.items():
                for obj in s.scalars(select(model)):
                    owner = obj.id if kind == "meeting" else obj.meeting_id  # type: ignore[attr-defined]
                    if owner in local_only or obj.deleted_at is not None:
                        continue
                    out[(kind, obj.id)] = (obj.deleted_at is not None, serialize(kind, obj))
        return out

    def get(self, kind: str, row_id: str) -> dict[str, Any] | None:
        with self.db.session() as s:
            obj = s.get(KINDS[kind], row_id)
            if obj is None:
                return None
            return {"deleted": obj.deleted_at is not None, **serialize(kind, obj)}

    def history(self, row_id: str | None = None) -> list[RowHistory]:
        with self.db.session() as s:
            query = select(RowHistory).order_by(RowHistory.id)
            if row_id is not None:
                query = query.where(RowHistory.row_id == row_id)
            return list(s.scalars(query))

    def close(self) -> None:
        self.rpc.close()
        self.db.dispose()


def server_snapshot(dsn: str, user_id: str) -> dict[tuple[str, str], tuple[bool, dict[str, Any]]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select kind, id::text, deleted, data from public.recap_rows"
                            " where user_id = %s and not deleted", (user_id,)).fetchall()
    return {(kind, rid): (deleted, data) for kind, rid, deleted, data in rows}
