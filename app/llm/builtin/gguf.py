"""Cheap checks on a GGUF file before handing it to llama.cpp, so errors name the real problem.

llama.cpp's own failure on a bad file is a generic "failed to init" deep in a log; checking the
magic and the header first lets us tell the user "this is not a GGUF model" or "this file is
cut short" in one line.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from app.errors import RecapError

GGUF_MAGIC = b"GGUF"
# Smaller than any real model: a truncated download or a stray file.
MIN_MODEL_BYTES = 1_000_000


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
    return GGUFHeader(version=version, tensor_count=tensors, metadata_count=metadata)


def is_gguf(path: Path) -> bool:
    try:
        read_header(path)
    except (BadModelFile, OSError):
        return False
    return True
