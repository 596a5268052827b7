"""Word error rate for transcription tests: (substitutions + deletions + insertions) / words.

Both texts are normalised first (case, punctuation, a few spelling variants Whisper picks
differently from our scripts) so that only wrong, missing or extra words count.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

# Whisper's English models write US spellings and join some compounds; our scripts do not.
_VARIANTS = {"neighbours": "neighbors", "colour": "color", "okay": "ok"}


def words(text: str) -> list[str]:
    text = text.lower().replace("'", "")
    tokens = re.sub(r"[^a-z0-9]+", " ", text).split()
    return [_VARIANTS.get(t, t) for t in tokens]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    if not ref:
        raise ValueError("the reference text has no words")
    return Levenshtein.distance(ref, words(hypothesis)) / len(ref)
