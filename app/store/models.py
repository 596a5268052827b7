"""The local database: SQLite is the source of truth on this device.

Every user-editable row carries the sync bookkeeping (``SyncedMixin``): a UUID id, UTC
``created_at``/``updated_at``, a ``version`` bumped on every local edit, ``synced_at`` (null until
the server acknowledged the current version), ``deleted_at`` (a tombstone, never a hard delete)
and the id of the device that last edited it. ``app.store.tracking`` does the bumping, so no
caller can forget it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The states live in the light app.store.status; named here too, beside the columns that hold them.
from app.store.status import JobState as JobState
from app.store.status import MeetingStatus as MeetingStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; store naive UTC, hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class SyncedMixin:
    """Bookkeeping shared by every row a user can edit (and that sync carries)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    device_id: Mapped[str] = mapped_column(String(64), default="")

    # Columns whose change is bookkeeping, not an edit (they never bump the version).
    BOOKKEEPING = frozenset(
        {"created_at", "updated_at", "version", "synced_at", "device_id"}
    )


class Meeting(SyncedMixin, Base):
    __tablename__ = "meetings"

    title: Mapped[str] = mapped_column(String(300), default="")
    # When the meeting took place (for "by Friday"); defaults to the file's time.
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    language: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(32), default=MeetingStatus.QUEUED.value)
    error: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[list[Any]] = mapped_column(default=list)
    transcript_model: Mapped[str] = mapped_column(String(120), default="")
    # Which model and prompt version produced the summary and decisions (shown to the user).
    notes_model: Mapped[str] = mapped_column(String(120), default="")
    notes_prompt_version: Mapped[str] = mapped_column(String(40), default="")
    local_only: Mapped[bool] = mapped_column(Boolean, default=False)  # never synced

    segments: Mapped[list[Segment]] = relationship(
        back_populates="meeting", order_by="Segment.idx", cascade="all, delete-orphan"
    )
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="meeting", order_by="ActionItem.position", cascade="all, delete-orphan"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="meeting", cascade="all, delete-orphan")


class Segment(SyncedMixin, Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("meeting_id", "idx", name="uq_segments_meeting_idx"),)

    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer)
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    speaker: Mapped[str] = mapped_column(String(80), default="")
    # Whisper's words and its confidence in each, as [[word, p], ...] with the words' own
    # spacing ("".join of the words is the text as transcribed); None when not known. Local
    # only: once `text` is edited it no longer matches and a view ignores it.
    words: Mapped[list[Any] | None] = mapped_column(JSON, default=None)

    meeting: Mapped[Meeting] = relationship(back_populates="segments")


class ActionItem(SyncedMixin, Base):
    __tablename__ = "action_items"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    due_text: Mapped[str] = mapped_column(String(120), default="")  # as said: "by Friday"
    quote: Mapped[str] = mapped_column(Text, default="")
    quote_start_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    grounded: Mapped[bool] = mapped_column(Boolean, default=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    source_model: Mapped[str] = mapped_column(String(120), default="")
    prompt_version: Mapped[str] = mapped_column(String(40), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="action_items")


class EmailDraft(SyncedMixin, Base):
    __tablename__ = "email_drafts"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(Text, default="")  # only ever typed by the user
    source_model: Mapped[str] = mapped_column(String(120), default="")
    prompt_version: Mapped[str] = mapped_column(String(40), default="")


class Job(Base):
    """One stage of one meeting's pipeline, persisted so a crash resumes where it stopped."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("meeting_id", "stage", name="uq_jobs_meeting_stage"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(32), default=JobState.PENDING.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="jobs")


class LLMCall(Base):
    """The ledger: one row per language-model call, local or cloud."""

    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_meeting", "meeting_id"),
                      Index("ix_llm_calls_created", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    meeting_id: Mapped[str | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), default=None
    )
    stage: Mapped[str] = mapped_column(String(40), default="")
    backend: Mapped[str] = mapped_column(String(40), default="")  # ollama | builtin | claude
    model: Mapped[str] = mapped_column(String(120), default="")
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(40), default="ok")  # ok | malformed | error ...
    error: Mapped[str] = mapped_column(Text, default="")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    prompt_version: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SYNCED_MODELS: tuple[type[SyncedMixin], ...] = (Meeting, Segment, ActionItem, EmailDraft)

# Sync's bookkeeping tables live in their own module; importing it here puts them on
# Base.metadata wherever the models are loaded (migration checks, create_all).
from app.store import sync_models as _sync_models  # noqa: E402,F401
