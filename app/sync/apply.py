"""Applying rows pulled from the server to the local database.

Each page is checked row by row (``app.sync.validate``) and applied in one savepoint; when that
fails, each row gets its own savepoint, and a row that still fails is set aside
(``app.sync.set_aside``) while the others go in: one bad row never stops later pulls. A row
whose meeting has not arrived yet is parked until it does. A local row with an edit not yet
pushed is left alone (the next push carries it, and the server decides); a local version that
a concurrent write overrode goes to the conflict history first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from app.store.models import Meeting, SyncedMixin
from app.store.sync_models import ParkedRow, RowHistory
from app.sync import outbox, set_aside
from app.sync.errors import SyncError
from app.sync.payload import KINDS, apply, meeting_id_of, same_content, serialize
from app.sync.validate import Unusable, check_row, describe

log = logging.getLogger(__name__)


@dataclass
class RoundReport:
    pushed: int = 0
    accepted: int = 0
    rejected: int = 0
    pulled: int = 0
    applied: int = 0
    kept_in_history: int = 0
    set_aside: int = 0
    pending: int = 0
    seconds: float = 0.0

    def add(self, other: RoundReport) -> None:
        self.applied += other.applied
        self.kept_in_history += other.kept_in_history
        self.set_aside += other.set_aside


class PulledRows:
    """Applies the server's rows here (call inside ``tracking.remote_apply``)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def apply_page(
        self, session: Session, rows: list[Any], report: RoundReport, full: bool = False
    ) -> None:
        """Apply pulled rows. One that fails its checks, or fails to apply here, is set aside
        (listed in ``recap sync --status``) and the others go in: one bad row must not stop
        every later pull. The page goes in whole when it can (one savepoint); only when that
        fails is each row tried in its own savepoint."""
        good: list[dict[str, Any]] = []
        for row in rows:
            try:
                good.append(check_row(row))
            except Unusable as exc:
                set_aside.set_aside(session, row, str(exc))
                report.set_aside += 1
        if good and not self._try_apply(session, good, report, full):
            for row in good:
                if not self._try_apply(session, [row], report, full):
                    report.set_aside += 1
        self._unpark(session, report)

    def _try_apply(self, session: Session, rows: list[dict[str, Any]], report: RoundReport,
                   full: bool) -> bool:
        """Apply rows in one savepoint; on failure roll it back (and set a single row aside)."""
        scratch = RoundReport()
        try:
            with session.begin_nested():
                self.apply_rows(session, rows, scratch, full)
                set_aside.clear(session, [r["id"] for r in rows])
        except (OperationalError, SyncError):
            raise  # the database is busy or gone, or sync stopped: not the row's fault
        except Exception as exc:
            if len(rows) == 1:
                set_aside.set_aside(session, rows[0], describe(exc))
            else:
                log.info("a page of %d rows did not apply at once (%s); one by one",
                         len(rows), type(exc).__name__)
            return False
        report.add(scratch)
        return True

    def apply_rows(
        self, session: Session, rows: list[dict[str, Any]], report: RoundReport,
        full: bool = False,
    ) -> None:
        now = self.clock()
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_kind.setdefault(row["kind"], []).append(row)
        bases: list[dict[str, Any]] = []
        meetings: dict[str, Meeting | None] = {}
        # No autoflush: a lookup must not flush everything applied so far (quadratic).
        with session.no_autoflush:
            for kind in ("meeting", "email_draft", "action_item"):
                batch = by_kind.get(kind, [])
                if not batch:
                    continue
                locals_ = _load(session, kind, [r["id"] for r in batch])
                known = outbox._bases(session, kind, [r["id"] for r in batch])
                if kind == "meeting":
                    meetings.update(locals_)  # type: ignore[arg-type]
                else:
                    wanted = {_owner_id(kind, r, locals_.get(r["id"])) for r in batch}
                    meetings.update(_owners(session, wanted - meetings.keys()))
                for row in batch:
                    obj = self._apply_one(
                        session,
                        kind,
                        locals_.get(row["id"]),
                        known.get(row["id"], 0),
                        row,
                        now,
                        report,
                        meetings,
                        full,
                    )
                    if obj is not None:
                        bases.append(
                            {"b_kind": kind, "b_id": row["id"], "b_v": int(row["version"])}
                        )
                        if isinstance(obj, Meeting):
                            meetings[obj.id] = obj
                if kind == "meeting":
                    session.flush()  # drafts have no ORM relationship: insert meetings first
        session.flush()
        outbox.set_bases(session, bases)

    def _apply_one(
        self,
        session: Session,
        kind: str,
        obj: SyncedMixin | None,
        base: int,
        row: dict[str, Any],
        now: datetime,
        report: RoundReport,
        meetings: dict[str, Meeting | None],
        full: bool = False,
    ) -> SyncedMixin | None:
        """Apply one pulled row; returns the local row, or None when it was left alone."""
        # Ours, or older than what we have: left alone, except on a full re-read, where a row
        # not edited here is made equal to the server's even so (or brought back if missing).
        if int(row["version"]) <= base and (
                not full or (obj is not None and (_pending(session, obj)
                                                  or same_content(kind, obj, row)))):
            return None
        if row["deleted"] and obj is None:
            return None  # a tombstone for a row this device never had: nothing to delete
        meeting_id = _owner_id(kind, row, obj)
        owner = meetings.get(meeting_id) if meeting_id is not None else obj
        if meeting_id is not None and owner is None:
            session.merge(
                ParkedRow(row_id=row["id"], kind=kind, meeting_id=meeting_id, payload=row)
            )
            return None  # its meeting has not arrived yet
        if isinstance(owner, Meeting) and owner.local_only:
            return None  # kept on this device only: the local copy stays as it is
        if obj is not None:
            if _pending(session, obj):
                return None  # our next push carries the local edit; the server decides
            if _overridden(base, row) and not same_content(kind, obj, row):
                deleted = obj.deleted_at is not None
                session.add(
                    RowHistory(
                        kind=kind,
                        row_id=obj.id,
                        reason="resurrected" if deleted and not row["deleted"] else "overridden",
                        version=obj.version,
                        device_id=obj.device_id,
                        deleted=deleted,
                        data=serialize(kind, obj),
                        winner_device_id=row["device_id"],
                    )
                )
                report.kept_in_history += 1
        applied = apply(session, kind, obj, row, now)
        report.applied += 1
        return applied

    def _unpark(self, session: Session, report: RoundReport) -> None:
        """Rows parked until their meeting arrived, now that it has."""
        parked = list(
            session.scalars(select(ParkedRow).join(Meeting, Meeting.id == ParkedRow.meeting_id))
        )
        if not parked:
            return
        rows = [p.payload for p in parked]
        for p in parked:
            session.delete(p)
        session.flush()
        self.apply_page(session, rows, report)


def _load(session: Session, kind: str, ids: list[str]) -> dict[str, SyncedMixin]:
    model = KINDS[kind]
    query = select(model).where(model.id.in_(ids))
    if model is Meeting:
        query = query.options(selectinload(Meeting.segments))
    return {obj.id: obj for obj in session.scalars(query)}


def _owners(session: Session, ids: set[str | None]) -> dict[str, Meeting | None]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    found = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(wanted)))}
    return {i: found.get(i) for i in wanted}


def _owner_id(kind: str, row: dict[str, Any], obj: SyncedMixin | None) -> str | None:
    """The meeting a child row belongs to: from its payload, or, for a tombstone (which
    carries no content), from the local row."""
    if kind == "meeting":
        return None
    return meeting_id_of(kind, row) or getattr(obj, "meeting_id", None)


def _pending(session: Session, obj: SyncedMixin) -> bool:
    if obj.synced_at is None:
        return True
    if isinstance(obj, Meeting):
        return any(seg.synced_at is None for seg in obj.segments)
    return False


def _overridden(base: int, row: dict[str, Any]) -> bool:
    """Was the version we hold replaced by a write that had not seen it?"""
    return any(lo <= base < hi for lo, hi in row.get("overridden") or [])
