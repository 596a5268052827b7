"""The one line a person sees for an error: message and fix, each once."""

from __future__ import annotations

from app.audio.capture_errors import NoInputDevice
from app.ui.tasks import human_error


def test_recording_error_shows_its_fix_once() -> None:
    line = human_error(NoInputDevice())
    assert line.startswith("No microphone found.")
    assert line.count("Plug in a microphone") == 1


def test_error_with_separate_fix_gets_it_appended() -> None:
    class Failed(Exception):
        fix = "Try again later."

    assert human_error(Failed("The server is down.")) == "The server is down. Try again later."


def test_error_without_text_still_reads_as_a_sentence() -> None:
    line = human_error(TimeoutError())
    assert line.startswith("Something went wrong") and "TimeoutError" in line
