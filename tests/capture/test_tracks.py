"""Reading two-track audio back: Recap's own recordings and imported "me / others" files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from app.audio.decode import decode
from app.audio.tracks import ME_OTHERS, OTHERS_ME, NotTwoChannels, decode_tracks

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def stereo_flac(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    n = min(len(left), len(right))
    planes = np.stack([left[:n], right[:n]]).astype(np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=16000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout="stereo")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.dot(a[:n], b[:n]) / (np.linalg.norm(a[:n]) * np.linalg.norm(b[:n])))


def test_an_imported_me_others_file_reads_as_two_tracks(tmp_path: Path) -> None:
    me, others = decode(SPEECH / "garden.m4a"), decode(SPEECH / "groceries.ogg")
    path = stereo_flac(tmp_path / "call.flac", me, others)

    tracks = decode_tracks(path, ME_OTHERS)
    assert similarity(tracks["mic"], me) > 0.95 and similarity(tracks["system"], others) > 0.95
    swapped = decode_tracks(path, OTHERS_ME)
    assert similarity(swapped["system"], me) > 0.95


def test_a_one_channel_file_is_not_a_two_track_meeting(tmp_path: Path) -> None:
    with pytest.raises(NotTwoChannels) as err:
        decode_tracks(SPEECH / "hello.wav", ME_OTHERS)
    assert str(err.value) == "hello.wav has 1 channel, not two."
    with pytest.raises(ValueError):
        decode_tracks(SPEECH / "hello.wav")  # no sidecar, and nobody said which is whom
