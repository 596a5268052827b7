"""A GGUF file is checked end to end before llama.cpp parses it: every count, length, shape and
offset against the file's size. Crafted files are refused with a one-line reason at import,
real models pass, and any byte string ends in that refusal within bounded time."""

from __future__ import annotations

import struct
import time
from contextlib import suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.llm.builtin import bundled
from app.llm.builtin.gguf import BadModelFile, check_model
from app.llm.builtin.models import LLMModelError, LLMModelStore
from tests.llm_builtin.gguf_files import F32, GGUF, Q4_K, Tensor, gguf_string
from tests.transcribe.test_hostile_model_files import bounded

CRAFTED = {
    "zero dimension": GGUF(tensors=[Tensor(b"output.weight", [0, 4])]),
    "dimension 2^64-1 (a negative one, as ggml reads it)":
        GGUF(tensors=[Tensor(b"output.weight", [-1, 4], data_bytes=64)]),
    "string longer than the file": GGUF(metadata=[
        gguf_string(b"general.architecture") + struct.pack("<I", 8)
        + gguf_string(b"llama", length=2**62)]),
    "array of 2^61 strings": GGUF(metadata=[
        gguf_string(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2**61)]),
    "tensor data past the end": GGUF(tensors=[Tensor(b"output.weight", [8, 4], offset=1 << 40)]),
    "a million tensors claimed": GGUF(tensor_count=1_000_000),
    "rows that do not fill a block": GGUF(tensors=[Tensor(b"blk.0.w", [100, 4], kind=Q4_K,
                                                          data_bytes=144)]),
    "five dimensions": GGUF(tensors=[Tensor(b"w", [1, 1, 1, 1, 2])]),
    "unknown value type": GGUF(metadata=[gguf_string(b"x") + struct.pack("<I", 77)]),
}


def store(tmp_path: Path) -> LLMModelStore:
    return LLMModelStore(tmp_path / "models", tmp_path / "cache", ram=lambda: 16 << 30)


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_models_are_refused_at_import(tmp_path: Path, case: str) -> None:
    source = tmp_path / "shiny-new-model.gguf"
    source.write_bytes(CRAFTED[case].bytes())
    models = store(tmp_path)
    started = time.monotonic()
    with pytest.raises(LLMModelError, match="shiny-new-model.gguf is damaged") as caught:
        models.import_file(source)
    assert time.monotonic() - started < 2
    assert "\n" not in str(caught.value) and caught.value.fix
    assert not models.folder.exists() or not list(models.folder.glob("*.gguf"))


def test_well_formed_files_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ok.gguf"
    path.write_bytes(GGUF(tensors=[Tensor(b"a", [8, 4]), Tensor(b"b", [256, 2], kind=Q4_K),
                                   Tensor(b"c", [3], kind=F32)]).bytes())
    header = check_model(path)
    assert (header.tensor_count, header.metadata_count) == (3, 2)


def test_the_real_test_model_passes_quickly() -> None:
    parts = bundled.installed_parts(bundled.SMOLLM2_135M)
    if parts is None or len(parts) != 1:
        pytest.fail("install the test model: " + bundled.SMOLLM2_135M.extra)
    started = time.monotonic()
    header = check_model(parts[0])
    assert header.tensor_count == 272  # SmolLM2-135M
    assert time.monotonic() - started < 2


VALID = GGUF(tensors=[Tensor(b"a", [8, 4]), Tensor(b"b", [256, 1], kind=Q4_K)],
             padding=0).bytes()
_FILL = b"\0" * 1_000_000  # past read_header's minimum size, so the walk itself is fuzzed
FUZZ = settings(max_examples=300, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _outcome(path: Path, data: bytes) -> None:
    path.write_bytes(data + _FILL)
    with bounded(), suppress(BadModelFile):
        check_model(path)


@pytest.mark.timeout(300)
@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)),
                      min_size=1, max_size=8),
       words=st.lists(st.tuples(st.integers(0, len(VALID) - 8), st.integers(0, 2**64 - 1)),
                      max_size=3))
def test_fuzz_damaged_headers(tmp_path_factory: pytest.TempPathFactory,
                              edits: list[tuple[int, int]], words: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for at, value in edits:
        data[at] = value
    for at, number in words:  # whole 64-bit counts and lengths, where those live
        data[at:at + 8] = struct.pack("<Q", number)
    _outcome(tmp_path_factory.getbasetemp() / "fuzz-gguf.gguf", bytes(data))


@pytest.mark.timeout(300)
@FUZZ
@given(body=st.binary(max_size=400), tensors=st.integers(0, 2**64 - 1),
       metadata=st.integers(0, 2**64 - 1))
def test_fuzz_any_header(tmp_path_factory: pytest.TempPathFactory, body: bytes,
                         tensors: int, metadata: int) -> None:
    head = b"GGUF" + struct.pack("<IQQ", 3, tensors, metadata)
    _outcome(tmp_path_factory.getbasetemp() / "fuzz-gguf-any.gguf", head + body)
