"""Local rows <-> the JSON payload stored on the server.

Three kinds travel: ``meeting`` (its metadata, summary, decisions and the transcript segments
folded in), ``action_item`` and ``email_draft``. Segments ride inside their meeting because a
one-hour meeting has hundreds of them and they are written once by Whisper and rarely edited:
folding keeps the number of synced rows (and so round cost) per meeting small, makes a
transcript arrive whole, and spares a parent-before-child ordering problem. Audio and the
local file path never leave the device, and a deleted row travels as a tombstone with no
payload at all: the server keeps no content of what was deleted (the device keeps its own,
for undo).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.store.models import (
    ActionItem,
    EmailDraft,
    Meeting,
    Segment,
    SyncedMixin,
    UTCDateTime,
)

KINDS: dict[str, type[SyncedMixin]] = {
    "meeting": Meeting,
    "action_item": ActionItem,
    "email_draft": EmailDraft,
}
KIND_OF: dict[type[SyncedMixin], str] = {model: kind for kind, model in KINDS.items()}
# Order a push sends kinds in, so a meeting reaches the server before its items.
PUSH_ORDER = ("meeting", "email_draft", "action_item")

# Bookkeeping travels in the mutation envelope, not in the payload.
_ENVELOPE = frozenset({"id", "updated_at", "version", "synced_at", "deleted_at", "device_id"})
# Never synced: where the audio sits on this disk, and the keep-on-this-device switch itself.
_LOCAL = {"meeting": frozenset({"source_path", "local_only"})}
SEGMENT_FIELDS = ("id", "idx", "start_ms", "end_ms", "text", "speaker")


def _fields(kind: str) -> list[str]:
    mapper = inspect(KINDS[kind])
    skip = _ENVELOPE | _LOCAL.get(kind, frozenset())
    return [attr.key for attr in mapper.column_attrs if attr.key not in skip]


_FIELDS = {kind: _fields(kind) for kind in KINDS}
_DATETIME = {kind: {a.key for a in inspect(m).column_attrs
                    if isinstance(a.columns[0].type, UTCDateTime)} for kind, m in KINDS.items()}
_DATE = {kind: {a.key for a in inspect(m).column_attrs
                if a.columns[0].type.python_type is date} for kind, m in KINDS.items()}
_TEMPORAL = {kind: [name for name in _FIELDS[kind] if name in _DATETIME[kind] | _DATE[kind]]
             for kind in KINDS}


def to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def serialize(kind: str, obj: SyncedMixin) -> dict[str, Any]:
    """The payload for one local row (for a meeting: with its live transcript segments)."""
    values = {name: getattr(obj, name) for name in _FIELDS[kind]}
    segments = None
    if isinstance(obj, Meeting):
        segments = [{**{name: getattr(seg, name) for name in SEGMENT_FIELDS},
                     "deleted_at": seg.deleted_at} for seg in obj.segments]
    return payload_of(kind, values, segments)


def payload_of(kind: str, values: Mapping[Any, Any],
               segments: Iterable[Mapping[Any, Any]] | None = None) -> dict[str, Any]:
    """The payload from a row's column values (and, for a meeting, its segments' values):
    what ``serialize`` builds from ORM objects, without building any (the outbox reads
    thousands of rows on a first sync)."""
    data = {name: values[name] for name in _FIELDS[kind]}
    for name in _TEMPORAL[kind]:  # the only values JSON cannot carry as they are
        if data[name] is not None:
            data[name] = data[name].isoformat()
    if kind == "meeting":
        data["segments"] = [
            {name: seg[name] for name in SEGMENT_FIELDS}
            for seg in sorted(segments or [], key=lambda s: s["idx"])
            if seg["deleted_at"] is None
        ]
    return data


def _from_json(kind: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DATETIME[kind]:
        return parse_time(value)
    if name in _DATE[kind]:
        return date.fromisoformat(value)
    return value


def assign(session: Session, kind: str, obj: SyncedMixin, data: dict[str, Any],
           synced_at: datetime | None = None) -> None:
    """Copy a payload's fields (and a meeting's transcript) onto a local row."""
    for name in _FIELDS[kind]:
        if name in data:
            setattr(obj, name, _from_json(kind, name, data[name]))
    if isinstance(obj, Meeting) and "segments" in data:
        _apply_segments(session, obj, data["segments"], synced_at)


def apply(session: Session, kind: str, obj: SyncedMixin | None, remote: dict[str, Any],
          synced_at: datetime) -> SyncedMixin:
    """Make the local row equal to the server's state (call inside ``remote_apply``)."""
    model = KINDS[kind]
    if obj is None:
        obj = model()
        obj.id = remote["id"]
        session.add(obj)
    stamp = parse_time(remote["updated_at"])
    obj.version = int(remote["version"])
    obj.updated_at = stamp
    obj.device_id = remote["device_id"]
    obj.synced_at = synced_at
    if remote["deleted"]:
        obj.deleted_at = obj.deleted_at or stamp
    else:
        obj.deleted_at = None
    assign(session, kind, obj, remote.get("data") or {}, synced_at)
    return obj


def _apply_segments(session: Session, meeting: Meeting, remote: list[dict[str, Any]],
                    synced_at: datetime | None) -> None:
    """The transcript becomes exactly the given one (segments keep their ids everywhere).
    With ``synced_at`` the segments are the server's; without, a local edit (a restore)."""
    wanted = {item["id"] for item in remote}
    gone = [old for old in meeting.segments if old.id not in wanted]
    for old in gone:
        meeting.segments.remove(old)
    if gone:
        session.flush()  # free the (meeting, idx) slots before new segments take them
    by_id = {old.id: old for old in meeting.segments}
    for item in remote:
        found = by_id.get(item["id"])
        if found is None:
            seg = Segment(id=item["id"], meeting_id=meeting.id, idx=item["idx"],
                          start_ms=item["start_ms"], end_ms=item["end_ms"])
            meeting.segments.append(seg)
        else:
            seg = found
        for name in SEGMENT_FIELDS[1:]:
            setattr(seg, name, item[name])
        seg.deleted_at = None
        if synced_at is not None:
            seg.synced_at = synced_at
            seg.device_id = meeting.device_id
            seg.updated_at = meeting.updated_at


def content_of(kind: str, obj: SyncedMixin) -> tuple[bool, dict[str, Any]]:
    """What a user would call the row's content: deleted or not, and its payload."""
    return obj.deleted_at is not None, serialize(kind, obj)


def same_content(kind: str, obj: SyncedMixin, remote: dict[str, Any]) -> bool:
    deleted, data = content_of(kind, obj)
    if deleted and remote["deleted"]:
        return True  # a tombstone carries no content: deleted on both sides is the same
    return deleted == bool(remote["deleted"]) and data == (remote.get("data") or {})


def meeting_id_of(kind: str, remote: dict[str, Any]) -> str | None:
    if kind == "meeting":
        return None
    return (remote.get("data") or {}).get("meeting_id")
