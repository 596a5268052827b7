"""Echo detection for the live transcript: audio envelopes vs text overlap, on generated rooms.

Each case is one microphone chunk beside what the system track played at the same time:
  echo       the microphone hears only the speakers (no headphones)    -> should be dropped
  doubletalk the user talks while the speakers play (echo + own voice)  -> must be kept
  headphones the user talks, the far end talks too, no echo             -> must be kept
Rooms are generated (exponential reverb tails, 10-80 ms delay, echo gain 0.08-0.6, noise, a
laptop speaker's missing bass); seeds 0-9 were used to choose the thresholds, the figures
printed are for seeds 100-139 (never looked at while tuning).

A wrongly dropped user chunk (lost words) is counted apart from a missed echo (a duplicate
line): the first is worse. The peer is the text-only check (Whisper both chunks, compare words),
which the audio check beats on cost (no Whisper call for a dropped chunk).

Usage: python benchmarks/echo_detection.py [--tuning]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.audio.decode import decode  # noqa: E402
from app.audio.echo import (  # noqa: E402
    audio_echo_score,
    is_text_echo,
    text_echo_share,
    text_echo_similarity,
)

RATE = 16000
SPEECH = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "speech"
FILES = ["garden.m4a", "groceries.ogg", "library.mp3", "project-update.flac",
         "screen-share.mkv", "export-notes.mp4", "hello.wav"]


def room(signal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.6)
    delay = int(rng.uniform(0.01, 0.08) * RATE)
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * 0.3
    tail[0] = 1.0
    rir = np.concatenate([np.zeros(delay), tail])
    wet = np.convolve(signal, rir)[: len(signal)]
    if rng.random() < 0.5:  # a laptop speaker: little below 300 Hz
        spectrum = np.fft.rfft(wet)
        spectrum[: int(300 * len(wet) / RATE)] = 0
        wet = np.fft.irfft(spectrum, len(wet))
    wet *= rng.uniform(0.08, 0.6) / (np.abs(wet).max() + 1e-9)
    return wet


def cases(seeds: range, voices: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray,
                                                                     np.ndarray, str, str]]:
    names = list(voices)
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        far, near = rng.choice(names, 2, replace=False)
        a, b = voices[far], voices[near]
        n = max(len(a), len(b)) + RATE
        system = np.zeros(n)
        system[: len(a)] = a
        noise = rng.standard_normal(n) * 10 ** (rng.uniform(-65, -45) / 20)
        echo = room(system, rng)
        user = np.zeros(n)
        user[: len(b)] = b * rng.uniform(0.3, 0.9) / (np.abs(b).max() + 1e-9)
        kind = ("echo", "doubletalk", "headphones")[seed % 3]
        mic = {"echo": echo, "doubletalk": echo + user, "headphones": user}[kind] + noise
        out.append((kind, mic.astype(np.float32), system.astype(np.float32), far, near))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tuning", action="store_true", help="the seeds used for tuning")
    parser.add_argument("--audio-above", type=float, default=0.9)
    args = parser.parse_args()
    seeds = range(0, 10) if args.tuning else range(100, 140)
    voices = {f: decode(SPEECH / f) for f in FILES}
    from app.pipeline.live import LIVE_PARAMS
    from app.transcribe.engine import WhisperEngine
    from app.transcribe.model_store import ModelStore

    cache = Path(os.environ.get("RECAP_BENCH_MODELS", "/tmp/recap-bench-models"))
    model = ModelStore(cache, cache / "cache").ensure_embedded("tiny.en-q8_0")
    engine = WhisperEngine(model, threads=2, skip_silence=False, extra_params=LIVE_PARAMS)
    load = os.getloadavg()
    results: dict[str, dict[str, int]] = {}
    audio_s = text_s = 0.0
    rows = []
    for kind, mic, system, _far, _near in cases(seeds, voices):
        began = time.perf_counter()
        score = audio_echo_score(mic, system, 0)
        audio_s += time.perf_counter() - began
        began = time.perf_counter()
        mic_text = " ".join(s.text for s in engine.transcribe(mic))
        sys_text = " ".join(s.text for s in engine.transcribe(system))
        share = text_echo_share(mic_text, [sys_text]) if mic_text else 1.0
        similar = text_echo_similarity(mic_text, [sys_text]) if mic_text else 1.0
        text_s += time.perf_counter() - began
        rows.append((kind, score, share, similar))
        text_drop = is_text_echo(mic_text, [sys_text]) if mic_text else True
        for method, drop in (("audio", score >= args.audio_above),
                             ("text: word share (used)", text_drop),
                             ("text: share or similarity", text_drop or similar >= 0.72),
                             ("audio, then text (used)", score >= args.audio_above
                              or text_drop)):
            tally = results.setdefault(method, {"dropped echo": 0, "missed echo": 0,
                                                "user words lost": 0, "kept user": 0})
            if kind == "echo":
                tally["dropped echo" if drop else "missed echo"] += 1
            else:
                tally["user words lost" if drop else "kept user"] += 1
    for kind in ("echo", "doubletalk", "headphones"):
        scores = [r[1] for r in rows if r[0] == kind]
        shares = [r[2] for r in rows if r[0] == kind]
        similar = [r[3] for r in rows if r[0] == kind]
        print(f"{kind:11s} audio score {min(scores):.2f}..{max(scores):.2f}  "
              f"text share {min(shares):.2f}..{max(shares):.2f}  "
              f"text similarity {min(similar):.2f}..{max(similar):.2f}")
    print(f"\n{len(rows)} cases (seeds {seeds.start}-{seeds.stop - 1}); load {load[0]:.1f}")
    for method, tally in results.items():
        print(f"{method:27s} " + ", ".join(f"{k} {v}" for k, v in tally.items()))
    per = len(rows)
    print(f"cost per chunk: audio {audio_s / per * 1000:.1f} ms, "
          f"text (Whisper on both) {text_s / per * 1000:.0f} ms, ratio {text_s / audio_s:.0f}x")


if __name__ == "__main__":
    main()
