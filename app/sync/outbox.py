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

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from app.store.models import ActionItem, EmailDraft, Meeting, Segment, SyncedMixin
from app.store.sync_models import SyncedRow
from app.sync.payload import KINDS, PUSH_ORDER, SEGMENT_FIELDS, payload_of, to_json


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
    size: int = 0  # bytes of its content as JSON: batches are kept to a few megabytes

    def __post_init__(self) -> None:
        content = json.dumps([self.kind, self.id, self.base_version, self.deleted, self.data],
                             sort_keys=True, separators=(",", ":")).encode()
        self.mutation_id = hashlib.sha256(content).hexdigest()[:32]
        self.size = len(content)

    def wire(self) -> dict[str, Any]:
        return {"mutation_id": self.mutation_id, "kind": self.kind, "id": self.id,
                "base_version": self.base_version, "deleted": self.deleted,
                "updated_at": to_json(self.updated_at), "data": self.data}


def _shared(column: Any) -> Any:
    """``local_only`` is false, written so SQLite cannot use the local_only index for it:
    that index matches almost every meeting, and would turn an index lookup into a scan."""
    return func.coalesce(column, False).is_(False)


def _pending_meetings(what: Any = Meeting) -> Any:
    # Two index lookups (synced_at is null), not a scan of every meeting.
    seg_pending = select(Segment.meeting_id).where(Segment.synced_at.is_(None))
    return select(what).where(_shared(Meeting.local_only),
                              Meeting.synced_at.is_(None) | Meeting.id.in_(seg_pending))


def _pending_children(model: type[ActionItem] | type[EmailDraft], what: Any = None) -> Any:
    return (select(model if what is None else what)
            .join(Meeting, Meeting.id == model.meeting_id)
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


# A batch stops growing past this many bytes (at least one mutation goes): hundreds of hour-long
# transcripts in one request would take the server longer than Supabase lets a statement run.
BATCH_BYTES = 4 << 20


def collect(session: Session, limit: int, skip: set[str] | None = None) -> list[Mutation]:
    """Up to ``limit`` mutations (and about ``BATCH_BYTES``), meetings first, leaving out the
    rows ``skip`` names (a batch still in flight). Read-only: a short read transaction.

    Reads column values, not ORM objects: a first sync collects tens of thousands of rows,
    and building objects for them (and their segments) cost most of its time."""
    out: list[Mutation] = []
    for kind in PUSH_ORDER:
        room = limit - len(out)
        if room <= 0:
            break
        table = KINDS[kind].__table__  # type: ignore[attr-defined]
        if kind == "meeting":
            query = _pending_meetings(table)
        else:
            query = _pending_children(KINDS[kind], table)  # type: ignore[arg-type]
        if skip:
            query = query.where(table.c.id.not_in(skip))
        rows = session.execute(query.limit(room)).mappings().all()
        ids = [row["id"] for row in rows]
        bases = _bases(session, kind, ids)
        segments = _segments_of(session, ids) if kind == "meeting" else {}
        for row in rows:
            deleted = row["deleted_at"] is not None
            own = segments.get(row["id"], [])
            out.append(Mutation(
                kind=kind, id=row["id"], base_version=bases.get(row["id"], 0),
                deleted=deleted, updated_at=row["updated_at"],
                # A tombstone carries no content: the server keeps nothing of a deleted row.
                data={} if deleted else payload_of(kind, row, own),
                local_version=row["version"],
                segment_versions={seg["id"]: seg["version"] for seg in own}))
    if len(out) < limit:
        out.extend(m for m in _withdrawals(session, limit - len(out) + len(skip or ()))
                   if m.id not in (skip or ()))
    return _within_budget(out[:limit])


def _within_budget(mutations: list[Mutation]) -> list[Mutation]:
    total = 0
    for count, mutation in enumerate(mutations):
        total += mutation.size
        if total > BATCH_BYTES and count:
            return mutations[:count]
    return mutations


def _segments_of(session: Session, meeting_ids: list[str]) -> dict[str, list[Any]]:
    by_meeting: dict[str, list[Any]] = {}
    columns = [Segment.__table__.c[name] for name in (*SEGMENT_FIELDS, "meeting_id", "version",
                                                      "deleted_at")]
    for start in range(0, len(meeting_ids), 500):
        chunk = meeting_ids[start:start + 500]
        query = select(*columns).where(Segment.meeting_id.in_(chunk))
        for seg in session.execute(query).mappings():
            by_meeting.setdefault(seg["meeting_id"], []).append(seg)
    return by_meeting


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
    server version each write got (bookkeeping, not user edits: no ORM, no version bump)."""
    by_kind: dict[str, list[tuple[str, int]]] = {}
    segments: list[tuple[str, int]] = []
    bases: list[dict[str, Any]] = []
    forget: list[dict[str, Any]] = []
    for mutation, server_version in acked:
        if mutation.forget:
            forget.append({"b_kind": mutation.kind, "b_id": mutation.id})
            continue
        by_kind.setdefault(mutation.kind, []).append((mutation.id, mutation.local_version))
        segments.extend(mutation.segment_versions.items())
        bases.append({"b_kind": mutation.kind, "b_id": mutation.id, "b_v": server_version})
    for kind, rows in by_kind.items():
        _guarded_mark(session, KINDS[kind], rows, now)
    if segments:
        _guarded_mark(session, Segment, segments, now)
    set_bases(session, bases)
    if forget:
        session.connection().execute(  # executemany: Core level
            delete(SyncedRow).where(SyncedRow.kind == bindparam("b_kind"),
                                    SyncedRow.row_id == bindparam("b_id")),
            forget)


def _guarded_mark(session: Session, model: type[SyncedMixin], rows: list[tuple[str, int]],
                  now: datetime) -> None:
    """``synced_at = now`` where the version is still the one read. A first sync marks tens
    of thousands of rows: one driver-level executemany, the timestamp converted once."""
    table = model.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    to_db = table.c.synced_at.type.bind_processor(conn.dialect)
    stamp = to_db(now) if to_db is not None else now
    conn.exec_driver_sql(
        f"UPDATE {table.name} SET synced_at = ? WHERE id = ? AND version = ?",
        [(stamp, row_id, version) for row_id, version in rows])


def set_bases(session: Session, bases: list[dict[str, Any]]) -> None:
    """Upsert (kind, row id) -> server version."""
    if not bases:
        return
    session.connection().exec_driver_sql(
        f"INSERT INTO {SyncedRow.__tablename__} (kind, row_id, server_version) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, row_id) DO UPDATE SET server_version = excluded.server_version",
        [(b["b_kind"], b["b_id"], b["b_v"]) for b in bases])
