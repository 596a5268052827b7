"""Drives a meeting through its persisted stages, so a crash or a quit resumes where it stopped.

The runner owns the job rows; stages own their results. It runs in whatever thread calls it
(the CLI and the GUI call it from a worker thread) and reports through a plain callback.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.errors import RecapError
from app.pipeline.compute import ComputeThread
from app.pipeline.stage import Outcome, Stage, StageCancelled, StageContext, StageResult
from app.store.models import Job, JobState, Meeting, MeetingStatus, utcnow

if TYPE_CHECKING:
    from app.container import Container

log = logging.getLogger(__name__)

UNFINISHED_MEETING = (MeetingStatus.QUEUED, MeetingStatus.PROCESSING,
                      MeetingStatus.NEEDS_ATTENTION)
RERUNNABLE_JOB = (JobState.PENDING, JobState.RUNNING, JobState.WAITING, JobState.CANCELLED,
                  JobState.NEEDS_ATTENTION)


class InputError(RecapError):
    """A file that cannot become a meeting at all (it does not exist)."""


@dataclass(frozen=True)
class ProgressEvent:
    meeting_id: str
    stage: str
    label: str
    stage_progress: float  # 0..1 within the stage
    overall: float  # 0..1 over all stages of the meeting
    state: str = JobState.RUNNING.value


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


ProgressCallback = Callable[[ProgressEvent], None]


def default_stages(container: Container) -> list[Stage]:
    from app.pipeline.transcribe_stages import DecodeStage, TranscribeStage

    stages: list[Stage] = [DecodeStage(), TranscribeStage()]
    try:
        from app.llm.stages import build_stages
    except ImportError:  # the AI stages are optional at this layer
        return stages
    stages.extend(build_stages(container))
    return stages


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def title_from_path(path: Path) -> str:
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else "Untitled meeting"


class PipelineRunner:
    def __init__(self, container: Container, stages: Sequence[Stage] | None = None) -> None:
        self.container = container
        self._stages = list(stages) if stages is not None else None
        self._compute: ComputeThread | None = None  # made on first use, for callers giving none

    @property
    def stages(self) -> list[Stage]:
        if self._stages is None:
            self._stages = default_stages(self.container)
        return self._stages

    # -- adding meetings -------------------------------------------------------------------
    def add_file(self, path: Path | str, *, title: str | None = None) -> str:
        """Make a queued meeting for a file (or return the unfinished one it already has)."""
        source = Path(path).expanduser()
        if not source.is_file():
            raise InputError(f"File not found: {source}", "Check the path and try again.")
        source = source.resolve()
        sha = file_sha256(source)
        with self.container.db.session() as s:
            existing = s.scalars(
                select(Meeting).where(Meeting.source_sha256 == sha,
                                      Meeting.deleted_at.is_(None),
                                      Meeting.status.in_([m.value for m in UNFINISHED_MEETING]))
                .order_by(Meeting.created_at.desc())
            ).first()
            if existing is not None:
                return existing.id
            meeting = Meeting(
                title=title or title_from_path(source),
                source_path=str(source),
                source_sha256=sha,
                occurred_at=datetime.fromtimestamp(source.stat().st_mtime, UTC),
                status=MeetingStatus.QUEUED.value,
            )
            s.add(meeting)
            s.flush()
            # Job rows are made by run(): building the stage list imports the AI layer,
            # which adding a file (e.g. a finished recording) should not wait for.
            return meeting.id

    def _ensure_jobs(self, s: object, meeting_id: str) -> None:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        have = set(s.scalars(select(Job.stage).where(Job.meeting_id == meeting_id)))
        for position, stage in enumerate(self.stages):
            if stage.name not in have:
                s.add(Job(meeting_id=meeting_id, stage=stage.name, position=position))

    # -- running ---------------------------------------------------------------------------
    def process_file(self, path: Path | str, *, title: str | None = None,
                     on_progress: ProgressCallback | None = None,
                     cancel: threading.Event | None = None,
                     compute: Executor | None = None) -> RunReport:
        return self.run(self.add_file(path, title=title), on_progress=on_progress, cancel=cancel,
                        compute=compute)

    def run(self, meeting_id: str, *, on_progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None,
            compute: Executor | None = None) -> RunReport:
        """Run the meeting's unfinished stages in order.

        `compute` is where CPU-heavy work runs (the GUI passes a thread below its own
        priority); by default the runner's own compute thread at normal priority.
        """
        cancel = cancel or threading.Event()
        if compute is None:
            if self._compute is None:
                self._compute = ComputeThread()
            compute = self._compute
        with self.container.db.session() as s:
            self._ensure_jobs(s, meeting_id)
            meeting = s.get_one(Meeting, meeting_id)
            if meeting.status == MeetingStatus.FAILED.value:
                return self.report(meeting_id)
            meeting.status = MeetingStatus.PROCESSING.value
            meeting.error = ""
        stages = self.stages
        index = 0
        redone: set[str] = set()
        while index < len(stages):
            stage = stages[index]
            job = self._job(meeting_id, stage.name)
            if job.state == JobState.DONE.value:
                index += 1
                continue
            result = self._run_stage(meeting_id, stage, index, len(stages), job, on_progress,
                                     cancel, compute)
            if result is None:  # cancelled
                self._finish(meeting_id, MeetingStatus.NEEDS_ATTENTION, "Cancelled.",
                             "Run it again to continue where it stopped.")
                return self.report(meeting_id)
            redo = result.detail.get("redo")
            if (result.outcome == Outcome.WAITING and isinstance(redo, str)
                    and redo not in redone):
                redone.add(redo)
                self._set_job(meeting_id, redo, state=JobState.PENDING.value, progress=0.0)
                index = next(i for i, st in enumerate(stages) if st.name == redo)
                continue
            if result.outcome == Outcome.FAILED:
                self._finish(meeting_id, MeetingStatus.FAILED, result.message, result.fix)
                return self.report(meeting_id)
            if result.outcome == Outcome.WAITING:
                break  # later stages build on this one: they wait too
            index += 1
        self._finish_from_jobs(meeting_id)
        return self.report(meeting_id)

    def _run_stage(self, meeting_id: str, stage: Stage, index: int, count: int, job: Job,
                   on_progress: ProgressCallback | None,
                   cancel: threading.Event, compute: Executor) -> StageResult | None:
        self._set_job(meeting_id, stage.name, state=JobState.RUNNING.value,
                      attempts=job.attempts + 1, started_at=utcnow(), error="")

        def progress(fraction: float) -> None:
            if on_progress is not None:
                fraction = max(0.0, min(1.0, fraction))
                on_progress(ProgressEvent(meeting_id, stage.name, stage.label, fraction,
                                          (index + fraction) / count))

        progress(0.0)
        ctx = StageContext(meeting_id, self.container, progress, cancel, dict(job.detail),
                           compute)
        try:
            if getattr(stage, "offloads_compute", False):
                result = stage.run(ctx)
            else:
                result = compute.submit(stage.run, ctx).result()
        except StageCancelled:
            self._set_job(meeting_id, stage.name, state=JobState.CANCELLED.value,
                          error="Cancelled")
            return None
        except Exception:
            log.exception("stage %s failed for meeting %s", stage.name, meeting_id)
            result = StageResult(
                Outcome.NEEDS_ATTENTION if index > 1 else Outcome.FAILED,
                f"{stage.label} stopped on an unexpected error.",
                f"Details are in the log: {self.container.paths.log_file}",
            )
        state = {Outcome.DONE: JobState.DONE, Outcome.WAITING: JobState.WAITING,
                 Outcome.NEEDS_ATTENTION: JobState.NEEDS_ATTENTION,
                 Outcome.FAILED: JobState.FAILED}[result.outcome]
        detail = {**job.detail, **result.detail, "message": result.message, "fix": result.fix}
        self._set_job(meeting_id, stage.name, state=state.value, detail=detail,
                      error=result.message, finished_at=utcnow(),
                      progress=1.0 if state == JobState.DONE else job.progress)
        if state == JobState.DONE:
            progress(1.0)
        return result

    # -- bookkeeping -----------------------------------------------------------------------
    def _job(self, meeting_id: str, stage: str) -> Job:
        with self.container.db.session() as s:
            return s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                               Job.stage == stage)).one()

    def _set_job(self, meeting_id: str, stage: str, **values: object) -> None:
        with self.container.db.session() as s:
            job = s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                              Job.stage == stage)).one()
            for key, value in values.items():
                setattr(job, key, value)

    def _finish(self, meeting_id: str, status: MeetingStatus, message: str, fix: str) -> None:
        with self.container.db.session() as s:
            meeting = s.get_one(Meeting, meeting_id)
            meeting.status = status.value
            meeting.error = message if not fix else f"{message} {fix}"

    def _finish_from_jobs(self, meeting_id: str) -> None:
        with self.container.db.session() as s:
            jobs = list(s.scalars(select(Job).where(Job.meeting_id == meeting_id)
                                  .order_by(Job.position)))
            meeting = s.get_one(Meeting, meeting_id)
            waiting = [j for j in jobs if j.state != JobState.DONE.value]
            if not waiting:
                meeting.status = MeetingStatus.READY.value
                meeting.error = ""
            else:
                meeting.status = MeetingStatus.NEEDS_ATTENTION.value
                meeting.error = waiting[0].error

    def report(self, meeting_id: str) -> RunReport:
        labels = {st.name: st.label for st in self.stages}
        with self.container.db.session() as s:
            meeting = s.get_one(Meeting, meeting_id)
            jobs = list(s.scalars(select(Job).where(Job.meeting_id == meeting_id)
                                  .order_by(Job.position)))
            stages = [StageReport(j.stage, labels.get(j.stage, j.stage), j.state, j.error,
                                  str(j.detail.get("fix", ""))) for j in jobs]
            blocking = next((st for st in stages if st.state != JobState.DONE.value), None)
            if blocking is not None and blocking.message:
                return RunReport(meeting_id, meeting.status, blocking.message, blocking.fix,
                                 stages)
            return RunReport(meeting_id, meeting.status, meeting.error, "", stages)

    def unfinished(self) -> list[str]:
        """Meetings with stages left to run (oldest first), e.g. after a crash or offline."""
        with self.container.db.session() as s:
            return list(s.scalars(
                select(Meeting.id).where(
                    Meeting.deleted_at.is_(None),
                    Meeting.status.in_([m.value for m in UNFINISHED_MEETING]))
                .order_by(Meeting.created_at)
            ))

    def resume(self, *, on_progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None,
               compute: Executor | None = None) -> list[RunReport]:
        reports = []
        for meeting_id in self.unfinished():
            if cancel is not None and cancel.is_set():
                break
            reports.append(self.run(meeting_id, on_progress=on_progress, cancel=cancel,
                                    compute=compute))
        return reports
