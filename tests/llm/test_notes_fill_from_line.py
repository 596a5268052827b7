"""What the model left out of an action item is read from the line it was grounded on.

``notes_from`` is where every engine's answer (Ollama, built-in, Claude) becomes notes, so
these answers are what a small model really writes: owner "" or "we", due "" although the
quote says "by Friday".
"""

from __future__ import annotations

from datetime import date

from app.llm.chunking import Chunk, Line
from app.llm.notes import notes_from
from app.llm.schemas import ChunkExtraction

MONDAY = date(2026, 3, 2)
SAID = [
    ("Priya", "Second topic, the budget. Marcus, can you send the revised budget by Friday?"),
    ("Marcus", "Yes, I will send it by Friday afternoon."),
    ("Dana", "It will be. I will finish the payment page by next Wednesday."),
    ("Priya", "Kwame, can you pull the export statistics?"),
    ("Kwame", "Yes, I'll have the numbers by Wednesday."),
    ("Marcus", "And I will update the onboarding guide before the next sprint starts."),
]
CHUNK = Chunk(0, tuple(Line(i, i * 5000, i * 5000 + 4500, text, who)
                       for i, (who, text) in enumerate(SAID)))


def items(*found: dict[str, str]) -> list[tuple[str, str, str, date | None, bool]]:
    answer = ChunkExtraction.model_validate({"action_items": list(found)})
    notes = notes_from(CHUNK, answer, "ollama:m", MONDAY)
    return [(i.text, i.owner, i.due_text, i.due_date, i.grounded) for i in notes.items]


def test_an_empty_owner_and_due_are_read_from_the_quoted_line() -> None:
    assert items(
        {"text": "Send the revised budget", "owner": "", "due": "",
         "quote": "Marcus, can you send the revised budget by Friday?"},
        {"text": "Finish the payment page", "owner": "None", "due": "None",
         "quote": "I will finish the payment page by next Wednesday."},
    ) == [("Send the revised budget", "Marcus", "Friday", date(2026, 3, 6), True),
          ("Finish the payment page", "Dana", "next Wednesday", date(2026, 3, 11), True)]


def test_an_owner_naming_nobody_is_replaced_and_a_named_one_kept() -> None:
    found = items(
        {"text": "Send the revised budget", "owner": "we", "due": "Friday",
         "quote": "Yes, I will send it by Friday afternoon."},
        {"text": "Send the revised budget", "owner": "Priya", "due": "Friday",
         "quote": "Marcus, can you send the revised budget by Friday?"})
    assert [owner for _, owner, *_ in found] == ["Marcus", "Priya"]  # the model's name stands


def test_a_request_without_a_date_takes_it_from_the_answer() -> None:
    for owner in ("", "Kwame"):  # inferred, or named by the model
        assert items({"text": "Pull the export statistics", "owner": owner, "due": "",
                      "quote": "Kwame, can you pull the export statistics?"}) == [
            ("Pull the export statistics", "Kwame", "Wednesday", date(2026, 3, 4), True)]


def test_a_deadline_the_quoted_words_do_not_say_gives_way_to_the_one_they_do() -> None:
    found = items(
        {"text": "Pull the numbers", "owner": "Kwame", "due": "3rd March",
         "quote": "Yes, I'll have the numbers by Wednesday."},
        # Said on another line (the line quoted has no date): the model's words stand.
        {"text": "Pull the export statistics", "owner": "Kwame", "due": "next month",
         "quote": "Kwame, can you pull the export statistics?"})
    assert [(due, when) for _, _, due, when, _ in found] == [
        ("Wednesday", date(2026, 3, 4)), ("next month", date(2026, 4, 30))]


def test_a_deadline_said_without_a_date_stays_undated() -> None:
    assert items({"text": "Update the onboarding guide", "owner": "", "due": "",
                  "quote": "And I will update the onboarding guide before the next sprint"}) == [
        ("Update the onboarding guide", "Marcus", "", None, True)]


def test_a_due_phrase_the_date_reader_misses_still_gets_its_date() -> None:
    assert items({"text": "Send the budget", "owner": "Marcus", "due": "Friday afternoon?",
                  "quote": "I will send it by Friday afternoon."})[0][2:4] == (
        "Friday afternoon?", date(2026, 3, 6))


def test_an_unverified_item_gets_nothing_from_the_transcript() -> None:
    assert items({"text": "Fire the vendor", "owner": "", "due": "",
                  "quote": "I will fire the vendor by Friday."}) == [
        ("Fire the vendor", "", "", None, False)]
