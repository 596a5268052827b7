"""Model files are input from anywhere (a download, a file picked by the user): a crafted one
must end in a clean one-line refusal, quickly, whatever its bytes say.

The whisper.cpp `.bin` reader used to trust a tensor's dimensions: a negative one made it seek
backwards onto the same tensor header, forever, with memory growing (the import never came
back). The readers are also fuzzed: any byte string ends in their own error, in bounded time.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.transcribe.ct2_reader import CT2FormatError, CT2Model
from app.transcribe.ggml_file import (
    GGML_MAGIC,
    NotAWhisperModel,
    WhisperHParams,
    read_header,
    read_tensors,
)

REPO = Path(__file__).resolve().parents[2]
TINY_EN = WhisperHParams(n_vocab=51864, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6,
                         n_audio_layer=4, n_text_ctx=448, n_text_state=384, n_text_head=6,
                         n_text_layer=4, n_mels=80)
FUZZ = settings(max_examples=300, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def ggml_prefix() -> bytes:
    """A whisper.cpp model up to its first tensor: header, mel filters, a tiny vocabulary
    (the filter table is cut to one bin: small enough for the fuzzer to hit every field)."""
    mel = struct.pack("<2i", 80, 1) + b"\0" * (4 * 80)
    vocab = struct.pack("<i", 3) + b"".join(struct.pack("<i", 1) + c for c in (b"a", b"b", b"c"))
    return TINY_EN.pack_header(ftype=1) + mel + vocab


def ggml_tensor(name: bytes, dims: tuple[int, ...], ttype: int = 0, data: bytes | None = None
                ) -> bytes:
    record = struct.pack("<3i", len(dims), len(name), ttype)
    record += b"".join(struct.pack("<i", d) for d in dims) + name
    if data is None:
        count = 1
        for d in dims:
            count *= max(d, 0)
        data = b"\0" * (count * 4)
    return record + data


def looping_model() -> bytes:
    """The reported attack: a 1-D f32 tensor whose dimension is minus its own header's size
    in floats, so "skip the data" lands back on the same header."""
    name = b"evil"
    header_bytes = 12 + 4 + len(name)
    return ggml_prefix() + ggml_tensor(name, (-(header_bytes // 4),), data=b"")


def test_a_negative_dimension_is_refused_at_import_instead_of_looping(tmp_path: Path) -> None:
    model = tmp_path / "ggml-small.en.bin"
    model.write_bytes(looping_model())
    env = {**os.environ, "RECAP_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "app", "models", "import", str(model)],
                              capture_output=True, text=True, env=env, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("`recap models import` on a crafted .bin did not come back in 60 s")
    seconds = time.monotonic() - started
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "not a Whisper model" in proc.stderr, proc.stderr
    assert seconds < 30
    assert not list((tmp_path / "home" / "data" / "models").glob("*.bin"))


@pytest.mark.parametrize("dims", [(0, 384), (384, -1), (-2**31, 1)])
def test_impossible_shapes_are_refused(tmp_path: Path, dims: tuple[int, ...]) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(ggml_prefix() + ggml_tensor(b"encoder.conv1.bias", dims, data=b"\0" * 64))
    with pytest.raises(NotAWhisperModel, match="impossible shape"):
        read_tensors(model)


def test_a_negative_mel_table_size_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(TINY_EN.pack_header(ftype=1) + struct.pack("<2i", 80, -3) + b"\0" * 64)
    with pytest.raises(NotAWhisperModel):
        read_header(model)


def test_endless_tensor_lists_stop_at_the_cap(tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    one = ggml_tensor(b"t", (1,))
    model.write_bytes(ggml_prefix() + one * 10_001)
    with pytest.raises(NotAWhisperModel, match="more than 10000 tensors"):
        read_tensors(model)


def test_a_well_formed_file_still_reads(tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(ggml_prefix() + ggml_tensor(b"a", (4, 2)) + ggml_tensor(b"b", (32,), 8,
                                                                              b"\0" * 34))
    header, tensors = read_tensors(model)
    assert header.n_vocab_tokens == 3
    assert [(t.name, t.shape, t.nbytes) for t in tensors] == [("a", (4, 2), 32),
                                                               ("b", (32,), 34)]


class TookTooLong(Exception):
    pass


@contextmanager
def bounded(seconds: float = 5.0) -> Iterator[None]:
    """Fail the example (not hang the run) when a parser does not finish in time."""
    def alarm(_signum: int, _frame: object) -> None:
        raise TookTooLong(f"the parser was still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _ggml_outcome(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with bounded(), suppress(NotAWhisperModel):
        read_tensors(path)


VALID_GGML = ggml_prefix() + ggml_tensor(b"a", (4, 2)) + ggml_tensor(b"b", (32,), 8, b"\0" * 34)


@pytest.mark.timeout(300)
@FUZZ
@given(tail=st.binary(max_size=400))
def test_fuzz_ggml_any_tensor_table(tmp_path_factory: pytest.TempPathFactory,
                                    tail: bytes) -> None:
    _ggml_outcome(tmp_path_factory.getbasetemp() / "fuzz-tail.bin", ggml_prefix() + tail)


@pytest.mark.timeout(300)
@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID_GGML) - 1), st.integers(0, 255)),
                      min_size=1, max_size=8),
       ints=st.lists(st.tuples(st.integers(0, len(VALID_GGML) - 4),
                               st.integers(-2**31, 2**31 - 1)), max_size=3))
def test_fuzz_ggml_damaged_bytes(tmp_path_factory: pytest.TempPathFactory,
                                 edits: list[tuple[int, int]],
                                 ints: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_GGML)
    for at, value in edits:
        data[at] = value
    for at, number in ints:  # whole (possibly negative) numbers where counts and sizes live
        data[at:at + 4] = struct.pack("<i", number)
    _ggml_outcome(tmp_path_factory.getbasetemp() / "fuzz-flip.bin", bytes(data))


@pytest.mark.timeout(300)
@FUZZ
@given(n_dims=st.integers(-1, 5), name_len=st.integers(-1, 300),
       ttype=st.sampled_from([0, 1, 2, 6, 8, -1, 99]),
       dims=st.lists(st.integers(-2**31, 2**31 - 1), max_size=5), data=st.binary(max_size=80))
def test_fuzz_ggml_tensor_records(tmp_path_factory: pytest.TempPathFactory, n_dims: int,
                                  name_len: int, ttype: int, dims: list[int],
                                  data: bytes) -> None:
    record = struct.pack("<3i", n_dims, name_len, ttype)
    record += b"".join(struct.pack("<i", d) for d in dims) + b"name" + data
    _ggml_outcome(tmp_path_factory.getbasetemp() / "fuzz-record.bin",
                  VALID_GGML + record)


@pytest.mark.timeout(300)
@FUZZ
@given(data=st.binary(max_size=300))
def test_fuzz_ggml_any_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    _ggml_outcome(tmp_path_factory.getbasetemp() / "fuzz-any.bin",
                  struct.pack("<I", GGML_MAGIC) + data)


# -- CTranslate2 model.bin (the weights the built-in model is converted from) ---------------

def ct2_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def ct2_model(variables: list[tuple[str, tuple[int, ...], int, bytes]],
              aliases: list[tuple[str, str]]) -> bytes:
    out = struct.pack("<I", 6) + ct2_string("WhisperSpec") + struct.pack("<2I", 1,
                                                                         len(variables))
    for name, shape, dtype, data in variables:
        out += ct2_string(name) + struct.pack("<B", len(shape))
        out += b"".join(struct.pack("<I", d) for d in shape)
        out += struct.pack("<BI", dtype, len(data)) + data
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += ct2_string(alias) + ct2_string(target)
    return out


VALID_CT2 = ct2_model([("encoder/num_heads", (), 2, b"\x06\0"),
                       ("decoder/embeddings/weight", (2, 3), 4, b"\0" * 12)],
                      [("decoder/projection/weight", "decoder/embeddings/weight")])


def _ct2_outcome(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with bounded():
        try:
            with CT2Model.open([path]) as model:
                for name in model.names:
                    model.array(name)
        except CT2FormatError:
            pass


def test_ct2_reads_a_well_formed_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(VALID_CT2)
    with CT2Model.open([path]) as model:
        assert model.scalar("encoder/num_heads") == 6
        assert model.shape("decoder/projection/weight") == (2, 3)


@pytest.mark.parametrize(("variables", "aliases", "words"), [
    ([("w", (2, 3), 4, b"\0" * 10)], [], "bytes for shape"),  # size disagrees with shape
    ([("w", (0, 3), 4, b"")], [], "bytes for shape"),  # an empty dimension
    ([("w", (2,), 4, b"\0" * 4)], [("x", "missing")], "missing variable"),
])
def test_ct2_inconsistent_records_are_refused(tmp_path: Path, variables: list[tuple[
        str, tuple[int, ...], int, bytes]], aliases: list[tuple[str, str]], words: str) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(ct2_model(variables, aliases))
    with pytest.raises(CT2FormatError, match=words):
        CT2Model.open([path])


@pytest.mark.timeout(300)
@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID_CT2) - 1), st.integers(0, 255)),
                      min_size=1, max_size=6))
def test_fuzz_ct2_damaged_bytes(tmp_path_factory: pytest.TempPathFactory,
                                edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_CT2)
    for at, value in edits:
        data[at] = value
    _ct2_outcome(tmp_path_factory.getbasetemp() / "fuzz-ct2.bin", bytes(data))


@pytest.mark.timeout(300)
@FUZZ
@given(data=st.binary(min_size=1, max_size=300))
def test_fuzz_ct2_any_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    _ct2_outcome(tmp_path_factory.getbasetemp() / "fuzz-ct2-any.bin",
                 struct.pack("<I", 6) + data)
