"""The one line a person sees for an error: message and fix, each once."""

from __future__ import annotations

from app.audio.capture_errors import NoInputDevice
from app.errors import RecapError, one_line


def test_recording_error_shows_its_fix_once() -> None:
    line = one_line(NoInputDevice())
    assert line.startswith("No microphone found.")
    assert line.count("Plug in a microphone") == 1


def test_error_with_separate_fix_gets_it_appended() -> None:
    class Failed(RecapError):
        fix = "Try again later."

    assert one_line(Failed("The server is down.")) == "The server is down. Try again later."
    assert Failed("Down.", "Wait.").fix == "Wait."  # a fix given when raised wins


def test_error_without_text_still_reads_as_a_sentence() -> None:
    line = one_line(TimeoutError())
    assert line.startswith("Something went wrong") and "TimeoutError" in line
