"""The transcribe stage: whisper.cpp over the decoded audio, segments saved as they arrive.

Segments are committed as they arrive: a crash keeps every finished segment, and a resumed run
starts from the end of the last one (the unique (meeting, idx) key forbids duplicates).

The stage runs on the caller's thread (``offloads_compute``): whisper.cpp runs through
``ctx.submit`` (on the compute thread, which the GUI keeps below its own priority), and its
callbacks only hand segments and progress over a queue, so the database writes and progress
reports happen here, at normal priority, instead of on a thread that may hold the GIL while the
scheduler keeps it waiting.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from app.audio.decode import SAMPLE_RATE
from app.pipeline.decode import pcm_file
from app.pipeline.stage import Outcome, StageCancelled, StageContext, StageResult
from app.settings import TranscriptionSettings
from app.store.db import Database
from app.store.models import Meeting, Segment
from app.transcribe.engine import (
    EngineError,
    TranscribedSegment,
    TranscriptionCancelled,
    WhisperEngine,
)
from app.transcribe.errors import ModelError

log = logging.getLogger(__name__)

_POLL_S = 0.1  # how often the stage looks whether whisper has finished, between segments


class TranscribeStage:
    name = "transcribe"
    label = "Transcribing"
    offloads_compute = True

    def __init__(self, db: Database, pcm_folder: Path, engine: Callable[[], WhisperEngine],
                 settings: Callable[[], TranscriptionSettings]) -> None:
        self.db = db
        self.pcm_folder = pcm_folder
        self.engine = engine  # the loaded model for the current settings (kept between runs)
        self.settings = settings

    def run(self, ctx: StageContext) -> StageResult:
        cache = pcm_file(self.pcm_folder, ctx.meeting_id)
        if not cache.exists():
            # The cache was cleared after a crash: tell the runner to decode again.
            return StageResult(Outcome.WAITING, "The decoded audio is gone; reading it again.",
                               detail={"redo": "decode"})
        audio = np.memmap(cache, dtype=np.float32, mode="r")
        next_idx, offset_ms = self._resume_point(ctx)
        start = min(len(audio), offset_ms * SAMPLE_RATE // 1000)
        remaining = audio[start:]
        total = len(audio)

        settings = self.settings()
        try:
            engine = self.engine()
        except (ModelError, EngineError) as exc:
            return StageResult(Outcome.WAITING, f"Transcription model unavailable: {exc}",
                               exc.fix)

        def save(seg: TranscribedSegment) -> None:
            nonlocal next_idx
            text = seg.text.strip()
            if not text:
                return
            with self.db.session() as s:
                s.add(Segment(meeting_id=ctx.meeting_id, idx=next_idx, start_ms=seg.start_ms,
                              end_ms=seg.end_ms, text=text,
                              words=[[w.text, w.p] for w in seg.words] or None))
            next_idx += 1

        def report(fraction: float) -> None:
            done = start + fraction * len(remaining)
            ctx.progress(min(1.0, done / total) if total else 1.0)

        if len(remaining) > SAMPLE_RATE // 2:  # less than half a second left: nothing to hear
            arrived: queue.SimpleQueue[TranscribedSegment | float] = queue.SimpleQueue()
            stop = threading.Event()  # whisper's cancel: the user's, or this stage failing
            vocabulary = [*settings.vocabulary_people, *settings.vocabulary_terms]
            whisper = ctx.submit(lambda: engine.transcribe(
                np.asarray(remaining), offset_ms=offset_ms, on_segment=arrived.put,
                on_progress=arrived.put, cancel=stop, vocabulary=vocabulary))
            try:
                _handle_until_done(whisper, arrived, save, report, ctx.cancel, stop)
            except TranscriptionCancelled as exc:
                raise StageCancelled() from exc
            except EngineError as exc:  # the model file loads lazily, on first use
                return StageResult(Outcome.WAITING, f"Transcription model unusable: {exc}",
                                   exc.fix)
        ctx.progress(1.0)
        with self.db.session() as s:
            count = s.scalar(select(func.count()).select_from(Segment)
                             .where(Segment.meeting_id == ctx.meeting_id)) or 0
            meeting = s.get_one(Meeting, ctx.meeting_id)
            meeting.transcript_model = settings.model
            meeting.language = settings.language
        del audio
        cache.unlink(missing_ok=True)
        if count == 0:
            return StageResult(Outcome.FAILED, "No speech was found in this recording.",
                               "Check the file plays and has people talking in it.")
        return StageResult(Outcome.DONE, detail={"segments": count, "model": settings.model})

    def _resume_point(self, ctx: StageContext) -> tuple[int, int]:
        with self.db.session() as s:
            row = s.execute(
                select(Segment.idx, Segment.end_ms).where(Segment.meeting_id == ctx.meeting_id)
                .order_by(Segment.idx.desc()).limit(1)
            ).first()
        if row is None:
            return 0, 0
        return row.idx + 1, row.end_ms


def _handle_until_done(
    whisper: Future[list[TranscribedSegment]],
    arrived: queue.SimpleQueue[TranscribedSegment | float],
    save: Callable[[TranscribedSegment], None],
    report: Callable[[float], None],
    cancel: threading.Event,
    stop: threading.Event,
) -> None:
    """Save segments and pass on progress in the order whisper hands them over, until it is
    done; then raise what it raised (cancelled, model unusable). If saving fails, whisper is
    stopped before the error goes up (the engine does one transcription at a time)."""
    try:
        while True:
            if cancel.is_set():
                stop.set()
            finished = whisper.done()  # looked at first: all it handed over is queued by then
            try:
                item = arrived.get(block=not finished, timeout=_POLL_S)
            except queue.Empty:
                if finished:
                    break
                continue
            if isinstance(item, int | float):
                report(item)
            else:
                save(item)
    except BaseException:
        stop.set()
        whisper.exception()  # waits until whisper has let go of the engine
        raise
    whisper.result()
