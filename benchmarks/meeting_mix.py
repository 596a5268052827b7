"""Long meetings for the transcription benchmark, made from the committed speech fixtures.

A meeting is the fixtures' utterances in a seeded random order with what real meetings have
between them: short pauses between turns, long silences (someone shares a screen), hold music
(chords), keyboard typing, and room tone under everything. The reference text is what the
utterances say; the music, typing and silences must give no words.

    python benchmarks/meeting_mix.py --minutes 10 --out /tmp/meeting10   # .wav + .txt
"""

from __future__ import annotations

import argparse
import re
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.noise import hold_music, room_tone, typing  # noqa: E402

SAMPLE_RATE = 16_000
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Utterance:
    audio: F32
    text: str


def fixtures() -> list[Utterance]:
    """Every committed speech recording that has its text beside it."""
    from app.audio.decode import decode

    found = [*sorted((REPO / "tests" / "fixtures" / "speech").iterdir()),
             *sorted((REPO / "tests" / "fixtures" / "vocabulary").glob("*.opus")),
             REPO / "resources" / "samples" / "team-sync.opus"]
    out = []
    for path in found:
        if path.suffix in (".txt", ".tsv", ".json"):
            continue
        text = path.with_suffix(".txt").read_text(encoding="utf-8")
        text = re.sub(r"^\w+: ", "", text, flags=re.MULTILINE)  # speaker labels are not said
        # Whisper writes ordinals as digits ("15th"); the scripts spell them out.
        out.append(Utterance(decode(path), " ".join(text.replace("fifteenth", "15th").split())))
    return out


def make_meeting(minutes: float, seed: int = 1) -> tuple[F32, str, float]:
    """(audio, reference text, seconds of speech) for a meeting about `minutes` long."""
    rng = np.random.default_rng(seed)
    pool = fixtures()
    target = int(minutes * 60 * SAMPLE_RATE)
    parts: list[F32] = []
    texts: list[str] = []
    total = speech = 0
    order: list[int] = []
    while total < target:
        if not order:
            order = list(rng.permutation(len(pool)))
        utt = pool[order.pop()]
        gain = np.float32(10 ** (rng.uniform(-6, 0) / 20))
        parts.append(utt.audio * gain)
        texts.append(utt.text)
        total += len(utt.audio)
        speech += len(utt.audio)
        kind = rng.random()
        if kind < 0.10:  # hold music while someone rejoins
            gap = hold_music(int(rng.uniform(10, 25) * SAMPLE_RATE), rng)
        elif kind < 0.20:  # someone types notes
            gap = typing(int(rng.uniform(5, 15) * SAMPLE_RATE), rng)
        elif kind < 0.40:  # a long silence: screen sharing, looking something up
            gap = np.zeros(int(rng.uniform(8, 40) * SAMPLE_RATE), dtype=np.float32)
        else:  # the pause between turns
            gap = np.zeros(int(rng.uniform(0.4, 2.5) * SAMPLE_RATE), dtype=np.float32)
        parts.append(gap)
        total += len(gap)
    audio = np.concatenate(parts)
    audio += room_tone(len(audio), rng, -58.0)
    np.clip(audio, -1.0, 1.0, out=audio)
    return audio, " ".join(texts), speech / SAMPLE_RATE


def write(audio: F32, text: str, stem: Path) -> Path:
    """`stem`.wav (16-bit, 16 kHz mono) and `stem`.txt; the wav's path."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    wav = stem.with_suffix(".wav")
    with wave.open(str(wav), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes((audio * 32767).astype("<i2").tobytes())
    stem.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    return wav


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="path without extension")
    args = parser.parse_args()
    audio, text, speech_s = make_meeting(args.minutes, args.seed)
    wav = write(audio, text, args.out)
    print(f"{wav}: {len(audio) / SAMPLE_RATE:.0f} s, {speech_s:.0f} s of speech, "
          f"{len(text.split())} words")


if __name__ == "__main__":
    main()
