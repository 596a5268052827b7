"""Turn a deadline as said ("by Friday", "end of the month", "tomorrow") into a date.

Resolved against the day the meeting took place, not today: notes made from an old recording
keep the dates the people meant. Anything not understood stays as text with no date.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_FILLER = re.compile(r"\b(by|on|before|until|till|due|the|of|at|latest|no later than)\b")
_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th)\b")


def _next_weekday(after: date, weekday: int) -> date:
    """The first such weekday strictly after ``after``."""
    ahead = (weekday - after.weekday()) % 7 or 7
    return after + timedelta(days=ahead)


def _month_day(meeting: date, month: int, day: int) -> date | None:
    for year in (meeting.year, meeting.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= meeting:
            return candidate
    return None


def resolve_due(text: str, meeting: date) -> date | None:
    raw = text.strip().lower()
    if not raw or raw in {"none", "null", "n/a", "unknown", "tbd", "-"}:
        return None
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", raw)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    phrase = " ".join(_FILLER.sub(" ", _ORDINAL.sub(r"\1", raw)).replace(",", " ").split())

    if phrase in {"today", "tonight", "end day", "eod", "this afternoon", "this evening"}:
        return meeting
    if phrase in {"tomorrow", "tomorrow morning", "tomorrow afternoon"}:
        return meeting + timedelta(days=1)
    if phrase in {"end week", "this week", "end this week", "eow"}:
        friday = meeting + timedelta(days=4 - meeting.weekday())
        return friday if friday >= meeting else _next_weekday(meeting, 4)
    if phrase in {"next week", "end next week"}:
        return meeting + timedelta(days=4 - meeting.weekday() + 7)
    if phrase in {"end month", "this month", "end this month", "eom"}:
        return date(meeting.year, meeting.month,
                    calendar.monthrange(meeting.year, meeting.month)[1])
    if phrase in {"next month", "end next month"}:
        year, month = (meeting.year + 1, 1) if meeting.month == 12 else (
            meeting.year, meeting.month + 1)
        return date(year, month, calendar.monthrange(year, month)[1])

    relative = re.fullmatch(r"in (\d+|\w+) (day|days|week|weeks)", phrase)
    if relative:
        count_text = relative.group(1)
        count = int(count_text) if count_text.isdigit() else _NUMBERS.get(count_text)
        if count is None:
            return None
        days = count * (7 if relative.group(2).startswith("week") else 1)
        return meeting + timedelta(days=days)

    weekday = re.fullmatch(r"(next |this |coming )?(\w+?)(?: morning| afternoon| evening)?",
                           phrase)
    if weekday and weekday.group(2) in _WEEKDAYS:
        target = _next_weekday(meeting, _WEEKDAYS.index(weekday.group(2)))
        same_week = target.isocalendar()[1] == meeting.isocalendar()[1]
        if weekday.group(1) == "next " and same_week:
            target += timedelta(days=7)
        return target

    month_first = re.fullmatch(r"(\w+) (\d{1,2})", phrase)
    day_first = re.fullmatch(r"(\d{1,2}) (\w+)", phrase)
    if month_first and month_first.group(1) in _MONTHS:
        return _month_day(meeting, _MONTHS[month_first.group(1)], int(month_first.group(2)))
    if day_first and day_first.group(2) in _MONTHS:
        return _month_day(meeting, _MONTHS[day_first.group(2)], int(day_first.group(1)))
    return None
