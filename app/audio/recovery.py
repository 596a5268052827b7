"""Finds recordings whose writer died (crash, power cut, kill), repairs them, offers them back.

A recording is unfinished when the process named in its sidecar is gone (or is a different
process reusing the pid) and either it was still ``recording`` (a crash: repair fixes the WAV
header from the file's real length and drops a partial last frame) or it had ``stopped`` but was
never handed to the pipeline (a crash between the two). It is offered until the user processes
it (``mark_handled``) or deletes it (``discard``). Nothing is ever deleted without that call.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from app.audio import sidecar
from app.audio.recorder import process_started_at, recording_title
from app.audio.wavfile import WavFormat, repair_wav, starts_like_wav

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveryCandidate:
    id: str  # the file name without extension: what `recap recover --discard ID` takes
    path: Path
    sidecar: Path
    started_at: datetime | None
    sample_rate: int
    channels: int
    frames: int
    device: str
    # Channel order of a two-track recording ("mic", "system"); () for a microphone recording.
    tracks: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def title(self) -> str:
        started = self.started_at or datetime.fromtimestamp(self.path.stat().st_mtime)
        return recording_title(started)


def owner_alive(data: dict[str, Any]) -> bool:
    """Is the process that wrote this sidecar still running (and still the same process)?"""
    pid = data.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    started = process_started_at(pid)
    if started is None:
        return False
    recorded = data.get("pid_started_at")
    if isinstance(recorded, int | float):
        return abs(started - float(recorded)) < 1.0  # else the pid was reused
    return True


def _started_at(data: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(data.get("started_at")))
    except ValueError:
        return None


def _format(data: dict[str, Any]) -> WavFormat | None:
    try:
        fmt = WavFormat(int(data["sample_rate"]), int(data["channels"]),
                        int(data.get("sample_width", 2)))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    plausible = (1_000 <= fmt.sample_rate <= 768_000 and 1 <= fmt.channels <= 64
                 and fmt.sample_width in (1, 2, 3, 4))
    return fmt if plausible else None


def _candidate(side: Path, data: dict[str, Any]) -> RecoveryCandidate | None:
    wav = sidecar.recording_file(side, data)
    if wav is None:
        log.warning("recording sidecar %s names no audio file in its folder; skipped", side)
        return None
    if not starts_like_wav(wav):
        # Recap writes the header before any audio: anything else is not ours to rewrite.
        log.warning("%s does not start with a WAV header; not touched", wav)
        return None
    fmt = _format(data)
    if fmt is None:
        log.warning("recording sidecar %s lacks a usable audio format; skipped", side)
        return None
    if data.get("state") == sidecar.STATE_RECORDING:
        result = repair_wav(wav, fmt)
        log.info("recovered %s: %d frames (%s)", wav, result.frames,
                 "repaired" if result.changed else "already consistent")
        data = sidecar.update_sidecar(side, state=sidecar.STATE_RECOVERED, frames=result.frames,
                                      recovered_at=datetime.now().astimezone().isoformat())
    frames = data.get("frames")
    frames = frames if isinstance(frames, int) and frames >= 0 else 0
    tracks = data.get("tracks")
    return RecoveryCandidate(
        id=wav.stem, path=wav, sidecar=side, started_at=_started_at(data),
        sample_rate=fmt.sample_rate, channels=fmt.channels, frames=frames,
        device=str(data.get("device", "")),
        tracks=tuple(str(t) for t in tracks) if isinstance(tracks, list) else (),
    )


def find_unfinished(folder: Path) -> list[RecoveryCandidate]:
    """Repair and list every recording left unfinished in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for side in sorted(folder.glob("*" + sidecar.SUFFIX)):
        data = sidecar.read_sidecar(side)
        if data is None:
            continue
        state = data.get("state")
        if state not in (sidecar.STATE_RECORDING, sidecar.STATE_STOPPED,
                         sidecar.STATE_RECOVERED):
            continue
        if state != sidecar.STATE_RECOVERED and owner_alive(data):
            continue  # being recorded or handed over right now, by this or another Recap
        try:
            candidate = _candidate(side, data)
        except OSError:
            log.exception("could not repair %s", side)
            continue
        if candidate is not None:
            found.append(candidate)
    found.sort(key=lambda c: (c.started_at.timestamp() if c.started_at else 0.0, c.id))
    return found


class AcceptsFiles(Protocol):
    def add_file(self, path: Path | str, *, title: str | None = None) -> str: ...


def queue_recording(pipeline: AcceptsFiles, wav: Path, title: str) -> str:
    """Give a finished or recovered recording to the pipeline as a queued meeting.

    Returns the meeting id; running it (now, or later for "record now, transcribe later")
    is the caller's choice. From here on the meeting, not recovery, keeps track of it.
    """
    meeting_id = pipeline.add_file(wav, title=title)
    mark_handled(wav)
    return meeting_id


def mark_handled(wav: Path) -> None:
    """The pipeline has this recording (processed or queued): stop offering it."""
    if not sidecar.sidecar_path(wav).exists():
        return  # not a Recap recording, or discarded meanwhile
    sidecar.update_sidecar(sidecar.sidecar_path(wav), state=sidecar.STATE_HANDLED,
                           handled_at=datetime.now().astimezone().isoformat())


def discard(candidate: RecoveryCandidate) -> None:
    """Delete a recovered recording; only ever called on the user's explicit request."""
    log.info("discarding recording %s at the user's request", candidate.path)
    live_transcript = candidate.path.with_name(candidate.path.stem + ".live.jsonl")
    for path in (candidate.path, candidate.sidecar, live_transcript):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
