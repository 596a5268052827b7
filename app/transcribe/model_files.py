"""What the model store hands out, and the file checks it relies on."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.download import install_atomically
from app.transcribe.errors import ModelError
from app.transcribe.ggml_file import (
    GgmlHeader,
    NotAWhisperModel,
    expected_tensor_count,
    read_tensors,
)


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    size: int  # bytes on disk (0 for a built-in model not made yet)
    kind: str  # "embedded", "downloaded" or "imported"
    multilingual: bool
    default: bool
    ready: bool  # False: a built-in model that will be converted on first use


@dataclass(frozen=True)
class CatalogItem:
    name: str
    size_mb: int
    multilingual: bool
    source: str  # "embedded" (made offline from installed weights) or "download"
    installed: bool
    checksum: bool  # a published checksum verifies the download

    @property
    def size(self) -> int:
        """Approximate size in bytes (like InstalledModel.size)."""
        return self.size_mb * 1_000_000


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_ggml(path: Path) -> GgmlHeader:
    """Header and tensor table of a ggml file, or a human ModelError."""
    try:
        header, tensors = read_tensors(path)
    except NotAWhisperModel as exc:
        raise ModelError(
            f"{path.name} is not a Whisper model for whisper.cpp: {exc}.",
            "Choose a ggml .bin file (such as ggml-base.en.bin from the whisper.cpp model "
            "page); PyTorch, CTranslate2 and GGUF files are not supported.",
        ) from exc
    except OSError as exc:
        raise ModelError(f"Could not read {path}: {exc.strerror or exc}.",
                         "Check the file exists and is readable.") from exc
    if len(tensors) < expected_tensor_count(header):
        raise ModelError(f"{path.name} is incomplete (some of its weights are missing).",
                         "Download or copy the file again.")
    return header


def copy_into(source: Path, target: Path) -> str:
    """Copy `source` to `target` atomically (temp file beside it, fsync, rename); its sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".import",
                                    dir=target.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        install_atomically(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()
