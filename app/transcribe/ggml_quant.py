"""ggml block quantization (q8_0, q5_0, q4_0) in numpy, matching ggml's reference encoders.

Each row is cut in blocks of 32 values; a block stores one float16 scale and small integers.
The rounding rules follow ggml's `quantize_row_*_ref` (round half away from zero for q8_0,
truncation after an offset for q5_0/q4_0), so our files decode the way whisper.cpp expects.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import numpy.typing as npt

QK = 32  # values per block, for all three formats

F32 = npt.NDArray[np.float32]


class GgmlType(int, Enum):
    """ggml's tensor type ids, as written in each tensor header."""

    F32 = 0
    F16 = 1
    Q4_0 = 2
    Q5_0 = 6
    Q8_0 = 8


# Bytes per block: float16 scale + payload.
BLOCK_BYTES = {GgmlType.Q8_0: 2 + QK, GgmlType.Q5_0: 2 + 4 + QK // 2, GgmlType.Q4_0: 2 + QK // 2}


def _blocks(x: npt.ArrayLike) -> F32:
    arr = np.asarray(x, dtype=np.float32)
    if arr.shape[-1] % QK:
        raise ValueError(f"row length {arr.shape[-1]} is not a multiple of {QK}")
    return arr.reshape(-1, QK)


def _round_half_away(v: F32) -> F32:
    # C's roundf. numpy's rint rounds exact halves to even instead; those (and only those)
    # lie exactly 0.5 from rint's answer, and for them v + copysign(0.5, v) is exact.
    rounded: F32 = np.rint(v)
    halves = np.abs(v - rounded) == np.float32(0.5)
    if halves.any():
        rounded[halves] = v[halves] + np.copysign(np.float32(0.5), v[halves])
    return rounded


def _signed_absmax(b: F32) -> F32:
    """Per block, the value with the largest magnitude, keeping its sign (first one on ties)."""
    idx = np.argmax(np.abs(b), axis=1)
    picked: F32 = b[np.arange(b.shape[0]), idx]
    return picked


def quantize_q8_0(x: npt.ArrayLike) -> bytes:
    b = _blocks(x)
    d = np.abs(b).max(axis=1) / np.float32(127)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    q = _round_half_away(b * inv[:, None]).astype(np.int8)
    out = np.empty((b.shape[0], BLOCK_BYTES[GgmlType.Q8_0]), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def _nibble_codes(b: F32, levels: int) -> tuple[F32, npt.NDArray[np.uint8]]:
    """Shared q5_0/q4_0 step: scale d = max / -(levels/2), codes in [0, levels-1]."""
    half = levels // 2
    d = _signed_absmax(b) / np.float32(-half)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    codes = np.trunc(b * inv[:, None] + np.float32(half + 0.5))
    codes = np.minimum(codes, levels - 1).astype(np.uint8)
    return d, codes


def quantize_q4_0(x: npt.ArrayLike) -> bytes:
    b = _blocks(x)
    d, codes = _nibble_codes(b, 16)
    lo, hi = codes[:, : QK // 2], codes[:, QK // 2 :]
    out = np.empty((b.shape[0], BLOCK_BYTES[GgmlType.Q4_0]), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = lo | (hi << 4)
    return out.tobytes()


def quantize_q5_0(x: npt.ArrayLike) -> bytes:
    b = _blocks(x)
    d, codes = _nibble_codes(b, 32)
    lo, hi = codes[:, : QK // 2], codes[:, QK // 2 :]
    # The fifth bit of value j goes to bit j of a little-endian u32 (j over the whole block).
    high_bits = ((codes >> 4) & 1).astype(np.uint32)
    qh = (high_bits << np.arange(QK, dtype=np.uint32)).sum(axis=1, dtype=np.uint32)
    out = np.empty((b.shape[0], BLOCK_BYTES[GgmlType.Q5_0]), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:6] = qh.astype("<u4").view(np.uint8).reshape(-1, 4)
    out[:, 6:] = (lo & 0x0F) | ((hi & 0x0F) << 4)
    return out.tobytes()


def dequantize(data: bytes, kind: GgmlType) -> F32:
    """Decode blocks back to float32 values (flat), the way ggml's `dequantize_row_*` does."""
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, BLOCK_BYTES[kind])
    d: F32 = raw[:, :2].copy().view("<f2").astype(np.float32)  # shape (n, 1)
    if kind is GgmlType.Q8_0:
        q = raw[:, 2:].view(np.int8).astype(np.float32)
        return (q * d).reshape(-1)
    if kind is GgmlType.Q4_0:
        qs = raw[:, 2:]
        codes = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        return ((codes - 8) * d).reshape(-1)
    if kind is GgmlType.Q5_0:
        qh = raw[:, 2:6].copy().view("<u4").astype(np.uint32)  # shape (n, 1)
        high = ((qh >> np.arange(QK, dtype=np.uint32)) & 1).astype(np.uint8)
        qs = raw[:, 6:]
        codes5 = np.concatenate([qs & 0x0F, qs >> 4], axis=1) | (high << 4)
        values: F32 = ((codes5.astype(np.float32) - 16) * d).reshape(-1)
        return values
    raise ValueError(f"not a block type: {kind}")


QUANTIZERS = {
    GgmlType.Q8_0: quantize_q8_0,
    GgmlType.Q5_0: quantize_q5_0,
    GgmlType.Q4_0: quantize_q4_0,
}
