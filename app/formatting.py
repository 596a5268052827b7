"""How Recap writes times for people, the same in the CLI, the window and the exports.

Two kinds of time, two shapes: a length ("3:05", "1:02:03": how long a meeting or a recording
is; a running clock shows every field, "0:03:05", so it does not change width as it counts) and
a position in a recording ("03:05", "1:02:03": where a transcript line starts; zero-padded so
the lines of a transcript align). Dates are shown in the user's time zone, except where a text
says it is UTC. Imports nothing of Recap's.
"""

from __future__ import annotations

from datetime import datetime

NO_LENGTH = "—"


def _hms(seconds: int) -> tuple[int, int, int]:
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return hours, minutes, secs


def duration(seconds: float | None) -> str:
    """How long something lasts: "3:05", "1:02:03" (``NO_LENGTH`` when not known yet)."""
    if seconds is None:
        return NO_LENGTH
    hours, minutes, secs = _hms(int(round(seconds)))
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def running_clock(seconds: float) -> str:
    """Time elapsed while recording, every field shown: "0:03:05"."""
    hours, minutes, secs = _hms(int(seconds))
    return f"{hours}:{minutes:02d}:{secs:02d}"


def position(ms: int) -> str:
    """Where in a recording: "03:05", "1:02:03"."""
    hours, minutes, secs = _hms(max(0, ms) // 1000)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def subtitle_time(ms: int, *, separator: str = ",") -> str:
    """A subtitle cue time: "00:03:05,250" (SRT), or with "." (WebVTT)."""
    seconds, millis = divmod(max(0, ms), 1000)
    hours, minutes, secs = _hms(seconds)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def utc_minute(when: datetime) -> str:
    """A stored (UTC) time as stored, for text that says "UTC": "2026-11-25 10:00"."""
    return f"{when:%Y-%m-%d %H:%M}"


def local_minute(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def local_second(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def local_date_time(when: datetime) -> str:
    """For reading: "25 Nov 2026 10:00"."""
    return when.astimezone().strftime("%d %b %Y %H:%M")


def local_day(when: datetime) -> str:
    """Short, for lists: "25 Nov 2026"."""
    return when.astimezone().strftime("%d %b %Y")


def recent_time(when: datetime, now: datetime | None = None) -> str:
    """"14:05" today, "24 Nov 14:05" on another day."""
    local = when.astimezone()
    today = (now or datetime.now()).astimezone().date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")
