"""Drift between the two tracks over a long recording: Recap's recorder beside plain parec.

A throwaway sound server (PulseAudio, or PipeWire with ``--server pipewire``) gets a microphone
that hears exactly what the speakers play (a remap of the speakers' monitor), and a speech loop
plays for ``--minutes``. Recap records both tracks (the microphone through PortAudio, system
audio through its monitor capture); at the same time two plain ``parec`` processes record the
same two sources, as the reference. Every 10 s of the result we measure the lag between the
tracks by cross-correlation: drift is how that lag moves over the recording.

Usage: python benchmarks/capture_drift.py [--minutes 10] [--server pulseaudio|pipewire]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.capture import audio_server  # noqa: E402
from tests.capture.real_session import speech_wav  # noqa: E402
from tests.capture.signal_match import find, resample  # noqa: E402

RATE = 16000


def lags(a: np.ndarray, b: np.ndarray, every_s: float = 10.0) -> list[tuple[float, float]]:
    """(time, lag of b behind a in ms) for each window with sound in it."""
    out = []
    size = int(every_s * RATE)
    for start in range(RATE, min(len(a), len(b)) - size - RATE, size):
        piece = a[start:start + RATE * 2]
        if np.sqrt(np.mean(piece**2)) < 0.01:
            continue
        region = b[start - RATE // 2:start + RATE * 2 + RATE // 2]
        match = find(region, piece)
        if match.correlation > 0.8:
            out.append((start / RATE, (match.offset_s - 0.5) * 1000))
    return out


def summary(name: str, series: list[tuple[float, float]]) -> str:
    if len(series) < 2:
        return f"{name}: too few windows"
    values = np.array([v for _, v in series])
    first = np.median(values[:3])
    last = np.median(values[-3:])
    return (f"{name:22s} offset {first:+7.1f} ms at start, {last:+7.1f} ms at end: drift "
            f"{last - first:+6.1f} ms over {series[-1][0] / 60:.1f} min; spread "
            f"{values.min():+.1f}..{values.max():+.1f} ms ({len(series)} windows)")


def read(path: Path, rate: int | None = None, channels: int = 1) -> list[np.ndarray]:
    if rate is not None:  # raw s16le from parec
        data = np.fromfile(path, dtype="<i2").reshape(-1, channels)
        return [resample(data[:, i] / 32768.0, rate) for i in range(channels)]
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(
            -1, w.getnchannels())
        return [resample(data[:, i] / 32768.0, w.getframerate())
                for i in range(w.getnchannels())]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--server", choices=audio_server.KINDS, default="pulseaudio")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recap-drift-"))
    loop = work / "loop.wav"
    voices = [speech_wav(n, work) for n in ("project-update", "library", "groceries", "garden")]
    parts = []
    for v in voices:
        with wave.open(str(v)) as w:
            parts.append(np.frombuffer(w.readframes(w.getnframes()), "<i2"))
            parts.append(np.zeros(RATE // 2, "<i2"))
    one = np.concatenate(parts)
    total = np.tile(one, int(args.minutes * 60 * RATE / len(one)) + 1)
    with wave.open(str(loop), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(total[: int(args.minutes * 60 * RATE)].tobytes())

    load_before = os.getloadavg()
    with audio_server.running(args.server) as server:
        server.load_module("module-remap-source source_name=echomic master=speakers.monitor")
        server.pactl("set-default-source", "echomic")
        os.environ.update(server.env)
        from app.audio.sources import SoundDeviceSource
        from app.audio.system_source import open_system_audio
        from app.audio.two_track import TwoTrackRecorder

        mic = SoundDeviceSource(None)
        recorder = TwoTrackRecorder(work / "rec", mic=mic,
                                    system=open_system_audio(mic.sample_rate))
        recorder.start()
        refs = [subprocess.Popen(["parec", "-d", name, "--raw", "--format=s16le",
                                  "--rate=48000", "--channels=1"], env=server.env,
                                 stdout=open(work / f"{name}.raw", "wb"))  # noqa: SIM115
                for name in ("echomic", "speakers.monitor")]
        for track in recorder.tracks:
            recorder.wait_for_data(track, 30)
        time.sleep(2.5)  # parec's streams start late on a null sink too
        started = time.monotonic()
        server.play(loop, "speakers").wait()
        elapsed = time.monotonic() - started
        result = recorder.stop()
        for ref in refs:
            ref.terminate()
            ref.wait(10)
    load_after = os.getloadavg()

    mic_track, system_track = read(result.path)
    ref_mic = read(work / "echomic.raw", 48000)[0]
    ref_system = read(work / "speakers.monitor.raw", 48000)[0]
    ours = lags(system_track, mic_track)
    reference = lags(ref_system, ref_mic)
    print(f"{args.server}, {elapsed / 60:.1f} min of speech; load {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after (1-min average), {os.cpu_count()} cores")
    print(summary("Recap (mic vs system)", ours))
    print(summary("parec x2 (reference)", reference))
    print(f"Recap: padded {result.padded_s}, trimmed {result.trimmed_s} (seconds); "
          f"drift corrections {result.corrections}, re-placed after gaps {result.reanchors}")
    print(f"recording: {result.path}")


if __name__ == "__main__":
    main()
