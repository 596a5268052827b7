"""Keep text Whisper made up out of a transcript: non-speech tags, stock phrases, loops.

Whisper was trained on subtitles. Given silence, noise or music it falls back on what subtitles
say there ("Thank you.", "Thanks for watching!", "Subtitles by the Amara.org community"), and
when decoding goes wrong it repeats itself ("I will send it. I will send it. I will send it.").
Skipping non-speech before the engine (app/transcribe/vad.py) removes most of the cause; this
removes what still gets through, one segment at a time as segments arrive:

- tags for non-speech ("[BLANK_AUDIO]", "(music)", "*applause*") and music symbols;
- subtitle credits, always: nobody says "Subtitles by the Amara.org community" in a meeting;
- stock closing phrases ("Thank you.", "Bye.") only when Whisper itself was unsure of them:
  people do say "Thank you." in meetings, and then Whisper hears it clearly;
- a phrase repeated over and over inside a segment becomes one occurrence;
- a segment that repeats the one before it word for word is dropped (the second time for a
  sentence of three words or more, the third time for shorter ones: "Yes." "Yes." is a
  conversation, "Yes." "Yes." "Yes." from one stretch of audio is a loop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_SPEECH = re.compile(r"^\s*(\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫\s.]+)\s*$")
# A whole short segment that is a subtitle credit ("Subtitles by the Amara.org community").
_CREDITS = re.compile(
    r"^\W*((subtitles?|captions?|transcription|subbed|synced|translated|transcribed)\s+by\b"
    r"|.*amara\.org)",
    re.IGNORECASE,
)
_CREDIT_MAX_WORDS = 10
_STOCK = {
    "thank you", "thank you very much", "thanks", "thank you so much", "bye", "bye bye",
    "goodbye", "you", "so", "okay", "oh", "uh", "um", "hmm", "the end", "thanks for listening",
    "thank you for listening", "see you next time", "i'm sorry", "thanks for watching",
    "thank you for watching", "please subscribe", "like and subscribe",
}
UNSURE = 0.5  # a segment whose mean word probability is lower is one Whisper was unsure of


@dataclass(frozen=True)
class Word:
    """One word as Whisper wrote it (`text` with its leading space, if any) and how sure it was
    (the lowest probability among its tokens, 0..1)."""

    text: str
    p: float


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _collapse_loops(words: list[Word]) -> list[Word]:
    """Any run of a 1..12-word phrase repeated back to back becomes one occurrence (runs of
    three or more; four or more for single words, since people do say "no, no, no")."""
    keys = [normalised(w.text) for w in words]
    n_max = min(12, len(words) // 3)
    i = 0
    out: list[Word] = []
    while i < len(words):
        collapsed = False
        for n in range(1, n_max + 1):
            phrase = keys[i:i + n]
            if len(phrase) < n or not any(phrase):
                break
            repeats = 1
            while keys[i + repeats * n:i + (repeats + 1) * n] == phrase:
                repeats += 1
            if repeats >= (4 if n == 1 else 3):
                out.extend(words[i:i + n])
                i += repeats * n
                collapsed = True
                break
        if not collapsed:
            out.append(words[i])
            i += 1
    return out


class SegmentFilter:
    """Decides, segment by segment in order, what to keep and in which form."""

    def __init__(self) -> None:
        self._last = ""
        self._repeats = 0

    def clean(self, words: list[Word]) -> list[Word] | None:
        """The words to keep for this segment, or None to drop it."""
        text = "".join(w.text for w in words).strip()
        if not text or _NON_SPEECH.match(text):
            return None
        if _CREDITS.match(text) and len(text.split()) <= _CREDIT_MAX_WORDS:
            return None
        words = _collapse_loops(words)
        key = normalised("".join(w.text for w in words))
        if not key:
            return None
        if key in _STOCK and words and sum(w.p for w in words) / len(words) < UNSURE:
            return None
        if key == self._last:
            self._repeats += 1
            if self._repeats >= (1 if len(key.split()) >= 3 else 2):
                return None
        else:
            self._last, self._repeats = key, 0
        return words
