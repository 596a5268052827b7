"""Export a meeting as Markdown, plain text, subtitles (SRT/VTT) or JSON.

Pure functions of a ``MeetingDetail``; light (no SQLAlchemy), so the CLI prints with them too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.errors import InvalidInput
from app.formatting import position, subtitle_time, utc_minute

if TYPE_CHECKING:
    from app.store.queries import MeetingDetail

FORMATS = ("md", "txt", "srt", "vtt", "json")


def item_line(item: Any) -> str:
    parts = [item.text]
    if item.owner:
        parts.append(f"owner: {item.owner}")
    if item.due_date:
        parts.append(f"due {item.due_date.isoformat()}")
    elif item.due_text:
        parts.append(f"due {item.due_text}")
    line = " — ".join(parts)
    if not item.grounded:
        line += " (unverified: quote not found in the transcript)"
    return line


def to_markdown(d: MeetingDetail) -> str:
    out = [f"# {d.row.title}", "", f"*{utc_minute(d.row.occurred_at)} UTC*", ""]
    if d.summary:
        out += ["## Summary", "", d.summary, ""]
    if d.decisions:
        out += ["## Decisions", ""] + [f"- {x}" for x in d.decisions] + [""]
    if d.action_items:
        out += ["## Action items", ""]
        for item in d.action_items:
            box = "x" if item.done else " "
            out.append(f"- [{box}] {item_line(item)}")
            if item.quote:
                stamp = f"[{position(item.quote_start_ms)}] " if item.quote_start_ms else ""
                out.append(f"  > {stamp}{item.quote}")
        out.append("")
    if d.email:
        out += ["## Follow-up email (draft)", "", f"**Subject:** {d.email.subject}", "",
                d.email.body, ""]
    out += ["## Transcript", ""]
    out += [f"**[{position(s.start_ms)}]** {s.text}  " for s in d.segments]
    return "\n".join(out).rstrip() + "\n"


def to_text(d: MeetingDetail) -> str:
    out = [d.row.title, ""]
    if d.summary:
        out += ["Summary:", d.summary, ""]
    if d.decisions:
        out += ["Decisions:"] + [f"  - {x}" for x in d.decisions] + [""]
    if d.action_items:
        out += ["Action items:"] + [f"  - {item_line(i)}" for i in d.action_items] + [""]
    out += ["Transcript:"] + [f"[{position(s.start_ms)}] {s.text}" for s in d.segments]
    return "\n".join(out) + "\n"


def to_srt(d: MeetingDetail) -> str:
    blocks = [f"{n}\n{subtitle_time(s.start_ms)} --> {subtitle_time(s.end_ms)}\n{s.text}\n"
              for n, s in enumerate(d.segments, start=1)]
    return "\n".join(blocks)


def to_vtt(d: MeetingDetail) -> str:
    blocks = [f"{subtitle_time(s.start_ms, separator='.')} --> "
              f"{subtitle_time(s.end_ms, separator='.')}\n{s.text}\n"
              for s in d.segments]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_json(d: MeetingDetail) -> str:
    data = asdict(d)
    data["meeting"] = data.pop("row")
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False) + "\n"


EXPORTERS: dict[str, Callable[[MeetingDetail], str]] = {
    "md": to_markdown, "txt": to_text, "srt": to_srt, "vtt": to_vtt, "json": to_json,
}


def export(d: MeetingDetail, fmt: str) -> str:
    try:
        return EXPORTERS[fmt](d)
    except KeyError:
        raise InvalidInput(f"Unknown format {fmt!r}.",
                           f"Choose one of {', '.join(FORMATS)}.") from None
