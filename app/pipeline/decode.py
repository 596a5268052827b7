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

from app.audio.decode import SAMPLE_RATE, AudioError, decode, probe
from app.audio.errors import DecodeCancelled
from app.pipeline.stage import Outcome, StageCancelled, StageContext, StageResult
from app.store.db import Database
from app.store.models import Meeting


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
            info = probe(source)
            audio = decode(source, progress=ctx.progress, cancel=ctx.cancel)
        except DecodeCancelled as exc:  # the user stopped it: not a broken file
            raise StageCancelled() from exc
        except AudioError as exc:
            return StageResult(Outcome.FAILED, str(exc), exc.fix)
        ctx.check_cancel()
        target = pcm_file(self.pcm_folder, ctx.meeting_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        audio.astype(np.float32, copy=False).tofile(tmp)
        os.replace(tmp, target)
        duration = len(audio) / SAMPLE_RATE
        with self.db.session() as s:
            meeting = s.get_one(Meeting, ctx.meeting_id)
            meeting.duration_s = round(duration, 3)
        return StageResult(Outcome.DONE, detail={"duration_s": duration, "codec": info.codec})
