"""Synthetic multi-speaker meetings with exact ground-truth turns, made with espeak-ng and sox.

Used by `benchmarks/diarization.py` and `scripts/make_speaker_fixtures.py`; tests never run
it (they read the small encoded files it wrote). Each meeting is a list of turns by 2-5
voices: long and short statements, quick exchanges and back-channel replies ("Sure.", "Okay.")
with varied pauses. Every voice is an espeak-ng voice + variant + pitch + speed; the true
extent of each turn is measured on its own clean clip (leading/trailing silence trimmed), so
the reference is exact to 10 ms.

Conditions:
  clean    16 kHz, distinct voices
  phone    the same meetings through an 8 kHz telephone band plus noise at about 15 dB SNR
  similar  voices that share accent and variant and differ only slightly in pitch and speed

Voices come from two disjoint pools, so a held-out set never hears a dev-set voice. Outside
"similar", each accent + variant is one fixed voice (pitch and speed included) wherever it
appears, like a colleague who joins several meetings.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import wave
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000

SENTENCES = [
    "Let us start with the budget for the next quarter.",
    "The client asked for a new version of the design by Friday.",
    "I spoke with the finance team yesterday and they agreed.",
    "We still need to test the payment page before the release.",
    "The server costs went up again last month.",
    "Can someone take notes during the workshop on Tuesday?",
    "I think we should move the launch by one week.",
    "The survey results are better than we expected.",
    "Our main competitor released a cheaper plan.",
    "I will send the summary to everyone after this call.",
    "The new hire starts on Monday and needs a laptop.",
    "Marketing wants the slides by the end of the day.",
    "We lost two customers because of the outage.",
    "The contract with the hosting provider ends in March.",
    "Let me share my screen so you can see the numbers.",
    "The mobile app crashed on older phones.",
    "I do not think the deadline is realistic.",
    "We should ask legal to review the terms first.",
    "The training session was recorded for those who missed it.",
    "Sales are up twelve percent compared to last year.",
    "The office will be closed during the holidays.",
    "I can help with the documentation next week.",
    "Please update the ticket when you finish the review.",
    "The database migration took longer than planned.",
    "We need a decision on the vendor before Thursday.",
    "Customers keep asking for a dark mode.",
    "The printer on the third floor is broken again.",
    "I booked the meeting room for the whole afternoon.",
    "The report shows a small drop in traffic.",
    "Let us keep the next meeting short.",
    "The translation of the website is almost finished.",
    "Our support team answered every ticket within a day.",
    "We could save money by switching to yearly billing.",
    "The prototype works, but it is still slow.",
    "Who is responsible for the onboarding guide?",
    "I will check the numbers again and get back to you.",
    "The conference in June is a good place to meet partners.",
    "Security found a problem in the login page.",
    "We should celebrate when the release is out.",
    "The designer needs feedback on the new logo.",
]
BACKCHANNELS = ["Sure.", "Okay.", "Right.", "Yes.", "Agreed.", "Got it.", "Mm hmm.",
                "Sounds good.", "No problem.", "Exactly."]

# (accent, variant) pools; pitch and speed are drawn per speaker.
DEV_VOICES = [("en-us", "m1"), ("en-gb", "f1"), ("en-gb-scotland", "m2"), ("en-029", "f2"),
              ("en-gb-x-rp", "m3"), ("en-us", "f3"), ("en-gb", "Andy"), ("en-us", "Annie"),
              ("en-gb-scotland", "f4"), ("en-029", "m7")]
HELDOUT_VOICES = [("en-gb-x-gbclan", "m4"), ("en-us-nyc", "f5"), ("en-gb-x-gbcwmd", "m5"),
                  ("en-gb-x-rp", "f2"), ("en-us", "m6"), ("en-gb-x-gbclan", "Linda"),
                  ("en-us-nyc", "Alex"), ("en-gb", "m8"), ("en-gb-x-gbcwmd", "f1"),
                  ("en-gb-x-rp", "Michael")]
# "similar": one accent, one gender, different variants, near pitches.
DEV_SIMILAR = (["en-us", "en-gb"], [["m1", "m2", "m3"], ["f1", "f2", "f3"]])
HELDOUT_SIMILAR = (["en-gb-x-rp", "en-us-nyc"], [["m4", "m5", "m6", "m7"], ["f4", "f5", "f1"]])


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str
    pitch: int
    speed: int

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}/p{self.pitch}/s{self.speed}"


@dataclass(frozen=True)
class Turn:
    speaker: int
    start: float
    end: float
    text: str


@dataclass
class Meeting:
    name: str
    condition: str
    voices: list[Voice]
    audio: np.ndarray  # float32 16 kHz mono
    turns: list[Turn] = field(default_factory=list)

    @property
    def num_speakers(self) -> int:
        return len({t.speaker for t in self.turns})

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE


def _speak(voice: Voice, text: str, work: Path) -> np.ndarray:
    raw, out = work / "raw.wav", work / "clip.wav"
    subprocess.run(["espeak-ng", "-v", f"{voice.accent}+{voice.variant}", "-p",
                    str(voice.pitch), "-s", str(voice.speed), "-w", str(raw), text], check=True)
    subprocess.run(["sox", "-V1", str(raw), "-r", str(RATE), "-b", "16", str(out)], check=True)
    return read_wav(out)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.astype(np.float32) / 32768.0


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())


def _trim(clip: np.ndarray) -> np.ndarray:
    """The clip without its leading and trailing silence (10 ms frames below -50 dBFS)."""
    frames = len(clip) // 160
    rms = np.sqrt((clip[: frames * 160].reshape(frames, 160) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(rms > 10 ** (-50 / 20))
    if loud.size == 0:
        return clip[:0]
    return clip[loud[0] * 160:(loud[-1] + 1) * 160]


def pick_voices(rng: random.Random, pool: list[tuple[str, str]], n: int,
                similar: bool) -> list[Voice]:
    if similar:
        accents, genders = DEV_SIMILAR if pool is DEV_VOICES else HELDOUT_SIMILAR
        accent = rng.choice(accents)
        variants = rng.sample(rng.choice(genders), n)
        base = rng.randint(42, 55)
        return [Voice(accent, v, base + rng.randint(-3, 3), rng.randint(158, 172))
                for v in variants]
    return [cast_voice(a, v) for a, v in rng.sample(pool, n)]


def cast_voice(accent: str, variant: str) -> Voice:
    """The one fixed voice ("person") of an accent + variant: the same pitch and speed in
    every meeting, so a voice can be recognised from one meeting to the next."""
    h = zlib.crc32(f"{accent}+{variant}".encode())
    return Voice(accent, variant, 40 + h % 26, 150 + (h >> 8) % 31)


def _script(rng: random.Random, n: int, turns: int) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    speaker = rng.randrange(n)
    for _ in range(turns):
        roll = rng.random()
        if lines and n > 1 and roll < 0.18:  # a back-channel reply by someone else
            speaker = rng.choice([s for s in range(n) if s != speaker])
            lines.append((speaker, rng.choice(BACKCHANNELS)))
            continue
        if roll < 0.3 and len(lines) > 1:  # hand back to the previous speaker
            speaker = lines[-2][0]
        else:
            speaker = rng.choice([s for s in range(n) if s != speaker] or [speaker])
        count = rng.choice([1, 1, 2, 2, 3, 4])
        lines.append((speaker, " ".join(rng.sample(SENTENCES, count))))
    # every voice speaks at least once at some length
    for s in range(n):
        if not any(who == s and len(text) > 20 for who, text in lines):
            lines.insert(rng.randrange(len(lines) + 1), (s, rng.choice(SENTENCES)))
    return lines


def synthesize(name: str, seed: int, n_speakers: int, *, pool: list[tuple[str, str]],
               turns: int = 18, similar: bool = False, condition: str = "clean") -> Meeting:
    rng = random.Random(seed)
    voices = pick_voices(rng, pool, n_speakers, similar)
    lines = _script(rng, n_speakers, turns)
    pieces: list[np.ndarray] = [np.zeros(int(RATE * 0.5), dtype=np.float32)]
    cursor = 0.5
    result: list[Turn] = []
    with tempfile.TemporaryDirectory() as tmp:
        for who, text in lines:
            clip = _trim(_speak(voices[who], text, Path(tmp)))
            start = cursor
            pieces.append(clip)
            cursor += len(clip) / RATE
            result.append(Turn(who, round(start, 3), round(cursor, 3), text))
            gap = rng.choice([0.15, 0.3, 0.4, 0.6, 0.8, 1.2]) if rng.random() > 0.05 else 2.5
            pieces.append(np.zeros(int(RATE * gap), dtype=np.float32))
            cursor += int(RATE * gap) / RATE
    audio = np.concatenate(pieces)
    audio *= 0.5 / max(1e-6, float(np.abs(audio).max()))
    meeting = Meeting(name, "clean", voices, audio, result)
    if condition == "phone":
        meeting = degrade(meeting, seed)
    elif condition != "clean":
        meeting.condition = condition
    return meeting


def degrade(meeting: Meeting, seed: int, snr_db: float = 15.0) -> Meeting:
    """Telephone band (through 8 kHz with sox) plus steady noise at `snr_db`."""
    with tempfile.TemporaryDirectory() as tmp:
        src, low, back = Path(tmp) / "a.wav", Path(tmp) / "b.wav", Path(tmp) / "c.wav"
        write_wav(src, meeting.audio)
        subprocess.run(["sox", "-V1", str(src), "-r", "8000", str(low)], check=True)
        subprocess.run(["sox", "-V1", str(low), "-r", str(RATE), str(back)], check=True)
        audio = read_wav(back)[: len(meeting.audio)]
    rng = np.random.default_rng(seed)
    speech = np.concatenate([audio[int(t.start * RATE):int(t.end * RATE)]
                             for t in meeting.turns])
    power = float(np.mean(speech**2))
    noise = rng.standard_normal(len(audio)).astype(np.float32)
    # a little low-frequency hum-like colour: average neighbouring samples
    noise = np.convolve(noise, np.ones(4, dtype=np.float32) / 2.0, mode="same")
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    return Meeting(meeting.name, "phone", meeting.voices, (audio + noise).astype(np.float32),
                   meeting.turns)
