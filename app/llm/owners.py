"""Who took a task on, read from the transcript line the task was grounded on.

Small models find the task and its quote but often leave the owner empty (or write "we").
The line usually says who it is, in one of a few plain ways, and each rule here is one a
person would point to:

- ``speaker``: the speaker commits in the first person: "Sam: I'll send it", "I can",
  "Let me ...".
- ``addressed``: someone is asked by name: "Priya, can you ...", "... by Friday, Priya?".
- ``reply``: an unlabelled line accepts ("Sure, I will ...") right after a line asking
  someone by name: the answer is that person's.

Only names that occur in the transcript are given: a speaker label, or a name in the
vocative. When the rules disagree, or nothing matches, there is no guess: an empty owner is
better than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from app.llm.chunking import Line
from app.llm.grounding import normalise

# Owners a model writes that name nobody in particular.
_NOBODY = {"we", "us", "i", "me", "you", "they", "team", "the team", "everyone", "everybody",
           "all", "all of us", "someone", "somebody", "speaker", "the speaker", "group",
           "the group", "whole team", "the whole team", "both", "nobody", "none", "unknown",
           "unassigned", "tbd", "n/a", "null", "-"}

# Capitalised words that open a request without naming anybody ("Okay, can you ...").
_NOT_NAMES = {
    "okay", "ok", "yes", "yeah", "yep", "no", "so", "well", "great", "right", "sure", "thanks",
    "thank", "also", "and", "but", "then", "now", "good", "perfect", "alright", "fine", "hey",
    "hi", "hello", "oh", "um", "uh", "actually", "honestly", "anyway", "first", "second",
    "finally", "next", "last", "please", "maybe", "guys", "folks", "everyone", "everybody",
    "team", "all", "you", "i", "we", "they", "someone", "somebody", "anyone", "anybody",
    "one", "again", "otherwise", "meanwhile", "cool", "nice", "awesome", "agreed", "true",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "tomorrow", "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "if", "when", "before", "after", "could",
    "can", "would", "will", "let", "lets", "let's", "what", "how", "who", "why", "where",
}

# A word of letters (any alphabet: "José", "Søren"), perhaps hyphenated; capitals checked apart.
_NAME = r"[^\W\d_]+(?:[-'][^\W\d_]+)?"
# A label like "Speaker 1" or "SPEAKER_00" is a diariser's placeholder, not a name.
_PLACEHOLDER_LABEL = re.compile(r"(?i)^(?:speaker|spk|unknown|person|participant)\b|\d")
_REQUEST = (r"(?i:(?:can|could|would|will) you|would you mind|please|you(?:'ll| will)|"
            r"i need you to|can i ask you to)")
_LEAD_IN = r"(?i:(?:and|so|okay|ok|then|now|great|good|right|alright|well|also|yes),?\s+)?"
_ADDRESS_FIRST = re.compile(rf"^\W*{_LEAD_IN}({_NAME}),\s+{_REQUEST}\b")
_ADDRESS_LAST = re.compile(rf"\b{_REQUEST}\b.*,\s+({_NAME})\s*[?.!]*\s*$")
_COMMIT = re.compile(
    r"\b(?:i(?:'ll| will| shall| can| am going to|'m going to)(?!n't|'t| not\b)|"
    r"let me(?! know\b))\b", re.IGNORECASE)
_ACCEPT = re.compile(r"^\W*(?:yes|yeah|yep|sure|okay|ok|of course|absolutely|certainly|"
                     r"no problem|will do|fine|sounds good)\b", re.IGNORECASE)
# A quote copied with its line's label: "Sam: I'll send it", "[00:03:12] Sam: ...".
_LABEL = re.compile(r"^\s*(?:\[[\d:.]+\]\s*)?(?:[A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?:\s+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUOTE_IN_SENTENCE = 85.0
_CLEAR_LEAD = 15.0


@dataclass(frozen=True)
class OwnerGuess:
    name: str
    rule: str  # "speaker" | "addressed" | "reply": which reading of the line gave it


def names_nobody(owner: str) -> bool:
    """True for an owner like "we", "the team" or "" that a rule may replace."""
    return normalise(owner) in _NOBODY or not normalise(owner)


def speaker_name(line: Line) -> str:
    """The line's speaker label if it is a person's name, else ''."""
    label = " ".join(line.speaker.split())
    if not label or _PLACEHOLDER_LABEL.search(label):
        return ""
    words = label.split(" ")
    named = len(words) <= 2 and all(re.fullmatch(_NAME, w) and w[:1].isupper() for w in words)
    return label if named else ""


def _is_name(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _NOT_NAMES


def addressed(sentence: str) -> str:
    """The person a request in ``sentence`` is put to by name, or ''.

    The name need not have spoken yet; a capitalised word that opens requests without naming
    anyone ("Okay, can you ...", "Honestly, could you ...") is not taken for one.
    """
    for pattern in (_ADDRESS_FIRST, _ADDRESS_LAST):
        match = pattern.search(sentence)
        if match and _is_name(match.group(1)):
            return match.group(1)
    return ""


def commits(sentence: str) -> bool:
    """The speaker takes something on: "I'll ...", "I can ...", "Let me ..."."""
    return _COMMIT.search(sentence) is not None


def _sentence_owner(sentence: str, speaker: str) -> OwnerGuess | None:
    asked = addressed(sentence)
    if asked and commits(sentence):
        return None  # "Dana, can you check it and I'll send it": two people, not clear
    if asked:
        return OwnerGuess(asked, "addressed")
    if commits(sentence) and speaker:
        return OwnerGuess(speaker, "speaker")
    return None


def quoted_sentences(text: str, quote: str) -> list[str]:
    """The sentences of the line that the quote covers; none if it does not really cover any.

    Grounding places a quote on the line where its best alignment starts; a quote a model
    half-invented ("Priya: Marcus, one more thing ...") can start on a neighbouring line
    whose words it does not contain, and that line says nothing about this task.
    """
    needle = normalise(_LABEL.sub("", quote, count=1))
    if not needle:
        return []
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if normalise(s)]
    return [s for s in sentences
            if fuzz.partial_ratio(normalise(s), needle) >= _QUOTE_IN_SENTENCE]


def _reply_owner(lines: Sequence[Line], at: int, sentence: str) -> OwnerGuess | None:
    """An unlabelled "Sure, I'll do it" answers the request on the line before."""
    if at == 0 or lines[at].speaker or not (_ACCEPT.search(sentence) and commits(sentence)):
        return None
    before = [s for s in _SENTENCE_END.split(lines[at - 1].text.strip()) if s.strip()]
    asked = addressed(before[-1]) if before else ""
    return OwnerGuess(asked, "reply") if asked else None


def infer_owner(lines: Sequence[Line], at: int, quote: str, task: str) -> OwnerGuess | None:
    """Who took on ``task``, quoted as ``quote`` from ``lines[at]``; None when unclear."""
    line = lines[at]
    speaker = speaker_name(line)
    guesses: list[tuple[str, OwnerGuess]] = []
    for sentence in quoted_sentences(line.text, quote):
        guess = _sentence_owner(sentence, speaker) or _reply_owner(lines, at, sentence)
        if guess is not None:
            guesses.append((sentence, guess))
    if len({g.name for _, g in guesses}) <= 1:
        return guesses[0][1] if guesses else None
    # Different people in the quoted words: the sentence that reads like the task decides,
    # if it does so clearly.
    ranked = sorted(((fuzz.token_set_ratio(normalise(s), normalise(task)), g)
                     for s, g in guesses), key=lambda pair: pair[0], reverse=True)
    if ranked[0][0] - ranked[1][0] >= _CLEAR_LEAD:
        return ranked[0][1]
    return None


def answer_to(lines: Sequence[Line], at: int, asked: str) -> Line | None:
    """The next line, if it is ``asked`` answering the request on ``lines[at]``.

    The answer often carries what the request left out: "Yes, I'll have it by Wednesday".
    """
    if at + 1 >= len(lines):
        return None
    reply = lines[at + 1]
    if reply.speaker:
        return reply if speaker_name(reply) == asked else None
    return reply if _ACCEPT.search(reply.text) else None

