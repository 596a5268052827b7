"""Run as a child process by the crash test: records a known signal in real time, forever.

Prints ``path <wav>`` once and then ``fed <frames>`` after every block it hands to the
recorder, so the parent knows a lower bound of what was fed when it sends SIGKILL.
Usage: python record_child.py FOLDER SAMPLE_RATE CHANNELS
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from app.audio.recorder import Recorder
from app.audio.sources import ArraySource, known_signal


def main() -> None:
    folder, rate, channels = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

    def fed(frames: int) -> None:
        print(f"fed {frames}", flush=True)

    source = ArraySource(lambda start, n: known_signal(start, n, channels), sample_rate=rate,
                         channels=channels, block_frames=rate // 20, speed=1.0, on_fed=fed)
    recorder = Recorder(source, folder)
    print(f"path {recorder.start()}", flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
