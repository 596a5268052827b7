"""Pulled rows that could not be applied, kept aside so the rows after them still arrive.

A row is set aside when it fails its checks (``app.sync.validate``) or when applying it fails
on this device (a transcript segment whose id a local meeting already uses, say). It stays
listed in ``recap sync --status`` until a later version of the same row applies cleanly, or a
``recap sync --full`` finds it applicable (after an update of Recap, say).

The log gets ids, kinds and sizes: a set-aside row's content never goes there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.store.sync_models import SetAsideRow

log = logging.getLogger(__name__)


def set_aside(session: Session, row: object, reason: str) -> None:
    data = row if isinstance(row, dict) else {"unreadable": True}
    row_id = str(data.get("id") or "")[:64] or f"seq-{data.get('seq')}"
    log.warning("sync: set aside %s %s v%s (seq %s, %d bytes): %s", data.get("kind"), row_id,
                data.get("version"), data.get("seq"), len(json.dumps(data, default=str)), reason)
    session.merge(SetAsideRow(
        row_id=row_id, kind=str(data.get("kind") or "")[:20], version=_int(data.get("version")),
        seq=_int(data.get("seq")), reason=reason[:500], payload=data))


def clear(session: Session, row_ids: list[str]) -> None:
    """These rows were applied: whatever was set aside for them is settled."""
    if row_ids:
        session.execute(delete(SetAsideRow).where(SetAsideRow.row_id.in_(row_ids)))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SetAsideRow)) or 0)


def listed(session: Session) -> list[dict[str, Any]]:
    return [{"id": r.row_id, "kind": r.kind, "version": r.version, "reason": r.reason,
             "recorded_at": r.recorded_at}
            for r in session.scalars(select(SetAsideRow).order_by(SetAsideRow.recorded_at))]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
