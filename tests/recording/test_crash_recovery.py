"""A recording killed with SIGKILL mid-way is found, repaired and offered back, nearly whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio import recovery
from app.audio.recorder import Recorder
from app.audio.sidecar import sidecar_path
from app.audio.sources import ArraySource, known_signal
from app.audio.wavfile import HEADER_SIZE
from tests.recording.conftest import read_wav

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("record_child.py")
RATE = 16000
CHANNELS = 2


def record_and_stop(folder: Path, frames: int, channels: int = 1) -> Path:
    """Record ``frames`` of the known signal and stop cleanly; the WAV."""
    source = ArraySource(known_signal(0, frames, channels), sample_rate=RATE, channels=channels,
                         speed=0)
    recorder = Recorder(source, folder)
    wav = recorder.start()
    while source.fed_frames < frames:
        time.sleep(0.01)
    recorder.stop()
    return wav


def rewrite_sidecar(wav: Path, **changes: object) -> dict[str, Any]:
    """Change the recording's sidecar as a writer that died would have left it; the old one."""
    side = sidecar_path(wav)
    meta: dict[str, Any] = json.loads(side.read_text())
    side.write_text(json.dumps({**meta, **changes}))
    return meta


def record_and_kill(folder: Path, seconds: float) -> tuple[Path, int]:
    """Start the child recorder, SIGKILL it after ``seconds`` of audio; (wav, frames fed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, str(CHILD), str(folder), str(RATE),
                              str(CHANNELS)], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    wav, fed = None, 0
    try:
        for line in child.stdout:
            kind, value = line.split(maxsplit=1)
            if kind == "path":
                wav = Path(value.strip())
            elif kind == "fed":
                fed = int(value)
                if fed >= seconds * RATE:
                    child.send_signal(signal.SIGKILL)
                    break
    finally:
        child.kill()
        rest, _ = child.communicate(timeout=10)
    # Lines printed before the kill landed are still in the pipe: the last is the best bound.
    for line in rest.splitlines():
        if line.startswith("fed "):
            fed = max(fed, int(line.split()[1]))
    assert child.returncode == -signal.SIGKILL
    assert wav is not None
    return wav, fed


def test_sigkill_mid_recording_loses_at_most_about_a_second(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    wav, fed = record_and_kill(folder, seconds=3.2)
    side = sidecar_path(wav)
    assert json.loads(side.read_text())["state"] == "recording"  # nobody finished it

    candidates = recovery.find_unfinished(folder)

    assert [c.path for c in candidates] == [wav]
    candidate = candidates[0]
    recovered = read_wav(wav)  # the stdlib reader accepts the repaired file
    assert (recovered.sample_rate, recovered.channels) == (RATE, CHANNELS)
    assert recovered.frames == candidate.frames
    assert wav.stat().st_size == HEADER_SIZE + recovered.frames * CHANNELS * 2
    # Sample-exact on everything recovered, and at most about a second short of what was fed.
    np.testing.assert_array_equal(recovered.samples, known_signal(0, recovered.frames, CHANNELS))
    lost_s = (fed - recovered.frames) / RATE
    assert -0.2 <= lost_s <= 1.2, f"lost {lost_s:.2f} s of {fed / RATE:.2f} s"
    assert candidate.duration_s == pytest.approx(recovered.frames / RATE)
    assert candidate.device == "test signal" and candidate.started_at is not None
    # The pipeline's decoder reads the repaired file as it is.
    from app.audio.decode import probe

    assert probe(wav).duration_s == pytest.approx(candidate.duration_s, abs=0.01)

    # Found again on the next start (nothing was deleted), until the user acts on it.
    assert [c.id for c in recovery.find_unfinished(folder)] == [candidate.id]
    recovery.mark_handled(candidate.path)
    assert recovery.find_unfinished(folder) == []
    assert wav.exists()


def test_repair_fixes_a_cut_header_and_a_partial_frame(tmp_path: Path) -> None:
    """The worst moments to die: with stale header sizes and half a frame at the end."""
    wav = record_and_stop(tmp_path, RATE, channels=2)
    rewrite_sidecar(wav, state="recording", pid=2**22 + 12345)  # a writer that no longer exists
    with open(wav, "r+b") as f:  # header from the first sync, plus 3 stray bytes
        f.seek(40)
        f.write((4000).to_bytes(4, "little"))
        f.seek(0, os.SEEK_END)
        f.write(b"\x01\x02\x03")

    [candidate] = recovery.find_unfinished(tmp_path)

    assert candidate.frames == RATE
    np.testing.assert_array_equal(read_wav(wav).samples, known_signal(0, RATE, 2))


def test_live_recording_is_not_touched(tmp_path: Path) -> None:
    source = ArraySource(lambda s, n: known_signal(s, n), sample_rate=RATE, speed=1.0)
    recorder = Recorder(source, tmp_path)
    recorder.start()
    try:
        time.sleep(0.3)
        assert recovery.find_unfinished(tmp_path) == []  # its owner (this process) is alive
    finally:
        result = recorder.stop()
    assert result.error is None and result.frames > 0
    assert recovery.find_unfinished(tmp_path) == []  # stopped; its owner may hand it over


def test_stopped_but_never_handed_over_is_offered(tmp_path: Path) -> None:
    """A crash between stopping and giving the file to the pipeline must not lose it."""
    wav = record_and_stop(tmp_path, RATE, channels=2)
    meta = rewrite_sidecar(wav, pid=2**22 + 777)  # that process has gone
    assert meta["state"] == "stopped"

    [candidate] = recovery.find_unfinished(tmp_path)
    assert candidate.path == wav and candidate.frames == RATE
    np.testing.assert_array_equal(read_wav(wav).samples, known_signal(0, RATE, 2))
    recovery.mark_handled(wav)
    assert recovery.find_unfinished(tmp_path) == []


def test_reused_pid_does_not_count_as_owner(tmp_path: Path) -> None:
    wav = record_and_stop(tmp_path, 100)
    started = json.loads(sidecar_path(wav).read_text())["pid_started_at"]
    # Our own pid, but recorded with another start time: a different process had that pid.
    rewrite_sidecar(wav, state="recording", pid=os.getpid(), pid_started_at=started - 60)
    assert [c.path for c in recovery.find_unfinished(tmp_path)] == [wav]


def test_discard_deletes_only_the_chosen_recording(tmp_path: Path) -> None:
    for _ in range(2):
        wav = record_and_stop(tmp_path, 100)
        rewrite_sidecar(wav, state="recording", pid=2**22 + 999)
    first, second = recovery.find_unfinished(tmp_path)
    recovery.discard(first)
    assert not first.path.exists() and not first.sidecar.exists()
    assert [c.path for c in recovery.find_unfinished(tmp_path)] == [second.path]
