"""What to record for a meeting, from the user's choices: the microphone, system audio, or both.

The CLI and the GUI call ``open_meeting_sources`` and hand the result to ``TwoTrackRecorder``.
System audio that cannot be had is not an error: the recording goes on with the microphone and
``notices`` holds the one line saying why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.audio.capture_errors import RecordingError, SystemAudioUnavailable
from app.audio.sources import AudioSource, SoundDeviceSource
from app.audio.system_source import SystemAudioSource, open_system_audio

log = logging.getLogger(__name__)


@dataclass
class MeetingSources:
    mic: AudioSource | None
    system: SystemAudioSource | None
    notices: list[str] = field(default_factory=list)


def open_meeting_sources(*, mic: bool = True, system: bool = True,
                         mic_device: int | None = None) -> MeetingSources:
    """Raises RecordingError only when nothing at all can be recorded."""
    if not mic and not system:
        raise RecordingError("Both the microphone and system audio are turned off.",
                             "Turn one of them on (`recap record --mic` or `--system`).")
    mic_source = SoundDeviceSource(mic_device) if mic else None
    notices: list[str] = []
    system_source: SystemAudioSource | None = None
    if system:
        rate = mic_source.sample_rate if mic_source is not None else 48_000
        try:
            system_source = open_system_audio(rate)
        except SystemAudioUnavailable as exc:
            if mic_source is None:
                raise SystemAudioUnavailable(
                    exc.reason, "Turn the microphone on to record without system audio.",
                ) from exc
            log.info("system audio unavailable: %s", exc.reason)
            notices.append(str(exc))
    return MeetingSources(mic_source, system_source, notices)
