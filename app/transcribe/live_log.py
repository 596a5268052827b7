"""The live transcript on disk: ``<recording>.live.jsonl`` beside the WAV, one JSON line per
segment, appended and flushed as each arrives, so a crash keeps every line already shown.

A line cut off by a crash is skipped when reading; nothing else is ever rewritten.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.private_files import open_private

log = logging.getLogger(__name__)

SUFFIX = ".live.jsonl"


@dataclass(frozen=True)
class LiveSegment:
    track: str  # "mic" or "system"
    speaker: str  # its label: "You" / "Others" unless renamed
    start_ms: int  # on the recording's timeline
    end_ms: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def live_log_path(recording: Path) -> Path:
    return recording.with_name(recording.stem + SUFFIX)


class LiveLog:
    """Append-only writer; one thread (the live worker) uses it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Kept open while live; created 0600 like every file that holds meeting text.
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self._file = os.fdopen(fd, "a", encoding="utf-8")

    def append(self, segment: LiveSegment) -> None:
        self._file.write(json.dumps(segment.as_dict(), ensure_ascii=False) + "\n")
        self._file.flush()
        try:
            os.fsync(self._file.fileno())  # a few lines a minute: cheap, and survives power cuts
        except OSError as exc:
            log.warning("could not sync the live transcript %s: %s", self.path, exc)

    def close(self) -> None:
        self._file.close()


def read_live_log(path: Path) -> list[LiveSegment]:
    """Segments saved so far, in time order; a damaged last line is skipped."""
    if not path.exists():
        return []
    segments = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            segments.append(LiveSegment(str(data["track"]), str(data["speaker"]),
                                        int(data["start_ms"]), int(data["end_ms"]),
                                        str(data["text"])))
        except (ValueError, KeyError, TypeError):
            log.info("skipped a damaged line in %s", path)
    segments.sort(key=lambda s: (s.start_ms, s.track))
    return segments
