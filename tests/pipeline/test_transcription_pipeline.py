"""Audio in, a stored and searchable transcript out, through the real decoder and whisper.cpp."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.container import Container
from app.export import export
from app.pipeline.decode import DecodeStage
from app.pipeline.events import ProgressEvent, Resume
from app.pipeline.runner import PipelineRunner
from app.pipeline.transcribe import TranscribeStage
from app.store import queries
from app.store.models import JobState, MeetingStatus
from tests.conftest import FIXTURES, REPO, SAMPLES
from tests.wer import word_error_rate

SPEECH = FIXTURES / "speech"

# tiny.en measured about 3% WER on espeak-ng speech (see NOTES); 15% leaves room for the
# q8_0 model and segment-boundary effects while still failing on a broken pipeline, which
# produces either nothing or nonsense (WER near 100%).
WER_BOUND = 0.15


@pytest.fixture
def container(seeded_models: Path) -> Container:
    c = Container()
    yield c
    c.close()


def audio_only(container: Container) -> PipelineRunner:
    """The pipeline without the AI stages."""
    pcm = container.paths.cache / "pcm"
    return PipelineRunner(container.db, [
        DecodeStage(container.db, pcm),
        TranscribeStage(container.db, pcm, container.whisper_engine,
                        lambda: container.settings.transcription),
    ])


def test_a_fixture_becomes_a_stored_searchable_transcript(container: Container) -> None:
    events: list[ProgressEvent] = []
    report = audio_only(container).process_file(SPEECH / "project-update.flac",
                                                on_progress=events.append)
    assert report.status == MeetingStatus.READY.value
    detail = queries.meeting_detail(container.db, report.meeting_id)
    expected = (SPEECH / "project-update.txt").read_text()
    assert word_error_rate(expected, detail.transcript) < WER_BOUND
    assert detail.row.duration_s and detail.row.duration_s > 5
    assert detail.transcript_model == "tiny.en-q8_0"
    starts = [s.start_ms for s in detail.segments]
    assert starts == sorted(starts)
    assert detail.segments[-1].end_ms <= detail.row.duration_s * 1000 + 500
    # progress: per stage, monotonic, reaching 1
    transcribe = [e.stage_progress for e in events if e.stage == "transcribe"]
    assert transcribe == sorted(transcribe) and transcribe[-1] == 1.0
    assert [e.overall for e in events] == sorted(e.overall for e in events)
    word = expected.split()[3].strip(".,").lower()
    assert report.meeting_id in queries.search_meeting_ids(container.db, word)


def test_same_unfinished_file_is_resumed_not_duplicated(container: Container) -> None:
    runner = audio_only(container)
    first = runner.add_file(SPEECH / "hello.wav")
    assert runner.add_file(SPEECH / "hello.wav") == first
    runner.run(first)
    assert len(queries.list_meetings(container.db)) == 1


def test_cancel_stops_within_a_second_and_a_rerun_finishes(container: Container) -> None:
    runner = audio_only(container)
    meeting_id = runner.add_file(SAMPLES / "team-sync.opus")
    cancel = threading.Event()
    cancelled_at: list[float] = []
    ticks: list[float] = []

    def on_progress(e: ProgressEvent) -> None:
        if e.stage != "transcribe":
            return
        ticks.append(time.monotonic())
        if e.stage_progress > 0.2 and not cancel.is_set():
            cancelled_at.append(time.monotonic())
            cancel.set()

    report = runner.run(meeting_id, on_progress=on_progress, cancel=cancel)
    stopped = time.monotonic()
    # whisper.cpp checks for cancel between decoding steps: within a second on a quiet
    # machine; when other work starves the CPU, allow one and a half of the slowest step seen.
    slowest_step = max((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=0.0)
    assert cancelled_at and stopped - cancelled_at[0] < max(1.0, 1.5 * slowest_step)
    assert report.status == MeetingStatus.NEEDS_ATTENTION.value
    jobs = {j.stage: j.state for j in queries.meeting_detail(container.db, meeting_id).jobs}
    assert jobs["transcribe"] == JobState.CANCELLED.value
    kept = len(queries.meeting_detail(container.db, meeting_id).segments)

    assert runner.run(meeting_id).status == MeetingStatus.READY.value
    detail = queries.meeting_detail(container.db, meeting_id)
    assert [s.idx for s in detail.segments] == list(range(len(detail.segments)))
    assert len(detail.segments) >= kept
    expected = (SAMPLES / "team-sync.txt").read_text()
    spoken = " ".join(line.split(":", 1)[1] for line in expected.splitlines() if ":" in line)
    assert word_error_rate(spoken, detail.transcript) < 0.25


def test_a_segment_that_cannot_be_saved_stops_whisper_at_once(container: Container) -> None:
    """Whisper runs on the compute thread and the stage saves what it hands over: when saving
    fails (a full or broken disk), the meeting says so and whisper stops with it, instead of
    transcribing the rest of the file for nobody while the next meeting waits for the engine."""
    from sqlalchemy import event

    from app.store.models import Segment

    def disk_full(*_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    runner = audio_only(container)
    event.listen(Segment, "before_insert", disk_full)
    try:
        started = time.monotonic()
        failed = runner.process_file(SAMPLES / "team-sync.opus")
        failing_s = time.monotonic() - started
    finally:
        event.remove(Segment, "before_insert", disk_full)
    assert failed.status == MeetingStatus.FAILED.value
    assert failed.message == "Transcribing stopped on an unexpected error."

    started = time.monotonic()
    again = runner.process_file(SAMPLES / "team-sync.opus")  # a new meeting: the old one failed
    full_s = time.monotonic() - started
    assert again.status == MeetingStatus.READY.value
    assert len(queries.meeting_detail(container.db, again.meeting_id).segments) > 10
    # The failed run stopped at its first segment (whisper notices between decoding steps);
    # the whole 92 s recording takes several times longer.
    assert failing_s < full_s / 2, (failing_s, full_s)


_WORKER = """
import sys
from app.container import Container
from app.pipeline.runner import PipelineRunner
c = Container()
PipelineRunner(c.db, c.pipeline.stages[:2]).process_file(sys.argv[1])  # decode, transcribe
"""


def test_killed_mid_transcription_resumes_without_duplicates(container: Container,
                                                              recap_home: Path) -> None:
    sample = SAMPLES / "team-sync.opus"
    env = {**os.environ, "RECAP_HOME": str(recap_home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(sample)], env=env)
    db_path = container.paths.database
    deadline = time.monotonic() + 120
    segments = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=1) as conn:
                    segments = conn.execute("SELECT count(*) FROM segments").fetchone()[0]
            except sqlite3.OperationalError:
                segments = 0
        if segments >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert segments >= 3, "the worker never got going"

    runner = audio_only(container)
    (meeting_id,) = runner.to_resume(Resume.ASKED)
    before = queries.meeting_detail(container.db, meeting_id).segments
    assert len(before) >= 3
    assert runner.run(meeting_id).status == MeetingStatus.READY.value
    after = queries.meeting_detail(container.db, meeting_id).segments
    assert [s.idx for s in after] == list(range(len(after)))
    assert [s.text for s in after[: len(before)]] == [s.text for s in before]
    starts = [s.start_ms for s in after]
    assert starts == sorted(starts), "resumed segments overlap the saved ones"
    texts = [s.text for s in after]
    assert len(texts) == len(set(texts)), "a segment was transcribed twice"


def test_exports(container: Container) -> None:
    report = audio_only(container).process_file(SPEECH / "garden.m4a")
    d = queries.meeting_detail(container.db, report.meeting_id)
    srt = export(d, "srt")
    assert srt.startswith("1\n00:00:") and " --> " in srt
    vtt = export(d, "vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:") and "." in vtt.splitlines()[2]
    md = export(d, "md")
    assert md.startswith(f"# {d.row.title}") and d.segments[0].text in md
    data = json.loads(export(d, "json"))
    assert data["meeting"]["id"] == d.row.id and len(data["segments"]) == len(d.segments)
    assert d.segments[0].text in export(d, "txt")
