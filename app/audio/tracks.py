"""Reading a two-track meeting back: the microphone ("You") and system audio ("Others").

Two sources give the same representation, ``{"mic": audio, "system": audio}`` at 16 kHz:
- a Recap recording, whose sidecar says which channel is which track (``two_track.py``);
- an imported two-channel file whose channels the user says are "me / others" (or the reverse).
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np

from app.audio import sidecar
from app.audio.decode import SAMPLE_RATE, Audio, _open
from app.audio.errors import AudioError, CorruptAudio

log = logging.getLogger(__name__)

MIC = "mic"
SYSTEM = "system"
ME_OTHERS = (MIC, SYSTEM)
OTHERS_ME = (SYSTEM, MIC)


class NotTwoChannels(AudioError):
    def __init__(self, path: Path, channels: int) -> None:
        super().__init__(
            f"{path.name} has {channels} channel{'s' if channels != 1 else ''}, not two.",
            fix="Import it as an ordinary recording, or export the meeting with one channel "
                "for you and one for the others.",
        )


def decode_channels(path: Path | str) -> list[Audio]:
    """Every channel of the file's audio track, each as 16 kHz mono float32."""
    path = Path(path)
    with _open(path) as (container, stream):
        channels = int(stream.codec_context.channels or 0)
        layout = {1: "mono", 2: "stereo"}.get(channels)
        if layout is None:
            raise NotTwoChannels(path, channels)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        parts: list[list[Audio]] = [[] for _ in range(channels)]
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    planes = out.to_ndarray()
                    for i in range(channels):
                        parts[i].append(np.array(planes[i], dtype=np.float32))
            for out in resampler.resample(None):
                planes = out.to_ndarray()
                for i in range(channels):
                    parts[i].append(np.array(planes[i], dtype=np.float32))
        except av.FFmpegError as exc:
            log.warning("%s: decoding stopped: %s", path, exc)
            if not any(parts[0]):
                raise CorruptAudio(path) from exc
    return [np.concatenate(p) if p else np.zeros(0, np.float32) for p in parts]


def recorded_tracks(path: Path) -> tuple[str, ...]:
    """The tracks of a Recap recording, in channel order; () when it is not one."""
    data = sidecar.read_sidecar(sidecar.sidecar_path(path)) or {}
    tracks = data.get("tracks")
    if isinstance(tracks, list) and all(t in (MIC, SYSTEM) for t in tracks):
        return tuple(str(t) for t in tracks)
    return ()


def decode_tracks(path: Path | str, channels_are: tuple[str, ...] | None = None
                  ) -> dict[str, Audio]:
    """``{"mic": ..., "system": ...}`` (only the tracks present) at 16 kHz.

    ``channels_are`` names the channels of an imported file (``ME_OTHERS`` or ``OTHERS_ME``);
    without it the file must be a Recap recording whose sidecar names them.
    """
    path = Path(path)
    names = channels_are or recorded_tracks(path)
    if not names:
        raise ValueError(f"{path.name}: which channel is whom is unknown")
    channels = decode_channels(path)
    if len(channels) != len(names):
        raise NotTwoChannels(path, len(channels))
    return dict(zip(names, channels, strict=True))
