"""What the pipeline tells its callers: progress while a meeting runs, a report when it stops,
and why meetings are taken up again. Light (no SQLAlchemy), so the faces name these freely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from app.store.status import JobState, MeetingStatus


@dataclass(frozen=True)
class ProgressEvent:
    meeting_id: str
    stage: str
    label: str
    stage_progress: float  # 0..1 within the stage
    overall: float  # 0..1 over all stages of the meeting
    state: str = JobState.RUNNING.value


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class StageReport:
    stage: str
    label: str
    state: str
    message: str = ""
    fix: str = ""


@dataclass
class RunReport:
    meeting_id: str
    status: str
    message: str = ""
    fix: str = ""
    stages: list[StageReport] = field(default_factory=list)

    @property
    def pending(self) -> list[StageReport]:
        return [s for s in self.stages if s.state != JobState.DONE.value]

    @property
    def failed(self) -> bool:
        return self.status == MeetingStatus.FAILED.value


class Resume(StrEnum):
    """Why meetings are taken up again; ``PipelineRunner.to_resume`` says which, for each."""

    ASKED = "asked"  # `recap resume`: everything not finished, needs-attention included
    AT_START = "at_start"  # the app opens: what a quit or a crash interrupted
    ENGINE_BACK = "engine_back"  # a local model is reachable again: stages waiting for one
