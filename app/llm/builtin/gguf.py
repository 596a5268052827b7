"""Checks on a GGUF file before handing it to llama.cpp, so errors name the real problem.

llama.cpp's own failure on a bad file is a generic "failed to init" deep in a log; checking the
magic and the header first lets us tell the user "this is not a GGUF model" or "this file is
cut short" in one line. ``check_model`` goes further and walks the whole header (metadata and
tensor table) with a bound on every count, length and offset, so a crafted file (a string
longer than the file, an array of 2^60 items, a tensor with a zero dimension or data past the
end) is refused here, in Python, before llama.cpp's C parser ever sees it.

Layout (little-endian): "GGUF", u32 version, u64 tensor count, u64 metadata count; per
metadata entry a string key, a u32 value type and the value (an array is a u32 item type, a
u64 count and the items); per tensor a string name, u32 n_dims, u64 dims[n_dims], u32 ggml
type, u64 offset into the data section, which starts at the next multiple of the alignment
(``general.alignment``, 32 by default) after the header. A string is a u64 length and bytes.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from app.errors import RecapError

GGUF_MAGIC = b"GGUF"
# Smaller than any real model: a truncated download or a stray file.
MIN_MODEL_BYTES = 1_000_000
# Far above any real model (a few thousand tensors, a few dozen keys), far below trouble.
MAX_TENSORS = 65_536
MAX_METADATA = 65_536
MAX_DIMS = 4  # ggml's GGML_MAX_DIMS
MAX_NAME_BYTES = 256
_DEFAULT_ALIGNMENT = 32
_ALIGNMENT_KEY = b"general.alignment"

# Metadata value types: fixed sizes; 8 is a string, 9 an array.
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY, _UINT32 = 8, 9, 4

# ggml tensor types: (values per block, bytes per block), as llama.cpp stores them.
_QK_K = 256
_TENSOR_TYPES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (_QK_K, 84), 11: (_QK_K, 110), 12: (_QK_K, 144), 13: (_QK_K, 176),
    14: (_QK_K, 210), 15: (_QK_K, 292), 16: (_QK_K, 66), 17: (_QK_K, 74), 18: (_QK_K, 98),
    19: (_QK_K, 50), 20: (32, 18), 21: (_QK_K, 110), 22: (_QK_K, 82), 23: (_QK_K, 136),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (_QK_K, 56), 30: (1, 2),
    34: (_QK_K, 54), 35: (_QK_K, 66), 39: (32, 17),
}


class BadModelFile(RecapError):
    """The file is not a usable GGUF model; the message says why in one line."""


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    tensor_count: int
    metadata_count: int


def read_header(path: Path) -> GGUFHeader:
    """The GGUF header, or ``BadModelFile`` if the file is missing, too small or not GGUF."""
    if not path.is_file():
        raise BadModelFile(f"model file not found: {path}")
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(24)
    if head[:4] != GGUF_MAGIC:
        raise BadModelFile(f"{path.name} is not a GGUF model file")
    if len(head) < 24 or size < MIN_MODEL_BYTES:
        raise BadModelFile(f"{path.name} is cut short ({size} bytes)")
    version, tensors, metadata = struct.unpack("<IQQ", head[4:24])
    if version not in (2, 3):
        raise BadModelFile(f"{path.name} uses GGUF version {version}, which is not supported")
    if tensors == 0:
        raise BadModelFile(f"{path.name} holds no model weights")
    if tensors > MAX_TENSORS or metadata > MAX_METADATA:
        raise BadModelFile(f"{path.name} is damaged: its header claims {tensors} tensors and "
                           f"{metadata} metadata entries")
    return GGUFHeader(version=version, tensor_count=tensors, metadata_count=metadata)


def check_model(path: Path) -> GGUFHeader:
    """``read_header``, then every metadata entry and tensor record checked against the file.

    Reads only the header region (a few MB for a model with a large vocabulary), through a
    memory map, so it takes a fraction of a second even for a multi-gigabyte model.
    """
    header = read_header(path)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        try:
            _Walker(m, path.name).walk(header)
        except _Damaged as exc:
            raise BadModelFile(f"{path.name} is damaged: {exc}") from None
    return header


def is_gguf(path: Path) -> bool:
    try:
        read_header(path)
    except (BadModelFile, OSError):
        return False
    return True


class _Damaged(Exception):
    pass


class _Walker:
    """Reads the header region strictly forward; every read is bounded by the file's size."""

    def __init__(self, data: mmap.mmap, name: str) -> None:
        self.data = data
        self.size = len(data)
        self.pos = 24
        self.name = name

    def _take(self, count: int) -> int:
        start = self.pos
        if count < 0 or start + count > self.size:
            raise _Damaged("it ends in the middle of its header")
        self.pos = start + count
        return start

    def _u32(self) -> int:
        value: int = struct.unpack_from("<I", self.data, self._take(4))[0]
        return value

    def _u64(self) -> int:
        value: int = struct.unpack_from("<Q", self.data, self._take(8))[0]
        return value

    def _string(self, limit: int | None = None) -> bytes:
        length = self._u64()
        if limit is not None and length > limit:
            raise _Damaged(f"a name is {length} bytes long")
        start = self._take(length)
        return self.data[start:self.pos]

    def _skip_value(self, kind: int) -> None:
        if kind in _SCALAR_SIZES:
            self._take(_SCALAR_SIZES[kind])
        elif kind == _STRING:
            self._take(self._u64())
        elif kind == _ARRAY:
            item = self._u32()
            count = self._u64()
            if item == _STRING:
                # Each string is at least its 8-byte length: a count the file cannot hold is
                # refused before the loop, not discovered after 2^60 turns of it.
                if count > (self.size - self.pos) // 8:
                    raise _Damaged(f"an array claims {count} strings")
                for _ in range(count):
                    self._take(self._u64())
            elif item in _SCALAR_SIZES:
                self._take(count * _SCALAR_SIZES[item])
            else:
                raise _Damaged(f"an array holds values of unsupported type {item}")
        else:
            raise _Damaged(f"a metadata value has unknown type {kind}")

    def walk(self, header: GGUFHeader) -> None:
        alignment = _DEFAULT_ALIGNMENT
        for _ in range(header.metadata_count):
            key = self._string(limit=65_535)
            kind = self._u32()
            if key == _ALIGNMENT_KEY:
                if kind != _UINT32:
                    raise _Damaged("its alignment is not a 32-bit number")
                alignment = self._u32()
                if alignment <= 0 or alignment & (alignment - 1) or alignment > 1 << 20:
                    raise _Damaged(f"its alignment {alignment} is not a power of two")
            else:
                self._skip_value(kind)
        tensors = [self._tensor() for _ in range(header.tensor_count)]
        if len({name for name, _, _ in tensors}) != len(tensors):
            raise _Damaged("two tensors have the same name")
        data_start = -(-self.pos // alignment) * alignment
        data_size = self.size - data_start
        for name, offset, nbytes in tensors:
            if offset % alignment:
                raise _Damaged(f"tensor {name} is not aligned")
            if offset + nbytes > data_size:
                raise _Damaged(f"tensor {name} lies past the end of the file (cut short?)")

    def _tensor(self) -> tuple[str, int, int]:
        name = self._string(limit=MAX_NAME_BYTES).decode("utf-8", "replace")
        n_dims = self._u32()
        if not 1 <= n_dims <= MAX_DIMS:
            raise _Damaged(f"tensor {name} has {n_dims} dimensions")
        dims = [self._u64() for _ in range(n_dims)]
        kind = self._u32()
        offset = self._u64()
        if kind not in _TENSOR_TYPES:
            raise _Damaged(f"tensor {name} has a weight type this version cannot check ({kind})")
        per_block, block_bytes = _TENSOR_TYPES[kind]
        count = 1
        for d in dims:
            # Dimensions are stored unsigned, read as signed by ggml: 0 and >= 2^63 are lies.
            if not 0 < d < 1 << 62:
                raise _Damaged(f"tensor {name} has a dimension of {d}")
            count *= d
            if count > self.size * per_block:  # more values than the file has bytes for
                raise _Damaged(f"tensor {name} is larger than the file")
        if dims[0] % per_block:
            raise _Damaged(f"tensor {name}'s rows do not fill whole blocks")
        return name, offset, count // per_block * block_bytes
