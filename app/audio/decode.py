"""Any audio or video file in, 16 kHz mono float32 samples out (what Whisper wants), via PyAV.

`probe` answers cheaply (no decoding) what the file is and how long it lasts, so progress can be
shown from the first second. `decode` resamples frame by frame straight into one preallocated
buffer sized from that duration: the decoded audio exists once in memory (a one-hour meeting is
230 MB of float32; a list of chunks plus a concatenated copy would be twice that).

Policy for damaged files: a few undecodable packets in the middle are concealed (FFmpeg skips
them, the log says so) because the rest of the meeting is still worth transcribing. A file that
ends early (an unfinished copy or download: the header promises more than the data holds) raises
`TruncatedAudio` unless the caller passes `allow_truncated=True`, because a silently half-
transcribed meeting is worse than a clear error; callers that know better (e.g. recovering a
recording after a crash) opt in and get what could be read. Formats without a length in their
header (mp3, raw AAC) cannot tell a cut-off file from a short one: they decode what is there.
`read_audio` is the lenient form the pipeline uses: it returns what was readable and, for a
file that ends early, how long the header said it was, so the meeting can say so.

A header is input like any other: it may lie. Nothing is allocated on its word alone: the
buffer starts at the smaller of the header's length and what the file's size can hold (exactly
for PCM, at a very low bit rate for compressed audio) and grows as audio really arrives, up to
`MAX_DURATION_S`. Sample rates no recorder uses (a 1 Hz WAV turned 64 KB into 4 GB of
samples) are refused. FFmpeg trims a WAV's length to the file it finds, so the WAV header's own
data size is read here to notice a WAV that ends early.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import av
import av.container
import av.error
import numpy as np
import numpy.typing as npt

from app.audio.errors import (
    AudioError,
    AudioFileMissing,
    AudioTooLong,
    AudioUnreadable,
    CorruptAudio,
    DecodeCancelled,
    EmptyAudioFile,
    NoAudioStream,
    NotAnAudioFile,
    SilentAudio,
    TruncatedAudio,
    UnsupportedSampleRate,
)

__all__ = ["SAMPLE_RATE", "AudioError", "AudioInfo", "ReadAudio", "decode", "has_sound",
           "probe", "read_audio"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Whisper's input rate
# A file counts as cut short when less than this share of the promised length decodes.
_TRUNCATED_BELOW = 0.98
# More undecodable packets than this share means the file is damaged throughout.
_CORRUPT_ABOVE = 0.10
# "No speech": fewer than _MIN_LOUD_WINDOWS windows of 100 ms louder than _SPEECH_RMS.
# -50 dBFS sits well below quiet speech (-35..-20 dBFS) and above room tone and dither.
_SPEECH_RMS = 10 ** (-50 / 20)
_WINDOW = SAMPLE_RATE // 10
_BITRATE_ESTIMATED_FORMATS = frozenset({"mp3", "aac", "ac3", "eac3", "mpeg", "mpegts", "adts"})
_MIN_LOUD_WINDOWS = 3
# Telephone audio is 8 kHz, studio audio 192 kHz at most; outside these, the header lies.
MIN_SOURCE_RATE = 4_000
MAX_SOURCE_RATE = 768_000
# The longest input processed (24 h is 5.5 GB of 16 kHz float32): a bound on memory however
# much audio a small, highly compressed file unpacks to.
MAX_DURATION_S = 24 * 3600.0
# Compressed audio below this rate (1 kB/s = 8 kbit/s) gets a buffer that grows as it fills
# rather than one sized from the header up front.
_PREALLOCATE_BYTES_PER_S = 1_000

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    duration_s: float
    duration_exact: bool  # from the container or stream header; False: estimated
    sample_rate: int
    channels: int
    codec: str  # "opus", "aac", "mp3float", ...
    container: str  # FFmpeg's demuxer name: "ogg", "mov,mp4,m4a,3gp,3g2,mj2", ...
    has_video: bool


@dataclass(frozen=True)
class ReadAudio:
    """What `read_audio` could read: the samples, the file's description, and for a file
    that ends early the length its header promised (`expected_s`; None when complete)."""

    audio: Audio
    info: AudioInfo
    expected_s: float | None

    @property
    def readable_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def probe(path: Path | str) -> AudioInfo:
    """What the file is and how long it lasts, without decoding it. Raises `AudioError`."""
    path = Path(path)
    with _open(path) as (container, stream):
        return _info(path, container, stream)


def decode(
    path: Path | str,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    allow_truncated: bool = False,
    reject_silence: bool = True,
) -> Audio:
    """The file's first audio track as 16 kHz mono float32 in [-1, 1].

    `progress` gets fractions in [0, 1] (monotonic, ends at 1.0); `cancel` is checked between
    packets and raises `DecodeCancelled`. Raises `AudioError` subclasses for bad input.
    """
    read = read_audio(path, progress=progress, cancel=cancel, reject_silence=reject_silence)
    if read.expected_s is not None and not allow_truncated:
        raise TruncatedAudio(read.info.path, read.readable_s, read.expected_s)
    return read.audio


def read_audio(
    path: Path | str,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    reject_silence: bool = True,
) -> ReadAudio:
    """Like `decode`, but a file that ends early is read as far as it goes (see ReadAudio)."""
    path = Path(path)
    with _open(path) as (container, stream):
        info = _info(path, container, stream)
        audio, errors, packets = _decode_into_buffer(container, stream, info, progress, cancel)
    decoded_s = len(audio) / SAMPLE_RATE
    if len(audio) == 0 or (packets and errors / packets > _CORRUPT_ABOVE):
        log.warning("%s: %d of %d packets undecodable", path, errors, packets)
        raise CorruptAudio(path)
    if errors:
        log.warning("%s: concealed %d undecodable packets of %d", path, errors, packets)
    expected = None
    if info.duration_exact and decoded_s < info.duration_s * _TRUNCATED_BELOW:
        log.warning("%s: decoded %.2f s of %.2f s promised", path, decoded_s, info.duration_s)
        expected = info.duration_s
    if reject_silence and not has_sound(audio):
        raise SilentAudio(path)
    if progress is not None:
        progress(1.0)
    return ReadAudio(audio, info, expected)


def has_sound(audio: Audio) -> bool:
    """True when at least a few 100 ms windows are loud enough to hold speech."""
    loud = 0
    block = _WINDOW * 600  # one minute at a time: no full-size temporary array
    for start in range(0, len(audio) - _WINDOW + 1, block):
        chunk = audio[start:start + block]
        windows = chunk[: len(chunk) // _WINDOW * _WINDOW].reshape(-1, _WINDOW)
        mean_square = np.einsum("ij,ij->i", windows, windows) / _WINDOW
        loud += int(np.count_nonzero(mean_square > _SPEECH_RMS**2))
        if loud >= _MIN_LOUD_WINDOWS:
            return True
    return False


@contextmanager
def _open(
    path: Path,
) -> Iterator[tuple[av.container.InputContainer, av.AudioStream]]:
    """Open the file's best audio stream, turning every failure into an `AudioError`."""
    try:
        if not path.exists():
            raise AudioFileMissing(path)
        if not path.is_file():  # a folder or a device
            raise NotAnAudioFile(path)
        if path.stat().st_size == 0:
            raise EmptyAudioFile(path)
    except OSError as exc:
        raise AudioUnreadable(path, exc.strerror or type(exc).__name__) from exc
    try:
        container = av.open(str(path), mode="r")
    except av.error.InvalidDataError as exc:
        log.info("%s: FFmpeg cannot open it: %s", path, exc)
        raise NotAnAudioFile(path) from exc
    except (av.error.PermissionError, av.error.FileNotFoundError) as exc:
        raise AudioUnreadable(path, exc.strerror or "access denied") from exc
    except av.FFmpegError as exc:
        log.info("%s: FFmpeg cannot open it: %s", path, exc)
        raise CorruptAudio(path) from exc
    try:
        if not container.streams.audio:
            raise NoAudioStream(path)
        best = container.streams.best("audio")
        yield container, best if isinstance(best, av.AudioStream) else container.streams.audio[0]
    finally:
        container.close()


