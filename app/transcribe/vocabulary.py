"""The words a meeting is likely to contain that Whisper would not spell on its own.

People's names and the words of the user's work (product names, acronyms) come from settings;
each meeting can add its own (the participants of a calendar event, a project's terms). Whisper
takes them as its initial prompt: text it believes came just before the audio, so it leans
towards those spellings. The prompt has a hard limit (half the text context: 223 tokens, and
whisper.cpp silently keeps only the end of a longer one), and every prompt token is decoded
again for each 30 s window, so the prompt is kept short and the most relevant words go in
first: this meeting's own, then people, then work words. The same ranked list is what the notes
stage uses to spell names right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Well inside Whisper's limit: a longer prompt costs decoding time on every window and, past a
# few dozen words, makes Whisper start writing the prompt's words where they were not said.
PROMPT_TOKEN_BUDGET = 96
_PREFIX = "Names and terms:"

TokenCounter = Callable[[str], int]


def rough_token_count(text: str) -> int:
    """An overestimate of Whisper's token count for when no model is loaded: unusual names
    split into short pieces, about 2.5 characters each."""
    return sum(max(1, math.ceil(len(word) / 2.5)) for word in text.split())


def _clean(words: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for raw in words:
        word = " ".join(str(raw).replace(",", " ").split())
        if word and word.lower() not in seen:
            seen.add(word.lower())
            out.append(word)
    return out


@dataclass(frozen=True)
class Vocabulary:
    meeting: tuple[str, ...] = ()  # this meeting's additions: the most relevant
    people: tuple[str, ...] = ()  # names from settings
    terms: tuple[str, ...] = ()  # work words from settings

    def ranked(self) -> list[str]:
        """Every word once (the first spelling wins, case aside), most relevant first."""
        return _clean([*self.meeting, *self.people, *self.terms])

    def with_meeting(self, words: Iterable[str]) -> Vocabulary:
        return Vocabulary(tuple(words), self.people, self.terms)

    def __bool__(self) -> bool:
        return bool(self.ranked())


def prompt_for(
    words: Iterable[str], count_tokens: TokenCounter = rough_token_count,
    budget: int = PROMPT_TOKEN_BUDGET,
) -> str:
    """Whisper's initial prompt for `words` (ranked), as many as fit `budget` tokens; "" if none.

    A word that does not fit is skipped, so a shorter, less relevant one may still go in."""
    chosen: list[str] = []
    for word in _clean(words):
        candidate = f"{_PREFIX} {', '.join([*chosen, word])}."
        if count_tokens(candidate) <= budget:
            chosen.append(word)
    return f"{_PREFIX} {', '.join(chosen)}." if chosen else ""
