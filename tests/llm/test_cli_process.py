"""The CLI over the AI stages: a transcribed meeting (the bundled sample's words, as Whisper
would give them: no speaker names) waits while Ollama is down, `recap resume` says what is
pending and how to fix it, and once Ollama is back `recap resume` finishes and `recap show`
prints the notes and the draft. (`recap process` with real transcription is the core's test.)"""

from __future__ import annotations

import pytest

from app.cli import main
from app.container import Container
from app.store.models import Job, JobState, Meeting, MeetingStatus, Segment
from tests.conftest import SAMPLES
from tests.llm.fake_model import ollama_answer
from tests.llm.meetings import MEETING_DAY
from tests.llm.standins import OllamaStandIn


def transcribed_sample() -> str:
    lines = (SAMPLES / "team-sync.txt").read_text().splitlines()
    container = Container()
    with container.db.session() as session:
        meeting = Meeting(title="Team sync", status=MeetingStatus.PROCESSING.value,
                          occurred_at=MEETING_DAY.astimezone())
        session.add(meeting)
        session.flush()
        for idx, line in enumerate(lines):
            said = line.split(": ", 1)[1]
            session.add(Segment(meeting_id=meeting.id, idx=idx, start_ms=idx * 5000,
                                end_ms=idx * 5000 + 4500, text=said))
        for position, stage in enumerate(["decode", "transcribe"]):
            session.add(Job(meeting_id=meeting.id, stage=stage, position=position,
                            state=JobState.DONE.value, progress=1.0))
        meeting_id = meeting.id
    container.close()
    return meeting_id


def test_resume_says_what_is_pending_then_finishes_and_show_prints_notes(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    server = OllamaStandIn(answer=ollama_answer)
    server.start()
    server.stop()  # a known port with nothing listening: Ollama is not running
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    # This test is about Ollama: the built-in engine is turned off (tests/llm_builtin tries it).
    settings = Container()
    settings.settings.llm.use_builtin = False
    settings.save_settings()
    settings.close()
    meeting_id = transcribed_sample()

    assert main(["resume"]) == 0
    printed = capsys.readouterr().out
    assert "needs_attention" in printed and "Ollama is not running" in printed
    assert "ollama serve" in printed and "Drafting the follow-up email" in printed

    server.start()
    try:
        assert main(["resume"]) == 0
        assert "[ready]" in capsys.readouterr().out
        assert main(["show", meeting_id[:8]]) == 0
        shown = capsys.readouterr().out
    finally:
        server.stop()
    # The sample's "I will ..." commitments come back as grounded items with their due dates.
    assert "Finish the payment page" in shown
    assert "Update the onboarding guide before the next sprint starts" in shown
    assert "unverified" not in shown
    assert "Follow-up email (draft, not sent)" in shown
    assert "Finish the payment page — due 2026-12-02" in shown  # "by next Wednesday"
    assert "by next Wednesday.” at 00:25" in shown  # the quote, at the transcript's time


def test_ollama_status_and_pull(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    server = OllamaStandIn(models=[])
    server.start()
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    try:
        assert main(["ollama", "status"]) == 1
        assert "ollama pull mistral" in capsys.readouterr().err
        assert main(["ollama", "pull"]) == 0
        assert "ready with mistral" in capsys.readouterr().out
        assert server.models == ["mistral:latest"]
        assert main(["--json", "ollama", "status"]) == 0
        assert '"ready": true' in capsys.readouterr().out
    finally:
        server.stop()
