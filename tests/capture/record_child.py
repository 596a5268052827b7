"""Run by the real-server tests: records the default microphone and system audio with Recap's
real capture code until a line "stop" (or EOF) on stdin, or SIGKILL.

Prints one JSON object per line: ``path``, ``first_data`` (per track), ``notice``, ``segment``
(with ``--live MODEL``), and at the end ``result``.
Usage: python record_child.py FOLDER [--no-mic] [--no-system] [--live MODEL]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from app.audio.meeting_sources import open_meeting_sources
from app.audio.two_track import TwoTrackRecorder

_print_lock = threading.Lock()


def say(**event: Any) -> None:
    with _print_lock:
        print(json.dumps(event), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--no-mic", action="store_true")
    parser.add_argument("--no-system", action="store_true")
    parser.add_argument("--live", type=Path)
    args = parser.parse_args()

    sources = open_meeting_sources(mic=not args.no_mic, system=not args.no_system)
    for text in sources.notices:
        say(event="notice", text=text)
    live = None
    on_audio = None
    if args.live:
        from app.pipeline.live import LiveTranscriber

        live = LiveTranscriber(args.live, on_segment=lambda s: say(event="segment", **s.as_dict()))
        on_audio = live.feed
    recorder = TwoTrackRecorder(args.folder, mic=sources.mic, system=sources.system,
                                on_notice=lambda text: say(event="notice", text=text),
                                on_audio=on_audio)
    path = recorder.start()
    if live is not None:
        live.start(path)
    say(event="path", path=str(path), tracks=list(recorder.tracks),
        rate=recorder.sample_rate)

    def report_first(track: str) -> None:
        if recorder.wait_for_data(track, 30):
            say(event="first_data", track=track)

    for track in recorder.tracks:
        threading.Thread(target=report_first, args=(track,), daemon=True).start()
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    result = recorder.stop()
    if live is not None:
        live.close()
    say(event="result", path=str(result.path), frames=result.frames, rate=result.sample_rate,
        tracks=list(result.tracks), notices=list(result.notices),
        error=result.error.message if result.error else None,
        first_data_s=result.first_data_s, padded_s=result.padded_s, trimmed_s=result.trimmed_s)


if __name__ == "__main__":
    main()
