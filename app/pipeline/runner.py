"""Drives a meeting through its persisted stages, so a crash or a quit resumes where it stopped.

The runner owns the job rows; stages own their results. It is given the database and the
ordered stages (app/container.py builds both) and nothing else. It runs in whatever thread
calls it (the CLI and the GUI call it from a worker thread) and reports through a plain
callback.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import RecapError
from app.pipeline.compute import ComputeThread
from app.pipeline.events import (
    ProgressCallback,
    ProgressEvent,
    Resume,
    RunReport,
    StageReport,
)
from app.pipeline.stage import Outcome, Stage, StageCancelled, StageContext, StageResult
from app.store.db import Database
from app.store.models import Job, Meeting, utcnow
from app.store.status import JobState, MeetingStatus

log = logging.getLogger(__name__)

UNFINISHED_MEETING = (MeetingStatus.QUEUED, MeetingStatus.PROCESSING,
                      MeetingStatus.NEEDS_ATTENTION)
# What a quit or a crash leaves behind: meetings stopped before the runner could finish them.
INTERRUPTED_MEETING = (MeetingStatus.QUEUED, MeetingStatus.PROCESSING)


class InputError(RecapError):
    """A file that cannot become a meeting at all (it does not exist)."""


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
    def __init__(self, db: Database, stages: Sequence[Stage], *,
                 log_file: Path | None = None) -> None:
        self.db = db
        self.stages = list(stages)
        self.log_file = log_file  # named in the message of a stage's unexpected error
        self._compute: ComputeThread | None = None  # made on first use, for callers giving none

    # -- adding meetings -------------------------------------------------------------------
    def add_file(self, path: Path | str, *, title: str | None = None) -> str:
        """Make a queued meeting for a file (or return the unfinished one it already has)."""
        source = Path(path).expanduser()
        if not source.is_file():
            raise InputError(f"File not found: {source}", "Check the path and try again.")
        source = source.resolve()
        sha = file_sha256(source)
        with self.db.session() as s:
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
            return meeting.id  # its job rows are made when it first runs

    def _ensure_jobs(self, s: Session, meeting_id: str) -> None:
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
        with self.db.session() as s:
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
        ctx = StageContext(meeting_id, progress, cancel, dict(job.detail), compute)
        try:
            if stage.offloads_compute:
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
                f"Details are in the log: {self.log_file}" if self.log_file else
                "Details are in the log.",
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
        with self.db.session() as s:
            return s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                               Job.stage == stage)).one()

    def _set_job(self, meeting_id: str, stage: str, **values: object) -> None:
        with self.db.session() as s:
            job = s.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                              Job.stage == stage)).one()
            for key, value in values.items():
                setattr(job, key, value)

    def _finish(self, meeting_id: str, status: MeetingStatus, message: str, fix: str) -> None:
        with self.db.session() as s:
            meeting = s.get_one(Meeting, meeting_id)
            meeting.status = status.value
            meeting.error = message if not fix else f"{message} {fix}"

    def _finish_from_jobs(self, meeting_id: str) -> None:
        with self.db.session() as s:
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
        with self.db.session() as s:
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

    def to_resume(self, why: Resume) -> list[str]:
        """The meetings to take up again, oldest first: the one definition of which, for each
        reason (see ``Resume``)."""
        query = select(Meeting.id).where(Meeting.deleted_at.is_(None))
        if why is Resume.ENGINE_BACK:
            query = (query.join(Job, Job.meeting_id == Meeting.id)
                     .where(Job.state == JobState.WAITING.value).group_by(Meeting.id))
        else:
            wanted = INTERRUPTED_MEETING if why is Resume.AT_START else UNFINISHED_MEETING
            query = query.where(Meeting.status.in_([m.value for m in wanted]))
        with self.db.session() as s:
            return list(s.scalars(query.order_by(Meeting.created_at)))

    def resume(self, why: Resume = Resume.ASKED, *,
               on_progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None,
               compute: Executor | None = None) -> list[RunReport]:
        reports = []
        for meeting_id in self.to_resume(why):
            if cancel is not None and cancel.is_set():
                break
            reports.append(self.run(meeting_id, on_progress=on_progress, cancel=cancel,
                                    compute=compute))
        return reports
