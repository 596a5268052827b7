"""The first stage: read the meeting's audio (any container PyAV knows) into a PCM cache.

Decoded audio goes to a raw float32 file in the cache folder and the transcribe stage
memory-maps it, so a resumed run does not decode again and only one copy of the audio is ever
in memory. Decoding is one thread of FFmpeg with the GIL released, driven by a Python loop that
holds it between packets: it belongs on the caller's (normal priority) thread.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from app.audio.decode import SAMPLE_RATE, AudioError, read_audio
from app.audio.errors import DecodeCancelled
from app.pipeline.stage import Outcome, StageCancelled, StageContext, StageResult
from app.store.db import Database
from app.store.models import Meeting


def ends_early_note(name: str, readable_s: float, expected_s: float) -> str:
    return (f"{name} ends early: only {_span(readable_s)} of {_span(expected_s)} could be "
            "read, so the transcript covers only that part.")


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def pcm_file(folder: Path, meeting_id: str) -> Path:
    """Where a meeting's decoded audio waits for transcription (16 kHz mono float32)."""
    return folder / f"{meeting_id}.f32"


class DecodeStage:
    name = "decode"
    label = "Reading audio"
    offloads_compute = True

    def __init__(self, db: Database, pcm_folder: Path) -> None:
        self.db = db
        self.pcm_folder = pcm_folder

    def run(self, ctx: StageContext) -> StageResult:
        with self.db.session() as s:
            meeting = s.get_one(Meeting, ctx.meeting_id)
            source = Path(meeting.source_path)
        try:
            read = read_audio(source, progress=ctx.progress, cancel=ctx.cancel)
        except DecodeCancelled as exc:  # the user stopped it: not a broken file
            raise StageCancelled() from exc
        except AudioError as exc:
            return StageResult(Outcome.FAILED, str(exc), exc.fix)
        ctx.check_cancel()
        audio = read.audio
        target = pcm_file(self.pcm_folder, ctx.meeting_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        audio.astype(np.float32, copy=False).tofile(tmp)
        os.replace(tmp, target)
        duration = len(audio) / SAMPLE_RATE
        with self.db.session() as s:
            meeting = s.get_one(Meeting, ctx.meeting_id)
            meeting.duration_s = round(duration, 3)
        # Both keys always written: a previous attempt's note must not outlive a good read.
        detail: dict[str, object] = {"duration_s": duration, "codec": read.info.codec,
                                     "expected_s": None, "note": ""}
        if read.expected_s is None:
            return StageResult(Outcome.DONE, detail=detail)
        # A file that ends early (an unfinished copy or download) is still worth what it holds,
        # as long as the meeting says plainly that it is not the whole recording.
        note = ends_early_note(source.name, duration, read.expected_s)
        return StageResult(Outcome.DONE, note, detail={**detail, "expected_s": read.expected_s,
                                                       "note": note})
