"""What Whisper invents is dropped; what people said is kept."""

from __future__ import annotations

import re

from app.transcribe.cleanup import SegmentFilter, Word


def words(text: str, p: float = 0.9) -> list[Word]:
    return [Word(w, p) for w in re.findall(r"\s*\S+", text)]


def text_of(kept: list[Word] | None) -> str | None:
    return None if kept is None else "".join(w.text for w in kept).strip()


def test_a_phrase_looping_inside_a_segment_is_kept_once() -> None:
    looped = " I will send it by Friday." + " I will send it." * 6
    kept = text_of(SegmentFilter().clean(words(looped)))
    assert kept == "I will send it by Friday. I will send it."
    assert text_of(SegmentFilter().clean(words(" the the the the the budget"))) == "the budget"


def test_ordinary_repetition_in_speech_is_left_alone() -> None:
    for said in (" No, no, no, that is wrong.", " Very very good.", " We need to, we need to go."):
        assert text_of(SegmentFilter().clean(words(said))) == said.strip()


def test_a_segment_repeating_the_one_before_is_dropped() -> None:
    f = SegmentFilter()
    assert text_of(f.clean(words(" Send the revised budget."))) == "Send the revised budget."
    assert f.clean(words(" Send the revised budget.")) is None
    assert f.clean(words(" send the revised budget")) is None  # case and punctuation aside
    assert text_of(f.clean(words(" Next topic."))) == "Next topic."


def test_short_answers_may_repeat_once() -> None:
    f = SegmentFilter()
    assert f.clean(words(" Yes.")) is not None
    assert f.clean(words(" Yes.")) is not None  # two people agreeing
    assert f.clean(words(" Yes.")) is None  # a third time from the same stretch: a loop


def test_tags_and_subtitle_credits_are_dropped() -> None:
    for made_up in (" [BLANK_AUDIO]", " (music)", " *applause*", " ♪ ♪", " [ Silence ]",
                    " Subtitles by the Amara.org community", " Transcription by CastingWords"):
        assert SegmentFilter().clean(words(made_up)) is None, made_up


def test_stock_phrases_go_only_when_whisper_was_unsure() -> None:
    assert SegmentFilter().clean(words(" Thank you.", p=0.2)) is None
    assert SegmentFilter().clean(words(" Thanks for watching!", p=0.3)) is None
    assert text_of(SegmentFilter().clean(words(" Thank you.", p=0.95))) == "Thank you."
    # Not a stock phrase: kept however unsure (the reader sees the words marked instead).
    assert SegmentFilter().clean(words(" Thank you, Dana.", p=0.2)) is not None
