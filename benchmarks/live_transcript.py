"""Live transcript while recording: latency, CPU, and live WER beside the final transcript's.

A throwaway PulseAudio (or ``--server pipewire``); phrases from tests/fixtures/speech take turns
on the speakers (the far end) and the microphone, a couple of seconds apart. Recap records both
tracks in this process with the live transcriber attached (tiny.en q8_0, one thread, low
priority), exactly as the app would.

- Latency: from the end of each phrase's speech (player start + where its speech ends in the
  file) to the moment its last line came out of the live transcriber.
- CPU: this process plus its parec child, while recording with the live transcript, beside the
  same recording without it (the capture alone), in cores.
- WER: the live lines of each track against the script, beside the final transcript made after
  stop from the whole tracks (WhisperEngine, two threads, as the pipeline does).

Usage: python benchmarks/live_transcript.py [--server pipewire] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.capture import audio_server  # noqa: E402
from tests.capture.real_session import speech_text, speech_wav  # noqa: E402
from tests.wer import word_error_rate  # noqa: E402

SCRIPT = [("system", "project-update"), ("mic", "groceries"), ("system", "library"),
          ("mic", "garden"), ("system", "screen-share"), ("mic", "export-notes"),
          ("system", "hello"), ("mic", "library")]
SINK = {"system": "speakers", "mic": "micsink"}


def speech_end_s(path: Path) -> float:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32768
        rate = w.getframerate()
    loud = np.flatnonzero(np.abs(data) > 0.02)
    return float(loud[-1] / rate) if len(loud) else len(data) / rate


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def record(server: audio_server.AudioServer, work: Path, script: list[tuple[str, str]],
           model: Path | None, threads: int = 1) -> dict[str, object]:
    from app.audio.sources import SoundDeviceSource
    from app.audio.system_source import open_system_audio
    from app.audio.two_track import TwoTrackRecorder
    from app.pipeline.live import LiveTranscriber

    emitted: list[tuple[float, str, str]] = []
    lock = threading.Lock()

    def on_segment(segment: object) -> None:
        with lock:
            emitted.append((time.monotonic(), segment.track, segment.text))  # type: ignore[attr-defined]

    live = LiveTranscriber(model, on_segment=on_segment, threads=threads) if model else None
    mic = SoundDeviceSource(None)
    recorder = TwoTrackRecorder(work, mic=mic, system=open_system_audio(mic.sample_rate),
                                on_audio=live.feed if live else None)
    path = recorder.start()
    if live is not None:
        live.start(path)
    for track in recorder.tracks:
        recorder.wait_for_data(track, 30)
    me = psutil.Process()
    cpu0, wall0 = cpu_seconds(me), time.monotonic()
    phrases = []
    for track, name in script:
        wav = speech_wav(name, work)
        began = time.monotonic()
        server.play(wav, SINK[track]).wait(60)
        phrases.append((track, name, began, began + speech_end_s(wav)))
        time.sleep(2.5)
    # Let the live worker catch up (it may be behind on a busy machine), then stop.
    deadline = time.monotonic() + 60
    while live is not None and time.monotonic() < deadline:
        with lock:
            last = emitted[-1][0] if emitted else 0.0
        if time.monotonic() - last > 6:
            break
        time.sleep(0.5)
    cpu = (cpu_seconds(me) - cpu0) / (time.monotonic() - wall0)
    result = recorder.stop()
    if live is not None:
        live.close(timeout=None)
    latencies = []
    for i, (track, _name, _began, end) in enumerate(phrases):
        following = [p[2] for p in phrases[i + 1:] if p[0] == track]
        until = following[0] if following else float("inf")
        mine = [t for t, tr, _ in emitted if tr == track and end - 1 < t < until]
        if mine:
            latencies.append(max(mine) - end)
    return {"result": result, "cpu": cpu, "latencies": latencies, "emitted": emitted,
            "phrases": phrases, "live": live}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=audio_server.KINDS, default="pulseaudio")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="live worker's whisper threads")
    args = parser.parse_args()
    from app.audio.tracks import decode_tracks
    from app.transcribe.engine import WhisperEngine
    from app.transcribe.model_store import ModelStore

    cache = Path(os.environ.get("RECAP_BENCH_MODELS", "/tmp/recap-bench-models"))
    model = ModelStore(cache, cache / "cache").ensure_embedded("tiny.en-q8_0")
    work = Path(tempfile.mkdtemp(prefix="recap-live-"))
    script = SCRIPT * args.rounds
    load = [os.getloadavg()[0]]
    with audio_server.running(args.server) as server:
        os.environ.update(server.env)
        capture = record(server, work / "capture", script[:4], None)
        load.append(os.getloadavg()[0])
        live = record(server, work / "live", script, model, args.threads)
        load.append(os.getloadavg()[0])

    lat = sorted(live["latencies"])  # type: ignore[arg-type]
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    print(f"{args.server}; load (1-min) {' -> '.join(f'{x:.1f}' for x in load)} on "
          f"{os.cpu_count()} cores; tiny.en q8_0, live worker {args.threads} thread(s)")
    print(f"latency, end of phrase -> its text: p50 {p50:.2f} s, p95 {p95:.2f} s, "
          f"max {lat[-1]:.2f} s over {len(lat)} of {len(script)} phrases")
    print(f"CPU while recording: capture + live {live['cpu']:.2f} cores; "
          f"capture alone {capture['cpu']:.2f} cores")

    result = live["result"]
    tracks = decode_tracks(result.path)  # type: ignore[attr-defined]
    engine = WhisperEngine(model, threads=2)
    print("WER per track (live vs final transcript from the whole track):")
    for track in ("mic", "system"):
        reference = " ".join(speech_text(n) for t, n in script if t == track)
        live_text = " ".join(text for _, tr, text in live["emitted"] if tr == track)  # type: ignore[attr-defined]
        began = time.perf_counter()
        final = " ".join(s.text for s in engine.transcribe(tracks[track]))
        took = time.perf_counter() - began
        live_wer, final_wer = word_error_rate(reference, live_text), \
            word_error_rate(reference, final)
        print(f"  {track:6s} live {live_wer:.3f}  final {final_wer:.3f}  "
              f"(ratio {live_wer / max(final_wer, 1e-9):.2f}; final took {took:.1f} s)")
    stats = live["live"].stats  # type: ignore[attr-defined]
    print(f"live worker: {stats.chunks} chunks, whisper busy {stats.busy_s:.1f} s, echo drops "
          f"{stats.echo_dropped_audio} (audio) + {stats.echo_dropped_text} (text)")


if __name__ == "__main__":
    main()
