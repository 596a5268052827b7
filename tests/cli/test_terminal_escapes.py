"""Titles and transcripts can come from another device or a model: printing them must not let
them drive the terminal (clear the screen, retitle the window, plant links, overwrite lines)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.cli import main
from app.container import Container
from app.store.models import Meeting, Segment

# Set the window title, clear the screen, an OSC 8 hyperlink, an 8-bit CSI, a carriage return
# that would print over the line, a bell, DEL.
TITLE = ("\x1b]0;you have been pwned\x07Weekly\x1b[2J sync "
         "\x1b]8;;https://evil.invalid/\x1b\\click\x1b]8;;\x1b\\ \x9b31mred\x7f")
SEGMENT = "Ship it on Friday.\rEverything is fine.\x1b[1A\x1b[2K\tthanks"
CONTROL = [chr(c) for c in range(0x20) if chr(c) not in "\n\t"] + [chr(0x7F)] + [
    chr(c) for c in range(0x80, 0xA0)]


@pytest.fixture
def meeting_id() -> str:
    container = Container()
    with container.db.session() as s:
        meeting = Meeting(title=TITLE, occurred_at=datetime(2026, 11, 25, 10, tzinfo=UTC),
                          duration_s=4.0, status="ready", summary="Fine.\x1b[8m hidden")
        s.add(meeting)
        s.flush()
        s.add(Segment(meeting_id=meeting.id, idx=0, start_ms=0, end_ms=3500, text=SEGMENT))
        meeting_id = meeting.id
    container.close()
    return meeting_id


def assert_terminal_safe(text: str) -> None:
    found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in CONTROL})
    assert not found, f"control characters reached the terminal: {found}"


@pytest.mark.parametrize("args", [["show", "{id}"], ["list"], ["search", "sync"],
                                  ["export", "{id}", "--format", "txt"],
                                  ["export", "{id}", "--format", "md"]])
def test_escape_sequences_are_not_printed(meeting_id: str, args: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([a.format(id=meeting_id) for a in args]) == 0
    out = capsys.readouterr().out
    assert_terminal_safe(out)
    assert "Weekly" in out and "sync" in out  # the words themselves are kept
    if "list" not in args and "search" not in args:
        assert "Everything is fine." in out and "\tthanks" in out  # tabs survive


def test_json_output_escapes_them_and_keeps_the_data(meeting_id: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--json", "show", meeting_id], ["export", meeting_id, "--format", "json"],
                 ["--json", "list"]):
        assert main(args) == 0
        out = capsys.readouterr().out
        assert_terminal_safe(out)
        data = json.loads(out)
        meeting = data[0] if isinstance(data, list) else data["meeting"]
        assert meeting["title"] == TITLE  # exact, escapes and all
        if isinstance(data, dict):
            assert data["segments"][0]["text"] == SEGMENT


def test_errors_quoting_data_are_safe_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "\x1b[2Jnope"]) == 1
    assert_terminal_safe(capsys.readouterr().err)
