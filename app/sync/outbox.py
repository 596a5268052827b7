"""The outbox: local rows the server has not acknowledged yet, as push mutations.

A row is pending while its ``synced_at`` is null (every local edit clears it). A mutation
carries the server version the edit was based on, and an id derived from its content, so a
retried batch names the same mutations and the server answers them without applying twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from app.store.models import ActionItem, EmailDraft, Meeting, Segment, SyncedMixin
from app.store.sync_models import SyncedRow
from app.sync.payload import KINDS, PUSH_ORDER, serialize, to_json


@dataclass
class Mutation:
    kind: str
    id: str
    base_version: int
    deleted: bool
    updated_at: datetime
    data: dict[str, Any]
    local_version: int
    # For a meeting, the version of each folded segment when read (acknowledged only if equal).
    segment_versions: dict[str, int] = field(default_factory=dict)
    forget: bool = False  # a local-only meeting being withdrawn from the server
    mutation_id: str = ""

    def __post_init__(self) -> None:
        digest = hashlib.sha256(json.dumps(
            [self.kind, self.id, self.base_version, self.deleted, self.data],
            sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
        self.mutation_id = digest[:32]

    def wire(self) -> dict[str, Any]:
        return {"mutation_id": self.mutation_id, "kind": self.kind, "id": self.id,
                "base_version": self.base_version, "deleted": self.deleted,
                "updated_at": to_json(self.updated_at), "data": self.data}


def _shared(column: Any) -> Any:
    """``local_only`` is false, written so SQLite cannot use the local_only index for it:
    that index matches almost every meeting, and would turn an index lookup into a scan."""
    return func.coalesce(column, False).is_(False)


def _pending_meetings() -> Any:
    # Two index lookups (synced_at is null), not a scan of every meeting.
    seg_pending = select(Segment.meeting_id).where(Segment.synced_at.is_(None))
    return select(Meeting).where(_shared(Meeting.local_only),
                                 Meeting.synced_at.is_(None) | Meeting.id.in_(seg_pending))


def _pending_children(model: type[ActionItem] | type[EmailDraft]) -> Any:
    return (select(model).join(Meeting, Meeting.id == model.meeting_id)
            .where(model.synced_at.is_(None), _shared(Meeting.local_only)))


def pending_count(session: Session) -> int:
    total = session.scalar(select(func.count()).select_from(_pending_meetings().subquery())) or 0
    for model in (ActionItem, EmailDraft):
        total += session.scalar(
            select(func.count()).select_from(_pending_children(model).subquery())) or 0
    return int(total)


def _bases(session: Session, kind: str, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.execute(select(SyncedRow.row_id, SyncedRow.server_version)
                           .where(SyncedRow.kind == kind, SyncedRow.row_id.in_(ids)))
    return {row_id: version for row_id, version in rows}


def collect(session: Session, limit: int) -> list[Mutation]:
    """Up to ``limit`` mutations, meetings first. Read-only: runs in a short read transaction."""
    out: list[Mutation] = []
    for kind in PUSH_ORDER:
        room = limit - len(out)
        if room <= 0:
            break
        if kind == "meeting":
            query = _pending_meetings().options(selectinload(Meeting.segments))
        else:
            query = _pending_children(KINDS[kind])  # type: ignore[arg-type]
        rows: list[SyncedMixin] = list(session.scalars(query.limit(room)))
        bases = _bases(session, kind, [row.id for row in rows])
        for row in rows:
            deleted = row.deleted_at is not None
            out.append(Mutation(
                kind=kind, id=row.id, base_version=bases.get(row.id, 0),
                deleted=deleted, updated_at=row.updated_at,
                # A tombstone carries no content: the server keeps nothing of a deleted row.
                data={} if deleted else serialize(kind, row), local_version=row.version,
                segment_versions={s.id: s.version for s in row.segments}
                if isinstance(row, Meeting) else {}))
    if len(out) < limit:
        out.extend(_withdrawals(session, limit - len(out)))
    return out


def _withdrawals(session: Session, limit: int) -> list[Mutation]:
    """Meetings switched to "keep on this device only" after they were synced: the server
    gets an empty tombstone for each of their rows, so the cloud copy is gone."""
    local_only = list(session.scalars(select(Meeting.id).where(Meeting.local_only.is_(True))))
    if not local_only:
        return []  # the usual case, answered from an index
    out: list[Mutation] = []
    for kind in PUSH_ORDER:
        model = KINDS[kind]
        owner = model.id if kind == "meeting" else model.meeting_id  # type: ignore[attr-defined]
        for start in range(0, len(local_only), 500):
            rows = session.execute(
                select(model.id, model.updated_at, model.version, SyncedRow.server_version)
                .join(SyncedRow, (SyncedRow.kind == kind) & (SyncedRow.row_id == model.id))
                .where(owner.in_(local_only[start:start + 500])).limit(limit - len(out)))
            for row_id, updated_at, version, base in rows:
                out.append(Mutation(kind=kind, id=row_id, base_version=base, deleted=True,
                                    updated_at=updated_at, data={}, local_version=version,
                                    forget=True))
            if len(out) >= limit:
                return out
    return out


def mark_acknowledged(session: Session, acked: list[tuple[Mutation, int]],
                      now: datetime) -> None:
    """Set ``synced_at`` for rows whose version is still the one pushed, and remember the
    server version each write got (Core updates: bookkeeping, not user edits)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    segments: list[dict[str, Any]] = []
    bases: list[dict[str, Any]] = []
    forget: list[dict[str, Any]] = []
    for mutation, server_version in acked:
        if mutation.forget:
            forget.append({"b_kind": mutation.kind, "b_id": mutation.id})
            continue
        by_kind.setdefault(mutation.kind, []).append(
            {"b_id": mutation.id, "b_version": mutation.local_version, "b_now": now})
        segments.extend({"b_id": sid, "b_version": v, "b_now": now}
                        for sid, v in mutation.segment_versions.items())
        bases.append({"b_kind": mutation.kind, "b_id": mutation.id, "b_v": server_version})
    for kind, params in by_kind.items():
        _guarded_mark(session, KINDS[kind], params)
    if segments:
        _guarded_mark(session, Segment, segments)
    set_bases(session, bases)
    if forget:
        session.connection().execute(  # executemany: Core level
            delete(SyncedRow).where(SyncedRow.kind == bindparam("b_kind"),
                                    SyncedRow.row_id == bindparam("b_id")),
            forget)


def _guarded_mark(session: Session, model: type[SyncedMixin], params: list[dict[str, Any]]) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table).where(table.c.id == bindparam("b_id"),
                            table.c.version == bindparam("b_version"))
        .values(synced_at=bindparam("b_now")),
        params,
    )


def set_bases(session: Session, bases: list[dict[str, Any]]) -> None:
    """Upsert (kind, row id) -> server version."""
    if not bases:
        return
    from sqlalchemy.dialects.sqlite import insert

    stmt = insert(SyncedRow).values(
        kind=bindparam("b_kind"), row_id=bindparam("b_id"), server_version=bindparam("b_v"))
    stmt = stmt.on_conflict_do_update(index_elements=["kind", "row_id"],
                                      set_={"server_version": stmt.excluded.server_version})
    session.execute(stmt, bases)
