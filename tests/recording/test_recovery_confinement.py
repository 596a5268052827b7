"""A recording's sidecar is data from disk: it must not steer recovery to any other file.

Each test leaves a "victim" file where a planted sidecar points, runs start-up recovery as the
app does, and checks the victim is byte for byte what it was, and that nothing is offered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.audio import recovery
from app.audio.sidecar import SUFFIX
from tests.recording.test_crash_recovery import record_and_stop, rewrite_sidecar

VICTIM = b"#!/bin/sh\necho 'a file the user cares about'\n" * 40
DEAD_PID = 2**22 + 4242  # no such process: recovery treats the recording as abandoned


def plant_sidecar(folder: Path, stem: str, wav: str) -> Path:
    """A sidecar as a crashed writer would leave it, naming `wav` as its audio file."""
    folder.mkdir(parents=True, exist_ok=True)
    side = folder / f"{stem}{SUFFIX}"
    side.write_text(json.dumps({
        "version": 1, "state": "recording", "wav": wav, "pid": DEAD_PID,
        "started_at": "2026-03-01T10:00:00+00:00", "sample_rate": 16000, "channels": 1,
        "sample_width": 2, "device": "mic",
    }))
    return side


@pytest.mark.parametrize("how", ["absolute", "dot-dot"])
def test_sidecar_naming_a_file_outside_the_folder_leaves_it_alone(tmp_path: Path,
                                                                   how: str) -> None:
    folder = tmp_path / "data" / "recordings"
    victim = tmp_path / "victim.sh"
    victim.write_bytes(VICTIM)
    name = str(victim) if how == "absolute" else "../../victim.sh"
    assert (folder / name).resolve() == victim.resolve()  # it really points at the victim
    plant_sidecar(folder, "2026-03-01_10-00-00", name)

    assert recovery.find_unfinished(folder) == []

    assert victim.read_bytes() == VICTIM


def test_symlink_in_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    victim = tmp_path / "victim.wav"
    victim.write_bytes(VICTIM)
    (folder / "meeting.wav").symlink_to(victim)
    plant_sidecar(folder, "meeting", "meeting.wav")

    assert recovery.find_unfinished(folder) == []

    assert victim.read_bytes() == VICTIM
    assert (folder / "meeting.wav").is_symlink()


def test_a_file_that_is_not_a_wav_is_not_rewritten(tmp_path: Path) -> None:
    """Inside the folder, but not a recording Recap wrote: no header, so not ours to fix."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    notes = folder / "notes.wav"
    notes.write_bytes(VICTIM)
    plant_sidecar(folder, "notes", "notes.wav")

    assert recovery.find_unfinished(folder) == []

    assert notes.read_bytes() == VICTIM


def test_a_real_recording_beside_hostile_sidecars_is_still_recovered(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    wav = record_and_stop(folder, 16000)
    rewrite_sidecar(wav, state="recording", pid=DEAD_PID)
    victim = tmp_path / "victim.sh"
    victim.write_bytes(VICTIM)
    plant_sidecar(folder, "zz-evil", str(victim))

    [candidate] = recovery.find_unfinished(folder)
    assert candidate.path == wav and candidate.frames == 16000
    # Discarding what was offered deletes that recording and nothing else.
    recovery.discard(candidate)
    assert not wav.exists()
    assert victim.read_bytes() == VICTIM
    assert sorted(os.listdir(folder)) == [f"zz-evil{SUFFIX}"]


@pytest.mark.parametrize("changes", [{"channels": 0}, {"sample_rate": -1},
                                     {"sample_width": "two"}, {"frames": "many"}])
def test_a_damaged_sidecar_is_skipped_without_stopping_start_up(tmp_path: Path,
                                                               changes: dict[str, object]) -> None:
    folder = tmp_path / "recordings"
    wav = record_and_stop(folder, 1600)
    before = wav.read_bytes()
    rewrite_sidecar(wav, state="stopped", pid=DEAD_PID, **changes)

    found = recovery.find_unfinished(folder)

    if "frames" in changes:  # the format is fine: offered, with the length it can vouch for
        assert [c.path for c in found] == [wav]
    else:
        assert found == []
    assert wav.read_bytes() == before
