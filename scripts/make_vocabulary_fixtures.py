"""Make the vocabulary fixtures: short meetings full of unusual names and work words.

Each meeting is written to tests/fixtures/vocabulary/ as NAME.opus (speech), NAME.txt (what is
said, one "Speaker: line" per turn) and NAME.json (the vocabulary a user would type in settings,
and whether the meeting may be used to tune the prompt or is held out for measuring only).

    .venv/bin/python scripts/make_vocabulary_fixtures.py

Needs espeak-ng and sox (apt-get install -y espeak-ng sox); tests never run this. espeak-ng reads
names by its spelling rules, the way an unfamiliar name sounds to a listener who has not met it:
exactly where Whisper needs to be told how the name is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "vocabulary"
RATE = 22_050  # espeak-ng's own rate; the encoder resamples

VOICES = {"A": "en-us", "B": "en-gb", "C": "en-gb-x-rp+f2", "D": "en-us+f3", "E": "en-us+m3"}

MEETINGS: dict[str, dict[str, object]] = {
    "standup": {
        "use": "tune",
        "vocabulary": ["Siobhan", "Tadeusz", "Oluwaseun", "Anneliese", "Quillfeather",
                       "Grafana", "Zendesk", "Kubernetes"],
        "turns": [
            ("A", "Morning everyone. Siobhan, can you take the Quillfeather release notes?"),
            ("B", "Sure. Tadeusz fixed the Grafana dashboards yesterday, so I can start now."),
            ("C", "Oluwaseun will check the Kubernetes cluster before the demo on Friday."),
            ("D", "Anneliese says the Zendesk tickets are down by half this week."),
            ("A", "Great work, Tadeusz. Let us ask Oluwaseun about the Quillfeather pricing."),
            ("E", "I can pair with Siobhan on the Grafana alerts after lunch."),
            ("C", "And Anneliese wants the Zendesk macros cleaned up by Thursday."),
        ],
    },
    "planning": {
        "use": "tune",
        "vocabulary": ["Nakagawa", "Dervla", "Xiomara", "Kowalczyk", "Brightwater", "Jira",
                       "Terraform", "OKR"],
        "turns": [
            ("B", "Welcome back. Dervla will lead the Brightwater migration this quarter."),
            ("D", "Thanks. Mister Nakagawa signed off the Terraform changes last night."),
            ("A", "Xiomara, please move the open Jira tickets into the new board."),
            ("E", "Kowalczyk asked whether the OKR for Brightwater is still ninety percent."),
            ("C", "Yes. Dervla and Xiomara own that OKR together."),
            ("B", "Then Kowalczyk can review the Terraform plan with Nakagawa on Monday."),
        ],
    },
    "review": {
        "use": "held out",
        "vocabulary": ["Eilidh", "Ngozi", "Szymanski", "Aoife", "Larkspur", "Datadog",
                       "Figma", "SOC"],
        "turns": [
            ("C", "Let us start the design review. Eilidh shared the Larkspur mockups in Figma."),
            ("A", "Ngozi found two problems in the Datadog traces from the checkout page."),
            ("D", "Szymanski will fix both before Aoife runs the accessibility tests."),
            ("E", "The SOC audit needs the Larkspur logs, so keep them for a year."),
            ("B", "Aoife, can you send the Figma link to Szymanski and Ngozi?"),
            ("C", "Thanks Eilidh. Next week we look at the Datadog costs."),
        ],
    },
}


def speak(voice: str, text: str, work: Path) -> np.ndarray:
    wav = work / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(wav), text], check=True)
    with wave.open(str(wav), "rb") as f:
        assert f.getframerate() == RATE and f.getnchannels() == 1
        return np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16)


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(samples.astype(np.int16).tobytes())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, meeting in MEETINGS.items():
            pieces = [np.zeros(RATE // 2, dtype=np.int16)]
            lines = []
            for who, text in meeting["turns"]:  # type: ignore[attr-defined]
                pieces.append(speak(VOICES[who], text, work))
                pieces.append(np.zeros(int(RATE * rng.uniform(0.5, 1.2)), dtype=np.int16))
                lines.append(f"{who}: {text}")
            wav = work / f"{name}.wav"
            write_wav(wav, np.concatenate(pieces))
            subprocess.run([sys.executable, str(ROOT / "scripts" / "encode_audio.py"), str(wav),
                            str(OUT / f"{name}.opus"), "--codec", "libopus", "--rate", "48000",
                            "--bitrate", "24k"], check=True)
            (OUT / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            (OUT / f"{name}.json").write_text(json.dumps(
                {"vocabulary": meeting["vocabulary"], "use": meeting["use"]}, indent=2) + "\n",
                encoding="utf-8")
            print(f"{name}: {sum(len(p) for p in pieces) / RATE:.1f} s")


if __name__ == "__main__":
    main()
