"""Drives ``record_child.py`` against a throwaway sound server, for tests and benchmarks."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.audio.decode import decode
from tests.capture.audio_server import AudioServer

REPO = Path(__file__).resolve().parents[2]
SPEECH = REPO / "tests" / "fixtures" / "speech"
CHILD = Path(__file__).with_name("record_child.py")
FILES = {"garden": "garden.m4a", "groceries": "groceries.ogg", "library": "library.mp3",
         "project-update": "project-update.flac", "hello": "hello.wav",
         "screen-share": "screen-share.mkv", "export-notes": "export-notes.mp4"}


def speech_wav(name: str, folder: Path) -> Path:
    """The fixture ``name`` as a 16 kHz mono WAV that paplay can play."""
    out = folder / f"{name}.wav"
    if not out.exists():
        audio = decode(SPEECH / FILES[name])
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return out


def speech_text(name: str) -> str:
    return (SPEECH / f"{name}.txt").read_text().strip()


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        return data.astype(np.float64) / 32768.0, w.getframerate()


@dataclass
class RecordingSession:
    """One child process recording through Recap's real capture code."""

    proc: subprocess.Popen[str]
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None
    tracks: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, server: AudioServer, folder: Path, *args: str) -> RecordingSession:
        env = {**server.env, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, str(CHILD), str(folder), *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env)
        session = cls(proc)
        threading.Thread(target=session._read, daemon=True).start()
        started = session.wait_for("path", 60)
        session.path = Path(started["path"])
        session.tracks = list(started["tracks"])
        return session

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with_time = {**json.loads(line), "at": time.monotonic()}
            self.events.put(with_time)

    def wait_for(self, kind: str, timeout: float, **match: Any) -> dict[str, Any]:
        for event in self.seen:
            if event["event"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} {match} within {timeout} s; saw {self.seen}")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(event)
            if event["event"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def wait_for_first_data(self, timeout: float = 30) -> float:
        """When the last track delivered its first block (PulseAudio null sinks are slow)."""
        return max(self.wait_for("first_data", timeout, track=t)["at"] for t in self.tracks)

    def drain(self) -> None:
        while True:
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                return

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        self.drain()
        return [e for e in self.seen if e["event"] == kind]

    def stop(self, timeout: float = 120) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        result = self.wait_for("result", timeout)
        self.proc.wait(30)
        return result

    def kill(self) -> float:
        self.proc.send_signal(signal.SIGKILL)
        at = time.monotonic()
        self.proc.wait(30)
        return at

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def our_stream_index(server: AudioServer) -> int:
    """The server's index of the system-audio stream Recap opened (by its stream name)."""
    text = server.pactl("list", "source-outputs")
    index = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Source Output #"):
            index = int(line.split("#")[1])
        if 'media.name = "recap-system-' in line and index is not None:
            return index
    raise AssertionError(f"Recap's system-audio stream is not on the server:\n{text}")


