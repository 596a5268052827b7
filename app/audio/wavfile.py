"""A PCM WAV file that is valid, or repairable, at every moment while it grows.

The header is written first with the sizes known so far and patched on every sync, so a file
cut off at any point needs at most its two size fields and a partial last frame fixed, which
``repair_wav`` does from the file's actual length.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
from dataclasses import dataclass
from pathlib import Path

HEADER_SIZE = 44
_RIFF_SIZE_OFFSET = 4
_DATA_SIZE_OFFSET = 40
_MAX_DATA_BYTES = 0xFFFFFFFF - (HEADER_SIZE - 8)  # RIFF sizes are 32-bit: about 4 GiB


def max_frames(fmt: WavFormat) -> int:
    """The most frames one WAV file can hold (12.4 h of 48 kHz mono 16-bit)."""
    return _MAX_DATA_BYTES // fmt.frame_bytes
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


@dataclass(frozen=True)
class WavFormat:
    sample_rate: int
    channels: int
    sample_width: int = 2  # bytes per sample; Recap records 16-bit PCM

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width


def wav_header(fmt: WavFormat, data_bytes: int) -> bytes:
    data_bytes = min(data_bytes, _MAX_DATA_BYTES)
    byte_rate = fmt.sample_rate * fmt.frame_bytes
    return (
        b"RIFF" + struct.pack("<I", HEADER_SIZE - 8 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, fmt.channels, fmt.sample_rate, byte_rate,
                                fmt.frame_bytes, fmt.sample_width * 8)
        + b"data" + struct.pack("<I", data_bytes)
    )


def _write_at(fd: int, offset: int, data: bytes) -> None:
    # lseek + write rather than pwrite: pwrite does not exist on Windows.
    os.lseek(fd, offset, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class WavAppender:
    """Appends whole frames to a new WAV file; ``sync`` makes what was written durable.

    Only one thread may use an instance (the recorder's writer thread).
    """

    def __init__(self, path: Path, fmt: WavFormat) -> None:
        self.path = path
        self.format = fmt
        self.data_bytes = 0
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        self._fd: int | None = os.open(path, flags, 0o600)  # a recording is private
        _write_at(self._fd, 0, wav_header(fmt, 0))

    @property
    def frames(self) -> int:
        return self.data_bytes // self.format.frame_bytes

    def append(self, pcm: bytes) -> None:
        """Write ``pcm`` at the end; on an OSError only whole frames written before it stay."""
        assert self._fd is not None, "file already closed"
        os.lseek(self._fd, HEADER_SIZE + self.data_bytes, os.SEEK_SET)
        view = memoryview(pcm)
        try:
            while view:
                written = os.write(self._fd, view)
                self.data_bytes += written
                view = view[written:]
        except OSError:
            self._drop_partial_frame()
            raise

    def _drop_partial_frame(self) -> None:
        assert self._fd is not None
        whole = self.frames * self.format.frame_bytes
        if whole != self.data_bytes:
            self.data_bytes = whole
        # If even truncating fails, the header's size field is what readers trust anyway.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, HEADER_SIZE + whole)

    def sync(self) -> None:
        """Patch the header's sizes and fsync: after this a crash loses nothing written so far."""
        assert self._fd is not None
        header = wav_header(self.format, self.data_bytes)
        _write_at(self._fd, _RIFF_SIZE_OFFSET, header[_RIFF_SIZE_OFFSET:_RIFF_SIZE_OFFSET + 4])
        _write_at(self._fd, _DATA_SIZE_OFFSET, header[_DATA_SIZE_OFFSET:])
        os.fsync(self._fd)

    def close(self) -> None:
        """Final sync and close; the header is patched even if fsync fails (full disk)."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class RepairResult:
    frames: int
    changed: bool  # False when the file was already consistent


def _open_no_follow(path: Path, flags: int) -> int:
    # A link swapped in for the recording must not redirect a rewrite to another file.
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))


def starts_like_wav(path: Path) -> bool:
    """Does the file begin as a RIFF/WAVE file (what ``WavAppender`` writes first)?"""
    try:
        fd = _open_no_follow(path, os.O_RDONLY)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        head = f.read(12)
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:] == b"WAVE"


def repair_wav(path: Path, fmt: WavFormat) -> RepairResult:
    """Make a cut-off recording valid: whole frames only, header sizes from the real length.

    The format comes from the recording's sidecar, so even a file cut inside its header
    gets a correct one.
    """
    with os.fdopen(_open_no_follow(path, os.O_RDWR), "r+b") as f:
        size = os.fstat(f.fileno()).st_size
        data_bytes = max(0, size - HEADER_SIZE)
        data_bytes -= data_bytes % fmt.frame_bytes
        data_bytes = min(data_bytes, _MAX_DATA_BYTES - _MAX_DATA_BYTES % fmt.frame_bytes)
        header = wav_header(fmt, data_bytes)
        current = f.read(HEADER_SIZE)
        changed = current != header or size != HEADER_SIZE + data_bytes
        if changed:
            f.seek(0)
            f.write(header)
            f.truncate(HEADER_SIZE + data_bytes)
            f.flush()
            os.fsync(f.fileno())
    return RepairResult(frames=data_bytes // fmt.frame_bytes, changed=changed)
