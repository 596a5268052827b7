"""Reading the header of a whisper.cpp ggml model file, to check a file before trusting it.

Used when importing a `.bin` the user picked, when listing installed models (multilingual or
not), and by the tests to check what the converter wrote.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import BinaryIO

from app.errors import RecapError

GGML_MAGIC = 0x67676D6C
# The file starts with the magic, the ten hyperparameters in field order, then ftype.
_MAGIC = struct.Struct("<I")
_HPARAMS = struct.Struct("<11i")
# ftype in the header: 0 f32, 1 f16, else ggml's file type + 1000 * quantization version.
FTYPE_NAMES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 7: "q8_0", 8: "q5_0", 9: "q5_1"}


class NotAWhisperModel(RecapError):
    """The file is not a whisper.cpp ggml model (or is cut short)."""


@dataclass(frozen=True)
class WhisperHParams:
    """The model's shape, as the converter derives it and as a ggml file's header stores it."""

    n_vocab: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int
    n_mels: int

    def pack_header(self, ftype: int) -> bytes:
        """The magic, these hyperparameters and `ftype`: how a ggml file begins."""
        values = (getattr(self, field.name) for field in fields(WhisperHParams))
        return _MAGIC.pack(GGML_MAGIC) + _HPARAMS.pack(*values, ftype)

    @staticmethod
    def unpack_header(f: BinaryIO) -> tuple[WhisperHParams, int]:
        """Reads what `pack_header` wrote: the hyperparameters and the ftype."""
        head = f.read(_MAGIC.size)
        if len(head) != _MAGIC.size or _MAGIC.unpack(head)[0] != GGML_MAGIC:
            raise NotAWhisperModel("it does not start like a whisper.cpp (ggml) model")
        raw = f.read(_HPARAMS.size)
        if len(raw) != _HPARAMS.size:
            raise NotAWhisperModel("the file ends too early")
        *values, ftype = _HPARAMS.unpack(raw)
        return WhisperHParams(*values), ftype


@dataclass(frozen=True)
class GgmlHeader(WhisperHParams):
    ftype: int
    n_vocab_tokens: int  # tokens stored in the file's vocabulary (before the special ones)

    @property
    def multilingual(self) -> bool:
        # whisper.cpp's own rule: English-only models have 51864 tokens, multilingual ones more.
        return self.n_vocab >= 51865

    @property
    def weight_type(self) -> str:
        return FTYPE_NAMES.get(self.ftype % 1000, f"type {self.ftype}")


def _ints(f: BinaryIO, count: int) -> tuple[int, ...]:
    raw = f.read(4 * count)
    if len(raw) != 4 * count:
        raise NotAWhisperModel("the file ends too early")
    return struct.unpack(f"<{count}i", raw)


def _skip(f: BinaryIO, count: int) -> None:
    """Move forward over `count` bytes that must exist. Never backwards: a negative size
    from a crafted file would otherwise send the reader back over what it already read,
    and round again, forever."""
    here = f.tell()
    end = f.seek(0, 2)
    if count < 0 or here + count > end:
        raise NotAWhisperModel("the file ends too early")
    f.seek(here + count)


def _read_header(f: BinaryIO) -> GgmlHeader:
    hp, ftype = WhisperHParams.unpack_header(f)
    plausible = (
        50000 <= hp.n_vocab <= 60000 and hp.n_mels in (80, 128)
        and 0 < hp.n_audio_layer <= 64 and 0 < hp.n_text_layer <= 64
        and 0 < hp.n_audio_head <= 64 and 0 < hp.n_text_head <= 64
        and 0 < hp.n_audio_state <= 8192 and 0 < hp.n_text_state <= 8192
    )
    if not plausible:
        raise NotAWhisperModel("its settings do not look like a Whisper model")
    n_mel, n_fft = _ints(f, 2)
    if n_mel != hp.n_mels or not 0 < n_fft <= _MAX_FFT_BINS:
        raise NotAWhisperModel("its mel filter table does not match its settings")
    _skip(f, 4 * n_mel * n_fft)
    (n_tokens,) = _ints(f, 1)
    if not 0 < n_tokens <= hp.n_vocab:
        raise NotAWhisperModel("its vocabulary is damaged")
    for _ in range(n_tokens):
        (length,) = _ints(f, 1)
        if not 0 <= length < 1024:
            raise NotAWhisperModel("its vocabulary is damaged")
        _skip(f, length)
    return GgmlHeader(**asdict(hp), ftype=ftype, n_vocab_tokens=n_tokens)


_TYPE_BYTES = {0: (1, 4), 1: (1, 2), 8: (32, 34), 6: (32, 22), 2: (32, 18)}
# whisper large has about 1,300 tensors; anything far beyond is not a Whisper model.
MAX_TENSORS = 10_000
_MAX_FFT_BINS = 1024  # whisper's mel filters have 201


def _tensor_bytes(ttype: int, dims: tuple[int, ...], name: str) -> int:
    if ttype not in _TYPE_BYTES:
        raise NotAWhisperModel(f"it holds a tensor of unknown type {ttype}")
    per, size = _TYPE_BYTES[ttype]
    if any(d <= 0 for d in dims) or dims[0] % per:
        raise NotAWhisperModel(f"tensor {name} has an impossible shape {dims}")
    count = 1
    for d in dims:
        count *= d
    return count // per * size


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # ggml order: innermost dimension first
    ggml_type: int
    offset: int  # where the tensor's data starts in the file
    nbytes: int


def _iter_tensors(f: BinaryIO, file_size: int) -> Iterator[TensorInfo]:
    for _ in range(MAX_TENSORS + 1):
        start = f.read(12)
        if not start:
            return
        if len(start) != 12:
            raise NotAWhisperModel("the file ends in the middle of a tensor")
        n_dims, name_len, ttype = struct.unpack("<3i", start)
        if not 0 < n_dims <= 4 or not 0 < name_len < 256:
            raise NotAWhisperModel("a tensor header is damaged")
        dims = _ints(f, n_dims)
        name = f.read(name_len).decode("utf-8", "replace")
        skip = _tensor_bytes(ttype, dims, name)
        offset = f.tell()
        if offset + skip > file_size:
            raise NotAWhisperModel(f"the file is cut short (in tensor {name})")
        f.seek(offset + skip)
        yield TensorInfo(name, dims, ttype, offset, skip)
    raise NotAWhisperModel(f"it holds more than {MAX_TENSORS} tensors")


def read_header(path: Path) -> GgmlHeader:
    """Hyperparameters and vocabulary size; raises NotAWhisperModel for anything else."""
    with path.open("rb") as f:
        return _read_header(f)


def read_tensors(path: Path) -> tuple[GgmlHeader, list[TensorInfo]]:
    """The header and every tensor's name, shape and type; checks that nothing is cut off."""
    size = path.stat().st_size
    with path.open("rb") as f:
        header = _read_header(f)
        return header, list(_iter_tensors(f, size))


def expected_tensor_count(h: GgmlHeader) -> int:
    """How many tensors whisper.cpp loads for these hyperparameters."""
    encoder = 2 + 2 + 1 + 2 + h.n_audio_layer * 15  # conv1, conv2, pos, ln_post, layers
    decoder = 1 + 1 + 2 + h.n_text_layer * 24  # pos, token embedding, ln, layers
    return encoder + decoder
