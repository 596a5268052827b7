"""Version bookkeeping for synced rows, applied on every flush so no caller can forget it.

A local edit of any non-bookkeeping column bumps ``version``, stamps ``updated_at`` and the
device id, and clears ``synced_at`` (the server has not seen this version yet). Sync applies
remote rows inside ``remote_apply(session)``, where nothing is bumped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.store.models import SyncedMixin, utcnow

_REMOTE = "recap_remote_apply"
DEVICE_KEY = "recap_device_id"
# Optional zero-argument callable returning an aware UTC datetime (tests fake a skewed clock).
CLOCK_KEY = "recap_clock"


@contextmanager
def remote_apply(session: Session) -> Iterator[Session]:
    """Within this block, flushed changes are the server's: keep their version as given."""
    previous = session.info.get(_REMOTE, False)
    session.info[_REMOTE] = True
    try:
        yield session
        session.flush()  # flush inside the block, whatever commits the session later
    finally:
        session.info[_REMOTE] = previous


def _edited(obj: SyncedMixin) -> bool:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in SyncedMixin.BOOKKEEPING:
            continue
        if state.attrs[attr.key].history.has_changes():
            return True
    return False


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_REMOTE):
        return
    device = session.info.get(DEVICE_KEY, "")
    now = session.info.get(CLOCK_KEY, utcnow)()
    for obj in session.new:
        if isinstance(obj, SyncedMixin):
            obj.device_id = obj.device_id or device
            obj.updated_at = now
    for obj in session.dirty:
        if isinstance(obj, SyncedMixin) and _edited(obj):
            obj.version = (obj.version or 0) + 1
            obj.updated_at = now
            obj.synced_at = None
            obj.device_id = device


def install(session_class: type[Session] | Any) -> None:
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


def soft_delete(obj: SyncedMixin, when: datetime | None = None) -> None:
    """Deletes are tombstones so other devices learn of them; the flush bumps the version."""
    if obj.deleted_at is None:
        obj.deleted_at = when or utcnow()
