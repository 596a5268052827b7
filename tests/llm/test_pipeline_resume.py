"""With the real pipeline runner: AI stages wait while Ollama is down, say how to fix it,
and finish on `resume` once it is back, with everything before them kept."""

from __future__ import annotations

from sqlalchemy import select

from app.container import Container
from app.pipeline.draft import DraftStage
from app.pipeline.notes import NotesStage
from app.pipeline.runner import PipelineRunner
from app.store.models import ActionItem, EmailDraft, Job, JobState, MeetingStatus
from tests.llm.conftest import add_meeting, ai_stages
from tests.llm.meetings import synthetic_meeting
from tests.llm.standins import OllamaStandIn


def test_waiting_stages_resume_when_ollama_is_back(container: Container,
                                                   ollama: OllamaStandIn) -> None:
    runner = PipelineRunner(container.db, ai_stages(container))
    meeting_id = add_meeting(container, synthetic_meeting(600)[0])
    ollama.stop()

    report = runner.run(meeting_id)
    assert report.status == MeetingStatus.NEEDS_ATTENTION.value
    notes = next(s for s in report.stages if s.stage == NotesStage.name)
    assert notes.state == JobState.WAITING.value
    assert "Ollama is not running" in notes.message and "ollama serve" in notes.fix
    with container.db.session() as s:
        draft_job = s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                                Job.stage == DraftStage.name)).one()
        assert draft_job.state == JobState.PENDING.value  # later stages wait too

    ollama.start()
    (after,) = runner.resume()
    assert after.status == MeetingStatus.READY.value
    assert all(s.state == JobState.DONE.value for s in after.stages)
    with container.db.session() as s:
        assert len(list(s.scalars(select(ActionItem).where(
            ActionItem.meeting_id == meeting_id)))) == 4
        assert s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == meeting_id)).one()


def test_parts_read_before_ollama_went_away_are_not_asked_again(
        container: Container, ollama: OllamaStandIn) -> None:
    from tests.llm.fake_model import ollama_answer

    runner = PipelineRunner(container.db, ai_stages(container))
    lines, planted = synthetic_meeting(40 * 60)  # five chunks
    meeting_id = add_meeting(container, lines)
    answered = 0

    def model_removed_after_two(request: dict[str, object]) -> object:
        nonlocal answered
        answered += 1
        if answered == 2:
            ollama.models = []  # e.g. `ollama rm` while we work: the next call gets a 404
        return ollama_answer(request)  # type: ignore[arg-type]

    ollama.answer = model_removed_after_two  # type: ignore[assignment]
    first = runner.run(meeting_id)
    notes = next(s for s in first.stages if s.stage == NotesStage.name)
    assert notes.state == JobState.WAITING.value and "ollama pull mistral" in notes.fix
    asked_before = [r["messages"][1]["content"] for r in ollama.chat_requests()]

    ollama.models = ["mistral:latest"]
    ollama.requests.clear()
    (after,) = runner.resume()
    assert after.status == MeetingStatus.READY.value
    asked_after = [r["messages"][1]["content"] for r in ollama.chat_requests()]
    extracts_after = [text for text in asked_after if "Transcript excerpt" in text]
    assert not set(asked_before[:2]) & set(extracts_after)  # the two good parts were kept
    assert len(asked_before) == 3 and "excerpt 3 of 5" in extracts_after[0]
    assert len(extracts_after) == 3  # the one cut off, and the two never asked
    with container.db.session() as s:
        texts = [a.text for a in s.scalars(select(ActionItem).where(
            ActionItem.meeting_id == meeting_id).order_by(ActionItem.position))]
        job = s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                          Job.stage == NotesStage.name)).one()
    assert texts == [p.task for p in planted]
    assert job.detail["parts_done"] == {}


def test_the_apps_services_try_ollama_first_then_the_builtin_engine(
        ollama: OllamaStandIn) -> None:
    from app.llm.builtin.provider import BuiltinProvider

    app = Container()
    app.settings.llm.ollama_host = ollama.url
    try:
        services = app.llm  # as the CLI and the GUI build them
        assert services is app.llm  # built once
        assert [type(f) for f in services.local_factories] == [BuiltinProvider]
        backend, skipped = services.pick_local()
        assert backend is not None and backend.name == "ollama" and skipped == []
    finally:
        app.close()
