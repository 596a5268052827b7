"""Make the committed speaker-labelling fixtures in tests/fixtures/speakers (run once).

    .venv/bin/python scripts/make_speaker_fixtures.py

Needs espeak-ng and sox (apt-get install -y espeak-ng sox); tests only read what it wrote:
small Opus files (PyAV encodes them) and, beside each, its true turns as JSON.
  three-voices.opus  3 voices, about 50 s, with short replies ("Sure.")
  two-voices.opus    2 voices, one of them also in three-voices (the "remembered" voice)
  one-voice.opus     a single voice, about 35 s
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import synth_meetings as synth

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "speakers"

SHARED = ("en-gb", "f1")
MEETINGS = {
    "three-voices": (11, [SHARED, ("en-us", "m1"), ("en-gb-scotland", "m2")], 9),
    "two-voices": (12, [SHARED, ("en-029", "m7")], 8),
    "one-voice": (13, [("en-us", "f3")], 5),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (seed, pool, turns) in MEETINGS.items():
        meeting = synth.synthesize(name, seed, len(pool), pool=list(pool), turns=turns)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / f"{name}.wav"
            synth.write_wav(wav, meeting.audio)
            subprocess.run([sys.executable, str(REPO / "scripts" / "encode_audio.py"), str(wav),
                            str(OUT / f"{name}.opus"), "--codec", "libopus", "--rate", "48000",
                            "--bitrate", "32k"], check=True)
        (OUT / f"{name}.json").write_text(json.dumps({
            "duration": round(meeting.duration, 3),
            "voices": [f"{v.accent}+{v.variant}" for v in meeting.voices],
            "turns": [[t.start, t.end, t.speaker, t.text] for t in meeting.turns],
        }, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: {meeting.duration:.1f} s, {meeting.num_speakers} voices, "
              f"{len(meeting.turns)} turns")


if __name__ == "__main__":
    main()
