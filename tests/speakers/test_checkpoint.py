"""The torch-free checkpoint reader: the real CAM++ file loads; a hostile pickle cannot run."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.speakers.campplus import EMBEDDING_DIM, CamPlusPlus
from app.speakers.checkpoint import load_state_dict
from app.speakers.errors import WeightsError


def test_the_real_checkpoint_loads_into_numpy(weights_file: Path) -> None:
    state = load_state_dict(weights_file)
    assert len(state) == 937
    assert state["head.conv1.weight"].shape == (32, 1, 3, 3)
    assert state["xvector.dense.linear.weight"].shape == (192, 1024, 1)
    assert state["head.bn1.num_batches_tracked"].dtype == np.int64
    params = sum(v.size for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert params == 6_930_720
    model = CamPlusPlus(state)
    emb = model.embed(np.random.default_rng(0).standard_normal((2, 150, 80)).astype("f4"))
    assert emb.shape == (2, EMBEDDING_DIM) and np.isfinite(emb).all()


class _RunsCode:
    """Pickles as "call os.system" -- what a malicious checkpoint would carry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, (f"touch {self.marker}",)


def _checkpoint(path: Path, obj: object, storages: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
        z.writestr("archive/version", "3\n")
        for key, data in (storages or {}).items():
            z.writestr(f"archive/data/{key}", data)
    return path


def test_a_pickle_that_runs_code_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = _checkpoint(tmp_path / "bad.pt", {"head.conv1.weight": _RunsCode(marker)})
    with pytest.raises(WeightsError, match="refused") as err:
        load_state_dict(bad)
    assert "posix.system" in str(err.value) or "os.system" in str(err.value)
    assert not marker.exists()


def test_other_globals_are_refused_too(tmp_path: Path) -> None:
    # builtins.eval through a hand-written pickle: GLOBAL, argument tuple, REDUCE.
    evil = b"\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print('hi')\x85R."
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", evil)
    with pytest.raises(WeightsError, match="builtins.eval"):
        load_state_dict(path)


def _text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + len(raw).to_bytes(4, "little") + raw


def _ints(values: tuple[int, ...]) -> bytes:
    return b"(" + b"".join(b"K" + bytes([v]) for v in values) + b"t"


def _rebuild_pickle(size: tuple[int, ...], stride: tuple[int, ...]) -> bytes:
    """{"w": tensor} the way torch.save writes it, opcode by opcode (no torch needed)."""
    storage = b"((" + _text("storage") + b"ctorch\nFloatStorage\n" + _text("0") + _text(
        "cpu") + b"K\x04tQ"
    return (b"\x80\x02}(" + _text("w") + b"ctorch._utils\n_rebuild_tensor_v2\n" + storage
            + b"K\x00" + _ints(size) + _ints(stride) + b"\x89}tRu.")


def test_a_tensor_view_past_its_storage_is_refused(tmp_path: Path) -> None:
    storage = np.arange(4, dtype="<f4").tobytes()
    ok = tmp_path / "ok.pt"
    _write_raw(ok, _rebuild_pickle((2, 2), (2, 1)), storage)
    assert load_state_dict(ok)["w"].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    bad = tmp_path / "bad.pt"
    _write_raw(bad, _rebuild_pickle((2, 2), (4, 1)), storage)  # would read 4 floats too far
    with pytest.raises(WeightsError, match="past its storage"):
        load_state_dict(bad)


def _write_raw(path: Path, pkl: bytes, storage: bytes) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/data/0", storage)


def test_files_that_are_not_checkpoints_give_one_clear_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(WeightsError) as err:
        load_state_dict(text)
    assert "damaged" in str(err.value) and err.value.fix
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(WeightsError):
        load_state_dict(truncated)
    with pytest.raises(WeightsError, match="not a CAM\\+\\+ model"):
        CamPlusPlus({"w": np.zeros(3, dtype=np.float32)})