def _info(
    path: Path, container: av.container.InputContainer, stream: av.AudioStream
) -> AudioInfo:
    ctx = stream.codec_context
    rate = int(ctx.sample_rate or 0)
    if rate and not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise UnsupportedSampleRate(path, rate)
    duration_s, exact = _duration(path, container, stream)
    info = AudioInfo(
        path=path,
        duration_s=duration_s,
        duration_exact=exact,
        sample_rate=rate,
        channels=int(ctx.channels or 0),
        codec=ctx.name,
        container=container.format.name,
        has_video=bool(container.streams.video),
    )
    if info.container == "wav":
        promised = _wav_promised_seconds(path)
        if promised is not None and promised > info.duration_s:
            info = replace(info, duration_s=promised, duration_exact=True)
    return info


def _wav_promised_seconds(path: Path) -> float | None:
    """The length a RIFF WAV's own header states (data size / byte rate), or None.

    None for a header that states no length (0 or 0xFFFFFFFF: written while streaming) or
    that cannot be read; FFmpeg then decodes what is there.
    """
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk == b"fmt " and size >= 16 and body + 16 <= len(head):
            byte_rate = struct.unpack_from("<I", head, body + 8)[0]
        elif chunk == b"data":
            if byte_rate <= 0 or size in (0, 0xFFFFFFFF):
                return None
            return float(size / byte_rate)
        pos = body + size + (size & 1)
    return None


