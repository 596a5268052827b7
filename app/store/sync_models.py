"""Local bookkeeping for sync (kept apart from the user's tables in ``app.store.models``).

``SyncState`` is one row: who we sync as, how far we have pulled, how far the server's clock
is from ours. ``SyncedRow`` remembers, per synced row, the server version this device last had
(the base a push is judged against). ``RowHistory`` keeps every local version that lost a
conflict, so the user can see and restore it. ``ParkedRow`` holds pulled rows whose meeting has
not arrived yet. ``SetAsideRow`` holds pulled rows that could not be applied (malformed, or
clashing with something on this device), so one bad row never stops the rows after it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import ActionItem, Base, EmailDraft, Meeting, Segment, utcnow


class SyncState(Base):
    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    user_id: Mapped[str] = mapped_column(String(64), default="")
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # last server seq applied
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The best recent measurement of the server's clock against ours (``app.sync.clock``), so
    # a new engine's first push is not corrected by a one-way figure that counts its latency.
    clock_sample: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class SyncedRow(Base):
    __tablename__ = "sync_rows"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    row_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    server_version: Mapped[int] = mapped_column(Integer, default=0)


class RowHistory(Base):
    __tablename__ = "row_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    row_id: Mapped[str] = mapped_column(String(36), index=True)
    # "lost" (our edit lost a conflict), "overridden" (a concurrent edit replaced ours after
    # the server had accepted it), "resurrected" (our delete was undone by a concurrent edit).
    reason: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=0)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    winner_device_id: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    restored_at: Mapped[datetime | None] = mapped_column(default=None)


class ParkedRow(Base):
    __tablename__ = "sync_parked"

    row_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    meeting_id: Mapped[str] = mapped_column(String(36), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SetAsideRow(Base):
    __tablename__ = "sync_set_aside"

    row_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")  # fields and rules, never values
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # to retry after an update
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


# The outbox asks "which rows have synced_at null?" every round: with these indexes that costs
# the number of pending rows, not the size of the database.
Index("ix_meetings_synced_at", Meeting.synced_at)
Index("ix_segments_synced_at", Segment.synced_at)
Index("ix_action_items_synced_at", ActionItem.synced_at)
Index("ix_email_drafts_synced_at", EmailDraft.synced_at)
# ...and "which meetings are kept on this device only?" the number of such meetings.
Index("ix_meetings_local_only", Meeting.local_only)
