"""Find a deadline phrase inside words someone said ("... by next Wednesday?") and date it.

Small models often leave ``due`` empty although the quoted line says "by Friday", or write a
phrase the date reader does not know ("tomorrow evening"). This finds the first deadline-like
phrase in the text and dates it with :func:`app.llm.dates.resolve_due`, against the meeting
day. Only phrases that resolve to a date are returned: "before the next sprint" is no guess.
"""

from __future__ import annotations

import re
from datetime import date

from app.llm.dates import resolve_due

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|"
          r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)")
_PART_OF_DAY = r"(?: (?:morning|afternoon|evening|night))"
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "twenty-first": 21, "twenty first": 21,
    "twenty-second": 22, "twenty second": 22, "twenty-third": 23, "twenty third": 23,
    "twenty-fourth": 24, "twenty fourth": 24, "twenty-fifth": 25, "twenty fifth": 25,
    "twenty-sixth": 26, "twenty sixth": 26, "twenty-seventh": 27, "twenty seventh": 27,
    "twenty-eighth": 28, "twenty eighth": 28, "twenty-ninth": 29, "twenty ninth": 29,
    "thirtieth": 30, "thirty-first": 31, "thirty first": 31,
}
# Longest first, so "twenty-first" is read before "first".
_ORDINAL = "|".join(sorted((re.escape(w) for w in _ORDINAL_WORDS), key=len, reverse=True))
_DAY_OF_MONTH = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL})"

_PHRASE = re.compile(
    r"\b(?:"
    r"\d{4}-\d{2}-\d{2}"
    rf"|(?:the )?end of (?:the |this |next )?(?:day|week|month)"
    rf"|(?:next |this |coming )?{_DAY}{_PART_OF_DAY}?"
    rf"|tomorrow{_PART_OF_DAY}?|today|tonight|this (?:afternoon|evening)"
    r"|(?:this|next) (?:week|month)"
    r"|in (?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten) (?:days?|weeks?)"
    # Month first takes digits or "the fifteenth": "I may first ask" is no date.
    rf"|{_MONTH} (?:(?:the )?\d{{1,2}}(?:st|nd|rd|th)?|the (?:{_ORDINAL}))"
    rf"|(?:the )?{_DAY_OF_MONTH} (?:of )?{_MONTH}"
    r")\b",
    re.IGNORECASE)
# The date reader knows "tomorrow morning" but not every part of the day; the day is the same.
_TRAILING_PART_OF_DAY = re.compile(rf"{_PART_OF_DAY}$", re.IGNORECASE)


def _with_digits(phrase: str) -> str:
    """ "the fifteenth of June" -> "the 15 of June": the date reader wants digits."""
    return re.sub(_ORDINAL, lambda m: str(_ORDINAL_WORDS[m.group(0).lower()]), phrase,
                  flags=re.IGNORECASE)


def date_phrase(phrase: str, meeting_day: date) -> date | None:
    """The date a deadline phrase means, or None."""
    readable = _with_digits(phrase)
    return resolve_due(readable, meeting_day) or resolve_due(
        _TRAILING_PART_OF_DAY.sub("", readable), meeting_day)


def find_due(text: str, meeting_day: date) -> tuple[str, date] | None:
    """The first deadline phrase in ``text`` that dates, as said, with its date."""
    for match in _PHRASE.finditer(text):
        when = date_phrase(match.group(0), meeting_day)
        if when is not None:
            return match.group(0), when
    return None
