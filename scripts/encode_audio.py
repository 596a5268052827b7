"""Encode a WAV file into the compressed formats our fixtures need, with PyAV.

Used only by `scripts/make_fixtures.sh` (sox cannot write mp3, opus or aac here, and ffmpeg
is not installed; PyAV's wheels carry the encoders). Tests never run this.

    python scripts/encode_audio.py SRC.wav DST --codec libopus --rate 48000 --bitrate 24k
    python scripts/encode_audio.py SRC.wav DST.mp4 --codec aac --video h264
    python scripts/encode_audio.py --video-only DST.mp4 --seconds 3
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VIDEO_SIZE = 64  # a tiny black picture: the video track only has to exist
VIDEO_FPS = 5


def _parse_bitrate(text: str) -> int:
    return int(text[:-1]) * 1000 if text.endswith("k") else int(text)


def _add_video(container: av.container.OutputContainer, codec: str) -> av.VideoStream:
    stream = container.add_stream(codec, rate=VIDEO_FPS)
    stream.width = VIDEO_SIZE
    stream.height = VIDEO_SIZE
    stream.pix_fmt = "yuv420p"
    return stream


def _write_video(
    container: av.container.OutputContainer, stream: av.VideoStream, seconds: float
) -> None:
    black = np.zeros((VIDEO_SIZE, VIDEO_SIZE, 3), dtype=np.uint8)
    for index in range(int(seconds * VIDEO_FPS) + 1):
        frame = av.VideoFrame.from_ndarray(black, format="rgb24")
        frame.pts = index
        frame.time_base = Fraction(1, VIDEO_FPS)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def encode(
    src: Path, dst: Path, *, codec: str, rate: int, layout: str, bitrate: int | None,
    video: str | None,
) -> None:
    with av.open(str(src)) as source:
        samples = np.concatenate(
            [f.to_ndarray().reshape(-1) for f in source.decode(audio=0)]
        ).astype(np.int16)
        src_rate = source.streams.audio[0].rate
    seconds = len(samples) / src_rate
    with av.open(str(dst), "w") as out:
        astream = out.add_stream(codec, rate=rate, layout=layout)
        if bitrate:
            astream.bit_rate = bitrate
        resampler = av.AudioResampler(format=astream.format.name, layout=layout, rate=rate)
        vstream = _add_video(out, video) if video else None
        # Audio first, then video: interleaving does not matter for files this small.
        block = 4096
        for start in range(0, len(samples), block):
            chunk = samples[start:start + block].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            frame.sample_rate = src_rate
            frame.pts = start
            frame.time_base = Fraction(1, src_rate)
            for rframe in resampler.resample(frame):
                out.mux(astream.encode(rframe))
        for rframe in resampler.resample(None):
            out.mux(astream.encode(rframe))
        out.mux(astream.encode(None))
        if vstream is not None:
            _write_video(out, vstream, seconds)


def video_only(dst: Path, seconds: float, codec: str) -> None:
    with av.open(str(dst), "w") as out:
        _write_video(out, _add_video(out, codec), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--codec", default="flac")
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--layout", default="mono")
    parser.add_argument("--bitrate", type=_parse_bitrate, default=None)
    parser.add_argument("--video", default=None, help="also write a black video track")
    parser.add_argument("--video-only", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if args.video_only:
        video_only(args.paths[0], args.seconds, args.video or "h264")
        return
    src, dst = args.paths
    encode(src, dst, codec=args.codec, rate=args.rate, layout=args.layout,
           bitrate=args.bitrate, video=args.video)


if __name__ == "__main__":
    main()