def _duration(
    path: Path, container: av.container.InputContainer, stream: av.AudioStream
) -> tuple[float, bool]:
    # Elementary streams (mp3, ADTS aac, ...) have no length in a header: FFmpeg estimates it
    # from the bit rate, which is only approximate and cannot reveal a cut-off file.
    exact = container.format.name not in _BITRATE_ESTIMATED_FORMATS
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base), exact
    if container.duration is not None:  # in microseconds (av.time_base)
        return container.duration / av.time_base, exact
    # No header duration (raw streams, some live recordings): estimate from the bit rate,
    # which may be off for variable-bit-rate audio; the decode buffer grows if it was short.
    bit_rate = stream.codec_context.bit_rate or container.bit_rate
    if bit_rate:
        return path.stat().st_size * 8 / bit_rate, False
    return 0.0, False


def _holds_at_most_s(info: AudioInfo, stream: av.AudioStream) -> float:
    """The most audio the file's size leaves room for: exact for PCM, generous otherwise."""
    size = info.path.stat().st_size
    bit_rate = stream.codec_context.bit_rate or 0
    if info.codec.startswith("pcm_") and bit_rate > 0:
        return float(size * 8 / bit_rate)
    return size / _PREALLOCATE_BYTES_PER_S


def _decode_into_buffer(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    info: AudioInfo,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> tuple[Audio, int, int]:
    """Decode and resample into one buffer; returns (audio, bad packets, all packets)."""
    # A little slack over the expected length: encoders pad the last frame.
    expected_s = min(info.duration_s, _holds_at_most_s(info, stream), MAX_DURATION_S)
    capacity = int((expected_s + 1.0) * SAMPLE_RATE * 1.01)
    buffer: Audio = np.empty(max(capacity, SAMPLE_RATE), dtype=np.float32)
    limit = int(MAX_DURATION_S * SAMPLE_RATE)
    filled = errors = packets = 0
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    reported = 0.0

    def append(frames: list[av.AudioFrame]) -> None:
        nonlocal buffer, filled
        for frame in frames:
            count = frame.samples
            if filled + count > len(buffer):
                if filled + count > limit:
                    raise AudioTooLong(info.path, MAX_DURATION_S)
                # More audio than expected: grow geometrically, in place where the allocator
                # can, never past the limit.
                size = min(max(len(buffer) * 3 // 2, filled + count), limit)
                buffer.resize(size, refcheck=False)
            # Straight from FFmpeg's plane into the buffer: `to_ndarray` would build a 2-D
            # copy first, and this loop runs (holding the GIL) once per packet.
            plane = memoryview(frame.planes[0])
            buffer[filled:filled + count] = np.frombuffer(plane, np.float32, count)
            filled += count

    try:
        for packet in container.demux(stream):
            if cancel is not None and cancel.is_set():
                raise DecodeCancelled()
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            packets += 1
            try:
                for frame in packet.decode():
                    append(resampler.resample(frame))
            except av.FFmpegError as exc:
                errors += 1
                log.debug("undecodable packet at %s: %s", packet.pts, exc)
                continue
            if progress is not None and info.duration_s > 0:
                done = min(filled / SAMPLE_RATE / info.duration_s, 0.999)
                if done - reported >= 0.005:
                    reported = done
                    progress(done)
        append(resampler.resample(None))
    except av.FFmpegError as exc:  # demuxing itself failed: the container is damaged
        log.warning("%s: demuxing stopped: %s", info.path, exc)
        errors += 1
    buffer.resize(filled, refcheck=False)  # trim in place: no second copy
    return buffer, errors, packets
