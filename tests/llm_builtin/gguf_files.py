"""Writing small GGUF files byte by byte, valid or crafted, for the parser tests."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

F32, Q4_K = 0, 12


def gguf_string(text: bytes, length: int | None = None) -> bytes:
    return struct.pack("<Q", len(text) if length is None else length) + text


@dataclass
class Tensor:
    name: bytes
    dims: list[int]
    kind: int = F32
    offset: int | None = None  # None: the next aligned place in the data section
    data_bytes: int | None = None  # None: what the shape needs


@dataclass
class GGUF:
    """A GGUF v3 file: some metadata, some tensors, data padded past the 1 MB minimum."""

    tensors: list[Tensor] = field(default_factory=lambda: [Tensor(b"output.weight", [8, 4])])
    metadata: list[bytes] = field(default_factory=lambda: [
        gguf_string(b"general.architecture") + struct.pack("<I", 8) + gguf_string(b"llama"),
        gguf_string(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3)
        + gguf_string(b"a") + gguf_string(b"b") + gguf_string(b"<s>"),
    ])
    tensor_count: int | None = None
    metadata_count: int | None = None
    padding: int = 1_100_000

    def bytes(self) -> bytes:
        head = b"GGUF" + struct.pack(
            "<IQQ", 3, len(self.tensors) if self.tensor_count is None else self.tensor_count,
            len(self.metadata) if self.metadata_count is None else self.metadata_count)
        head += b"".join(self.metadata)
        offset = 0
        sizes = []
        for t in self.tensors:
            count = 1
            for d in t.dims:
                count *= d
            size = t.data_bytes if t.data_bytes is not None else (
                count * 4 if t.kind == F32 else count // 256 * 144)
            at = offset if t.offset is None else t.offset
            head += (gguf_string(t.name) + struct.pack("<I", len(t.dims))
                     + b"".join(struct.pack("<Q", d & (2**64 - 1)) for d in t.dims)
                     + struct.pack("<IQ", t.kind, at))
            sizes.append(size)
            offset += -(-max(size, 0) // 32) * 32
        head += b"\0" * (-len(head) % 32)
        return head + b"\0" * offset + b"\0" * self.padding
