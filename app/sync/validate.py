"""Checks a row from the server before it touches the local database.

The server stores each payload as JSON, written by any client of any version (or by hand):
a field of the wrong type ("next tuesday" as a meeting's date) used to raise on every round,
so the pull position never moved and later rows never arrived. Each row is checked here
against the local columns' types (unknown fields are ignored: a newer client may add some),
and a row that fails is set aside by the engine while the rest go in.

Error texts name fields and rules, never the values: they are stored and may be logged.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)
from sqlalchemy import JSON, Boolean, Date, Float, Integer, inspect
from sqlalchemy.types import TypeEngine

from app.store.models import UTCDateTime
from app.sync.payload import KINDS, SEGMENT_FIELDS, parse_time


def _uuid(text: str) -> str:
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValueError("not a UUID") from None
    return text


def _aware_time(text: str) -> str:
    try:
        stamp = parse_time(text)
    except ValueError:
        raise ValueError("not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        raise ValueError("an ISO 8601 time without its offset")
    return text


def _iso_date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 date") from None
    return text


Id = Annotated[StrictStr, AfterValidator(_uuid)]
IsoTime = Annotated[StrictStr, AfterValidator(_aware_time)]
IsoDate = Annotated[StrictStr, AfterValidator(_iso_date)]


class _Segment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    idx: StrictInt = Field(ge=0)
    start_ms: StrictInt = Field(ge=0)
    end_ms: StrictInt = Field(ge=0)
    text: StrictStr
    speaker: StrictStr


assert set(_Segment.model_fields) == set(SEGMENT_FIELDS)


def _json_type(column_type: TypeEngine[Any]) -> Any:
    if isinstance(column_type, UTCDateTime):
        return IsoTime
    if isinstance(column_type, Date):
        return IsoDate
    if isinstance(column_type, Boolean):
        return StrictBool
    if isinstance(column_type, Integer):
        return StrictInt
    if isinstance(column_type, Float):
        return StrictFloat | StrictInt
    if isinstance(column_type, JSON):
        return list[Any] | dict[str, Any]
    return StrictStr


def _payload_model(kind: str) -> type[BaseModel]:
    """Every field optional (a payload may carry some), typed as its local column."""
    fields: dict[str, Any] = {}
    for attr in inspect(KINDS[kind]).column_attrs:
        column = attr.columns[0]
        wanted = _json_type(column.type)
        if column.nullable:
            wanted = wanted | None
        fields[attr.key] = (wanted, None)
    if kind == "meeting":
        fields["segments"] = (list[_Segment], None)
    model: type[BaseModel] = create_model(
        f"{kind.title().replace('_', '')}Payload",
        __config__=ConfigDict(extra="ignore"), **fields)
    return model


_PAYLOADS = {kind: _payload_model(kind) for kind in KINDS}


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    kind: Literal["meeting", "action_item", "email_draft"]
    version: StrictInt = Field(gt=0)
    seq: StrictInt = Field(ge=0)
    updated_at: IsoTime
    device_id: StrictStr
    deleted: StrictBool
    overridden: list[tuple[StrictInt, StrictInt]] = []
    data: dict[str, Any]


class Unusable(Exception):
    """A pulled row that cannot be applied here; the message names fields, not values."""


def check_row(row: object) -> dict[str, Any]:
    """The row, if it can be applied as it is; raises ``Unusable`` saying why not."""
    if not isinstance(row, dict):
        raise Unusable("not a JSON object")
    try:
        envelope = _Envelope.model_validate(row)
        if not envelope.deleted:
            payload = _PAYLOADS[envelope.kind].model_validate(envelope.data)
            if envelope.kind != "meeting" and getattr(payload, "meeting_id", None) is None:
                raise Unusable("data.meeting_id: missing")
            if envelope.kind == "meeting":
                _check_segments(payload)
    except ValidationError as exc:
        raise Unusable(describe(exc)) from None
    return row


def _check_segments(payload: Any) -> None:
    segments = payload.segments or []
    if len({s.id for s in segments}) != len(segments):
        raise Unusable("data.segments: an id appears twice")
    if len({s.idx for s in segments}) != len(segments):
        raise Unusable("data.segments: a position (idx) appears twice")


def describe(exc: BaseException) -> str:
    """One line about what was wrong, naming fields and rules but no values."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors(include_input=False, include_url=False)[:3]:
            where = ".".join(str(part) for part in error["loc"] if not str(part).startswith(
                ("function-after", "union")))
            parts.append(f"{where}: {error['msg']}")
        more = len(exc.errors()) - len(parts)
        return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    orig = getattr(exc, "orig", None)  # a database error: its driver's message, no statement
    if orig is not None:
        return f"{type(orig).__name__}: {orig}"
    if isinstance(exc, Unusable):
        return str(exc)
    return type(exc).__name__

