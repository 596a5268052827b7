"""CPU of recording system audio on Linux: Recap's monitor capture (parec) beside ``soundcard``.

A throwaway sound server plays speech into the default output for ``--seconds``; each
contender records its monitor at 48 kHz mono in turn (in this process; parec's own CPU is
counted), and we print CPU seconds per minute of audio and how much audio each got.

Usage: python benchmarks/capture_cpu.py [--seconds 30] [--server pulseaudio|pipewire]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.capture import audio_server  # noqa: E402
from tests.capture.real_session import speech_wav  # noqa: E402


def cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def ours(seconds: float) -> tuple[float, int]:
    from app.audio.pulse_monitor import open_default

    frames = [0]
    source = open_default(48_000)
    source.start(lambda block, gap: frames.__setitem__(0, frames[0] + len(block)), print)
    me = psutil.Process()
    time.sleep(2.0)  # start-up (a null sink is slow to start)
    before, got = cpu(me), frames[0]
    time.sleep(seconds)
    used = cpu(me) - before
    source.stop()
    return used, frames[0] - got


def peer(seconds: float) -> tuple[float, int]:
    import soundcard

    from app.audio.pulse_monitor import _connect, default_monitor

    with _connect("bench") as pulse:
        monitor = default_monitor(pulse)
    assert monitor is not None
    mic = soundcard.get_microphone(id=monitor.source, include_loopback=True)
    me = psutil.Process()
    frames = 0
    with mic.recorder(samplerate=48_000, channels=1, blocksize=960) as recorder:
        warm = time.monotonic() + 2.0
        while time.monotonic() < warm:
            recorder.record(numframes=None)
        before, end = cpu(me), time.monotonic() + seconds
        while time.monotonic() < end:
            frames += len(recorder.record(numframes=None))
        used = cpu(me) - before
    return used, frames


def keep_playing(server: audio_server.AudioServer, loop: Path, until: float) -> None:
    player = server.play(loop, "speakers")
    while time.monotonic() < until:
        if player.poll() is not None:
            player = server.play(loop, "speakers")
        time.sleep(0.2)
    player.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--server", choices=audio_server.KINDS, default="pulseaudio")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recap-cpu-"))
    loop = speech_wav("project-update", work)
    load = os.getloadavg()[0]
    with audio_server.running(args.server) as server:
        os.environ.update(server.env)
        sys.argv = sys.argv[:1]  # soundcard names its client after argv at import
        results = {}
        for name, run in (("Recap (parec)", ours), ("soundcard", peer)):
            feeder = threading.Thread(target=keep_playing,
                                      args=(server, loop, time.monotonic() + args.seconds + 3),
                                      daemon=True)
            feeder.start()
            used, frames = run(args.seconds)
            feeder.join()
            results[name] = used
            print(f"{name:14s} {used / args.seconds * 60:5.2f} CPU-s per minute "
                  f"({used / args.seconds * 100:.2f}% of a core), "
                  f"{frames / 48000:.1f} s of audio in {args.seconds:.0f} s")
    ratio = results["Recap (parec)"] / max(results["soundcard"], 1e-9)
    print(f"ratio Recap/soundcard {ratio:.2f}; {args.server}; load {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
