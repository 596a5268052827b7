"""What a person does to meetings as a whole: bring a file in, process it (again), resume what
stopped, rename, delete and undo, export."""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from pathlib import Path

from app.actions.changes import Changes
from app.export import export
from app.pipeline.events import ProgressCallback, Resume, RunReport
from app.pipeline.runner import PipelineRunner
from app.store import queries
from app.store.db import Database


class Meetings:
    def __init__(self, db: Database, pipeline: PipelineRunner) -> None:
        self.db = db
        self.pipeline = pipeline

    # -- bringing meetings in and processing them ----------------------------------------
    def add_file(self, path: Path | str, *, title: str | None = None) -> Changes:
        """A queued meeting for an audio or video file (the unfinished one it has, if any);
        ``changes.meeting_id`` is its id. Nothing is processed yet."""
        return Changes.meeting(self.pipeline.add_file(path, title=title), detail=False)

    def process(self, meeting_id: str, *, on_progress: ProgressCallback | None = None,
                cancel: threading.Event | None = None,
                compute: Executor | None = None) -> RunReport:
        """Run the meeting's unfinished stages (all of them for a new one), in this thread;
        ``cancel`` stops it where it is, and what is done is kept."""
        return self.pipeline.run(meeting_id, on_progress=on_progress, cancel=cancel,
                                 compute=compute)

    def to_resume(self, why: Resume) -> list[str]:
        """Which meetings to process again, for this reason (oldest first)."""
        return self.pipeline.to_resume(why)

    # -- editing the list ----------------------------------------------------------------
    def rename(self, meeting_id: str, title: str) -> Changes:
        return Changes.meeting(queries.rename_meeting(self.db, meeting_id, title))

    def delete(self, meeting_id: str) -> Changes:
        """A tombstone for the meeting and all in it (synced as a delete); ``restore`` undoes
        it."""
        return Changes.meeting(queries.delete_meeting(self.db, meeting_id), detail=False)

    def restore(self, meeting_id: str) -> Changes:
        queries.restore_meeting(self.db, meeting_id)
        return Changes.meeting(meeting_id)

    # -- taking them out -----------------------------------------------------------------
    def export(self, meeting_id: str, fmt: str) -> str:
        """The meeting as Markdown, text, SRT, WebVTT or JSON (see ``app.export.FORMATS``)."""
        return export(queries.meeting_detail(self.db, meeting_id), fmt)

    def export_to(self, meeting_id: str, target: Path, fmt: str | None = None) -> Path:
        """Write the export to ``target``, in ``fmt`` or the format its suffix names."""
        fmt = fmt or target.suffix.lstrip(".").lower() or "md"
        target.write_text(self.export(meeting_id, fmt), encoding="utf-8")
        return target
