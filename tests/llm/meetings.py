"""Synthetic meetings: hours of filler talk with a few commitments planted at known times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.llm.chunking import Line

SPEAKERS = ["Ana", "Ben", "Chloe", "Dev"]
FILLER = [
    "Let us look at the numbers for the last quarter before we move on to the roadmap.",
    "The customer interviews mostly confirmed what we already suspected about onboarding.",
    "I think the dashboard is fine for now, although the loading time could be better.",
    "Support tickets went down a little after the last release, which is encouraging.",
    "We should keep an eye on the hiring plan, it affects the timeline for the autumn.",
    "There was a question about the budget for the conference, nothing urgent though.",
]


@dataclass(frozen=True)
class Planted:
    at_ms: int
    speaker: str
    said: str
    task: str
    due: str


def commitments(duration_ms: int) -> list[Planted]:
    spots = [0.05, 0.31, 0.58, 0.93]
    said = [("Ben", "I will send the revised budget to finance by Friday.",
             "Send the revised budget to finance", "Friday"),
            ("Chloe", "I'll book the venue for the offsite by next Monday.",
             "Book the venue for the offsite", "next Monday"),
            ("Dev", "I will fix the login timeout bug by tomorrow.",
             "Fix the login timeout bug", "tomorrow"),
            ("Ana", "I'll write up the hiring plan for the board.",
             "Write up the hiring plan for the board", "")]
    return [Planted(int(duration_ms * spot) // 5000 * 5000, who, text, task, due)
            for spot, (who, text, task, due) in zip(spots, said, strict=True)]


def synthetic_meeting(duration_s: int, extra: dict[int, tuple[str, str]] | None = None,
                      step_ms: int = 5000) -> tuple[list[Line], list[Planted]]:
    """One segment every ``step_ms``; the planted commitments replace the filler at their time."""
    duration_ms = duration_s * 1000
    planted = commitments(duration_ms)
    by_time = {p.at_ms: (p.speaker, p.said) for p in planted}
    by_time.update(extra or {})
    lines = []
    for number, start in enumerate(range(0, duration_ms, step_ms)):
        speaker, text = by_time.get(start, (SPEAKERS[number % 4], FILLER[number % len(FILLER)]))
        lines.append(Line(number, start, start + step_ms - 200, text, speaker))
    return lines, planted


MEETING_DAY = datetime(2026, 11, 25, 10, 0)  # a Wednesday
