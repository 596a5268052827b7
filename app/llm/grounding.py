"""Is an extracted action item backed by the transcript? Find its quote, take its time.

The quote must be found (fuzzily: speech-to-text and the model both vary punctuation and
small words) inside the chunk it was extracted from, and any time the model gave must lie in
that chunk. The stored timestamp is the start of the transcript line where the quote was
found, never the model's guess. Items that fail are kept but flagged, never shown as fact.

A quote can be real words from the wrong line: a small model quoted "We also need a new hosting
provider" for "send the revised budget". When the quoted line shares no content word with the
task, the line of the chunk that says the task (most content words in common) is taken
instead, quote and time; if no line says it, the quote stands as found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from app.llm.chunking import Chunk

MATCH_THRESHOLD = 85.0
MIN_QUOTE_CHARS = 8
_TIME_SLACK_MS = 1000
_NON_WORD = re.compile(r"[^\w]+")
_CLOCK = re.compile(r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})")
_WORD = re.compile(r"[^\W\d_]+")
# Words that say nothing about which task a line is about.
_FILLER = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "so", "of", "to", "in", "on", "at", "by", "for",
    "from", "with", "about", "into", "onto", "over", "after", "before", "until", "than", "then",
    "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done",
    "have", "has", "had", "will", "would", "shall", "should", "can", "could", "may", "might",
    "must", "need", "needs", "needed", "let", "lets", "i", "me", "my", "we", "us", "our", "you",
    "your", "he", "him", "his", "she", "her", "it", "its", "they", "them", "their", "this", "that",
    "these", "those", "there", "here", "what", "which", "who", "whom", "whose", "when", "where",
    "why", "how", "all", "any", "some", "each", "every", "no", "not", "yes", "ok", "okay",
    "please", "sure", "also", "just", "too", "very", "really", "more", "most", "next", "last",
    "one", "thing", "things", "get", "got", "make", "made", "go", "going", "gonna", "want",
    "wants",
})
_STEM_CHARS = 5  # "booking"/"book", "finished"/"finish": compare the first letters only
_RELATED_WORDS = 2
# Small models often quote a line with its label ("Mei: I will ...", "[03:12] ..."); matched
# as-is, the label pulls the alignment into the line before, and the timestamp with it.
_LABEL = re.compile(r"^\s*(?:\[[\d:.]+\]\s*)?(?:[A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?:\s+)?")


@dataclass(frozen=True)
class Grounding:
    grounded: bool
    start_ms: int | None
    score: float
    reason: str = ""  # why not grounded, for the log and the "unverified" label
    quote: str = ""  # the words kept as the quote: the transcript line's when re-grounded


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def content_words(text: str) -> set[str]:
    """What a line or a task is about: its words minus filler, cut to a common stem."""
    words = (w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _FILLER)
    return {w[:_STEM_CHARS] for w in words}


def parse_clock(text: str) -> int | None:
    match = _CLOCK.search(text or "")
    if not match:
        return None
    hours = int(match.group(1) or 0)
    return ((hours * 60 + int(match.group(2))) * 60 + int(match.group(3))) * 1000


class ChunkIndex:
    """The chunk's text normalised once, with where each line starts in it."""

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        parts: list[str] = []
        self.offsets: list[int] = []
        position = 0
        for line in chunk.lines:
            self.offsets.append(position)
            text = normalise(line.text)
            parts.append(text)
            position += len(text) + 1
        self.text = " ".join(parts)

    def line_at(self, offset: int) -> int:
        """Index (within the chunk) of the line containing character ``offset``."""
        low, high = 0, len(self.offsets) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.offsets[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low

    def line_saying(self, task: str) -> int | None:
        """The chunk line sharing the most content words with ``task``, if it shares enough."""
        wanted = content_words(task)
        if not wanted:
            return None
        enough = min(_RELATED_WORDS, len(wanted))
        shared = [len(wanted & content_words(line.text)) for line in self.chunk.lines]
        best = max(range(len(shared)), key=lambda n: (shared[n], -n), default=None)
        return best if best is not None and shared[best] >= enough else None

    def ground(self, quote: str, time_text: str = "", task: str = "") -> Grounding:
        """Where ``quote`` was said; ``task`` (the item's text) moves it to the line saying
        the task when the quoted line is about something else."""
        said = " ".join(quote.split())
        needle = normalise(_LABEL.sub("", quote, count=1))
        if len(needle) < MIN_QUOTE_CHARS:
            return Grounding(False, None, 0.0, "no quote given", said)
        alignment = fuzz.partial_ratio_alignment(needle, self.text)
        if alignment is None or alignment.score < MATCH_THRESHOLD:
            score = alignment.score if alignment else 0.0
            return Grounding(False, None, score, "quote not found in the transcript", said)
        # Skip a leading space the alignment may include, then map to the line.
        line = self.chunk.lines[self.line_at(alignment.dest_start + 1)]
        task_words = content_words(task)
        if task_words and not task_words & content_words(line.text + " " + said):
            better = self.line_saying(task)
            if better is not None:
                line = self.chunk.lines[better]
                said = " ".join(line.text.split())
        said_at = parse_clock(time_text)
        if said_at is not None and not (
            self.chunk.start_ms - _TIME_SLACK_MS <= said_at <= self.chunk.end_ms + _TIME_SLACK_MS
        ):
            return Grounding(False, line.start_ms, alignment.score,
                             "timestamp outside the part of the meeting it came from", said)
        return Grounding(True, line.start_ms, alignment.score, "", said)
