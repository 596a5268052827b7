"""Deadlines read from what was said, dated against the meeting day (a Monday here)."""

from __future__ import annotations

from datetime import date

import pytest

from app.llm.due_phrases import date_phrase, find_due

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(("said", "phrase", "when"), [
    ("Can you send the revised budget to the finance team by Friday?", "Friday",
     date(2026, 3, 6)),
    ("I will finish the payment page by next Wednesday.", "next Wednesday", date(2026, 3, 11)),
    ("Sure, I will book it for Tuesday morning.", "Tuesday morning", date(2026, 3, 3)),
    ("I will patch it and deploy the fix by tomorrow evening.", "tomorrow evening",
     date(2026, 3, 3)),
    ("Please file a ticket today so it gets triaged.", "today", MONDAY),
    ("I'll file it this afternoon.", "this afternoon", MONDAY),
    ("I will share it with everyone by the end of the month.", "the end of the month",
     date(2026, 3, 31)),
    ("A design proposal by the end of next week.", "the end of next week", date(2026, 3, 13)),
    ("I will recruit eight more customers by the fifteenth of June.", "the fifteenth of June",
     date(2026, 6, 15)),
    ("Let's aim for June 3rd.", "June 3rd", date(2026, 6, 3)),
    ("I'll have it done in two weeks.", "in two weeks", date(2026, 3, 16)),
    ("I will ask finance to approve it this week.", "this week", date(2026, 3, 6)),
])
def test_a_deadline_in_the_words_is_found_and_dated(said: str, phrase: str, when: date) -> None:
    assert find_due(said, MONDAY) == (phrase, when)


@pytest.mark.parametrize("said", [
    "And I will update the onboarding guide before the next sprint starts.",
    "I can look into that next sprint.",
    "I may first ask Dana about it.",  # "may first" is not the first of May
    "We talked to five customers last month.",
    "",
])
def test_no_date_when_none_was_said(said: str) -> None:
    assert find_due(said, MONDAY) is None


def test_a_phrase_the_date_reader_does_not_know_is_dated_by_its_day() -> None:
    assert date_phrase("tomorrow evening", MONDAY) == date(2026, 3, 3)
    assert date_phrase("the twenty-first of March", MONDAY) == date(2026, 3, 21)
    assert date_phrase("next sprint", MONDAY) is None
