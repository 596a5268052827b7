"""Recording a meeting, as both faces do it: open the microphone, record to disk as it goes,
hand the finished file to the pipeline; and get back recordings a crash cut off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.actions.changes import Changes
from app.audio import recovery
from app.audio.capture_errors import RecordingError
from app.audio.recorder import LevelReading, Recorder
from app.audio.recovery import RecoveryCandidate
from app.audio.sources import AudioSource, InputDevice, SoundDeviceSource, list_input_devices
from app.pipeline.runner import PipelineRunner


class Recordings:
    def __init__(self, folder: Path, pipeline: PipelineRunner,
                 input_device: Callable[[], int | None]) -> None:
        self.folder = folder
        self.pipeline = pipeline
        self.input_device = input_device  # the microphone chosen in settings (None: default)

    def devices(self) -> list[InputDevice]:
        return list_input_devices()

    def microphone(self, device: int | None = None) -> AudioSource:
        """The microphone ``device`` (by default the one in settings, else the system's);
        ``RecordingError`` says in one line why it cannot be opened."""
        return SoundDeviceSource(device if device is not None else self.input_device())

    def start(self, source: AudioSource | None = None, *,
              on_level: Callable[[LevelReading], None] | None = None,
              on_error: Callable[[RecordingError], None] | None = None) -> Recorder:
        """Start recording from ``source`` (by default the microphone in settings) to a new
        file, stopped with ``recorder.stop()``; the file is safe on disk as it grows, so a
        crash loses at most about a second."""
        recorder = Recorder(source if source is not None else self.microphone(), self.folder,
                            on_level=on_level,
                            on_error=on_error)
        recorder.start()
        return recorder

    def hand_over(self, wav: Path, title: str) -> Changes:
        """Give a finished or recovered recording to the pipeline as a queued meeting
        (``changes.meeting_id``); processing it now or later is the caller's choice."""
        return Changes.meeting(recovery.queue_recording(self.pipeline, wav, title),
                               detail=False)

    def unfinished(self) -> list[RecoveryCandidate]:
        """Recordings a crash or a power cut stopped, repaired and waiting to be offered."""
        return recovery.find_unfinished(self.folder)

    def discard(self, candidate: RecoveryCandidate) -> None:
        """Delete one, on the user's explicit request only."""
        recovery.discard(candidate)
