"""The conflict history: versions that lost to another device, shown to the user and
restorable. Restoring is an ordinary local edit, so it syncs like any other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import RecapError
from app.store.models import SyncedMixin, utcnow
from app.store.sync_models import RowHistory
from app.sync.payload import KINDS, assign

REASONS = {
    "lost": "Changed on another device at the same time; that version was kept.",
    "overridden": "Replaced by a change made at the same time on another device.",
    "resurrected": "You deleted this, but another device edited it at the same time, "
                   "so it is back.",
}


def list_history(session: Session, row_id: str | None = None) -> list[RowHistory]:
    query = select(RowHistory).order_by(RowHistory.recorded_at.desc(), RowHistory.id.desc())
    if row_id is not None:
        query = query.where(RowHistory.row_id == row_id)
    return list(session.scalars(query))


class HistoryError(RecapError):
    pass


def restore(session: Session, history_id: int) -> SyncedMixin:
    """Put a kept version back as the current one (a new local edit that will sync)."""
    entry = session.get(RowHistory, history_id)
    if entry is None:
        raise HistoryError("That earlier version no longer exists.",
                           "List the versions again and pick one that is shown.")
    obj = session.get(KINDS[entry.kind], entry.row_id)
    if obj is None:
        raise HistoryError("The item this version belongs to is gone from this device.",
                           "Sync once, then try again.")
    assign(session, entry.kind, obj, entry.data)
    if entry.deleted and obj.deleted_at is None:
        obj.deleted_at = utcnow()
    elif not entry.deleted:
        obj.deleted_at = None
    entry.restored_at = utcnow()
    session.flush()
    return obj
