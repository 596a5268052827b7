"""A real quote from the wrong line is moved to the line that says the task.

The answers here are what Qwen 1.5B wrote on the bundled sample: the budget task quoted with
"We also need a new hosting provider", so it was placed on Dana's line and got no owner.
"""

from __future__ import annotations

from datetime import date

from app.llm.chunking import Chunk, Line
from app.llm.grounding import ChunkIndex
from app.llm.notes import notes_from
from app.llm.schemas import ChunkExtraction

MONDAY = date(2026, 3, 2)
SAID = [
    ("Priya", "Second topic, the budget. Marcus, can you send the revised budget to the "
              "finance team by Friday?"),
    ("Marcus", "Yes, I will send it by Friday afternoon."),
    ("Dana", "We also need a new hosting provider. The current one is too expensive."),
    ("Priya", "Dana, could you book a call with Northwind on Tuesday to discuss the contract?"),
    ("Dana", "Sure, I will book it for Tuesday morning."),
    ("Marcus", "One more thing. The customer survey results came in yesterday."),
]
CHUNK = Chunk(0, tuple(Line(i, i * 5000, i * 5000 + 4500, text, who)
                       for i, (who, text) in enumerate(SAID)))


def test_a_quote_unrelated_to_its_task_moves_to_the_line_saying_the_task() -> None:
    found = ChunkIndex(CHUNK).ground("We also need a new hosting provider", "",
                                     "Send the revised budget to the finance team")
    assert found.grounded and found.start_ms == 0
    assert found.quote.startswith("Second topic, the budget.")


def test_a_related_quote_stays_where_it_was_said() -> None:
    # The reply shares "book" and "Tuesday" with the task: it is the agreement, not a mistake.
    found = ChunkIndex(CHUNK).ground("Sure, I will book it for Tuesday morning.", "",
                                     "Book a call with Northwind on Tuesday")
    assert found.grounded and found.start_ms == 20_000
    assert found.quote == "Sure, I will book it for Tuesday morning."


def test_an_unrelated_quote_with_no_line_saying_the_task_stays_as_found() -> None:
    found = ChunkIndex(CHUNK).ground("We also need a new hosting provider", "",
                                     "Renew the office lease")
    assert found.grounded and found.start_ms == 10_000
    assert found.quote == "We also need a new hosting provider"


def test_the_moved_item_gets_its_owner_and_due_date_from_the_right_line() -> None:
    answer = ChunkExtraction.model_validate({"action_items": [
        {"text": "Send the revised budget to the finance team", "owner": "", "due": "",
         "quote": "We also need a new hosting provider"}]})
    [item] = notes_from(CHUNK, answer, "builtin:qwen", MONDAY).items
    assert item.grounded and item.quote_start_ms == 0
    assert item.owner == "Marcus"
    assert item.due_date == date(2026, 3, 6)  # "by Friday", from Priya's request
