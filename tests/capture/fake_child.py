"""Records two fake tracks in real time until killed (the two-track SIGKILL test)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from app.audio.sources import ArraySource, known_signal
from app.audio.two_track import TwoTrackRecorder
from tests.capture.conftest import ScriptedSource

mic = ArraySource(lambda s, n: known_signal(s, n, 1), sample_rate=16000, block_frames=320)
recorder = TwoTrackRecorder(Path(sys.argv[1]), mic=mic, system=ScriptedSource())
print(f"path {recorder.start()}", flush=True)
threading.Event().wait()
