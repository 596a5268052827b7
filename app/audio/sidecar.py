"""The small JSON file beside each recording (``<name>.recording.json``).

It says how to read the WAV even if its header is lost, who is writing it (pid and process
start time, so a reused pid is not mistaken for the owner) and whether it was finished.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from app.private_files import open_private

log = logging.getLogger(__name__)

SUFFIX = ".recording.json"
STATE_RECORDING = "recording"  # being written, or the writer died: recovery decides
STATE_RECOVERED = "recovered"  # repaired after a crash, waiting for the user
STATE_STOPPED = "stopped"  # complete, not yet handed to the pipeline
STATE_HANDLED = "handled"  # the pipeline has it (processed or queued): never offered again
# Padding lets the final update overwrite the file in place when the disk is full.
_PAD_TO = 1024


def sidecar_path(wav: Path) -> Path:
    return wav.with_name(wav.stem + SUFFIX)


def wav_path(sidecar: Path) -> Path:
    return sidecar.with_name(sidecar.name[: -len(SUFFIX)] + ".wav")


def recording_file(sidecar: Path, data: dict[str, Any]) -> Path | None:
    """The WAV this sidecar describes, if it names one that may be touched; else None.

    The sidecar is read back from disk, so its ``wav`` field is not trusted: only a bare file
    name in the sidecar's own folder counts (no path, no ``..``), and only a regular file,
    not a link. Recovery rewrites that file's header and deletes it on "Discard".
    """
    name = data.get("wav") or wav_path(sidecar).name
    if not isinstance(name, str) or not name.endswith(".wav") or name != Path(name).name:
        return None
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    wav = sidecar.parent / name
    try:
        info = os.lstat(wav)
    except OSError:
        return None
    return wav if stat.S_ISREG(info.st_mode) else None


def _encode(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, indent=1, sort_keys=True).encode("utf-8")
    return text + b" " * max(0, _PAD_TO - len(text) - 1) + b"\n"


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    """Atomic replace; if the disk is full, overwrite the padded file in place instead."""
    payload = _encode(data)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if not path.exists():
            raise
        log.warning("sidecar %s: atomic write failed (%s); overwriting in place", path, exc)
        with open(path, "r+b") as f:
            f.write(payload)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("unreadable recording sidecar %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def update_sidecar(path: Path, **changes: Any) -> dict[str, Any]:
    data = read_sidecar(path) or {}
    data.update(changes)
    write_sidecar(path, data)
    return data
