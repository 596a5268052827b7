"""With the real pipeline runner: AI stages wait while Ollama is down, say how to fix it,
and finish on `resume` once it is back, with everything before them kept."""

from __future__ import annotations

from sqlalchemy import select

from app.container import Container
from app.llm.stages import DraftStage, NotesStage, build_stages
from app.pipeline.runner import PipelineRunner
from app.store.models import ActionItem, EmailDraft, Job, JobState, MeetingStatus
from tests.llm.conftest import add_meeting
from tests.llm.meetings import synthetic_meeting
from tests.llm.standins import OllamaStandIn


def test_waiting_stages_resume_when_ollama_is_back(container: Container,
                                                   ollama: OllamaStandIn) -> None:
    runner = PipelineRunner(container, stages=build_stages(container))
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
