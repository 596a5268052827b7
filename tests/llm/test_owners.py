"""Owners read from the transcript when the model leaves them out: each rule, and no guesses.

Plain transcripts, no model: ``infer_owner`` gets the chunk's lines, the line the item's quote
was found on, the quote and the task.
"""

from __future__ import annotations

import pytest

from app.llm.chunking import Line
from app.llm.owners import infer_owner, names_nobody


def transcript(*said: str) -> list[Line]:
    """Lines written "Name: words" (or just "words" for a transcript with no speakers)."""
    lines = []
    for idx, text in enumerate(said):
        speaker, _, words = text.partition(": ") if ": " in text else ("", "", text)
        lines.append(Line(idx, idx * 5000, idx * 5000 + 4500, words, speaker))
    return lines


def owner(lines: list[Line], at: int, quote: str, task: str = "") -> tuple[str, str] | None:
    guess = infer_owner(lines, at, quote, task or quote)
    return (guess.name, guess.rule) if guess else None


SAMPLE = transcript(
    "Priya: Second topic, the budget. Marcus, can you send the revised budget by Friday?",
    "Marcus: Yes, I will send it by Friday afternoon.",
    "Dana: It will be. I will finish the payment page by next Wednesday.",
    "Priya: Dana, could you book a call with Northwind on Tuesday?",
    "Marcus: I can look into the alerts next sprint.",
    "Dana: Let me check the contract first.",
    "Priya: Would you update the onboarding guide before the sprint, Marcus?",
)


@pytest.mark.parametrize(("at", "quote", "expected"), [
    (0, "Marcus, can you send the revised budget by Friday?", ("Marcus", "addressed")),
    (3, "Dana, could you book a call with Northwind on Tuesday?", ("Dana", "addressed")),
    (6, "update the onboarding guide before the sprint, Marcus?", ("Marcus", "addressed")),
    (1, "Yes, I will send it by Friday afternoon.", ("Marcus", "speaker")),
    (2, "I will finish the payment page by next Wednesday.", ("Dana", "speaker")),
    (4, "I can look into the alerts next sprint.", ("Marcus", "speaker")),
    (5, "Let me check the contract first.", ("Dana", "speaker")),
])
def test_each_rule_names_the_person_who_took_the_task(
        at: int, quote: str, expected: tuple[str, str]) -> None:
    assert owner(SAMPLE, at, quote) == expected


def test_names_in_any_alphabet() -> None:
    lines = transcript("Søren: José, can you send the slides?", "Zoë-Anne: I'll book the room.")
    assert owner(lines, 0, "José, can you send the slides?") == ("José", "addressed")
    assert owner(lines, 1, "I'll book the room.") == ("Zoë-Anne", "speaker")
    lowercase = transcript("Søren: josé, can you send the slides?")
    assert owner(lowercase, 0, "josé, can you send the slides?") is None


def test_a_quote_with_its_speaker_label_still_reads_the_line() -> None:
    assert owner(SAMPLE, 2, "Dana: I will finish the payment page") == ("Dana", "speaker")


def test_an_unlabelled_yes_answers_the_person_asked_on_the_line_before() -> None:
    lines = transcript("Okay. Dana, could you book a call with Northwind on Tuesday?",
                       "Sure, I will book it for Tuesday morning.")
    assert owner(lines, 1, "Sure, I will book it for Tuesday morning.") == ("Dana", "reply")
    # Without speaker labels, a request still names its person.
    assert owner(lines, 0, "Dana, could you book a call") == ("Dana", "addressed")


def test_when_the_quote_holds_two_people_the_task_decides() -> None:
    lines = transcript("Hannah: Yes. Jonas, could you draft that email by Thursday? "
                       "I'll review it.")
    quote = "Jonas, could you draft that email by Thursday? I'll review it."
    assert owner(lines, 0, quote, "Draft that email to the customers") == ("Jonas", "addressed")
    assert owner(lines, 0, quote, "Review it") == ("Hannah", "speaker")
    # Only the quoted sentence counts: the "I'll review it" after it is someone else's task.
    assert owner(lines, 0, "Jonas, could you draft that email by Thursday?") == (
        "Jonas", "addressed")


def test_a_quote_the_line_does_not_hold_says_nothing_about_who() -> None:
    # Grounding can place a half-invented quote on the line before the one it resembles.
    lines = transcript("Dana: Sure, I will book it for Tuesday morning.",
                       "Marcus: One more thing. The customer survey results came in yesterday.")
    assert owner(lines, 0, "Priya: Marcus, one more thing. The customer survey results came",
                 "Update the onboarding guide") is None


@pytest.mark.parametrize(("said", "quote"), [
    ("Lena: We will ship the fix next week.", "We will ship the fix next week."),
    ("Lena: Let's ship the fix next week.", "Let's ship the fix next week."),
    ("Lena: Let me know by Friday if it works.", "Let me know by Friday"),
    ("Lena: I can't make the review on Friday.", "I can't make the review on Friday."),
    ("Lena: I will not have time for the report.", "I will not have time for the report."),
    ("Lena: Okay, can you send the report by Friday?", "can you send the report by Friday"),
    ("Lena: Great, thanks Omar.", "Great, thanks Omar."),
    ("Lena: Honestly, could you imagine that?", "Honestly, could you imagine that?"),
    ("Lena: Omar, can you check the logs, and I'll send the report.", "check the logs"),
    ("Speaker 1: I will send the report by Friday.", "I will send the report by Friday."),
    ("I will send the report by Friday.", "I will send the report by Friday."),  # who said it?
])
def test_no_guess_when_the_line_does_not_say_who(said: str, quote: str) -> None:
    lines = transcript("Omar: Hello everyone.", said)
    assert owner(lines, 1, quote) is None


def test_a_request_with_no_speakers_known_is_read_but_a_greeting_is_not() -> None:
    lines = transcript("Okay, can you send the report by Friday?",
                       "Thanks, I will send it on Monday.")
    assert owner(lines, 0, "can you send the report by Friday") is None
    assert owner(lines, 1, "I will send it on Monday.") is None  # nobody was asked by name


def test_owners_that_name_nobody_may_be_replaced() -> None:
    for nobody in ("", "we", "We", "the team", "Team", "everyone", "I", "unassigned"):
        assert names_nobody(nobody), nobody
    for person in ("Priya", "Marcus Lee", "Dana and Marcus"):
        assert not names_nobody(person), person
